"""UKF: agreement with Stone Soup, sigma-point algebra, angle-aware means, definiteness."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import UnscentedKalmanPredictor
from stonesoup.types.detection import Detection
from stonesoup.types.hypothesis import SingleHypothesis
from stonesoup.types.prediction import GaussianStatePrediction
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import UnscentedKalmanUpdater

from iamd.core import ConfigurationError
from iamd.core.gaussian import is_positive_definite
from iamd.geo import aer_to_ecef, geodetic_to_ecef
from iamd.tracking import (
    Ballistic,
    LineOfSightMeasurement,
    NearlyConstantVelocity,
    RadarMeasurement,
    SigmaPointParameters,
    ekf_predict,
    ekf_update,
    sigma_points,
    ukf_predict,
    ukf_update,
)

EPOCH = datetime.datetime(2030, 1, 1)
TO_SS = np.array([0, 3, 1, 4, 2, 5])
SIGN = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
OFFSET = np.array([0.0, np.pi / 2, 0.0])
PARAMETERS = [(0.5, 2.0, 0.0), (1.0, 2.0, 0.0), (1.0, 2.0, -3.0), (0.3, 1.0, 1.0)]


def random_covariance(rng: np.random.Generator, sigmas: np.ndarray) -> np.ndarray:
    a = rng.normal(size=(sigmas.size, sigmas.size))
    correlation = a @ a.T + sigmas.size * np.eye(sigmas.size)
    d = 1.0 / np.sqrt(np.diag(correlation))
    return np.asarray((correlation * d[:, None] * d[None, :]) * np.outer(sigmas, sigmas))


def assert_gaussians_close(
    x: np.ndarray, P: np.ndarray, x_ref: np.ndarray, P_ref: np.ndarray, tol: float
) -> None:
    sd = np.sqrt(np.diag(P_ref))
    assert np.max(np.abs(x - x_ref) / sd) <= tol
    assert np.max(np.abs(P - P_ref) / np.outer(sd, sd)) <= tol


def radar_at(lat: float, lon: float) -> RadarMeasurement:
    return RadarMeasurement(
        site_ecef_m=geodetic_to_ecef(lat, lon, 50.0), site_lat_deg=lat, site_lon_deg=lon
    )


def stonesoup_ukf_update(
    radar: RadarMeasurement,
    x: np.ndarray,
    P: np.ndarray,
    z: np.ndarray,
    R: np.ndarray,
    parameters: tuple[float, float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat, lon = float(radar.site_lat_deg), float(radar.site_lon_deg)
    model = CartesianToElevationBearingRange(
        ndim_state=6,
        mapping=(0, 1, 2),
        noise_covar=SIGN @ R @ SIGN.T,
        translation_offset=radar.site_ecef_m[:, None],
        rotation_offset=np.radians([[90.0 - lat], [0.0], [90.0 + lon]]),
    )
    alpha, beta, kappa = parameters
    updater = UnscentedKalmanUpdater(model, alpha=alpha, beta=beta, kappa=kappa)
    prediction = GaussianStatePrediction(x[:, None], P, timestamp=EPOCH)
    detection = Detection((OFFSET + SIGN @ z)[:, None], timestamp=EPOCH, measurement_model=model)
    hypothesis = SingleHypothesis(prediction, detection)
    posterior = updater.update(hypothesis)
    return (
        np.asarray(posterior.state_vector, float).ravel(),
        np.asarray(posterior.covar, float),
        np.asarray(hypothesis.measurement_prediction.covar, float),
    )


@pytest.mark.parametrize("parameters", PARAMETERS)
@pytest.mark.parametrize(("seed", "lat", "lon"), [(0, 35.0, 139.0), (1, -33.9, 151.2)])
def test_ukf_update_matches_stonesoup(
    parameters: tuple[float, float, float], seed: int, lat: float, lon: float
) -> None:
    rng = np.random.default_rng(seed)
    radar = radar_at(lat, lon)
    aer = np.array([rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.6), rng.uniform(50e3, 500e3)])
    x = np.concatenate([aer_to_ecef(aer, radar.site_ecef_m, lat, lon), rng.normal(0, 300, 3)])
    # A prior wide enough (2 km) for the unscented and linearised updates to differ.
    P = random_covariance(rng, np.array([2_000.0] * 3 + [100.0] * 3))
    R = np.diag([20.0**2, 1e-3**2, 1.5e-3**2])
    z = radar.predict(x[None])[0] + rng.multivariate_normal(np.zeros(3), R)
    x_ss, P_ss, S_ss = stonesoup_ukf_update(radar, x, P, z, R, parameters)
    alpha, beta, kappa = parameters
    ours = ukf_update(
        x[None],
        P[None],
        z[None],
        R,
        radar,
        SigmaPointParameters(alpha=alpha, beta=beta, kappa=kappa),
    )
    assert_gaussians_close(ours.state[0], ours.covariance[0], x_ss, P_ss, 1e-9)
    np.testing.assert_allclose(SIGN @ ours.innovation_covariance[0] @ SIGN.T, S_ss, rtol=1e-9)


def test_ukf_update_across_north_matches_stonesoup() -> None:
    # A target due north: the measurement sigma points straddle azimuth 0 / 2π, where a
    # plain weighted mean would put the predicted azimuth near π.
    radar = radar_at(10.0, 20.0)
    x = np.concatenate(
        [aer_to_ecef(np.array([1e-4, 0.1, 200e3]), radar.site_ecef_m, 10.0, 20.0), [0.0] * 3]
    )
    P = np.diag([3_000.0**2] * 3 + [100.0**2] * 3)
    R = np.diag([20.0**2, 1e-3**2, 1e-3**2])
    z = np.array([200e3, 2 * np.pi - 2e-3, 0.1])
    ours = ukf_update(x[None], P[None], z[None], R, radar)
    x_ss, P_ss, _ = stonesoup_ukf_update(radar, x, P, z, R, (1.0, 2.0, 0.0))
    assert_gaussians_close(ours.state[0], ours.covariance[0], x_ss, P_ss, 1e-9)
    assert abs(ours.innovation[0, 1]) < 0.01
    # and it is close to what the EKF makes of it (the geometry is nearly linear).
    ekf = ekf_update(x[None], P[None], z[None], R, radar)
    assert np.linalg.norm(ekf.state[0, :3] - ours.state[0, :3]) < 50.0


def test_ukf_line_of_sight_across_the_azimuth_cut() -> None:
    # The ECEF line-of-sight azimuth atan2(u_y, u_x) jumps from π to −π behind the sensor.
    sensor = LineOfSightMeasurement(sensor_ecef_m=np.array([42e6, 0.0, 0.0]))
    x = np.array([[6.5e6, 0.0, 1e6, 0.0, 0.0, 0.0]])
    P = np.diag([50e3**2] * 3 + [100.0**2] * 3)[None]
    z = np.array([[np.pi - 1e-4, 0.028]])
    R = np.diag([1e-5**2, 1e-5**2])
    ours = ukf_update(x, P, z, R, sensor)
    ekf = ekf_update(x, P, z, R, sensor)
    assert np.all(np.abs(ours.innovation) < 0.01)
    assert np.linalg.norm(ours.state[0, :3] - ekf.state[0, :3]) < 0.05 * np.sqrt(P[0, 0, 0])
    assert is_positive_definite(ours.covariance).all()


@pytest.mark.parametrize("parameters", PARAMETERS)
def test_ukf_predict_matches_stonesoup(parameters: tuple[float, float, float]) -> None:
    rng = np.random.default_rng(9)
    q, dt = 2.0, 4.0
    x = np.concatenate([geodetic_to_ecef(-10.0, 100.0, 12e3), rng.normal(0, 250, 3)])
    P = random_covariance(rng, np.array([500.0] * 3 + [30.0] * 3))
    alpha, beta, kappa = parameters
    predictor = UnscentedKalmanPredictor(
        CombinedLinearGaussianTransitionModel([ConstantVelocity(q)] * 3),
        alpha=alpha,
        beta=beta,
        kappa=kappa,
    )
    prior = GaussianState(x[TO_SS][:, None], P[np.ix_(TO_SS, TO_SS)], timestamp=EPOCH)
    reference = predictor.predict(prior, timestamp=EPOCH + datetime.timedelta(seconds=dt))
    back = np.argsort(TO_SS)
    x_ref = np.asarray(reference.state_vector, float).ravel()[back]
    P_ref = np.asarray(reference.covar, float)[np.ix_(back, back)]
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=q)
    parameters_ = SigmaPointParameters(alpha=alpha, beta=beta, kappa=kappa)
    xp, Pp = ukf_predict(x[None], P[None], dt, model, parameters_)
    assert_gaussians_close(xp[0], Pp[0], x_ref, P_ref, 1e-9)


# --- sigma points ---------------------------------------------------------------------------


@pytest.mark.parametrize("parameters", PARAMETERS)
def test_sigma_points_reproduce_mean_and_covariance(parameters: tuple[float, float, float]) -> None:
    rng = np.random.default_rng(10)
    alpha, beta, kappa = parameters
    p = SigmaPointParameters(alpha=alpha, beta=beta, kappa=kappa)
    x = rng.normal(0, 1e6, (3, 6))
    P = np.stack([random_covariance(rng, rng.uniform(1, 1e3, 6)) for _ in range(3)])
    points = sigma_points(x, P, p)
    assert points.shape == (13, 3, 6)
    wm, wc, _ = p.weights(6)
    assert wm.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.einsum("l,lni->ni", wm, points), x, rtol=1e-12)
    d = points - x
    np.testing.assert_allclose(
        np.einsum("l,lni,lnj->nij", wc, d, d), P, rtol=1e-9, atol=1e-9 * P.max()
    )


def test_sigma_point_parameters_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="alpha must be > 0"):
        SigmaPointParameters(alpha=0.0)
    with pytest.raises(ConfigurationError, match="must be finite"):
        SigmaPointParameters(beta=float("inf"))
    with pytest.raises(ConfigurationError, match=r"n \+ kappa must be > 0 \(got n=6, kappa=-6"):
        SigmaPointParameters(kappa=-6.0).weights(6)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lat=st.floats(-80, 80),
    lon=st.floats(-180, 180),
    steps=st.lists(st.floats(0.05, 20.0), min_size=1, max_size=8),
)
def test_ukf_covariances_stay_positive_definite(
    seed: int, lat: float, lon: float, steps: list[float]
) -> None:
    rng = np.random.default_rng(seed)
    radar = radar_at(lat, lon)
    aer = np.array([rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 1.2), rng.uniform(20e3, 1e6)])
    truth = np.concatenate([aer_to_ecef(aer, radar.site_ecef_m, lat, lon), rng.normal(0, 300, 3)])
    truth = truth[None]
    P = random_covariance(rng, np.array([1_000.0] * 3 + [50.0] * 3))[None]
    x = truth + rng.multivariate_normal(np.zeros(6), P[0])
    R = np.diag(
        [rng.uniform(1, 50) ** 2, rng.uniform(1e-4, 3e-3) ** 2, rng.uniform(1e-4, 3e-3) ** 2]
    )
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=float(rng.uniform(1e-3, 20)))
    for dt in steps:
        x, P = ukf_predict(x, P, dt, model)
        truth = model.propagate(truth, dt)
        assert is_positive_definite(P).all()
        z = radar.predict(truth) + rng.multivariate_normal(np.zeros(3), R)
        x, P, _, S = ukf_update(x, P, z, R, radar)
        assert is_positive_definite(P).all()
        assert is_positive_definite(S).all()


def test_ukf_with_the_seven_state_ballistic_model() -> None:
    model = Ballistic(
        acceleration_psd_m2_s3=0.1, estimate_drag=True, inverse_beta_psd_m4_kg2_s=1e-12
    )
    position = geodetic_to_ecef(np.array([20.0, 21.0]), np.array([120.0, 121.0]), 40e3)
    x = np.concatenate([position, np.full((2, 3), -1_000.0), np.full((2, 1), 5e-4)], axis=1)
    P = np.broadcast_to(np.diag([100.0**2] * 3 + [10.0**2] * 3 + [1e-4**2]), (2, 7, 7))
    xp, Pp = ukf_predict(x, P, np.array([1.0, 2.0]), model)
    assert xp.shape == (2, 7)
    assert is_positive_definite(Pp).all()
    # More drag, less speed: the speed along the flight path and 1/β become anti-correlated.
    heading = x[0, 3:6] / np.linalg.norm(x[0, 3:6])
    assert Pp[0, 3:6, 6] @ heading < -0.03 * np.sqrt(
        Pp[0, 6, 6] * (heading @ Pp[0, 3:6, 3:6] @ heading)
    )
    # Over a second or two the flight is nearly linear: the EKF prediction agrees.
    xe, Pe = ekf_predict(x, P, np.array([1.0, 2.0]), model)
    assert_gaussians_close(xp[1], Pp[1], xe[1], Pe[1], 1e-3)
