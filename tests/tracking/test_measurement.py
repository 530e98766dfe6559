"""Measurement models against independent geometry, finite differences and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import ConfigurationError, NationCode, SensorId
from iamd.geo import aer_to_ecef, geodetic_to_ecef
from iamd.messages import Detections, MeasurementKind
from iamd.tracking import (
    LineOfSightMeasurement,
    PositionMeasurement,
    RadarMeasurement,
    wrap_angle,
)
from iamd.tracking.base import MeasurementModel

latitudes = st.floats(-85.0, 85.0)
longitudes = st.floats(-180.0, 180.0)
seeds = st.integers(0, 2**32 - 1)


def radar_at(lat: float, lon: float, alt: float = 100.0) -> RadarMeasurement:
    return RadarMeasurement(
        site_ecef_m=geodetic_to_ecef(lat, lon, alt), site_lat_deg=lat, site_lon_deg=lon
    )


def target_seen_from(
    radar: RadarMeasurement, rng: np.random.Generator, count: int = 1
) -> np.ndarray:
    """States placed at random azimuth, elevation 0.5–80°, range 5–2000 km from a site."""
    aer = np.column_stack(
        [
            rng.uniform(0, 2 * math.pi, count),
            np.radians(rng.uniform(0.5, 80.0, count)),
            rng.uniform(5e3, 2_000e3, count),
        ]
    )
    lat, lon = float(radar.site_lat_deg), float(radar.site_lon_deg)
    position = aer_to_ecef(aer, radar.site_ecef_m, lat, lon)
    return np.concatenate([position, rng.normal(0, 500, (count, 3))], axis=1)


def central_difference(model: MeasurementModel, x: np.ndarray) -> np.ndarray:
    jac = np.empty((model.measurement_dim, x.size))
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0 if k < 3 else 1e-3
        jac[:, k] = model.residual(model.predict((x + e)[None]), model.predict((x - e)[None]))[
            0
        ] / (2 * e[k])
    return jac


def assert_jacobian_close(analytic: np.ndarray, numeric: np.ndarray) -> None:
    """Within 1e-6 of each row's scale: central differences of 1 m carry ~1e-8."""
    error = np.abs(analytic - numeric)
    assert np.all(error <= 1e-6 * np.abs(analytic).max(axis=1, keepdims=True)), error


# --- radar ---------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(lat=latitudes, lon=longitudes, seed=seeds)
def test_radar_prediction_matches_pymap3d(lat: float, lon: float, seed: int) -> None:
    radar = radar_at(lat, lon)
    x = target_seen_from(radar, np.random.default_rng(seed), 4)
    z = radar.predict(x)
    az, el, rng = pymap3d.ecef2aer(x[:, 0], x[:, 1], x[:, 2], lat, lon, 100.0)
    np.testing.assert_allclose(z[:, 0], rng, rtol=1e-9)
    np.testing.assert_allclose(wrap_angle(z[:, 1] - np.radians(az)), 0.0, atol=1e-9)
    np.testing.assert_allclose(z[:, 2], np.radians(el), atol=1e-9)
    assert np.all((z[:, 1] >= 0) & (z[:, 1] < 2 * math.pi))


@settings(max_examples=50, deadline=None)
@given(lat=latitudes, lon=longitudes, seed=seeds)
def test_radar_jacobian_matches_finite_differences(lat: float, lon: float, seed: int) -> None:
    radar = radar_at(lat, lon)
    x = target_seen_from(radar, np.random.default_rng(seed))[0]
    analytic = radar.jacobian(x[None])[0]
    numeric = central_difference(radar, x)
    assert_jacobian_close(analytic, numeric)
    assert np.all(analytic[:, 3:] == 0.0)


