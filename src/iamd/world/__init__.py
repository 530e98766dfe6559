"""The truth: threat kinematics (and, later, interceptors in flight).

Ballistic missiles are flown in ECEF with J2 gravity, Earth rotation and drag, guided during
the boost and solved to hit their aim points (:mod:`iamd.world.ballistic`); cruise missiles
and aircraft fly great-circle routes (:mod:`iamd.world.waypoints`); :class:`Truth` stores all
trajectories and answers "where is every threat at time t" with one vectorised lookup.
"""

from iamd.world.ballistic import (
    MIN_RANGE_M,
    MISS_LIMIT_M,
    TERMINAL_ALTITUDE_M,
    BallisticFlight,
    BallisticSolution,
    BallisticThreatSpec,
    commanded_burnout,
    fly_ballistic,
    required_velocity,
    solve_ballistic,
)
from iamd.world.dynamics import Dynamics, rk4_step
from iamd.world.knots import KnotTable
from iamd.world.reach import RangeClass, class_burnout_speed_mps, max_range_m, vacuum_range_m
from iamd.world.truth import Truth
from iamd.world.waypoints import WaypointPath, WaypointThreatSpec

__all__ = [
    "MIN_RANGE_M",
    "MISS_LIMIT_M",
    "TERMINAL_ALTITUDE_M",
    "BallisticFlight",
    "BallisticSolution",
    "BallisticThreatSpec",
    "Dynamics",
    "KnotTable",
    "RangeClass",
    "Truth",
    "WaypointPath",
    "WaypointThreatSpec",
    "class_burnout_speed_mps",
    "commanded_burnout",
    "fly_ballistic",
    "max_range_m",
    "required_velocity",
    "rk4_step",
    "solve_ballistic",
    "vacuum_range_m",
]
