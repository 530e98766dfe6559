"""Ground and ship radar: a phased-array abstraction with the radar range equation and Swerling I.

Every ``revisit_period_s`` the radar measures slant range, azimuth and elevation of every active
threat inside its field of regard and above the 4/3-Earth radar horizon, all at the scan
instant (an electronically steered array revisits each target once per period; the beam
schedule within the period is not modelled). Whether a threat is detected is a Swerling I
draw at the signal-to-noise ratio the radar range equation gives; false alarms come from a
Poisson count spread uniformly over the resolution cells of the field of regard.

References
----------
.. [1] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill, 2001, ch. 2 (the
   radar equation, probabilities of detection and false alarm, Swerling fluctuation models)
   and ch. 8 (refraction, the 4/3-Earth model).
.. [2] M. A. Richards, *Fundamentals of Radar Signal Processing*, McGraw-Hill, 2005, ch. 2
   (the radar range equation) and ch. 6 (threshold detection, Swerling models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iamd.core.ids import NationCode, SensorId
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo.frames import ecef_to_enu_matrix, ecef_to_geodetic
from iamd.geo.horizon import line_of_sight_clear
from iamd.messages.detections import FALSE_ALARM, Detections, MeasurementKind
from iamd.messages.truth import PlatformState, TruthState
from iamd.sensors._checks import require, require_finite, require_positive

_TWO_PI = 2.0 * math.pi

_HORIZON_TEST_BELOW_RAD = math.radians(1.0)
"""Geometric elevation below which the 4/3-Earth horizon test runs; above it the target is
always clear (the margin covers the ellipsoid-versus-sphere difference of the horizon model)."""


def radar_snr_db(
    range_m: npt.ArrayLike,
    rcs_m2: npt.ArrayLike,
    *,
    reference_range_m: float,
    reference_rcs_m2: float,
    reference_snr_db: float,
) -> FloatArray:
    """Signal-to-noise ratio of a target from the radar range equation, referenced to one point.

    With transmitter, antenna, dwell and losses fixed, the radar range equation gives
    ``SNR ∝ σ / R⁴`` ([1]_ ch. 2, [2]_ ch. 2), so one known point fixes the whole curve::

        SNR_dB = SNR_ref_dB + 10 log10(σ / σ_ref) − 40 log10(R / R_ref)

    Parameters
    ----------
    range_m : array_like, shape (...)
        Slant range from the radar to the target, m (positive).
    rcs_m2 : array_like, shape (...)
        Mean radar cross section of the target, m² (broadcasts against ``range_m``). A zero
        cross section gives ``-inf`` dB.
    reference_range_m : float
        Range at which a target of ``reference_rcs_m2`` has ``reference_snr_db``, m.
    reference_rcs_m2 : float
        Reference radar cross section, m².
    reference_snr_db : float
        Single-dwell SNR of the reference target at the reference range (after coherent
        integration), dB.

    Returns
    -------
    ndarray, shape (...)
        Mean signal-to-noise ratio, dB.

    Examples
    --------
    Twice the range costs 12 dB; ten times the cross section gains 10 dB:

    >>> kw = dict(reference_range_m=100e3, reference_rcs_m2=1.0, reference_snr_db=13.0)
    >>> radar_snr_db([100e3, 200e3], [1.0, 10.0], **kw).round(2)
    array([13.  , 10.96])
    """
    distance = np.asarray(range_m, dtype=float)
    rcs = np.asarray(rcs_m2, dtype=float)
    # A zero cross section is a legitimate "invisible" target: -inf dB, Pd = Pfa.
    with np.errstate(divide="ignore"):
        snr = (
            reference_snr_db
            + 10.0 * np.log10(rcs / reference_rcs_m2)
            - 40.0 * np.log10(distance / reference_range_m)
        )
    return np.asarray(snr, dtype=float)


def swerling1_detection_probability(
    snr_db: npt.ArrayLike, false_alarm_probability: npt.ArrayLike
) -> FloatArray:
    """Single-dwell detection probability of a Swerling I target with a square-law detector.

    For a Swerling I target (Rayleigh amplitude, exponential power, independent from scan to
    scan) in Gaussian noise, the normalised threshold ``T = −ln Pfa`` is exceeded with
    probability ([1]_ ch. 2, [2]_ ch. 6)::

        Pd = exp(−T / (1 + SNR)) = Pfa ** (1 / (1 + SNR))

    Parameters
    ----------
    snr_db : array_like, shape (...)
        Mean signal-to-noise ratio, dB.
    false_alarm_probability : array_like, shape (...)
        Probability that noise alone crosses the threshold in one resolution cell, in (0, 1);
        broadcasts against ``snr_db``.

    Returns
    -------
    ndarray, shape (...)
        Probability of detection, in [Pfa, 1].

    Examples
    --------
    About 21.2 dB gives Pd = 0.9 at Pfa = 1e-6, as on Skolnik's Swerling I curves:

    >>> float(swerling1_detection_probability(21.15, 1e-6).round(3))
    0.9
    """
    snr = np.power(10.0, np.asarray(snr_db, dtype=float) / 10.0)
    pfa = np.asarray(false_alarm_probability, dtype=float)
    return np.asarray(np.power(pfa, 1.0 / (1.0 + snr)), dtype=float)


@dataclass(frozen=True, slots=True, kw_only=True)
class RadarConfig:
    """Parameters of one radar (notional values only).

    Attributes
    ----------
    sensor_id : SensorId
        Unique name of the sensor.
    nation : NationCode
        Owning nation.
    boresight_azimuth_deg : float
        Centre of the field of regard, degrees clockwise from true north (fixed in the
        platform's local ENU frame: it does not turn with a ship's heading).
    azimuth_extent_deg : float
        Total width of the field of regard in azimuth, centred on the boresight, degrees, in
        (0, 360]; 360 means all round.
    elevation_min_deg, elevation_max_deg : float
        Elevation limits of the field of regard, degrees above the local horizontal plane
        (geometric elevation; refraction enters only through the horizon test).
    range_min_m : float
        Minimum instrumented range, m (eclipsing, blind zone).
    range_max_m : float
        Maximum instrumented range, m.
    revisit_period_s : float
        Time between two looks at the same target, s.
    range_noise_m : float
        1-sigma slant-range measurement noise, m.
    azimuth_noise_mrad, elevation_noise_mrad : float
        1-sigma angle measurement noise, mrad.
    reference_range_m : float
        Range at which the reference target has ``reference_snr_db``, m.
    reference_rcs_m2 : float
        Reference radar cross section, m².
    reference_snr_db : float
        Single-dwell SNR of the reference target at the reference range, dB.
    false_alarm_probability : float
        Probability of a noise threshold crossing per resolution cell, in (0, 1); sets the
        detection threshold ``T = −ln Pfa``.
    false_alarms_per_scan : float
        Mean number of false alarms per scan over the whole field of regard (Poisson), ≥ 0.
        It is the cell count times ``false_alarm_probability``, given directly because the
        cell count of a notional radar is itself a free parameter.

    Raises
    ------
    ConfigurationError
        If a value is out of its domain; the message names the sensor and the field.
    """

    sensor_id: SensorId
    nation: NationCode
    boresight_azimuth_deg: float = 0.0
    azimuth_extent_deg: float = 360.0
    elevation_min_deg: float = 0.0
    elevation_max_deg: float = 90.0
    range_min_m: float = 1_000.0
    range_max_m: float
    revisit_period_s: float = 5.0
    range_noise_m: float
    azimuth_noise_mrad: float
    elevation_noise_mrad: float
    reference_range_m: float
    reference_rcs_m2: float = 1.0
    reference_snr_db: float = 13.0
    false_alarm_probability: float = 1e-6
    false_alarms_per_scan: float = 0.0

    def __post_init__(self) -> None:
        owner = f"radar {self.sensor_id!r}"
        require(
            bool(self.sensor_id),
            owner=owner,
            field="sensor_id",
            rule="non-empty",
            value=self.sensor_id,
        )
        require_finite(self.boresight_azimuth_deg, owner=owner, field="boresight_azimuth_deg")
        extent = self.azimuth_extent_deg
        require(
            math.isfinite(extent) and 0.0 < extent <= 360.0,
            owner=owner,
            field="azimuth_extent_deg",
            rule="in (0, 360]",
            value=extent,
        )
        for name in ("elevation_min_deg", "elevation_max_deg"):
            angle = getattr(self, name)
            require(
                math.isfinite(angle) and -90.0 <= angle <= 90.0,
                owner=owner,
                field=name,
                rule="in [-90, 90]",
                value=angle,
            )
        require(
            self.elevation_min_deg < self.elevation_max_deg,
            owner=owner,
            field="elevation_min_deg",
            rule="below elevation_max_deg",
            value=self.elevation_min_deg,
        )
        require(
            math.isfinite(self.range_min_m) and self.range_min_m >= 0.0,
            owner=owner,
            field="range_min_m",
            rule="a non-negative number",
            value=self.range_min_m,
        )
        require_positive(self.range_max_m, owner=owner, field="range_max_m")
        require(
            self.range_min_m < self.range_max_m,
            owner=owner,
            field="range_min_m",
            rule="below range_max_m",
            value=self.range_min_m,
        )
        for name in (
            "revisit_period_s",
            "range_noise_m",
            "azimuth_noise_mrad",
            "elevation_noise_mrad",
            "reference_range_m",
            "reference_rcs_m2",
        ):
            require_positive(getattr(self, name), owner=owner, field=name)
        require_finite(self.reference_snr_db, owner=owner, field="reference_snr_db")
        pfa = self.false_alarm_probability
        require(
            0.0 < pfa < 1.0,
            owner=owner,
            field="false_alarm_probability",
            rule="in (0, 1)",
            value=pfa,
        )
        rate = self.false_alarms_per_scan
        require(
            math.isfinite(rate) and rate >= 0.0,
            owner=owner,
            field="false_alarms_per_scan",
            rule="a non-negative number",
            value=rate,
        )


class RadarSensor:
    """A ground or ship radar (implements :class:`~iamd.sensors.base.Sensor`).

    At each call of :meth:`observe` (one scan, every ``revisit_period_s``), every active
    threat that is

    - inside the azimuth sector (wrapping through north), the elevation limits and the
      instrumented range interval, measured in the platform's local ENU frame at the scan
      instant, and
    - above the 4/3-Earth radar horizon (:func:`iamd.geo.line_of_sight_clear`),

    is detected with the Swerling I probability at its range-equation SNR
    (:func:`radar_snr_db`, :func:`swerling1_detection_probability`). Each detection is the
    true (range, azimuth, elevation) plus independent Gaussian noise with the configured
    1-sigma values; azimuth is wrapped to [0, 2π). False alarms are added as described in
    :meth:`observe`.

    Parameters
    ----------
    config : RadarConfig
        The radar's parameters.

    Attributes
    ----------
    sensor_id : SensorId
    nation : NationCode
    period_s : float
        The revisit period, s.
    config : RadarConfig
    """

    def __init__(self, config: RadarConfig) -> None:
        self.config = config
        self.sensor_id: SensorId = config.sensor_id
        self.nation: NationCode = config.nation
        self.period_s: float = config.revisit_period_s
        self._threshold = -math.log(config.false_alarm_probability)
        self._sigma = np.array(
            [
                config.range_noise_m,
                config.azimuth_noise_mrad * 1e-3,
                config.elevation_noise_mrad * 1e-3,
            ]
        )
        self._covariance = np.diag(self._sigma**2)
        self._all_round = config.azimuth_extent_deg >= 360.0
        self._boresight_rad = math.radians(config.boresight_azimuth_deg) % _TWO_PI
        self._half_extent_rad = math.radians(config.azimuth_extent_deg) / 2.0
        self._elevation_min_rad = math.radians(config.elevation_min_deg)
        self._elevation_max_rad = math.radians(config.elevation_max_deg)
        self._sin_elevation_min = math.sin(self._elevation_min_rad)
        self._sin_elevation_max = math.sin(self._elevation_max_rad)
        # The ECEF→ENU rotation of the last platform position: a land site computes it once,
        # a ship again only when it has moved.
        self._enu_key = (math.nan, math.nan)
        self._enu_rotation = np.eye(3)

    def __repr__(self) -> str:
        return f"RadarSensor({self.sensor_id!r}, nation={self.nation!r})"

    def _rotation(self, lat_deg: float, lon_deg: float) -> FloatArray:
        if (lat_deg, lon_deg) != self._enu_key:
            self._enu_rotation = ecef_to_enu_matrix(lat_deg, lon_deg)
            self._enu_key = (lat_deg, lon_deg)
        return self._enu_rotation

    def observe(
        self, truth: TruthState, platform: PlatformState, rng: np.random.Generator
    ) -> Detections:
        """Scan once at ``truth.time_s``.

        Detection is drawn the way a square-law detector decides: the echo power of a
        Swerling I target, normalised to the mean noise power, is exponential with mean
        ``1 + SNR`` and is detected when it exceeds ``T = −ln Pfa`` (so ``Pd = Pfa **
        (1 / (1 + SNR))``). The reported ``snr_db`` is that measured power-to-noise ratio,
        in dB — what a real radar reports with a plot — rather than the mean SNR, which only
        the truth knows.

        False alarms: a Poisson number with mean ``false_alarms_per_scan``, each uniform in
        (range, azimuth, elevation) over the field of regard. Range and beam resolution
        cells have constant size in those coordinates, and every cell has the same
        false-alarm probability, so noise crossings are uniform per cell — not per unit
        volume. Their measured power is ``T`` plus an exponential excess of mean 1 (noise
        power is exponential, hence memoryless above the threshold), and they carry the same
        covariance as real detections, so nothing but statistics tells them apart.

        Rows are put in a random order drawn from ``rng``, so that the order tells nothing
        about which rows are threats.

        Parameters
        ----------
        truth : TruthState
            All N threats at the scan instant (ECEF, m); only active rows are considered.
        platform : PlatformState
            The radar's site or ship at the same instant; its geodetic position defines the
            ENU measurement frame and its height the horizon.
        rng : numpy.random.Generator
            The radar's random stream.

        Returns
        -------
        Detections
            ``kind`` :attr:`MeasurementKind.RADAR_RAE`; rows (range m, azimuth rad in
            [0, 2π), elevation rad) in the platform's ENU frame; covariance
            ``diag(σr², σaz², σel²)`` on every row.
        """
        site = np.asarray(platform.position_ecef_m, dtype=float)
        threat, slant, azimuth, elevation = self._in_view(
            truth.position_ecef_m, truth.altitude_m, np.flatnonzero(truth.active), platform, site
        )
        if threat.size:
            snr_db = radar_snr_db(
                slant,
                truth.rcs_m2[threat],
                reference_range_m=self.config.reference_range_m,
                reference_rcs_m2=self.config.reference_rcs_m2,
                reference_snr_db=self.config.reference_snr_db,
            )
            mean_power = 1.0 + np.power(10.0, snr_db / 10.0)
            power = rng.standard_exponential(threat.size) * mean_power
            detected = np.flatnonzero(power > self._threshold)
            rows = np.column_stack([slant[detected], azimuth[detected], elevation[detected]])
            rows += rng.standard_normal(rows.shape) * self._sigma
            rows[:, 1] = np.mod(rows[:, 1], _TWO_PI)
            threat, power = threat[detected], power[detected]
        else:
            rows, power = np.empty((0, 3)), np.empty(0)

        if self.config.false_alarms_per_scan > 0.0:
            false_rows, false_power = self._false_alarms(rng)
            rows = np.concatenate([rows, false_rows])
            power = np.concatenate([power, false_power])
            threat = np.concatenate([threat, np.full(len(false_rows), FALSE_ALARM)])

        order = rng.permutation(len(rows)) if len(rows) > 1 else np.arange(len(rows))
        return Detections(
            sensor=self.sensor_id,
            nation=self.nation,
            kind=MeasurementKind.RADAR_RAE,
            valid_at=float(truth.time_s),
            sensor_position_ecef_m=site.copy(),
            sensor_lat_deg=float(platform.lat_deg),
            sensor_lon_deg=float(platform.lon_deg),
            measurements=rows[order],
            covariances=np.broadcast_to(self._covariance, (len(rows), 3, 3)).copy(),
            truth_index=threat[order].astype(np.int64),
            # Every power is above the threshold T = −ln Pfa > 0, so the logarithm is finite.
            snr_db=10.0 * np.log10(power[order]),
        )

    def covers(self, position_ecef_m: FloatArray, platform: PlatformState) -> BoolArray:
        """Whether points lie in the field of regard and above the radar's horizon.

        The same geometry as :meth:`observe` uses for threats; a tracker asks it which of
        its tracks a scan should have seen, so that only those count a miss.

        Parameters
        ----------
        position_ecef_m : ndarray, shape (K, 3)
            Points, ECEF, m.
        platform : PlatformState
            The radar's site or ship.

        Returns
        -------
        ndarray of bool, shape (K,)
        """
        points = np.asarray(position_ecef_m, dtype=float).reshape(-1, 3)
        inside = np.zeros(points.shape[0], dtype=bool)
        if points.shape[0]:
            _, _, altitude = ecef_to_geodetic(points)
            site = np.asarray(platform.position_ecef_m, dtype=float)
            rows, _, _, _ = self._in_view(
                points, altitude, np.arange(points.shape[0]), platform, site
            )
            inside[rows] = True
        return inside

    def _in_view(
        self,
        position_ecef_m: FloatArray,
        altitude_m: FloatArray,
        candidates: IntArray,
        platform: PlatformState,
        site: FloatArray,
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """Points inside the field of regard and above the horizon, with their true RAE.

        Returns
        -------
        threat : ndarray of int, shape (M,)
            Rows of ``position_ecef_m`` among ``candidates``.
        slant, azimuth, elevation : ndarray, shape (M,)
            True slant range (m), azimuth (rad, [0, 2π)) and elevation (rad) in the
            platform's ENU frame.
        """
        config = self.config
        east_axis, north_axis, up_axis = self._rotation(platform.lat_deg, platform.lon_deg)
        # Cheapest tests first, on shrinking subsets: range and elevation need no
        # trigonometry (sine is monotonic on [-90°, 90°]), azimuth needs one atan2, the
        # horizon a few more.
        threat = candidates
        delta = position_ecef_m[threat] - site
        slant = np.sqrt(np.einsum("ij,ij->i", delta, delta))
        up = delta @ up_axis
        keep = np.flatnonzero(
            (slant >= config.range_min_m)
            & (slant <= config.range_max_m)
            & (up >= slant * self._sin_elevation_min)
            & (up <= slant * self._sin_elevation_max)
        )
        if keep.size == 0:
            nothing = np.empty(0)
            return keep, nothing, nothing, nothing
        threat, delta, slant, up = threat[keep], delta[keep], slant[keep], up[keep]
        east, north = delta @ east_axis, delta @ north_axis
        azimuth = np.mod(np.arctan2(east, north), _TWO_PI)
        if not self._all_round:
            off_boresight = np.mod(azimuth - self._boresight_rad + math.pi, _TWO_PI) - math.pi
            keep = np.flatnonzero(np.abs(off_boresight) <= self._half_extent_rad)
            threat, slant, up, azimuth = threat[keep], slant[keep], up[keep], azimuth[keep]
            east, north = east[keep], north[keep]
        elevation = np.arctan2(up, np.hypot(east, north))
        # A target well above the site's horizontal plane is above the refracted horizon
        # too (refraction only lowers the horizon), so only the low ones take the full test.
        low = np.flatnonzero(elevation < _HORIZON_TEST_BELOW_RAD)
        if low.size:
            rows = threat[low]
            clear = line_of_sight_clear(
                site, platform.alt_m, position_ecef_m[rows], altitude_m[rows]
            )
            if not clear.all():
                keep = np.ones(threat.size, dtype=bool)
                keep[low[~clear]] = False
                threat, slant = threat[keep], slant[keep]
                azimuth, elevation = azimuth[keep], elevation[keep]
        return threat, slant, azimuth, elevation

    def _false_alarms(self, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        """Draw one scan's false alarms: rows (range, azimuth, elevation) and measured power."""
        config = self.config
        count = int(rng.poisson(config.false_alarms_per_scan))
        distance = rng.uniform(config.range_min_m, config.range_max_m, count)
        if self._all_round:
            azimuth = rng.uniform(0.0, _TWO_PI, count)
        else:
            offset = rng.uniform(-self._half_extent_rad, self._half_extent_rad, count)
            azimuth = np.mod(self._boresight_rad + offset, _TWO_PI)
        elevation = rng.uniform(self._elevation_min_rad, self._elevation_max_rad, count)
        power = self._threshold + rng.standard_exponential(count)
        return np.column_stack([distance, azimuth, elevation]), power
