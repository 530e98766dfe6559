"""IMM: algebra (probabilities, mixing, reduction to one model) and a manoeuvring target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import ConfigurationError
from iamd.core.gaussian import is_positive_definite
from iamd.geo import aer_to_ecef, enu_to_ecef_vector, geodetic_to_ecef
from iamd.tracking import (
    Ballistic,
    CoordinatedTurn,
    ImmEstimate,
    NearlyConstantVelocity,
    RadarMeasurement,
    SigmaPointParameters,
    ekf_predict,
    ekf_update,
    imm_predict,
    imm_update,
    markov_transition_matrix,
)

LAT, LON = 26.0, 127.7
SITE = geodetic_to_ecef(LAT, LON, 20.0)
RADAR = RadarMeasurement(site_ecef_m=SITE, site_lat_deg=LAT, site_lon_deg=LON)
R = np.diag([20.0**2, 1e-3**2, 1e-3**2])
TURN_RATE = 0.07  # rad/s: 4°/s, 17.5 m/s² (1.8 g) at 250 m/s
MODELS = [
    NearlyConstantVelocity(acceleration_psd_m2_s3=0.1),
    CoordinatedTurn(turn_rate_rad_s=TURN_RATE, acceleration_psd_m2_s3=1.0),
    CoordinatedTurn(turn_rate_rad_s=-TURN_RATE, acceleration_psd_m2_s3=1.0),
]
SOJOURN_S = [60.0, 20.0, 20.0]


def start(states: np.ndarray, covariance: np.ndarray, probabilities: list[float]) -> ImmEstimate:
    n, r = states.shape[0], len(probabilities)
    mode_states = np.repeat(states[:, None, :], r, axis=1)
    mode_covariances = np.broadcast_to(covariance, (n, r, 6, 6)).copy()
    mu = np.broadcast_to(np.array(probabilities), (n, r)).copy()
    return ImmEstimate(
        states,
        np.broadcast_to(covariance, (n, 6, 6)),
        mode_states,
        mode_covariances,
        mu,
        np.zeros(n),
    )


def imm_step(estimate: ImmEstimate, dt: float, z: np.ndarray, **kwargs: object) -> ImmEstimate:
    transition = markov_transition_matrix(SOJOURN_S, dt)
    prediction = imm_predict(
        estimate.mode_states,
        estimate.mode_covariances,
        estimate.mode_probabilities,
        dt,
        MODELS,
        transition,
        **kwargs,  # type: ignore[arg-type]
    )
    return imm_update(prediction, z, R, RADAR, **kwargs)  # type: ignore[arg-type]


# --- algebra ---------------------------------------------------------------------------------


def test_markov_transition_matrix() -> None:
    pi = markov_transition_matrix([100.0, 10.0, 10.0], np.array([1.0, 5.0]))
    assert pi.shape == (2, 3, 3)
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0)
    assert pi[0, 0, 0] == pytest.approx(np.exp(-0.01))
    assert pi[1, 1, 0] == pytest.approx(pi[1, 1, 2])
    with pytest.raises(ConfigurationError, match="at least two positive times"):
        markov_transition_matrix([10.0], 1.0)


def test_one_mode_is_the_ekf() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([aer_to_ecef(np.array([1.0, 0.1, 1e5]), SITE, LAT, LON), [100.0, 0, 0]])
    P = np.diag([200.0**2] * 3 + [20.0**2] * 3)
    z = RADAR.predict(x[None]) + rng.normal(0, [20, 1e-3, 1e-3])
    model = MODELS[0]
    prediction = imm_predict(x[None, None], P[None, None], np.ones((1, 1)), 2.0, [model], np.eye(1))
    result = imm_update(prediction, z, R, RADAR)
    xe, Pe = ekf_predict(x[None], P[None], 2.0, model)
    ekf = ekf_update(xe, Pe, z, R, RADAR)
    np.testing.assert_allclose(result.state, ekf.state, rtol=1e-14)
    np.testing.assert_allclose(result.covariance, ekf.covariance, rtol=1e-10)
    np.testing.assert_allclose(result.mode_probabilities, 1.0)


def test_identical_modes_keep_their_probabilities() -> None:
    x = np.concatenate([aer_to_ecef(np.array([2.0, 0.2, 2e5]), SITE, LAT, LON), [0.0, 200.0, 0]])
    P = np.diag([300.0**2] * 3 + [30.0**2] * 3)
    same = [MODELS[0]] * 3
    mu = np.array([[0.5, 0.3, 0.2]])
    prediction = imm_predict(
        np.repeat(x[None, None], 3, axis=1),
        np.broadcast_to(P, (1, 3, 6, 6)),
        mu,
        1.0,
        same,
        np.eye(3),
    )
    result = imm_update(prediction, RADAR.predict(x[None]), R, RADAR)
    np.testing.assert_allclose(result.mode_probabilities, mu, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset_m=st.floats(0.0, 1e6),
    dt=st.floats(0.1, 20.0),
    unscented=st.booleans(),
)
def test_mode_probabilities_are_a_distribution(
    seed: int, offset_m: float, dt: float, unscented: bool
) -> None:
    rng = np.random.default_rng(seed)
    n = 4
    aer = np.column_stack(
        [rng.uniform(0, 6.28, n), rng.uniform(0.01, 1.0, n), rng.uniform(1e4, 5e5, n)]
    )
    x = np.concatenate([aer_to_ecef(aer, SITE, LAT, LON), rng.normal(0, 300, (n, 3))], axis=1)
    mode_states = x[:, None, :] + rng.normal(0, 100, (n, 3, 6))
    a = rng.normal(size=(n, 3, 6, 6))
    mode_covariances = a @ np.swapaxes(a, -1, -2) * 1e3 + np.eye(6) * 10.0
    mu = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    mu[0] = [1.0, 0.0, 0.0]  # a mode with zero probability must not produce 0/0
    transition = rng.dirichlet([5.0, 1.0, 1.0], size=(n, 3))
    # An outlier up to 1000 km away: likelihoods underflow, log-space weights do not.
    z = RADAR.predict(x + np.array([offset_m, 0, 0, 0, 0, 0]))
    sigma = SigmaPointParameters() if unscented else None
    prediction = imm_predict(mode_states, mode_covariances, mu, dt, MODELS, transition, sigma)
    np.testing.assert_allclose(prediction.mode_probabilities.sum(axis=1), 1.0, rtol=1e-12)
    result = imm_update(prediction, z, R, RADAR, sigma)
    assert np.all(np.isfinite(result.mode_probabilities))
    assert np.all(result.mode_probabilities >= 0.0)
    np.testing.assert_allclose(result.mode_probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(result.log_likelihood))
    assert is_positive_definite(result.covariance).all()


def test_configuration_errors() -> None:
    x = np.zeros((1, 2, 6))
    P = np.broadcast_to(np.eye(6), (1, 2, 6, 6))
    mixed = [MODELS[0], Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True)]
    with pytest.raises(ConfigurationError, match=r"same state dimension \(got \[6, 7\]\)"):
        imm_predict(x, P, np.array([[0.5, 0.5]]), 1.0, mixed, np.eye(2))
    with pytest.raises(ConfigurationError, match="rows summing to 1"):
        imm_predict(x, P, np.array([[0.5, 0.5]]), 1.0, MODELS[:2], np.ones((2, 2)))
    with pytest.raises(ConfigurationError, match=r"mode_states must have shape \(N, 3, n\)"):
        imm_predict(x, P, np.array([[0.5, 0.5]]), 1.0, MODELS, np.eye(3))


# --- a manoeuvring target -----------------------------------------------------------------------

RUNS = 100
DT = 2.0
LEGS = [(None, 60.0), (TURN_RATE, 80.0), (None, 60.0)]  # (turn rate, duration s)


@dataclass(frozen=True)
class Turn:
    truth: np.ndarray  # (K, M, 6)
    turning: np.ndarray  # (K,) bool
    imm_error: np.ndarray  # (K, M) position error, m
    imm_mu: np.ndarray  # (K, M, 3)
    cv_low_error: np.ndarray
    cv_high_error: np.ndarray


def truth_path() -> tuple[np.ndarray, np.ndarray]:
    """One aircraft: 9 km up, 150 km from the radar, 250 m/s; straight, 4°/s left, straight."""
    position = aer_to_ecef(np.array([np.radians(40.0), 0.06, 150e3]), SITE, LAT, LON)
    velocity = enu_to_ecef_vector(np.array([-250.0, 0.0, 0.0]), LAT, LON)
    x = np.concatenate([position, velocity])[None]
    path, turning = [], []
    for rate, duration in LEGS:
        model = (
            NearlyConstantVelocity(acceleration_psd_m2_s3=0.0)
            if rate is None
            else CoordinatedTurn(turn_rate_rad_s=rate, acceleration_psd_m2_s3=0.0)
        )
        for _ in range(round(duration / DT)):
            for _ in range(20):  # finer than the scan: the truth is not the filter's model
                x = model.propagate(x, DT / 20)
            path.append(x[0])
            turning.append(rate is not None)
    return np.array(path), np.array(turning)


@pytest.fixture(scope="module")
def turn() -> Turn:
    rng = np.random.default_rng(21)
    path, turning = truth_path()
    P0 = np.diag([200.0**2] * 3 + [20.0**2] * 3)
    x0 = path[0] - np.concatenate([path[0, 3:] * DT, [0.0] * 3])  # one scan before
    initial = x0 + rng.multivariate_normal(np.zeros(6), P0, size=RUNS)
    imm = start(initial, P0, [0.8, 0.1, 0.1])
    cv_low = (initial, np.broadcast_to(P0, (RUNS, 6, 6)))
    cv_high = cv_low
    low, high = MODELS[0], NearlyConstantVelocity(acceleration_psd_m2_s3=30.0)
    imm_error, imm_mu, low_error, high_error = [], [], [], []
    for truth in path:
        z = RADAR.predict(np.broadcast_to(truth, (RUNS, 6))) + rng.multivariate_normal(
            np.zeros(3), R, size=RUNS
        )
        imm = imm_step(imm, DT, z)
        x, P = ekf_predict(*cv_low, DT, low)
        cv_low = ekf_update(x, P, z, R, RADAR)[:2]
        x, P = ekf_predict(*cv_high, DT, high)
        cv_high = ekf_update(x, P, z, R, RADAR)[:2]
        imm_error.append(np.linalg.norm(imm.state[:, :3] - truth[:3], axis=1))
        imm_mu.append(imm.mode_probabilities)
        low_error.append(np.linalg.norm(cv_low[0][:, :3] - truth[:3], axis=1))
        high_error.append(np.linalg.norm(cv_high[0][:, :3] - truth[:3], axis=1))
    return Turn(
        np.broadcast_to(path[:, None], (len(path), RUNS, 6)),
        turning,
        np.array(imm_error),
        np.array(imm_mu),
        np.array(low_error),
        np.array(high_error),
    )


def rmse(errors: np.ndarray) -> float:
    return float(np.sqrt(np.mean(errors**2)))


def test_imm_switches_to_the_turn_model_and_back(turn: Turn) -> None:
    mu = turn.imm_mu.mean(axis=1)  # (K, 3), averaged over runs
    k_turn = np.flatnonzero(turn.turning)
    straight_before = slice(10, k_turn[0])
    assert mu[straight_before, 0].mean() > 0.7
    # From a few scans into the turn, the left-turn mode carries most of the probability.
    assert mu[k_turn[5:], 1].mean() > 0.7
    assert mu[k_turn[5:], 2].mean() < 0.05
    # and the straight-flight mode wins back after the turn.
    after = k_turn[-1] + 10
    assert mu[after:, 0].mean() > 0.6


def test_imm_beats_cv_in_the_turn_and_matches_it_in_straight_flight(turn: Turn) -> None:
    in_turn = turn.turning
    straight = ~turn.turning
    straight[:10] = False  # leave out the initial convergence
    imm_turn, low_turn, high_turn = (
        rmse(e[in_turn]) for e in (turn.imm_error, turn.cv_low_error, turn.cv_high_error)
    )
    imm_straight, low_straight, high_straight = (
        rmse(e[straight]) for e in (turn.imm_error, turn.cv_low_error, turn.cv_high_error)
    )
    assert imm_turn < 0.6 * low_turn, (imm_turn, low_turn)
    assert imm_turn < high_turn, (imm_turn, high_turn)
    assert imm_straight < 0.9 * high_straight, (imm_straight, high_straight)
    assert imm_straight < 1.5 * low_straight, (imm_straight, low_straight)
