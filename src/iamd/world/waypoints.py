"""Great-circle routes flown at constant speed and altitude: cruise missiles, aircraft, ships.

Model: the route is a list of (latitude, longitude) waypoints joined by great-circle arcs of
the mean-radius sphere (the same sphere as :func:`iamd.geo.great_circle_distance_m`); the
object moves along them at ``speed_mps`` measured along that sphere, turns instantly at each
waypoint and keeps a constant height above the WGS-84 ellipsoid. The spherical latitude of a
point on an arc is used as its geodetic latitude (as :func:`iamd.geo.great_circle_interpolate`
does); the two differ by at most 0.19°, which no route needs.

Because speed is measured on the sphere, the route takes exactly
``Σ great_circle_distance_m(leg) / speed_mps`` seconds; the ECEF speed differs from
``speed_mps`` by the ratio of the local ellipsoid radii of curvature (plus height) to the mean
radius, under 0.7 %. The ECEF velocity is the exact time derivative of the ECEF position, so
interpolating positions with it is consistent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.ids import ThreatId
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo.constants import EARTH_RADIUS_MEAN_M, WGS84_A_M, WGS84_F
from iamd.geo.frames import geodetic_to_ecef, great_circle_distance_m
from iamd.messages.truth import PlatformState, ThreatCategory

_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared of WGS-84


@dataclass(frozen=True, slots=True, kw_only=True)
class WaypointThreatSpec:
    """A cruise missile or aircraft flying a waypoint route (the world's input record).

    Parameters
    ----------
    threat_id : ThreatId
        Unique name of the threat.
    category : ThreatCategory
        ``CRUISE_MISSILE`` (hits its last waypoint) or ``AIRCRAFT`` (leaves the scenario there).
    waypoints : tuple of (float, float)
        Route as (latitude, longitude) pairs, degrees, at least two.
    altitude_m : float
        Constant height above the WGS-84 ellipsoid, m.
    speed_mps : float
        Constant speed along the great-circle route, m/s, > 0.
    launch_time_s : float
        Time the threat leaves the first waypoint, s since the scenario epoch.
    rcs_m2 : float
        Mean radar cross section, m².
    """

    threat_id: ThreatId
    category: ThreatCategory
    waypoints: tuple[tuple[float, float], ...]
    altitude_m: float
    speed_mps: float
    launch_time_s: float
    rcs_m2: float


def _unit(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


class WaypointPath:
    """A route of great-circle legs flown at constant speed and altitude.

    Parameters
    ----------
    waypoints : sequence of (float, float)
        (latitude, longitude) of each waypoint, degrees; at least two. Repeated consecutive
        waypoints are allowed and take no time.
    altitude_m : float
        Height above the WGS-84 ellipsoid, m.
    speed_mps : float
        Speed along the great circles of the mean-radius sphere, m/s, >= 0 (0: the object
        stays at the first waypoint for ever, e.g. a ship without a speed).
    start_time_s : float
        Time of departure from the first waypoint, s since the scenario epoch.

    Attributes
    ----------
    duration_s : float
        Time to fly the whole route, s (``inf`` for a zero speed on a route of non-zero length).
    length_m : float
        Length of the route on the mean-radius sphere, m.

    Raises
    ------
    ConfigurationError
        Fewer than two waypoints, a latitude outside [−90°, 90°], a non-finite value, a
        negative speed, or a leg between (nearly) antipodal points, whose great circle is
        undefined.

    Examples
    --------
    >>> path = WaypointPath([(0.0, 0.0), (0.0, 1.0)], altitude_m=0.0, speed_mps=100.0)
    >>> round(path.duration_s)
    1112
    >>> round(path.platform_state(path.duration_s / 2).lon_deg, 6)
    0.5
    """

    def __init__(
        self,
        waypoints: Sequence[tuple[float, float]],
        *,
        altitude_m: float,
        speed_mps: float,
        start_time_s: float = 0.0,
    ) -> None:
        points = np.asarray(waypoints, float)
        if points.ndim != 2 or points.shape[0] < 2 or points.shape[1] != 2:
            raise ConfigurationError(
                "a waypoint path needs at least two (lat_deg, lon_deg) waypoints "
                f"(got shape {points.shape})"
            )
        if not np.all(np.isfinite(points)) or np.any(np.abs(points[:, 0]) > 90.0):
            raise ConfigurationError(
                "waypoint latitudes must be finite and within [-90, 90] degrees"
            )
        for name, value in (("altitude_m", altitude_m), ("start_time_s", start_time_s)):
            if not math.isfinite(value):
                raise ConfigurationError(f"{name} must be finite (got {value})")
        if not (speed_mps >= 0.0 and math.isfinite(speed_mps)):
            raise ConfigurationError(f"speed_mps must be finite and >= 0 (got {speed_mps})")
        self.waypoints = points
        self.altitude_m = float(altitude_m)
        self.speed_mps = float(speed_mps)
        self.start_time_s = float(start_time_s)
        units = _unit(points[:, 0], points[:, 1])
        self._a, self._b = units[:-1], units[1:]
        leg_m = great_circle_distance_m(
            points[:-1, 0], points[:-1, 1], points[1:, 0], points[1:, 1]
        )
        self._omega = leg_m / EARTH_RADIUS_MEAN_M
        antipodal = np.abs(self._omega - np.pi) < 1e-6
        if np.any(antipodal):
            leg = int(np.flatnonzero(antipodal)[0])
            raise ConfigurationError(
                f"waypoints {leg} and {leg + 1} are antipodal: the great circle between them "
                "is undefined; add a waypoint in between"
            )
        self.length_m = float(leg_m.sum())
        self._moving = self.speed_mps > 0.0
        leg_s = leg_m / self.speed_mps if self._moving else np.where(leg_m > 0, np.inf, 0.0)
        self._leg_start_s = self.start_time_s + np.concatenate([[0.0], np.cumsum(leg_s)[:-1]])
        self._leg_duration_s = np.asarray(leg_s, float)
        self.duration_s = float(np.sum(leg_s))
        self._real_legs: IntArray = np.flatnonzero(self._omega > 1e-12)

    @property
    def end_time_s(self) -> float:
        """Arrival time at the last waypoint, s since the epoch."""
        return self.start_time_s + self.duration_s

    def leg_states(
        self, leg: IntArray, fraction: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Kinematics at fractions of given legs.

        Parameters
        ----------
        leg : ndarray of int, shape (K,)
            Leg index (leg ``i`` joins waypoints ``i`` and ``i + 1``).
        fraction : ndarray, shape (K,)
            Fraction of the leg's arc flown, 0…1.

        Returns
        -------
        lat_deg, lon_deg : ndarray, shape (K,)
            Latitude and longitude, degrees.
        course_deg : ndarray, shape (K,)
            Course over ground, degrees clockwise from true north, in [0, 360).
        position_ecef_m : ndarray, shape (K, 3)
            ECEF position at ``altitude_m``, m.
        velocity_ecef_mps : ndarray, shape (K, 3)
            ECEF velocity while flying the leg (the time derivative of the position), m/s.
        """
        leg = np.asarray(leg, np.int64)
        f = np.asarray(fraction, float)[:, None]
        a, b = self._a[leg], self._b[leg]
        omega = self._omega[leg][:, None]
        degenerate = omega < 1e-12
        sin_omega = np.where(degenerate, 1.0, np.sin(omega))
        point = np.where(
            degenerate, a, (np.sin((1.0 - f) * omega) * a + np.sin(f * omega) * b) / sin_omega
        )
        point /= np.linalg.norm(point, axis=-1, keepdims=True)
        # d(point)/d(fraction) is along the direction of travel; only its direction is used.
        tangent = np.where(degenerate, 0.0, -np.cos((1.0 - f) * omega) * a + np.cos(f * omega) * b)
        lat = np.arctan2(point[:, 2], np.hypot(point[:, 0], point[:, 1]))
        lon = np.arctan2(point[:, 1], point[:, 0])
        east = np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], -1)
        north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], -1)
        course = np.arctan2(np.sum(tangent * east, -1), np.sum(tangent * north, -1))
        lat_deg, lon_deg = np.degrees(lat), np.degrees(lon)
        position = geodetic_to_ecef(lat_deg, lon_deg, self.altitude_m)
        # Exact derivative of geodetic_to_ecef along the route: ∂r/∂φ = (M + h)·north and
        # ∂r/∂λ = (N + h)·cos φ·east, with φ̇ = (v/R)·cos c and cos φ·λ̇ = (v/R)·sin c.
        w = 1.0 - _E2 * np.sin(lat) ** 2
        prime_vertical = WGS84_A_M / np.sqrt(w)
        meridian = WGS84_A_M * (1.0 - _E2) / w**1.5
        rate = np.where(degenerate[:, 0], 0.0, self.speed_mps / EARTH_RADIUS_MEAN_M)
        velocity = rate[:, None] * (
            ((meridian + self.altitude_m) * np.cos(course))[:, None] * north
            + ((prime_vertical + self.altitude_m) * np.sin(course))[:, None] * east
        )
        return lat_deg, lon_deg, np.mod(np.degrees(course), 360.0), position, velocity

    def _locate(self, time_s: FloatArray) -> tuple[IntArray, FloatArray, BoolArray]:
        """Leg, fraction flown, and a moving flag for each time."""
        t = np.asarray(time_s, float)
        if self._real_legs.size == 0:
            zeros = np.zeros(t.shape, np.int64)
            return zeros, np.zeros(t.shape), np.zeros(t.shape, bool)
        first, last = int(self._real_legs[0]), int(self._real_legs[-1])
        starts = self._leg_start_s[self._real_legs]
        position = np.searchsorted(starts, t, side="right") - 1
        leg = self._real_legs[np.clip(position, 0, self._real_legs.size - 1)]
        duration = self._leg_duration_s[leg]
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(
                np.isfinite(duration) & (duration > 0),
                (t - self._leg_start_s[leg]) / duration,
                0.0,
            )
        before = t < self.start_time_s
        after = t >= self.end_time_s
        leg = np.where(before, first, np.where(after, last, leg))
        fraction = np.where(before, 0.0, np.where(after, 1.0, np.clip(fraction, 0.0, 1.0)))
        moving = ~before & ~after & self._moving
        return leg, fraction, moving

    def states(
        self, time_s: FloatArray | float
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Kinematics at many times (see :meth:`leg_states` for the returned arrays).

        Before the start the object waits at the first waypoint, after the end it holds at
        the last one; the velocity is zero then and the course is that of the first leg's
        departure or the last leg's arrival.
        """
        t = np.atleast_1d(np.asarray(time_s, float))
        leg, fraction, moving = self._locate(t)
        lat, lon, course, position, velocity = self.leg_states(leg, fraction)
        velocity = np.where(moving[:, None], velocity, 0.0)
        return lat, lon, course, position, velocity

    def platform_state(self, time_s: float) -> PlatformState:
        """Where the object is at ``time_s`` (s since the epoch); heading is the course."""
        lat, lon, course, position, _ = self.states(time_s)
        return PlatformState(
            time_s=float(time_s),
            lat_deg=float(lat[0]),
            lon_deg=float(lon[0]),
            alt_m=self.altitude_m,
            position_ecef_m=position[0],
            heading_deg=float(course[0]),
        )

    def knots(self, max_spacing_s: float = 30.0) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Knots for Hermite interpolation of the flight, from departure to arrival.

        Each leg gets knots at both ends (so a corner appears twice, with the arriving and
        the leaving velocity) and in between at most ``max_spacing_s`` apart. Over a great
        circle at constant speed the Hermite error is ``(v·Δt)⁴/(384·R³)``: below a
        micrometre for 30 s at 3 km/s.

        Returns
        -------
        time_s : ndarray, shape (K,)
            Knot times, s since the epoch, non-decreasing.
        position_ecef_m, velocity_ecef_mps : ndarray, shape (K, 3)
            ECEF position (m) and velocity (m/s) at the knots.

        Raises
        ------
        ConfigurationError
            If the path does not move (zero speed) or has zero length.
        """
        if not self._moving or self._real_legs.size == 0:
            raise ConfigurationError("a flown route needs a positive speed and a positive length")
        legs, fractions, times = [], [], []
        for leg in self._real_legs:
            count = max(1, math.ceil(self._leg_duration_s[leg] / max_spacing_s))
            f = np.linspace(0.0, 1.0, count + 1)
            legs.append(np.full(count + 1, leg))
            fractions.append(f)
            times.append(self._leg_start_s[leg] + f * self._leg_duration_s[leg])
        _, _, _, position, velocity = self.leg_states(
            np.concatenate(legs), np.concatenate(fractions)
        )
        return np.concatenate(times), position, velocity
