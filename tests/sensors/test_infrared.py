"""Space-based infrared: what it sees, the line-of-sight geometry, noise and false alarms."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from sensor_fixtures import (
    GEO_ALTITUDE_M,
    infrared_config,
    platform_at,
    truth_at,
    wrap_angle,
)

from iamd.geo import WGS84_A_M, WGS84_B_M, ecef_to_geodetic, geodetic_to_ecef
from iamd.messages import MeasurementKind, PlatformState, ThreatPhase, TruthState
from iamd.messages.detections import FALSE_ALARM
from iamd.sensors import SpaceInfraredSensor, line_of_sight_angles

Z = 4.0


def _seen(
    sensor: SpaceInfraredSensor, truth: TruthState, platform: PlatformState, seed: int = 0
) -> set[int]:
    return set(sensor.observe(truth, platform, np.random.default_rng(seed)).truth_index.tolist())


def test_sees_only_boosting_threats_over_its_coverage(geo_satellite: PlatformState) -> None:
    sensor = SpaceInfraredSensor(infrared_config())  # lat 20…45, lon 35…75, Pd = 1
    where = [(30, 50), (30, 50), (30, 50), (30, 50), (10, 50), (50, 50), (30, 30), (30, 80)]
    lat, lon = np.array(where, float).T
    positions = geodetic_to_ecef(lat, lon, 40e3)
    positions[3] = np.nan
    phases = [
        ThreatPhase.BOOST,
        ThreatPhase.MIDCOURSE,
        ThreatPhase.TERMINAL,
        ThreatPhase.NOT_LAUNCHED,
        ThreatPhase.BOOST,  # south of the box
        ThreatPhase.BOOST,  # north of it
        ThreatPhase.BOOST,  # west of it
        ThreatPhase.BOOST,  # east of it
    ]
    truth = truth_at(positions, phase=phases)
    for seed in range(5):
        assert _seen(sensor, truth, geo_satellite, seed) == {0}


def test_never_sees_through_the_earth() -> None:
    # Satellite over 60° E, region stretching far past its limb. From geostationary height
    # the limb is 81.3° of arc away for the ground, 86.9° for a point 30 km up.
    sensor = SpaceInfraredSensor(
        infrared_config(coverage_lat_deg=(-10.0, 10.0), coverage_lon_deg=(100.0, 180.0))
    )
    satellite = platform_at(0.0, 60.0, GEO_ALTITUDE_M)
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(-10, 10, 500), rng.uniform(100.0, 180.0, 500)
    truth = truth_at(geodetic_to_ecef(lat, lon, 30e3), phase=ThreatPhase.BOOST)
    seen = _seen(sensor, truth, satellite)
    # Arc from the sub-satellite point to each threat's sub-point.
    arc = np.degrees(np.arccos(np.cos(np.radians(lat)) * np.cos(np.radians(lon - 60.0))))
    assert set(np.flatnonzero(arc < 86.0)) <= seen  # this side of the limb: all seen
    assert not set(np.flatnonzero(arc > 87.7)) & seen  # beyond it: none
    assert 0 < len(seen) < 500
    # The same place beyond the limb, but high enough, comes into view.
    far = geodetic_to_ecef(0.0, 150.0, np.array([30e3, 1_500e3]))
    assert _seen(sensor, truth_at(far, phase=ThreatPhase.BOOST), satellite) == {1}


def test_line_of_sight_angles_for_a_constructed_geometry() -> None:
    # Satellite over (0°, 0°): at (a + h, 0, 0). Points on the equator at ±10° longitude,
    # 100 km up, lie at r (cos 10°, ±sin 10°, 0) with r = a + 100 km; the point over the
    # sub-satellite point is straight down, along −x.
    a = WGS84_A_M
    satellite = platform_at(0.0, 0.0, GEO_ALTITUDE_M)
    np.testing.assert_allclose(satellite.position_ecef_m, [a + GEO_ALTITUDE_M, 0, 0])
    r = a + 100e3
    c, s = math.cos(math.radians(10)), math.sin(math.radians(10))
    positions = np.array([[r * c, r * s, 0.0], [r * c, -r * s, 0.0], [r, 0.0, 0.0]])
    dx = r * c - (a + GEO_ALTITUDE_M)
    expected_azimuth = [math.atan2(r * s, dx), math.atan2(-r * s, dx), -math.pi]
    sensor = SpaceInfraredSensor(
        infrared_config(
            coverage_lat_deg=(-20.0, 20.0),
            coverage_lon_deg=(-20.0, 20.0),
            line_of_sight_noise_urad=1e-6,
        )
    )
    scan = sensor.observe(
        truth_at(positions, phase=ThreatPhase.BOOST), satellite, np.random.default_rng(5)
    )
    assert scan.kind is MeasurementKind.LINE_OF_SIGHT
    order = np.argsort(scan.truth_index)
    azimuth, elevation = scan.measurements[order].T
    np.testing.assert_allclose(wrap_angle(azimuth - expected_azimuth), 0.0, atol=1e-9)
    np.testing.assert_allclose(elevation, 0.0, atol=1e-9)
    assert np.all((azimuth >= -math.pi) & (azimuth < math.pi))
    assert np.all(np.isnan(scan.snr_db))


def test_line_of_sight_elevation_is_the_z_component() -> None:
    # u_z = sin(elevation): checked against the definition for points off the equator.
    satellite = np.array([42_164e3, 0.0, 0.0])
    targets = geodetic_to_ecef(np.array([40.0, -25.0, 5.0]), np.array([-30.0, 10.0, 45.0]), 1e5)
    u = targets - satellite
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    angles = line_of_sight_angles(targets, satellite)
    np.testing.assert_allclose(np.sin(angles[:, 1]), u[:, 2], atol=1e-14)
    np.testing.assert_allclose(angles[:, 0], np.arctan2(u[:, 1], u[:, 0]), atol=1e-14)


def test_noise_and_detection_probability(geo_satellite: PlatformState) -> None:
    sensor = SpaceInfraredSensor(
        infrared_config(detection_probability=0.7, line_of_sight_noise_urad=50.0)
    )
    rng = np.random.default_rng(6)
    count = 400
    positions = geodetic_to_ecef(rng.uniform(21, 44, count), rng.uniform(36, 74, count), 50e3)
    truth = truth_at(positions, phase=ThreatPhase.BOOST)
    expected = line_of_sight_angles(positions, geo_satellite.position_ecef_m)
    residuals, detected = [], 0
    frames = 30
    for _ in range(frames):
        scan = sensor.observe(truth, geo_satellite, rng)
        residual = scan.measurements - expected[scan.truth_index]
        residual[:, 0] = wrap_angle(residual[:, 0])
        residuals.append(residual)
        detected += len(scan)
        covariance = scan.covariances[0]
    trials = count * frames
    assert abs(detected / trials - 0.7) <= Z * math.sqrt(0.7 * 0.3 / trials)
    r = np.concatenate(residuals)
    np.testing.assert_allclose(covariance, np.diag([50e-6**2, 50e-6**2]))
    nees = np.einsum("ki,ij,kj->", r, np.linalg.inv(covariance), r)
    dof = 2 * r.shape[0]
    assert stats.chi2.ppf(1e-4, dof) < nees < stats.chi2.ppf(1 - 1e-4, dof)
    ratio = r.var(axis=0) / 50e-6**2
    low, high = stats.chi2.ppf([1e-4, 1 - 1e-4], r.shape[0]) / r.shape[0]
    assert np.all((low < ratio) & (ratio < high)), ratio
    assert np.all(np.abs(r.mean(axis=0)) < Z * 50e-6 / math.sqrt(r.shape[0]))


def _ground_point(los: np.ndarray, satellite: np.ndarray) -> np.ndarray:
    """Where lines of sight (azimuth, elevation) from the satellite first meet the ellipsoid."""
    az, el = los.T
    u = np.column_stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    scale = np.array([WGS84_A_M, WGS84_A_M, WGS84_B_M])
    p, d = satellite / scale, u / scale  # the ellipsoid becomes the unit sphere
    b = np.einsum("ij,j->i", d, p)
    dd = np.einsum("ij,ij->i", d, d)
    t = (-b - np.sqrt(b * b - dd * (p @ p - 1.0))) / dd
    return np.asarray(satellite + t[:, None] * u)


def test_false_alarms_are_poisson_on_the_ground_of_the_coverage_region(
    geo_satellite: PlatformState,
) -> None:
    rate = 2.5
    sensor = SpaceInfraredSensor(infrared_config(false_alarms_per_frame=rate))
    rng = np.random.default_rng(7)
    empty = truth_at(np.empty((0, 3)))
    frames = [sensor.observe(empty, geo_satellite, rng) for _ in range(2_000)]
    counts = np.array([len(frame) for frame in frames])
    assert abs(counts.mean() - rate) <= Z * math.sqrt(rate / counts.size)
    dispersion = np.sum((counts - counts.mean()) ** 2) / counts.mean()
    dof = counts.size - 1
    assert stats.chi2.ppf(1e-4, dof) < dispersion < stats.chi2.ppf(1 - 1e-4, dof)

    assert np.all(np.concatenate([f.truth_index for f in frames]) == FALSE_ALARM)
    los = np.concatenate([frame.measurements for frame in frames])
    lat, lon, height = ecef_to_geodetic(_ground_point(los, geo_satellite.position_ecef_m))
    np.testing.assert_allclose(height, 0.0, atol=1e-3)
    assert lat.min() >= 20.0 - 1e-9
    assert lat.max() <= 45.0 + 1e-9
    assert lon.min() >= 35.0 - 1e-9
    assert lon.max() <= 75.0 + 1e-9
    # Uniform over the area: uniform in longitude and in the sine of latitude.
    assert stats.kstest(lon, "uniform", args=(35.0, 40.0)).pvalue > 1e-3
    sin_south, sin_north = math.sin(math.radians(20)), math.sin(math.radians(45))
    assert (
        stats.kstest(
            np.sin(np.radians(lat)), "uniform", args=(sin_south, sin_north - sin_south)
        ).pvalue
        > 1e-3
    )


def test_coverage_across_the_antimeridian() -> None:
    sensor = SpaceInfraredSensor(
        infrared_config(
            coverage_lat_deg=(-10.0, 10.0),
            coverage_lon_deg=(170.0, -170.0),
            false_alarms_per_frame=3.0,
        )
    )
    satellite = platform_at(0.0, 180.0, GEO_ALTITUDE_M)
    lon = np.array([175.0, -175.0, 179.9, -179.9, 165.0, -165.0, 0.0])
    truth = truth_at(geodetic_to_ecef(0.0, lon, 40e3), phase=ThreatPhase.BOOST)
    rng = np.random.default_rng(8)
    frames = [sensor.observe(truth, satellite, rng) for _ in range(300)]
    for frame in frames:
        assert set(frame.truth_index.tolist()) - {FALSE_ALARM} == {0, 1, 2, 3}
    los = np.concatenate([f.measurements[f.truth_index == FALSE_ALARM] for f in frames])
    _, fa_lon, _ = ecef_to_geodetic(_ground_point(los, satellite.position_ecef_m))
    assert np.all(np.abs(fa_lon) >= 170.0 - 1e-9)
    assert fa_lon.min() < -175.0
    assert fa_lon.max() > 175.0


def test_false_alarms_beyond_the_limb_are_dropped() -> None:
    # A region entirely on the far side of the Earth: no pixel looks there.
    sensor = SpaceInfraredSensor(
        infrared_config(
            coverage_lat_deg=(-10.0, 10.0),
            coverage_lon_deg=(-150.0, -100.0),
            false_alarms_per_frame=5.0,
        )
    )
    satellite = platform_at(0.0, 60.0, GEO_ALTITUDE_M)
    rng = np.random.default_rng(9)
    empty = truth_at(np.empty((0, 3)))
    assert sum(len(sensor.observe(empty, satellite, rng)) for _ in range(100)) == 0
