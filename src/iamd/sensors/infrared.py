"""Space-based infrared early warning: a staring sensor that sees missiles while they boost.

A satellite (geostationary, say) stares at a ground region. Each frame, every threat whose
motor is burning and whose geodetic sub-point lies in that region is detected with a fixed
probability, unless the Earth stands between the satellite and the missile. A detection is
the direction of the line of sight from the satellite to the missile, as two angles of its
ECEF unit vector, with Gaussian noise. Hot-plume radiometry, clouds, solar glint and the
focal-plane geometry are not modelled: their net effect is the per-frame detection
probability, the angle noise and the false-alarm rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from iamd.core.ids import NationCode, SensorId
from iamd.core.typing import BoolArray, FloatArray
from iamd.geo.frames import ecef_to_enu_matrix, ecef_to_geodetic, geodetic_to_ecef
from iamd.geo.horizon import line_of_sight_clear
from iamd.messages.detections import FALSE_ALARM, Detections, MeasurementKind
from iamd.messages.truth import PlatformState, TruthState
from iamd.sensors._checks import require, require_positive

_TWO_PI = 2.0 * math.pi


def line_of_sight_angles(target_ecef_m: FloatArray, sensor_ecef_m: FloatArray) -> FloatArray:
    """Azimuth and elevation, in ECEF axes, of the unit line of sight from a sensor to targets.

    Parameters
    ----------
    target_ecef_m : ndarray, shape (N, 3)
        Target positions, ECEF, m.
    sensor_ecef_m : ndarray, shape (3,)
        Sensor position, ECEF, m.

    Returns
    -------
    ndarray, shape (N, 2)
        Columns: azimuth ``atan2(u_y, u_x)`` in [-π, π] and elevation ``asin(u_z)`` in
        [-π/2, π/2], rad, of the unit vector ``u`` from the sensor to each target (the
        :attr:`~iamd.messages.MeasurementKind.LINE_OF_SIGHT` convention).

    Examples
    --------
    From a satellite on the +x axis, a point nearer the Earth's centre is seen along −x:

    >>> line_of_sight_angles(np.array([[7e6, 0.0, 0.0]]), np.array([42e6, 0.0, 0.0]))
    array([[3.14159265, 0.        ]])
    """
    delta = np.asarray(target_ecef_m, dtype=float) - np.asarray(sensor_ecef_m, dtype=float)
    # atan2 of the horizontal components and of z against their norm: no normalisation
    # needed, and accurate near the poles where asin loses precision.
    azimuth = np.arctan2(delta[:, 1], delta[:, 0])
    elevation = np.arctan2(delta[:, 2], np.hypot(delta[:, 0], delta[:, 1]))
    return np.column_stack([azimuth, elevation])


@dataclass(frozen=True, slots=True, kw_only=True)
class InfraredConfig:
    """Parameters of one space-based infrared sensor (notional values only).

    Attributes
    ----------
    sensor_id : SensorId
        Unique name of the sensor.
    nation : NationCode
        Owning nation.
    frame_period_s : float
        Time between two frames, s.
    line_of_sight_noise_urad : float
        1-sigma noise of each of the two line-of-sight angles, µrad.
    detection_probability : float
        Probability of detecting a boosting missile in coverage in one frame, in (0, 1].
    coverage_lat_deg : tuple of float
        (south, north) geodetic latitude limits of the stared-at ground region, degrees.
    coverage_lon_deg : tuple of float
        (west, east) longitude limits, degrees; the region runs eastward from west to east,
        so ``(170, -170)`` is a 20° box across the antimeridian and ``(-180, 180)`` is all
        longitudes.
    false_alarms_per_frame : float
        Mean number of false alarms per frame (Poisson), ≥ 0, at ground points uniform over
        the area of the coverage region.

    Raises
    ------
    ConfigurationError
        If a value is out of its domain; the message names the sensor and the field.
    """

    sensor_id: SensorId
    nation: NationCode
    frame_period_s: float = 2.0
    line_of_sight_noise_urad: float = 50.0
    detection_probability: float = 0.95
    coverage_lat_deg: tuple[float, float]
    coverage_lon_deg: tuple[float, float]
    false_alarms_per_frame: float = 0.0

    def __post_init__(self) -> None:
        owner = f"infrared sensor {self.sensor_id!r}"
        require(
            bool(self.sensor_id),
            owner=owner,
            field="sensor_id",
            rule="non-empty",
            value=self.sensor_id,
        )
        require_positive(self.frame_period_s, owner=owner, field="frame_period_s")
        require_positive(
            self.line_of_sight_noise_urad, owner=owner, field="line_of_sight_noise_urad"
        )
        pd = self.detection_probability
        require(
            0.0 < pd <= 1.0,
            owner=owner,
            field="detection_probability",
            rule="in (0, 1]",
            value=pd,
        )
        rate = self.false_alarms_per_frame
        require(
            math.isfinite(rate) and rate >= 0.0,
            owner=owner,
            field="false_alarms_per_frame",
            rule="a non-negative number",
            value=rate,
        )
        lat = self.coverage_lat_deg
        require(
            len(lat) == 2
            and all(math.isfinite(v) and -90.0 <= v <= 90.0 for v in lat)
            and lat[0] < lat[1],
            owner=owner,
            field="coverage_lat_deg",
            rule="(south, north) in [-90, 90] with south < north",
            value=lat,
        )
        lon = self.coverage_lon_deg
        require(
            len(lon) == 2
            and all(math.isfinite(v) and -180.0 <= v <= 360.0 for v in lon)
            and 0.0 < _eastward_width_deg(lon) <= 360.0,
            owner=owner,
            field="coverage_lon_deg",
            rule="(west, east) in [-180, 360], distinct and at most 360° apart",
            value=lon,
        )


def _eastward_width_deg(lon: tuple[float, float]) -> float:
    """Width of the longitude band running eastward from ``lon[0]`` to ``lon[1]``, degrees."""
    west, east = lon
    difference = east - west
    if difference < 0.0:  # the band crosses the antimeridian
        return difference + 360.0
    return difference


class SpaceInfraredSensor:
    """A space-based infrared sensor (implements :class:`~iamd.sensors.base.Sensor`).

    The platform given to :meth:`observe` is the satellite itself (for a geostationary one:
    latitude 0, longitude L, height 35 786 km); the caller moves it if it moves.

    At each frame, every threat that is

    - boosting (:attr:`~iamd.messages.TruthState.boosting`),
    - over the coverage region (its geodetic latitude and longitude inside the box), and
    - not hidden by the Earth (:func:`iamd.geo.line_of_sight_clear` with ``k = 1``: infrared
      rays are straight, and the satellite is far above the refracting atmosphere),

    is detected with probability ``detection_probability``, independently from frame to
    frame. A detection is the line of sight from the satellite, as :func:`line_of_sight_angles`,
    plus independent Gaussian noise of ``line_of_sight_noise_urad`` on each angle; azimuth is
    wrapped to [-π, π). The noise is on the angles themselves, so the declared covariance is
    exact; as an angle across the line of sight the azimuth error is ``σ·cos(elevation)``,
    within 1.2 % of ``σ`` from geostationary orbit, where the Earth's disc spans ±8.7°.

    Parameters
    ----------
    config : InfraredConfig
        The sensor's parameters.

    Attributes
    ----------
    sensor_id : SensorId
    nation : NationCode
    period_s : float
        The frame period, s.
    config : InfraredConfig
    """

    def __init__(self, config: InfraredConfig) -> None:
        self.config = config
        self.sensor_id: SensorId = config.sensor_id
        self.nation: NationCode = config.nation
        self.period_s: float = config.frame_period_s
        sigma = config.line_of_sight_noise_urad * 1e-6
        self._sigma = sigma
        self._covariance = np.diag([sigma * sigma, sigma * sigma])
        self._south, self._north = (float(v) for v in config.coverage_lat_deg)
        self._west = float(config.coverage_lon_deg[0])
        self._width = _eastward_width_deg(config.coverage_lon_deg)

    def __repr__(self) -> str:
        return f"SpaceInfraredSensor({self.sensor_id!r}, nation={self.nation!r})"

    def in_coverage(self, lat_deg: FloatArray, lon_deg: FloatArray) -> BoolArray:
        """Whether geodetic points lie in the coverage region.

        Parameters
        ----------
        lat_deg, lon_deg : ndarray, shape (N,)
            Geodetic latitude and longitude, degrees.

        Returns
        -------
        ndarray of bool, shape (N,)
        """
        east_of_west = np.mod(np.asarray(lon_deg, dtype=float) - self._west, 360.0)
        latitude = np.asarray(lat_deg, dtype=float)
        return np.asarray(
            (latitude >= self._south)
            & (latitude <= self._north)
            & ((east_of_west <= self._width) | (self._width >= 360.0))
        )

    def observe(
        self, truth: TruthState, platform: PlatformState, rng: np.random.Generator
    ) -> Detections:
        """Take one frame at ``truth.time_s``.

        False alarms: a Poisson number with mean ``false_alarms_per_frame`` of ground points
        (height 0) uniform over the area of the coverage region (uniform in longitude and in
        the sine of latitude); those the satellite cannot see — beyond its limb — are dropped,
        since no pixel looks there. Their line of sight carries the same covariance as real
        detections. Rows are put in a random order drawn from ``rng``.

        Parameters
        ----------
        truth : TruthState
            All N threats at the frame instant (ECEF, m).
        platform : PlatformState
            The satellite at the same instant.
        rng : numpy.random.Generator
            The sensor's random stream.

        Returns
        -------
        Detections
            ``kind`` :attr:`MeasurementKind.LINE_OF_SIGHT`; rows (azimuth, elevation), rad,
            of the ECEF line of sight; covariance ``diag(σ², σ²)``; ``snr_db`` NaN.
        """
        config = self.config
        satellite = np.asarray(platform.position_ecef_m, dtype=float)
        seen = np.flatnonzero(truth.boosting)
        if seen.size:
            lat, lon, _ = ecef_to_geodetic(truth.position_ecef_m[seen])
            seen = seen[self.in_coverage(lat, lon)]
        if seen.size:
            seen = seen[
                line_of_sight_clear(
                    satellite,
                    platform.alt_m,
                    truth.position_ecef_m[seen],
                    truth.altitude_m[seen],
                    k=1.0,
                )
            ]
        threat = seen[rng.random(seen.size) < config.detection_probability]
        rows = line_of_sight_angles(truth.position_ecef_m[threat], satellite)
        rows += rng.standard_normal(rows.shape) * self._sigma
        rows[:, 0] = np.mod(rows[:, 0] + math.pi, _TWO_PI) - math.pi

        if config.false_alarms_per_frame > 0.0:
            false_rows = self._false_alarms(satellite, rng)
            rows = np.concatenate([rows, false_rows])
            threat = np.concatenate([threat, np.full(len(false_rows), FALSE_ALARM)])

        order = rng.permutation(len(rows)) if len(rows) > 1 else np.arange(len(rows))
        return Detections(
            sensor=self.sensor_id,
            nation=self.nation,
            kind=MeasurementKind.LINE_OF_SIGHT,
            valid_at=float(truth.time_s),
            sensor_position_ecef_m=satellite.copy(),
            sensor_lat_deg=float(platform.lat_deg),
            sensor_lon_deg=float(platform.lon_deg),
            measurements=rows[order],
            covariances=np.broadcast_to(self._covariance, (len(rows), 2, 2)).copy(),
            truth_index=threat[order].astype(np.int64),
            snr_db=np.full(len(rows), np.nan),
        )

    def _false_alarms(self, satellite: FloatArray, rng: np.random.Generator) -> FloatArray:
        """Draw one frame's false alarms as line-of-sight rows (azimuth, elevation)."""
        count = int(rng.poisson(self.config.false_alarms_per_frame))
        if count == 0:
            return np.empty((0, 2))
        sine = rng.uniform(
            math.sin(math.radians(self._south)), math.sin(math.radians(self._north)), count
        )
        lat = np.degrees(np.arcsin(sine))
        lon = self._west + rng.uniform(0.0, self._width, count)
        ground = geodetic_to_ecef(lat, lon, np.zeros(count))
        # A ground point is in view when the satellite is above its local horizontal plane.
        # (Tested directly rather than with line_of_sight_clear, whose grazing tolerance is
        # below float resolution for points exactly on the surface.)
        up = ecef_to_enu_matrix(lat, lon)[:, 2, :]
        visible = np.einsum("ij,ij->i", satellite - ground, up) > 0.0
        return line_of_sight_angles(ground[visible], satellite)
