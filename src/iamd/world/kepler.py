"""Closed-form vacuum free flight over a non-rotating spherical Earth (Kepler conics).

These formulas steer the boost (they give the velocity a missile needs at its current
position to reach an aim point) and serve the tests as references. Notation, for a free
flight that starts at radius ``r1`` with speed ``v`` and flight-path angle ``γ`` (above the
local horizontal) and ends at radius ``r2`` after the range angle ``φ`` (the angle at the
Earth's centre between start and end):

* ``ν = v²·r1/μ`` (twice the ratio of kinetic to potential energy at the start),
* ``ρ = r1/r2``, ``A = ρ − cos φ``, ``B = sin φ``, ``C = √(A² + B²)``.

The orbit equation through both points gives (Zarchan, *Tactical and Strategic Missile
Guidance*, 6th ed., ch. 12, eq. for the velocity required; Regan & Anandakrishnan, *Dynamics of
Atmospheric Re-Entry*, §3)::

    ν · cos γ · (ρ·cos γ − cos(φ + γ)) = 1 − cos φ
    ⇔  ν · (A·(1 + cos 2γ) + B·sin 2γ) = 2·(1 − cos φ)
    ⇔  C · cos(2γ − 2γ*) = 2·(1 − cos φ)/ν − A,   with tan 2γ* = B/A.

The minimum-energy path has ``γ = γ*`` and ``ν_min = 2(1 − cos φ)/(A + C)``; for ``r1 = r2``
this is the classic ``γ* = (π − φ)/4``. Any faster speed reaches the aim on two paths, the
lofted (``γ > γ*``) and the depressed (``γ < γ*``) one.
"""

from __future__ import annotations

import numpy as np

from iamd.core.typing import BoolArray, FloatArray


def minimum_energy(
    radius_ratio: FloatArray | float, range_angle_rad: FloatArray | float
) -> tuple[FloatArray, FloatArray]:
    """Minimum-energy speed parameter and flight-path angle from ``r1`` to ``r2``.

    Parameters
    ----------
    radius_ratio : float or ndarray
        ``ρ = r1/r2``, start radius over end radius.
    range_angle_rad : float or ndarray
        Range angle ``φ`` at the Earth's centre, rad, in (0, π).

    Returns
    -------
    nu_min : ndarray
        ``ν_min = v_min²·r1/μ``.
    gamma_rad : ndarray
        Flight-path angle of the minimum-energy path at the start, rad.

    Examples
    --------
    >>> nu, gamma = minimum_energy(1.0, np.pi / 2)
    >>> round(float(np.degrees(gamma)), 6)
    22.5
    """
    rho = np.asarray(radius_ratio, float)
    phi = np.asarray(range_angle_rad, float)
    a = rho - np.cos(phi)
    b = np.sin(phi)
    c = np.hypot(a, b)
    return np.asarray(2.0 * (1.0 - np.cos(phi)) / (a + c)), np.asarray(0.5 * np.arctan2(b, a))


def speed_parameter(
    radius_ratio: FloatArray | float,
    range_angle_rad: FloatArray | float,
    flight_path_angle_rad: FloatArray | float,
) -> FloatArray:
    """``ν = v²·r1/μ`` needed to fly the range angle at a given flight-path angle.

    Returns ``inf`` where no conic through both points leaves at that angle.
    """
    rho = np.asarray(radius_ratio, float)
    phi = np.asarray(range_angle_rad, float)
    two_gamma = 2.0 * np.asarray(flight_path_angle_rad, float)
    denominator = (rho - np.cos(phi)) * (1.0 + np.cos(two_gamma)) + np.sin(phi) * np.sin(two_gamma)
    numerator = 2.0 * (1.0 - np.cos(phi))
    positive = denominator > 0.0
    return np.asarray(np.where(positive, numerator / np.where(positive, denominator, 1.0), np.inf))


def flight_path_angle(
    speed_parameter_nu: FloatArray | float,
    radius_ratio: FloatArray | float,
    range_angle_rad: FloatArray | float,
    lofted: BoolArray | bool,
) -> FloatArray:
    """Flight-path angle that flies the range angle at speed parameter ``ν``, rad.

    Parameters
    ----------
    speed_parameter_nu : float or ndarray
        ``ν = v²·r1/μ``; values below ``ν_min`` are treated as ``ν_min``.
    radius_ratio, range_angle_rad : float or ndarray
        ``ρ = r1/r2`` and ``φ`` (rad), as in :func:`minimum_energy`.
    lofted : bool or ndarray of bool
        True for the high path, False for the low (depressed) path.
    """
    rho = np.asarray(radius_ratio, float)
    phi = np.asarray(range_angle_rad, float)
    a = rho - np.cos(phi)
    b = np.sin(phi)
    c = np.hypot(a, b)
    cosine = np.clip((2.0 * (1.0 - np.cos(phi)) / np.asarray(speed_parameter_nu) - a) / c, -1, 1)
    sign = np.where(np.asarray(lofted, bool), 1.0, -1.0)
    return np.asarray(0.5 * (np.arctan2(b, a) + sign * np.arccos(cosine)))


def range_angle(
    speed_parameter_nu: FloatArray | float, flight_path_angle_rad: FloatArray | float
) -> FloatArray:
    """Free-flight range angle back to the starting radius, rad.

    ``tan(φ/2) = ν·sin γ·cos γ / (1 − ν·cos²γ)`` (Zarchan ch. 12), for ``ν < 1`` (suborbital).

    Examples
    --------
    >>> bool(round(float(range_angle(0.5, np.radians(45.0))), 9) == round(2 * np.arctan(1 / 3), 9))
    True
    """
    nu = np.asarray(speed_parameter_nu, float)
    gamma = np.asarray(flight_path_angle_rad, float)
    return np.asarray(
        2.0 * np.arctan2(nu * np.sin(gamma) * np.cos(gamma), 1.0 - nu * np.cos(gamma) ** 2)
    )


def vertical_apogee_height_m(speed_mps: float, radius_m: float, mu_m3_s2: float) -> float:
    """Height gained by a vertical shot at ``speed_mps`` from ``radius_m`` in vacuum, m.

    Energy conservation ``v²/2 − μ/r = −μ/(r + h)`` gives ``h = v²·r² / (2μ − v²·r)``, i.e.
    ``h/r = ν/(2 − ν)`` with ``ν = v²·r/μ``; for small ``ν`` this is ``v²/(2g)``.
    """
    nu = speed_mps**2 * radius_m / mu_m3_s2
    return radius_m * nu / (2.0 - nu)