def test_radar_to_cartesian_inverts_predict_and_its_covariance_is_the_linearisation() -> None:
    rng = np.random.default_rng(3)
    radar = radar_at(35.0, 139.0)
    x = target_seen_from(radar, rng, 20)
    R = np.diag([20.0**2, 1e-3**2, 1.5e-3**2])
    position, covariance = radar.to_cartesian(radar.predict(x), R)
    np.testing.assert_allclose(position, x[:, :3], rtol=0, atol=1e-6)
    # The same linearisation as the Jacobian: P = H⁻¹ R H⁻ᵀ on the position block.
    h_inv = np.linalg.inv(radar.jacobian(x)[..., :3])
    expected = h_inv @ R @ np.swapaxes(h_inv, -1, -2)
    np.testing.assert_allclose(covariance, expected, rtol=1e-7, atol=1e-9 * expected.max())


def test_radar_to_cartesian_covariance_matches_monte_carlo() -> None:
    rng = np.random.default_rng(4)
    radar = radar_at(20.0, -60.0)
    x = target_seen_from(radar, rng)
    R = np.diag([30.0**2, 1.5e-3**2, 1.5e-3**2])
    samples = radar.predict(x) + rng.multivariate_normal(np.zeros(3), R, size=20_000)
    positions, _ = radar.to_cartesian(samples, R)
    _, covariance = radar.to_cartesian(radar.predict(x), R)
    sample = np.cov(positions.T)
    # Eigenvalues agree to Monte Carlo precision (2 % at 20 000 samples).
    np.testing.assert_allclose(
        np.linalg.eigvalsh(sample), np.linalg.eigvalsh(covariance[0]), rtol=0.04
    )


def test_per_row_sites_equal_one_model_per_row() -> None:
    rng = np.random.default_rng(5)
    lats, lons = rng.uniform(-60, 60, 6), rng.uniform(-180, 180, 6)
    singles = [radar_at(float(a), float(b)) for a, b in zip(lats, lons, strict=True)]
    batched = RadarMeasurement(
        site_ecef_m=geodetic_to_ecef(lats, lons, 100.0), site_lat_deg=lats, site_lon_deg=lons
    )
    x = np.concatenate([target_seen_from(r, rng) for r in singles])
    for i, single in enumerate(singles):
        np.testing.assert_allclose(batched.predict(x)[i], single.predict(x[i : i + 1])[0])
        np.testing.assert_allclose(batched.jacobian(x)[i], single.jacobian(x[i : i + 1])[0])
    # Sigma-point layout (L, N, n) broadcasts against per-row sites.
    stacked = np.stack([x, x + 10.0, x - 10.0])
    np.testing.assert_allclose(batched.predict(stacked)[1], batched.predict(x + 10.0))
    rows = np.array([4, 1])
    np.testing.assert_allclose(batched.take(rows).predict(x[rows]), batched.predict(x)[rows])
    assert singles[0].take(rows) is singles[0]


def test_radar_site_shapes_are_checked() -> None:
    with pytest.raises(ConfigurationError, match=r"site_ecef_m must have shape \(3,\) or \(N, 3\)"):
        RadarMeasurement(site_ecef_m=np.zeros(2), site_lat_deg=0.0, site_lon_deg=0.0)
    with pytest.raises(ConfigurationError, match="must have matching rows"):
        RadarMeasurement(site_ecef_m=np.zeros((3, 3)), site_lat_deg=np.zeros(2), site_lon_deg=0.0)


def detections(kind: MeasurementKind, m: int) -> Detections:
    return Detections(
        sensor=SensorId("JPN-R1"),
        nation=NationCode("JPN"),
        kind=kind,
        valid_at=12.0,
        sensor_position_ecef_m=geodetic_to_ecef(35.0, 139.0, 10.0),
        sensor_lat_deg=35.0,
        sensor_lon_deg=139.0,
        measurements=np.zeros((0, m)),
        covariances=np.zeros((0, m, m)),
        truth_index=np.zeros(0, dtype=np.int64),
        snr_db=np.zeros(0),
    )


