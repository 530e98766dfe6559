"""Truth records: the state of every threat, and of a sensor platform, at one instant."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from iamd.core.typing import BoolArray, FloatArray, IntArray


class ThreatCategory(enum.IntEnum):
    """What kind of object a threat is (stored as its integer value in recordings)."""

    BALLISTIC_MISSILE = 1
    CRUISE_MISSILE = 2
    AIRCRAFT = 3


class ThreatPhase(enum.IntEnum):
    """Flight phase of a threat at one instant (stored as its integer value)."""

    NOT_LAUNCHED = 0
    BOOST = 1
    MIDCOURSE = 2
    TERMINAL = 3
    CRUISE = 4
    IMPACTED = 5
    DESTROYED = 6
    """Killed by an interceptor (from the intercept on)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthState:
    """True kinematic state of all N threats of a run at one instant.

    Rows follow the world's fixed threat order; inactive threats (not launched yet, or
    impacted) have ``active`` False and NaN kinematics.

    Attributes
    ----------
    time_s : float
        Seconds since the scenario epoch.
    position_ecef_m : ndarray, shape (N, 3)
        ECEF position, m.
    velocity_ecef_mps : ndarray, shape (N, 3)
        Velocity relative to the rotating Earth, expressed in ECEF, m/s.
    altitude_m : ndarray, shape (N,)
        Height above the WGS-84 ellipsoid, m.
    phase : ndarray of int, shape (N,)
        :class:`ThreatPhase` values.
    rcs_m2 : ndarray, shape (N,)
        Mean radar cross section (Swerling I mean), m².
    """

    time_s: float
    position_ecef_m: FloatArray
    velocity_ecef_mps: FloatArray
    altitude_m: FloatArray
    phase: IntArray
    rcs_m2: FloatArray

    @property
    def active(self) -> BoolArray:
        """True for threats in flight (launched, neither impacted nor destroyed)."""
        return np.asarray(
            (self.phase != ThreatPhase.NOT_LAUNCHED)
            & (self.phase != ThreatPhase.IMPACTED)
            & (self.phase != ThreatPhase.DESTROYED)
        )

    @property
    def boosting(self) -> BoolArray:
        """True for threats whose motor is burning (what space infrared sensors see)."""
        return np.asarray(self.phase == ThreatPhase.BOOST)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformState:
    """Where a site (land site or ship) is at one instant.

    Attributes
    ----------
    time_s : float
        Seconds since the scenario epoch.
    lat_deg, lon_deg : float
        Geodetic latitude and longitude, degrees.
    alt_m : float
        Height above the WGS-84 ellipsoid, m.
    position_ecef_m : ndarray, shape (3,)
        The same position in ECEF, m.
    heading_deg : float
        Course over ground, degrees clockwise from true north (0 for land sites).
    """

    time_s: float
    lat_deg: float
    lon_deg: float
    alt_m: float
    position_ecef_m: FloatArray
    heading_deg: float = 0.0
