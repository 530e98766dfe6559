"""The truth: every threat's trajectory, computed once, looked up at any instant.

:class:`Truth` flies all ballistic threats at construction (solved as one batch by
:func:`~iamd.world.ballistic.solve_ballistic`), lays every waypoint route out as knots, and
stores all of them in one :class:`~iamd.world.knots.KnotTable`. :meth:`Truth.state_at` is then
a vectorised lookup: one ``searchsorted`` for all threats, a cubic Hermite interpolation and a
geodetic conversion, with no per-threat Python code.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.ids import ThreatId
from iamd.core.typing import FloatArray, IntArray
from iamd.geo.frames import ecef_to_geodetic
from iamd.messages.truth import ThreatCategory, ThreatPhase, TruthState
from iamd.world.ballistic import BallisticThreatSpec, solve_ballistic
from iamd.world.dynamics import Dynamics
from iamd.world.knots import KnotTable
from iamd.world.waypoints import WaypointPath, WaypointThreatSpec

WAYPOINT_KNOT_SPACING_S = 30.0
"""Longest interval between the knots of a waypoint route, s (error below a micrometre)."""


class Truth:
    """True trajectories of all threats of a run, in a fixed row order.

    Parameters
    ----------
    ballistic : sequence of BallisticThreatSpec
        Ballistic missiles; solved to hit their aim points at construction.
    waypoint : sequence of WaypointThreatSpec
        Cruise missiles and aircraft flying great-circle routes.
    step_s : float
        Integration step of the ballistic flights in the boost and in the atmosphere, s
        (> 0; longer steps above 120 km, see :data:`~iamd.world.ballistic.MIDCOURSE_STEP_S`).
    dynamics : Dynamics, optional
        Equations of motion of the ballistic flights; the full model by default.

    Attributes
    ----------
    threat_ids : tuple of ThreatId
        Ballistic threats first, then waypoint threats, each in the given order.
    categories : ndarray of int, shape (N,)
        :class:`~iamd.messages.ThreatCategory` values.
    rcs_m2 : ndarray, shape (N,)
        Mean radar cross section, m².
    launch_time_s : ndarray, shape (N,)
        Launch (route start) time, s since the epoch.
    end_time_s : ndarray, shape (N,)
        Impact (ballistic) or route end (waypoint) time, s since the epoch.
    end_ecef_m : ndarray, shape (N, 3)
        Impact point or final waypoint position, ECEF, m.
    burnout_time_s : ndarray, shape (N,)
        Thrust cut-off time, s since the epoch (NaN for waypoint threats).
    terminal_time_s : ndarray, shape (N,)
        Start of the terminal phase, s since the epoch (NaN for waypoint threats).
    apogee_alt_m : ndarray, shape (N,)
        Highest height above the ellipsoid, m (NaN for waypoint threats).
    miss_m : ndarray, shape (N,)
        Distance from impact to aim point, m (NaN for waypoint threats).
    knots : KnotTable
        The stored trajectories (one row per threat).

    Raises
    ------
    ConfigurationError
        Duplicate threat ids, a non-positive step, an invalid route or speed, or a ballistic
        threat the solver cannot bring to its aim point.

    Notes
    -----
    Phases (:class:`~iamd.messages.ThreatPhase`): ``NOT_LAUNCHED`` before the launch time;
    ballistic threats are in ``BOOST`` until burnout, ``MIDCOURSE`` until they descend
    through 100 km (or until the apogee, if it is lower), ``TERMINAL`` until impact and
    ``IMPACTED`` from the impact time on. Waypoint threats are in ``CRUISE`` until the end of
    their route and ``IMPACTED`` from then on: a cruise missile hits its last waypoint, an
    aircraft leaves the scenario there. A threat destroyed by an interceptor
    (:meth:`destroy`) is ``DESTROYED`` from the intercept on. Rows that are not in flight
    have NaN kinematics.
    """

    def __init__(
        self,
        ballistic: Sequence[BallisticThreatSpec] = (),
        waypoint: Sequence[WaypointThreatSpec] = (),
        *,
        step_s: float = 1.0,
        dynamics: Dynamics | None = None,
    ) -> None:
        if not (step_s > 0.0 and math.isfinite(step_s)):
            raise ConfigurationError(f"truth step_s must be finite and > 0 (got {step_s})")
        self.threat_ids: tuple[ThreatId, ...] = tuple(
            [s.threat_id for s in ballistic] + [s.threat_id for s in waypoint]
        )
        duplicates = sorted(i for i, count in Counter(self.threat_ids).items() if count > 1)
        if duplicates:
            raise ConfigurationError(f"duplicate threat ids: {', '.join(duplicates)}")
        nb, nw = len(ballistic), len(waypoint)
        n = nb + nw
        self.step_s = float(step_s)
        self.categories: IntArray = np.array(
            [ThreatCategory.BALLISTIC_MISSILE] * nb + [int(s.category) for s in waypoint],
            np.int64,
        )
        self.rcs_m2: FloatArray = np.array(
            [s.rcs_m2 for s in ballistic] + [s.rcs_m2 for s in waypoint], float
        )
        if np.any(~(self.rcs_m2 > 0.0)):
            raise ConfigurationError("every threat needs rcs_m2 > 0")
        self.launch_time_s: FloatArray = np.array(
            [s.launch_time_s for s in ballistic] + [s.launch_time_s for s in waypoint], float
        )
        self.end_time_s: FloatArray = np.full(n, np.nan)
        self.end_ecef_m: FloatArray = np.full((n, 3), np.nan)
        self.burnout_time_s: FloatArray = np.full(n, np.nan)
        self.terminal_time_s: FloatArray = np.full(n, np.nan)
        self.apogee_alt_m: FloatArray = np.full(n, np.nan)
        self.miss_m: FloatArray = np.full(n, np.nan)
        tables: list[KnotTable] = []

        if nb:
            solution = solve_ballistic(ballistic, dynamics=dynamics, step_s=step_s)
            flight = solution.flight
            assert flight.knots is not None  # solve_ballistic records the final flight
            tables.append(flight.knots)
            self.end_time_s[:nb] = flight.impact_time_s
            self.end_ecef_m[:nb] = flight.impact_ecef_m
            self.burnout_time_s[:nb] = flight.burnout_time_s
            self.terminal_time_s[:nb] = flight.terminal_time_s
            self.apogee_alt_m[:nb] = flight.apogee_height_m
            self.miss_m[:nb] = solution.miss_m

        rows, times, positions, velocities = [], [], [], []
        for i, spec in enumerate(waypoint):
            if spec.category not in (ThreatCategory.CRUISE_MISSILE, ThreatCategory.AIRCRAFT):
                raise ConfigurationError(
                    f"{spec.threat_id}: a waypoint threat is a cruise missile or an aircraft "
                    f"(got {spec.category!r})"
                )
            if not spec.speed_mps > 0.0:
                raise ConfigurationError(
                    f"{spec.threat_id}: speed_mps must be > 0 (got {spec.speed_mps})"
                )
            try:
                path = WaypointPath(
                    spec.waypoints,
                    altitude_m=spec.altitude_m,
                    speed_mps=spec.speed_mps,
                    start_time_s=spec.launch_time_s,
                )
                t, p, v = path.knots(WAYPOINT_KNOT_SPACING_S)
            except ConfigurationError as error:
                raise ConfigurationError(f"{spec.threat_id}: {error}") from None
            rows.append(np.full(t.size, i))
            times.append(t)
            positions.append(p)
            velocities.append(v)
            self.end_time_s[nb + i] = path.end_time_s
            self.end_ecef_m[nb + i] = p[-1]
        if nw:
            tables.append(
                KnotTable(
                    np.concatenate(rows),
                    np.concatenate(times),
                    np.concatenate(positions),
                    np.concatenate(velocities),
                    nw,
                )
            )
        self.knots = KnotTable.concatenate(tables)
        self._ballistic = self.categories == ThreatCategory.BALLISTIC_MISSILE
        self.destroyed_at_s: FloatArray = np.full(n, np.nan)
        """Time each threat was destroyed by an interceptor, s (NaN: it was not)."""

    def destroy(self, rows: npt.ArrayLike, time_s: float) -> IntArray:
        """Destroy threats ``rows`` at ``time_s``: from then on they are ``DESTROYED``.

        Only threats in flight at ``time_s`` can be destroyed (a threat that has impacted or
        was destroyed already is left as it is).

        Parameters
        ----------
        rows : array_like of int
            Threat rows (:attr:`threat_ids` order).
        time_s : float
            Intercept time, s since the epoch; not before an earlier destruction.

        Returns
        -------
        ndarray of int
            The rows this call destroyed.
        """
        rows = np.unique(np.asarray(rows, np.int64))
        if rows.size and (rows.min() < 0 or rows.max() >= len(self.threat_ids)):
            raise ConfigurationError(f"destroy: threat rows out of range (got {rows.tolist()})")
        t = float(time_s)
        phase = self.phases_at(t)[rows]
        flying = rows[
            (phase != ThreatPhase.NOT_LAUNCHED)
            & (phase != ThreatPhase.IMPACTED)
            & (phase != ThreatPhase.DESTROYED)
        ]
        self.destroyed_at_s[flying] = t
        return np.asarray(flying, np.int64)

    def __len__(self) -> int:
        return len(self.threat_ids)

    def phases_at(self, time_s: float) -> IntArray:
        """Flight phase of every threat at ``time_s`` (s since the epoch), shape (N,)."""
        t = float(time_s)
        in_flight = (t >= self.launch_time_s) & (t < self.end_time_s)
        ballistic_phase = np.where(
            t < self.burnout_time_s,
            ThreatPhase.BOOST,
            np.where(t < self.terminal_time_s, ThreatPhase.MIDCOURSE, ThreatPhase.TERMINAL),
        )
        flying = np.where(self._ballistic, ballistic_phase, ThreatPhase.CRUISE)
        idle = np.where(t < self.launch_time_s, ThreatPhase.NOT_LAUNCHED, ThreatPhase.IMPACTED)
        phase = np.where(in_flight, flying, idle)
        # NaN compares False: a threat never destroyed keeps its phase.
        phase = np.where(t >= self.destroyed_at_s, ThreatPhase.DESTROYED, phase)
        return np.asarray(phase, np.int64)

    def state_at(self, time_s: float) -> TruthState:
        """True state of every threat at ``time_s`` (s since the epoch).

        Returns
        -------
        TruthState
            All N rows in :attr:`threat_ids` order: ECEF position (m) and velocity relative
            to the Earth (m/s), geodetic height (m), phase and RCS. Rows not in flight
            (``NOT_LAUNCHED`` or ``IMPACTED``) have NaN position, velocity and height.
        """
        n = len(self.threat_ids)
        phase = self.phases_at(time_s)
        position = np.full((n, 3), np.nan)
        velocity = np.full((n, 3), np.nan)
        altitude = np.full(n, np.nan)
        flying = np.flatnonzero(
            (phase != ThreatPhase.NOT_LAUNCHED)
            & (phase != ThreatPhase.IMPACTED)
            & (phase != ThreatPhase.DESTROYED)
        )
        if flying.size:
            p, v = self.knots.evaluate(float(time_s), flying)
            position[flying] = p
            velocity[flying] = v
            altitude[flying] = ecef_to_geodetic(p)[2]
        return TruthState(
            time_s=float(time_s),
            position_ecef_m=position,
            velocity_ecef_mps=velocity,
            altitude_m=altitude,
            phase=phase,
            rcs_m2=self.rcs_m2.copy(),
        )
