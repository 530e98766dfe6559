"""Motion models: closed forms, physics invariants, Jacobians, shapes, configuration errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import ConfigurationError
from iamd.core.gaussian import is_positive_definite
from iamd.geo import EARTH_MU_M3_S2, geodetic_to_ecef
from iamd.tracking import Ballistic, CoordinatedTurn, NearlyConstantVelocity
from iamd.tracking.base import MotionModel

MODELS: dict[str, MotionModel] = {
    "cv": NearlyConstantVelocity(acceleration_psd_m2_s3=2.0),
    "ct-left": CoordinatedTurn(turn_rate_rad_s=0.05, acceleration_psd_m2_s3=1.0),
    "ct-right": CoordinatedTurn(turn_rate_rad_s=-0.05, acceleration_psd_m2_s3=1.0),
    "ballistic": Ballistic(acceleration_psd_m2_s3=0.01),
    "ballistic-drag": Ballistic(
        acceleration_psd_m2_s3=0.01, estimate_drag=True, inverse_beta_psd_m4_kg2_s=1e-10
    ),
}


def states(n: int, count: int, seed: int, *, altitude_m: float = 30e3) -> np.ndarray:
    """Random ECEF states: anywhere on Earth at a given height, speeds up to ~3 km/s."""
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-0.95, 0.95, count)))
    lon = rng.uniform(-180, 180, count)
    position = geodetic_to_ecef(lat, lon, altitude_m + rng.uniform(0, 20e3, count))
    velocity = rng.normal(0.0, 1_500.0, (count, 3))
    x = np.concatenate([position, velocity], axis=1)
    if n == 7:
        x = np.concatenate([x, rng.uniform(1e-4, 1e-3, (count, 1))], axis=1)
    return x


FD_STEPS = np.array([1.0] * 3 + [1e-2] * 3 + [1e-6])
"""Central-difference steps: 1 m, 1 cm/s, 10⁻⁶ m²/kg (drag is strongly nonlinear in 1/β at
low altitude, so its step is small and its rounding error large)."""


def central_difference(model: MotionModel, x: np.ndarray, dt: float) -> np.ndarray:
    """Central finite-difference Jacobian, one row of ``x``."""
    n = x.size
    steps = FD_STEPS[:n]
    jac = np.empty((n, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = steps[k]
        jac[:, k] = (
            model.propagate((x + e)[None], dt)[0] - model.propagate((x - e)[None], dt)[0]
        ) / (2 * steps[k])
    return jac


# --- conformance: every model -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_shapes_and_batching(name: str) -> None:
    model = MODELS[name]
    n = model.state_dim
    x = states(n, 5, 1)
    dt = np.array([0.0, 0.5, 1.0, 2.0, 4.5])
    moved = model.propagate(x, dt)
    assert moved.shape == (5, n)
    assert model.jacobian(x, dt).shape == (5, n, n)
    assert model.process_noise(x, dt).shape == (5, n, n)
    # A zero step changes nothing (and its Jacobian is the identity).
    np.testing.assert_allclose(moved[0], x[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.jacobian(x, dt)[0], np.eye(n), atol=1e-12)
    # Row by row gives the same as the batch (sub-step counts may differ for Ballistic,
    # so compare each row with its own step in a batch of one at the tolerance of RK4).
    for i in range(5):
        one = model.propagate(x[i : i + 1], dt[i])[0]
        np.testing.assert_allclose(one, moved[i], rtol=1e-12, atol=1e-2)
    # Leading axes (the sigma-point layout (L, N, n)) behave like a flat batch.
    stacked = np.stack([x, x + 1.0])
    np.testing.assert_allclose(model.propagate(stacked, dt)[1], model.propagate(x + 1.0, dt))
    np.testing.assert_allclose(
        model.jacobian(stacked, dt)[1], model.jacobian(x + 1.0, dt), atol=1e-12
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_process_noise_is_symmetric_positive_semidefinite(name: str) -> None:
    model = MODELS[name]
    x = states(model.state_dim, 4, 2)
    q = model.process_noise(x, np.array([0.1, 1.0, 5.0, 30.0]))
    np.testing.assert_array_equal(q, np.swapaxes(q, -1, -2))
    assert is_positive_definite(q).all()


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt=st.floats(0.1, 10.0))
def test_jacobian_matches_finite_differences(name: str, seed: int, dt: float) -> None:
    model = MODELS[name]
    x = states(model.state_dim, 1, seed)[0]
    analytic = model.jacobian(x[None], dt)[0]
    numeric = central_difference(model, x, dt)
    # Truncation error ~1e-7 of each column's scale; rounding error ε·|f|/h of each entry.
    scale = np.abs(analytic).max(axis=0, keepdims=True)
    rounding = 10 * np.finfo(float).eps * np.abs(model.propagate(x[None], dt)[0])[:, None]
    tolerance = 1e-6 * scale + rounding / FD_STEPS[None, : x.size]
    error = np.abs(analytic - numeric)
    assert np.all(error <= tolerance), error / tolerance


# --- nearly constant velocity --------------------------------------------------------------


def test_cv_is_the_wiener_acceleration_model() -> None:
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=3.0)
    x = states(6, 2, 3)
    dt = np.array([2.0, 4.0])
    np.testing.assert_allclose(model.propagate(x, dt)[:, :3], x[:, :3] + dt[:, None] * x[:, 3:])
    q = model.process_noise(x, dt)[1]
    # Bar-Shalom et al. (2001) eq. 6.2.2-12 with q = 3, Δt = 4, per axis.
    np.testing.assert_allclose(q[0, [0, 3]], [3.0 * 64 / 3, 3.0 * 16 / 2])
    np.testing.assert_allclose(q[3, [0, 3]], [3.0 * 16 / 2, 3.0 * 4])
    assert q[0, 1] == 0.0
    assert q[0, 4] == 0.0


# --- coordinated turn ----------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt=st.floats(0.1, 60.0), rate=st.floats(0.005, 0.2))
def test_coordinated_turn_keeps_speed_and_vertical_velocity(
    seed: int, dt: float, rate: float
) -> None:
    x = states(6, 1, seed)
    model = CoordinatedTurn(turn_rate_rad_s=rate, acceleration_psd_m2_s3=0.0)
    after = model.propagate(x, dt)[0]
    up = x[0, :3] / np.linalg.norm(x[0, :3])
    assert math.isclose(np.linalg.norm(after[3:]), np.linalg.norm(x[0, 3:]), rel_tol=1e-12)
    assert math.isclose(after[3:] @ up, x[0, 3:] @ up, rel_tol=1e-9, abs_tol=1e-9)
    # The horizontal velocity turned by exactly ω·Δt, counter-clockwise seen from above.
    h0 = x[0, 3:] - (x[0, 3:] @ up) * up
    h1 = after[3:] - (after[3:] @ up) * up
    turned = math.atan2(np.cross(h0, h1) @ up, h0 @ h1)
    assert math.isclose(turned, math.remainder(rate * dt, 2 * math.pi), abs_tol=1e-9)


def test_coordinated_turn_closes_a_circle_and_tends_to_cv() -> None:
    x = states(6, 3, 4)
    rate = 0.1
    circle = CoordinatedTurn(turn_rate_rad_s=rate, acceleration_psd_m2_s3=0.0)
    back = circle.propagate(x, 2 * math.pi / rate)
    # Only the vertical velocity component moves the track after a full horizontal circle.
    up = x[:, :3] / np.linalg.norm(x[:, :3], axis=1, keepdims=True)
    vertical = np.einsum("ij,ij->i", x[:, 3:], up)[:, None] * up
    np.testing.assert_allclose(back[:, :3], x[:, :3] + 2 * math.pi / rate * vertical, atol=1e-6)
    np.testing.assert_allclose(back[:, 3:], x[:, 3:], atol=1e-9)
    slow = CoordinatedTurn(turn_rate_rad_s=1e-9, acceleration_psd_m2_s3=0.0)
    straight = NearlyConstantVelocity(acceleration_psd_m2_s3=0.0)
    np.testing.assert_allclose(slow.propagate(x, 10.0), straight.propagate(x, 10.0), atol=1e-5)


def test_a_positive_rate_is_a_left_turn() -> None:
    # Flying north over (0°, 0°), where up is +x, east +y and north +z (ECEF): a left
    # turn heads west, towards −y.
    position = geodetic_to_ecef(0.0, 0.0, 10e3)
    x = np.concatenate([position, [0.0, 0.0, 200.0]])[None]
    after = CoordinatedTurn(turn_rate_rad_s=0.1, acceleration_psd_m2_s3=0.0).propagate(x, 5.0)
    assert after[0, 4] < 0  # west component of the velocity grew: turned left


# --- ballistic -----------------------------------------------------------------------------


def jacobi_energy(model: Ballistic, x: np.ndarray) -> np.ndarray:
    p, v = x[:, :3], x[:, 3:6]
    r2 = np.einsum("ij,ij->i", p, p)
    r = np.sqrt(r2)
    potential = -model.mu_m3_s2 / r + model.mu_m3_s2 * model.j2 * model.j2_radius_m**2 / (
        2 * r2 * r
    ) * (3 * p[:, 2] ** 2 / r2 - 1)
    potential -= 0.5 * model.rotation_rad_s**2 * (p[:, 0] ** 2 + p[:, 1] ** 2)
    return np.asarray(0.5 * np.einsum("ij,ij->i", v, v) + potential)


def test_ballistic_conserves_the_jacobi_integral() -> None:
    # Gravity with J2 and the rotating frame conserve |v|²/2 + V(r) (Vallado §3.7).
    model = Ballistic(acceleration_psd_m2_s3=0.0)
    x = states(6, 8, 5, altitude_m=200e3)
    x[:, 3:] *= 2.0
    after = model.propagate(x, 600.0)
    drift = np.abs(jacobi_energy(model, after) - jacobi_energy(model, x))
    assert drift.max() < 1e-6 * np.abs(jacobi_energy(model, x)).max()


def test_ballistic_two_body_circular_orbit_closes() -> None:
    model = Ballistic(acceleration_psd_m2_s3=0.0, j2=0.0, rotation_rad_s=0.0)
    radius = 7_000e3
    speed = math.sqrt(EARTH_MU_M3_S2 / radius)
    period = 2 * math.pi * radius / speed
    x = np.array([[radius, 0.0, 0.0, 0.0, speed * 0.6, speed * 0.8]])
    after = model.propagate(x, period)
    np.testing.assert_allclose(after[0, :3], x[0, :3], atol=0.5)  # 0.5 m after ~97 minutes
    np.testing.assert_allclose(after[0, 3:], x[0, 3:], atol=1e-3)


def test_ballistic_drag_decelerates_and_its_coefficient_is_estimable() -> None:
    model = Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True, max_step_s=0.1)
    position = geodetic_to_ecef(30.0, 40.0, 30e3)
    down = -position / np.linalg.norm(position)
    x = np.concatenate([position, 2_000.0 * down, [1e-3]])[None]
    vacuum = np.concatenate([x[:, :6], [[0.0]]], axis=1)
    after = model.propagate(x, 2.0)
    after_vacuum = model.propagate(vacuum, 2.0)
    # At 30 km (ρ ≈ 0.019 kg/m³) drag is ρv²/(2β) ≈ 38 m/s² against the 10 m/s² of gravity.
    assert np.linalg.norm(after[0, 3:6]) < np.linalg.norm(after_vacuum[0, 3:6]) - 50.0
    assert after[0, 6] == x[0, 6]
    jac = model.jacobian(x, 2.0)[0]
    assert np.linalg.norm(jac[3:6, 6]) > 1e3  # velocity is sensitive to 1/β (m/s per m²/kg)


def test_ballistic_sub_steps_converge() -> None:
    x = states(6, 4, 6, altitude_m=100e3)
    coarse = Ballistic(acceleration_psd_m2_s3=0.0, max_step_s=2.0).propagate(x, 20.0)
    fine = Ballistic(acceleration_psd_m2_s3=0.0, max_step_s=0.05).propagate(x, 20.0)
    np.testing.assert_allclose(coarse, fine, rtol=0, atol=1e-4)


def test_ballistic_process_noise_includes_the_drag_random_walk() -> None:
    model = MODELS["ballistic-drag"]
    q = model.process_noise(states(7, 1, 7), 4.0)[0]
    assert q[6, 6] == pytest.approx(4e-10)
    assert np.all(q[6, :6] == 0.0)


# --- configuration ---------------------------------------------------------------------------


def test_invalid_configurations_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="acceleration_psd_m2_s3 must be finite and >= 0"):
        NearlyConstantVelocity(acceleration_psd_m2_s3=-1.0)
    with pytest.raises(ConfigurationError, match="turn_rate_rad_s must be finite and non-zero"):
        CoordinatedTurn(turn_rate_rad_s=0.0, acceleration_psd_m2_s3=1.0)
    with pytest.raises(ConfigurationError, match="max_step_s must be finite and > 0"):
        Ballistic(acceleration_psd_m2_s3=0.0, max_step_s=0.0)
    with pytest.raises(ConfigurationError, match="inverse_beta_psd_m4_kg2_s"):
        Ballistic(acceleration_psd_m2_s3=0.0, inverse_beta_psd_m4_kg2_s=float("nan"))
    assert MODELS["ballistic"].state_dim == 6
    assert MODELS["ballistic-drag"].state_dim == 7
