"""How far a ballistic missile can reach: notional range classes and the closed-form bound.

The closed form is the minimum-energy free-flight range over a non-rotating spherical Earth
in vacuum (e.g. Zarchan, *Tactical and Strategic Missile Guidance*, ch. 12): with
``ν = v²·r/μ`` the range angle ``Ψ`` satisfies ``sin(Ψ/2) = ν / (2 − ν)``. Real flights lose
range to drag and gain some from the boost phase; :func:`max_range_m` keeps a margin so that
the trajectory solver can reach every aim point that passes the scenario's reach check.
"""

from __future__ import annotations

import enum
import math

from iamd.geo.constants import EARTH_MU_M3_S2, EARTH_RADIUS_MEAN_M

REACH_MARGIN = 0.92
"""Fraction of the vacuum minimum-energy range that a scenario may ask a missile to fly."""


class RangeClass(enum.Enum):
    """Public range categories of ballistic missiles, with notional maximum ranges."""

    CRBM = "crbm"
    SRBM = "srbm"
    MRBM = "mrbm"
    IRBM = "irbm"

    @property
    def max_range_m(self) -> float:
        """Notional maximum ground range of the class, m."""
        return _CLASS_RANGE_M[self]


_CLASS_RANGE_M = {
    RangeClass.CRBM: 300e3,
    RangeClass.SRBM: 1_000e3,
    RangeClass.MRBM: 3_000e3,
    RangeClass.IRBM: 5_500e3,
}


def vacuum_range_m(burnout_speed_mps: float, radius_m: float = EARTH_RADIUS_MEAN_M) -> float:
    """Minimum-energy ground range of a burnout at speed ``v`` on a vacuum sphere, m."""
    nu = burnout_speed_mps**2 * radius_m / EARTH_MU_M3_S2
    if nu >= 1.0:
        return math.pi * radius_m  # orbital speed: any point on the globe
    half_angle = math.asin(nu / (2.0 - nu))
    return 2.0 * half_angle * radius_m


def burnout_speed_for_range_mps(range_m: float, radius_m: float = EARTH_RADIUS_MEAN_M) -> float:
    """Burnout speed whose vacuum minimum-energy range is ``range_m``, m/s (inverse above)."""
    s = math.sin(min(range_m / radius_m, math.pi) / 2.0)
    nu = 2.0 * s / (1.0 + s)
    return math.sqrt(nu * EARTH_MU_M3_S2 / radius_m)


def max_range_m(burnout_speed_mps: float) -> float:
    """Longest ground range a scenario may assign to a missile of this burnout speed, m."""
    return REACH_MARGIN * vacuum_range_m(burnout_speed_mps)


def class_burnout_speed_mps(range_class: RangeClass) -> float:
    """Notional burnout speed of a range class: enough to fly its maximum range, m/s."""
    return burnout_speed_for_range_mps(range_class.max_range_m / REACH_MARGIN)
