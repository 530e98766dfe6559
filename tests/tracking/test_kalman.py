"""EKF: agreement with Stone Soup on identical inputs, batching, positive definiteness."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.types.detection import Detection
from stonesoup.types.hypothesis import SingleHypothesis
from stonesoup.types.prediction import GaussianStatePrediction
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import ExtendedKalmanUpdater, KalmanUpdater

from iamd.core.gaussian import is_positive_definite
from iamd.geo import aer_to_ecef, geodetic_to_ecef
from iamd.tracking import (
    LineOfSightMeasurement,
    NearlyConstantVelocity,
    PositionMeasurement,
    RadarMeasurement,
    ekf_predict,
    ekf_update,
    innovation_log_likelihood,
)

EPOCH = datetime.datetime(2030, 1, 1)

# Stone Soup orders a 3-D constant-velocity state (x, vx, y, vy, z, vz); iamd (x, y, z, vx,
# vy, vz). SS[i] = OURS[TO_SS[i]].
TO_SS = np.array([0, 3, 1, 4, 2, 5])
# Stone Soup's radar vector is (elevation, bearing, range), bearing = atan2(y, x) in the
# rotated frame; with that frame rotated onto ENU, bearing = π/2 − azimuth. The map from our
# (range, azimuth, elevation) is affine: z_ss = OFFSET + SIGN @ z.
SIGN = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
OFFSET = np.array([0.0, np.pi / 2, 0.0])


def random_covariance(rng: np.random.Generator, sigmas: np.ndarray) -> np.ndarray:
    """A correlated SPD covariance with the given standard deviations."""
    a = rng.normal(size=(sigmas.size, sigmas.size))
    correlation = a @ a.T + sigmas.size * np.eye(sigmas.size)
    d = 1.0 / np.sqrt(np.diag(correlation))
    return np.asarray((correlation * d[:, None] * d[None, :]) * np.outer(sigmas, sigmas))


def assert_gaussians_close(
    x: np.ndarray, P: np.ndarray, x_ref: np.ndarray, P_ref: np.ndarray, tol: float
) -> None:
    """States within tol standard deviations, covariances within tol of σᵢσⱼ."""
    sd = np.sqrt(np.diag(P_ref))
    assert np.max(np.abs(x - x_ref) / sd) <= tol
    assert np.max(np.abs(P - P_ref) / np.outer(sd, sd)) <= tol


def radar_case(
    seed: int, lat: float, lon: float
) -> tuple[RadarMeasurement, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    site = geodetic_to_ecef(lat, lon, 50.0)
    radar = RadarMeasurement(site_ecef_m=site, site_lat_deg=lat, site_lon_deg=lon)
    aer = np.array([rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.6), rng.uniform(50e3, 500e3)])
    x = np.concatenate([aer_to_ecef(aer, site, lat, lon), rng.normal(0, 300, 3)])
    P = random_covariance(rng, np.array([300.0] * 3 + [40.0] * 3))
    R = np.diag([20.0**2, 1e-3**2, 1.5e-3**2])
    z = radar.predict(x[None])[0] + rng.multivariate_normal(np.zeros(3), R)
    return radar, x, P, R, z


class AnalyticElevationBearingRange(CartesianToElevationBearingRange):
    """Stone Soup's radar model with an analytic Jacobian of its own function.

    Stone Soup 1.9.1 differentiates ``CartesianToElevationBearingRange`` by forward
    differences with a step ``1e8·spacing(x)`` that collapses to 1e-8 m for *negative*
    coordinates (``np.spacing`` is negative there), a 1–3 % Jacobian error at ECEF
    magnitudes. Replacing only that method keeps every other line of its EKF in the test.
    """

    def jacobian(self, state: GaussianState, **kwargs: object) -> np.ndarray:
        d = self.rotation_matrix @ (
            np.asarray(state.state_vector, float)[list(self.mapping)] - self.translation_offset
        )
        x, y, z = (float(v) for v in np.ravel(d))
        rho2 = x * x + y * y
        rho = np.sqrt(rho2)
        r2 = rho2 + z * z
        r = np.sqrt(r2)
        local = np.array(
            [
                [-x * z / (r2 * rho), -y * z / (r2 * rho), rho / r2],
                [-y / rho2, x / rho2, 0.0],
                [x / r, y / r, z / r],
            ]
        )
        jac = np.zeros((3, self.ndim_state))
        jac[:, list(self.mapping)] = local @ self.rotation_matrix
        return jac


def stonesoup_radar(
    radar: RadarMeasurement, R: np.ndarray, cls: type = CartesianToElevationBearingRange
) -> CartesianToElevationBearingRange:
    lat, lon = float(radar.site_lat_deg), float(radar.site_lon_deg)
    model = cls(
        ndim_state=6,
        mapping=(0, 1, 2),
        noise_covar=SIGN @ R @ SIGN.T,
        translation_offset=radar.site_ecef_m[:, None],
        # rotx(−(90°−lat)) · rotz(−(90°+lon)) is the ECEF-to-ENU rotation.
        rotation_offset=np.radians([[90.0 - lat], [0.0], [90.0 + lon]]),
    )
    np.testing.assert_allclose(model.rotation_matrix, radar.ecef_to_enu, atol=1e-15)
    return model


def stonesoup_update(
    updater: KalmanUpdater, x: np.ndarray, P: np.ndarray, z_ss: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    prediction = GaussianStatePrediction(x[:, None], P, timestamp=EPOCH)
    detection = Detection(
        z_ss[:, None], timestamp=EPOCH, measurement_model=updater.measurement_model
    )
    hypothesis = SingleHypothesis(prediction, detection)
    posterior = updater.update(hypothesis)
    S = np.asarray(hypothesis.measurement_prediction.covar, float)
    return np.asarray(posterior.state_vector, float).ravel(), np.asarray(posterior.covar, float), S


# --- Stone Soup: linear Kalman filter ------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cv_predict_and_linear_update_match_stonesoup(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, dt = 0.7, 3.5
    x = np.concatenate([geodetic_to_ecef(40.0, -70.0, 9e3), rng.normal(0, 200, 3)])
    P = random_covariance(rng, np.array([200.0] * 3 + [20.0] * 3))
    predictor = KalmanPredictor(CombinedLinearGaussianTransitionModel([ConstantVelocity(q)] * 3))
    prior = GaussianState(x[TO_SS][:, None], P[np.ix_(TO_SS, TO_SS)], timestamp=EPOCH)
    reference = predictor.predict(prior, timestamp=EPOCH + datetime.timedelta(seconds=dt))
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=q)
    xp, Pp = ekf_predict(x[None], P[None], dt, model)
    back = np.argsort(TO_SS)
    x_ref = np.asarray(reference.state_vector, float).ravel()[back]
    P_ref = np.asarray(reference.covar, float)[np.ix_(back, back)]
    assert_gaussians_close(xp[0], Pp[0], x_ref, P_ref, 1e-10)

    R = np.diag([50.0**2, 60.0**2, 70.0**2])
    z = xp[0, :3] + rng.normal(0, 60, 3)
    updater = KalmanUpdater(
        LinearGaussian(ndim_state=6, mapping=(0, 2, 4), noise_covar=R), use_joseph_cov=True
    )
    x_ss, P_ss, S_ss = stonesoup_update(updater, x_ref[TO_SS], P_ref[np.ix_(TO_SS, TO_SS)], z)
    ours = ekf_update(xp, Pp, z[None], R, PositionMeasurement())
    assert_gaussians_close(
        ours.state[0], ours.covariance[0], x_ss[back], P_ss[np.ix_(back, back)], 1e-12
    )
    np.testing.assert_allclose(ours.innovation_covariance[0], S_ss, rtol=1e-12)


# --- Stone Soup: extended Kalman filter with a radar ---------------------------------------


@pytest.mark.parametrize(
    ("seed", "lat", "lon"), [(0, 35.0, 139.0), (1, -33.9, 151.2), (2, 64.0, -21.9)]
)
def test_radar_ekf_update_matches_stonesoup(seed: int, lat: float, lon: float) -> None:
    radar, x, P, R, z = radar_case(seed, lat, lon)
    model = stonesoup_radar(radar, R, AnalyticElevationBearingRange)
    x_ss, P_ss, S_ss = stonesoup_update(
        ExtendedKalmanUpdater(model, use_joseph_cov=True), x, P, OFFSET + SIGN @ z
    )
    ours = ekf_update(x[None], P[None], z[None], R, radar)
    assert_gaussians_close(ours.state[0], ours.covariance[0], x_ss, P_ss, 1e-10)
    np.testing.assert_allclose(SIGN @ ours.innovation_covariance[0] @ SIGN.T, S_ss, rtol=1e-10)


def test_radar_ekf_update_matches_stock_stonesoup_to_its_finite_differences() -> None:
    # All-positive ECEF coordinates (lat 35°, lon 30°), where Stone Soup's forward-difference
    # Jacobian is accurate to ~1e-7: the whole update then agrees to that level.
    radar, x, P, R, z = radar_case(3, 35.0, 30.0)
    assert np.all(x[:3] > 0)
    model = stonesoup_radar(radar, R)
    x_ss, P_ss, _ = stonesoup_update(
        ExtendedKalmanUpdater(model, use_joseph_cov=True), x, P, OFFSET + SIGN @ z
    )
    ours = ekf_update(x[None], P[None], z[None], R, radar)
    assert_gaussians_close(ours.state[0], ours.covariance[0], x_ss, P_ss, 1e-5)
    reference_jacobian = model.jacobian(GaussianState(x[:, None], P))
    ours_jacobian = SIGN @ radar.jacobian(x[None])[0]
    scale = np.abs(ours_jacobian).max(axis=1, keepdims=True)
    assert np.all(np.abs(reference_jacobian - ours_jacobian) <= 1e-5 * scale)


# --- batching -----------------------------------------------------------------------------


def test_one_call_updates_many_tracks_seen_by_many_sensors() -> None:
    cases = [
        radar_case(seed, lat, lon) for seed, lat, lon in [(4, 10, 20), (5, -40, 170), (6, 60, 5)]
    ]
    radars, xs, Ps, Rs, zs = zip(*cases, strict=True)
    batched = RadarMeasurement(
        site_ecef_m=np.stack([r.site_ecef_m for r in radars]),
        site_lat_deg=np.array([float(r.site_lat_deg) for r in radars]),
        site_lon_deg=np.array([float(r.site_lon_deg) for r in radars]),
    )
    dt = np.array([1.0, 4.0, 10.0])
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=1.0)
    x, P = ekf_predict(np.stack(xs), np.stack(Ps), dt, model)
    result = ekf_update(x, P, np.stack(zs), np.stack(Rs), batched)
    for i, radar in enumerate(radars):
        xi, Pi = ekf_predict(xs[i][None], Ps[i][None], dt[i], model)
        single = ekf_update(xi, Pi, zs[i][None], Rs[i], radar)
        np.testing.assert_allclose(result.state[i], single.state[0], rtol=1e-13)
        np.testing.assert_allclose(
            result.covariance[i], single.covariance[0], rtol=1e-10, atol=1e-10
        )


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lat=st.floats(-80, 80),
    lon=st.floats(-180, 180),
    steps=st.lists(st.floats(0.05, 30.0), min_size=1, max_size=12),
)
def test_covariances_stay_positive_definite(
    seed: int, lat: float, lon: float, steps: list[float]
) -> None:
    radar, x, P, R, _ = radar_case(seed, lat, lon)
    rng = np.random.default_rng(seed)
    # An accurate radar (1 m, 0.1 mrad) against a large prior stresses the update most.
    R = np.diag([1.0, 1e-8, 1e-8]) if seed % 2 else R
    sensor = LineOfSightMeasurement(sensor_ecef_m=rng.normal(0, 30e6, 3))
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=float(rng.uniform(1e-3, 50)))
    x, P = x[None], P[None] * float(rng.uniform(1e-2, 1e4))
    truth = x.copy()
    for k, dt in enumerate(steps):
        x, P = ekf_predict(x, P, dt, model)
        truth = model.propagate(truth, dt)
        assert is_positive_definite(P).all()
        if k % 3 == 2:
            angles = sensor.predict(truth) + rng.normal(0, 1e-5, 2)
            x, P, _, S = ekf_update(x, P, angles, np.eye(2) * 1e-10, sensor)
        else:
            z = radar.predict(truth) + rng.multivariate_normal(np.zeros(3), R)
            x, P, _, S = ekf_update(x, P, z[None], R, radar)
        assert is_positive_definite(P).all()
        assert is_positive_definite(S).all()


def test_innovation_log_likelihood_matches_scipy() -> None:
    rng = np.random.default_rng(8)
    S = np.stack([random_covariance(rng, rng.uniform(0.1, 100, 3)) for _ in range(4)])
    nu = rng.normal(0, 5, (4, 3))
    expected = [multivariate_normal(np.zeros(3), S[i]).logpdf(nu[i]) for i in range(4)]
    np.testing.assert_allclose(innovation_log_likelihood(nu, S), expected, rtol=1e-12)
    # Far in the tail it stays finite where the density itself underflows.
    assert np.isfinite(innovation_log_likelihood(np.full((1, 3), 1e4), np.eye(3)[None])).all()
