"""Monte-Carlo checks of the radar's detection, false-alarm and noise statistics.

Every check compares an empirical figure with its theoretical value within a bound that a
correct model exceeds with probability of order 1e-4 or less; the seeds are fixed, so a pass
is reproducible and a failure means the model (not the luck) changed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sensor_fixtures import aer_positions, radar_config, truth_at, wrap_angle

from iamd.geo import ecef_to_aer
from iamd.messages import PlatformState
from iamd.messages.detections import FALSE_ALARM
from iamd.sensors import RadarSensor, radar_snr_db, swerling1_detection_probability

Z = 4.0  # two-sided normal bound: a correct model fails one check with probability 6e-5

RANGES_M = np.array([60e3, 80e3, 100e3, 120e3, 150e3])
PER_RANGE = 1_000
SCANS = 20


def _pd_radar() -> RadarSensor:
    # 13 dB at 100 km on 1 m², Pfa 1e-6: Pd runs from 0.92 at 60 km to 0.06 at 150 km.
    return RadarSensor(
        radar_config(reference_range_m=100e3, reference_snr_db=13.0, false_alarm_probability=1e-6)
    )


def test_empirical_detection_probability_matches_swerling1(site: PlatformState) -> None:
    radar = _pd_radar()
    azimuth = np.tile(np.linspace(0.0, 360.0, PER_RANGE, endpoint=False), RANGES_M.size)
    distance = np.repeat(RANGES_M, PER_RANGE)
    truth = truth_at(aer_positions(site, azimuth, 10.0, distance))
    rng = np.random.default_rng(11)
    hits = np.zeros(RANGES_M.size)
    for _ in range(SCANS):
        detected = radar.observe(truth, site, rng).truth_index
        hits += np.bincount(detected // PER_RANGE, minlength=RANGES_M.size)
    trials = PER_RANGE * SCANS
    empirical = hits / trials
    theory = swerling1_detection_probability(
        radar_snr_db(
            RANGES_M, 1.0, reference_range_m=100e3, reference_rcs_m2=1.0, reference_snr_db=13.0
        ),
        1e-6,
    )
    bound = Z * np.sqrt(theory * (1.0 - theory) / trials)
    assert np.all(np.abs(empirical - theory) <= bound), (empirical, theory, bound)
    assert np.all(np.diff(empirical) < 0.0)  # and the curve falls with range


def test_measured_power_of_detections_is_threshold_plus_exponential(
    site: PlatformState,
) -> None:
    # Given a crossing, the Swerling I echo power (noise units) is T + Exp(mean 1 + SNR):
    # the exponential distribution is memoryless.
    radar = _pd_radar()
    truth = truth_at(aer_positions(site, np.linspace(0, 360, 2_000, endpoint=False), 10, 100e3))
    rng = np.random.default_rng(12)
    power = np.concatenate(
        [10.0 ** (radar.observe(truth, site, rng).snr_db / 10.0) for _ in range(10)]
    )
    threshold = -math.log(1e-6)
    mean_snr = 10.0 ** (13.0 / 10.0)
    excess = power - threshold
    assert excess.min() > 0.0
    expected = 1.0 + mean_snr
    assert abs(excess.mean() - expected) <= Z * expected / math.sqrt(excess.size)
    assert stats.kstest(excess / expected, "expon").pvalue > 1e-3


def test_false_alarm_counts_are_poisson_and_inside_the_field_of_regard(
    site: PlatformState,
) -> None:
    rate = 4.0
    radar = RadarSensor(
        radar_config(
            boresight_azimuth_deg=350.0,  # the sector runs through north: 320° … 20°
            azimuth_extent_deg=60.0,
            elevation_min_deg=2.0,
            elevation_max_deg=40.0,
            range_min_m=5e3,
            range_max_m=400e3,
            false_alarms_per_scan=rate,
        )
    )
    empty = truth_at(np.empty((0, 3)))
    rng = np.random.default_rng(13)
    scans = [radar.observe(empty, site, rng) for _ in range(3_000)]
    counts = np.array([len(scan) for scan in scans])

    # Mean: Poisson with mean `rate`.
    assert abs(counts.mean() - rate) <= Z * math.sqrt(rate / counts.size)
    # Dispersion test: sum (n - mean)² / mean ~ χ²(S − 1) for Poisson counts.
    dispersion = np.sum((counts - counts.mean()) ** 2) / counts.mean()
    dof = counts.size - 1
    assert stats.chi2.ppf(1e-4, dof) < dispersion < stats.chi2.ppf(1 - 1e-4, dof)

    rows = np.concatenate([scan.measurements for scan in scans])
    assert np.all(np.concatenate([scan.truth_index for scan in scans]) == FALSE_ALARM)
    distance, azimuth, elevation = rows.T
    off_boresight = np.degrees(wrap_angle(azimuth - math.radians(350.0)))
    assert distance.min() >= 5e3
    assert distance.max() <= 400e3
    assert np.all((azimuth >= 0.0) & (azimuth < 2 * math.pi))
    assert np.all(np.abs(off_boresight) <= 30.0)
    assert np.degrees(elevation.min()) >= 2.0
    assert np.degrees(elevation.max()) <= 40.0
    # Uniform over resolution cells, i.e. uniform in each of range, azimuth, elevation.
    assert stats.kstest(distance, "uniform", args=(5e3, 395e3)).pvalue > 1e-3
    assert stats.kstest(off_boresight, "uniform", args=(-30.0, 60.0)).pvalue > 1e-3
    assert stats.kstest(np.degrees(elevation), "uniform", args=(2.0, 38.0)).pvalue > 1e-3

    # Their measured power is the threshold plus an exponential excess of mean 1.
    excess = 10.0 ** (np.concatenate([scan.snr_db for scan in scans]) / 10.0) + math.log(1e-6)
    assert stats.kstest(excess, "expon").pvalue > 1e-3


def test_no_false_alarms_when_the_rate_is_zero(site: PlatformState) -> None:
    radar = RadarSensor(radar_config(false_alarms_per_scan=0.0))
    rng = np.random.default_rng(14)
    assert all(len(radar.observe(truth_at(np.empty((0, 3))), site, rng)) == 0 for _ in range(50))


def test_measurement_noise_matches_the_declared_covariance(site: PlatformState) -> None:
    radar = RadarSensor(radar_config())
    # Targets around north, so that noise wraps azimuth through 0 / 2π, and elsewhere.
    azimuth = np.concatenate([np.full(100, 0.01), np.linspace(0, 360, 100, endpoint=False)])
    distance = np.linspace(20e3, 700e3, 200)
    truth = truth_at(aer_positions(site, azimuth, np.linspace(1.0, 60.0, 200), distance))
    expected = ecef_to_aer(truth.position_ecef_m, site.position_ecef_m, site.lat_deg, site.lon_deg)[
        :, [2, 0, 1]
    ]  # (range, azimuth, elevation)
    rng = np.random.default_rng(15)
    residuals, covariances = [], []
    for _ in range(50):
        scan = radar.observe(truth, site, rng)
        assert len(scan) == 200  # Pd ≈ 1 with the fixture radar
        # Noise near north must wrap: azimuth stays in [0, 2π).
        assert np.all((scan.measurements[:, 1] >= 0.0) & (scan.measurements[:, 1] < 2 * math.pi))
        residual = scan.measurements - expected[scan.truth_index]
        residual[:, 1] = wrap_angle(residual[:, 1])
        residuals.append(residual)
        covariances.append(scan.covariances)
    r = np.concatenate(residuals)
    C = np.concatenate(covariances)
    count = r.shape[0]
    # The declared covariance is the configured one, in the units of the measurements.
    np.testing.assert_allclose(C, np.broadcast_to(np.diag([30.0**2, 1e-3**2, 1.5e-3**2]), C.shape))

    # NEES: Σ rᵀ C⁻¹ r over K rows is χ²(3K) when the declared covariance is right.
    nees = np.einsum("ki,kij,kj->", r, np.linalg.inv(C), r)
    assert stats.chi2.ppf(1e-4, 3 * count) < nees < stats.chi2.ppf(1 - 1e-4, 3 * count)

    # Each component: unbiased, variance as declared, uncorrelated with the others.
    sigma = np.sqrt(np.diagonal(C[0]))
    np.testing.assert_array_less(np.abs(r.mean(axis=0)), Z * sigma / math.sqrt(count))
    variance_ratio = r.var(axis=0) / sigma**2
    low, high = stats.chi2.ppf([1e-4, 1 - 1e-4], count) / count
    assert np.all((low < variance_ratio) & (variance_ratio < high)), variance_ratio
    correlation = np.atleast_2d(np.corrcoef(r.T))[np.triu_indices(3, 1)]
    assert np.all(np.abs(correlation) < Z / math.sqrt(count))


@pytest.mark.parametrize("sigma_scale", [0.5, 2.0])
def test_nees_check_rejects_a_wrong_declared_covariance(
    site: PlatformState, sigma_scale: float
) -> None:
    # The consistency test above has teeth: a radar whose real noise is a factor off from
    # the declared covariance fails it.
    actual = RadarSensor(
        radar_config(
            range_noise_m=30.0 * sigma_scale,
            azimuth_noise_mrad=1.0 * sigma_scale,
            elevation_noise_mrad=1.5 * sigma_scale,
        )
    )
    declared = np.diag([30.0**2, 1e-6, 2.25e-6])
    truth = truth_at(aer_positions(site, np.linspace(0, 360, 200, endpoint=False), 5.0, 100e3))
    expected = ecef_to_aer(truth.position_ecef_m, site.position_ecef_m, site.lat_deg, site.lon_deg)[
        :, [2, 0, 1]
    ]
    scan = actual.observe(truth, site, np.random.default_rng(16))
    r = scan.measurements - expected[scan.truth_index]
    r[:, 1] = wrap_angle(r[:, 1])
    nees = np.einsum("ki,ij,kj->", r, np.linalg.inv(declared), r)
    dof = 3 * len(scan)
    assert not stats.chi2.ppf(1e-4, dof) < nees < stats.chi2.ppf(1 - 1e-4, dof)