def test_models_from_detections() -> None:
    radar = RadarMeasurement.from_detections(detections(MeasurementKind.RADAR_RAE, 3))
    assert float(radar.site_lat_deg) == 35.0
    los = LineOfSightMeasurement.from_detections(detections(MeasurementKind.LINE_OF_SIGHT, 2))
    np.testing.assert_array_equal(los.sensor_ecef_m, geodetic_to_ecef(35.0, 139.0, 10.0))
    with pytest.raises(ConfigurationError, match="'JPN-R1' are LINE_OF_SIGHT, not RADAR_RAE"):
        RadarMeasurement.from_detections(detections(MeasurementKind.LINE_OF_SIGHT, 2))
    with pytest.raises(ConfigurationError, match="are RADAR_RAE, not LINE_OF_SIGHT"):
        LineOfSightMeasurement.from_detections(detections(MeasurementKind.RADAR_RAE, 3))


# --- line of sight ---------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(seed=seeds)
def test_line_of_sight_is_the_unit_vector_angles(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sensor = rng.normal(0, 30e6, 3)
    x = np.concatenate([rng.normal(0, 5e6, (3, 3)), rng.normal(0, 1e3, (3, 3))], axis=1)
    model = LineOfSightMeasurement(sensor_ecef_m=sensor)
    z = model.predict(x)
    u = (x[:, :3] - sensor) / np.linalg.norm(x[:, :3] - sensor, axis=1, keepdims=True)
    np.testing.assert_allclose(z[:, 0], np.arctan2(u[:, 1], u[:, 0]), atol=1e-12)
    np.testing.assert_allclose(z[:, 1], np.arcsin(u[:, 2]), atol=1e-7)
    analytic = model.jacobian(x[:1])[0]
    numeric = central_difference(model, x[0])
    assert_jacobian_close(analytic, numeric)


def test_line_of_sight_rejects_bad_shapes() -> None:
    with pytest.raises(ConfigurationError, match="sensor_ecef_m must have shape"):
        LineOfSightMeasurement(sensor_ecef_m=np.zeros((2, 2)))


def test_position_measurement_is_linear() -> None:
    model = PositionMeasurement()
    x = np.arange(14.0).reshape(2, 7)
    np.testing.assert_array_equal(model.predict(x), x[:, :3])
    np.testing.assert_array_equal(model.jacobian(x)[0], np.eye(3, 7))
    assert model.angular == (False, False, False)


# --- residuals ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    z=st.lists(st.floats(-50.0, 50.0), min_size=3, max_size=3),
    predicted=st.lists(st.floats(-50.0, 50.0), min_size=3, max_size=3),
)
def test_residuals_wrap_angles_only(z: list[float], predicted: list[float]) -> None:
    radar = radar_at(0.0, 0.0)
    nu = radar.residual(np.array([z]), np.array([predicted]))[0]
    assert nu[0] == pytest.approx(z[0] - predicted[0])
    for k in (1, 2):
        assert -math.pi < nu[k] <= math.pi
        # Same angle modulo 2π.
        assert math.isclose(math.cos(nu[k]), math.cos(z[k] - predicted[k]), abs_tol=1e-9)
        assert math.isclose(math.sin(nu[k]), math.sin(z[k] - predicted[k]), abs_tol=1e-9)
    los = LineOfSightMeasurement(sensor_ecef_m=np.zeros(3))
    both = los.residual(np.array(z[1:]), np.array(predicted[1:]))
    assert np.all((both > -math.pi) & (both <= math.pi))


def test_wrap_angle_edges() -> None:
    np.testing.assert_array_equal(
        wrap_angle(np.array([math.pi, -math.pi, 0.0, 2 * math.pi])), [math.pi, math.pi, 0.0, 0.0]
    )
    # Across north: measured 0.001 rad, predicted 2π − 0.001 rad: residual +0.002 rad.
    radar = radar_at(0.0, 0.0)
    nu = radar.residual(np.array([1e3, 1e-3, 0.1]), np.array([1e3, 2 * math.pi - 1e-3, 0.1]))
    assert nu[1] == pytest.approx(2e-3)
