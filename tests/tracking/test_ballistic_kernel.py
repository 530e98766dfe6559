"""Compiled ballistic kernels against the NumPy reference: propagation, Jacobian, impacts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from iamd.geo import ecef_to_geodetic, geodetic_to_ecef
from iamd.tracking import Ballistic, ImpactStatus, predict_impact, predict_impact_linearised
from iamd.tracking.ballistic_kernel import ellipsoid_heights, rk4_propagate


def random_states(n: int, count: int, seed: int) -> np.ndarray:
    """States from sea level to 300 km, speeds up to ~7 km/s, 1/β of either sign."""
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-0.99, 0.99, count)))
    lon = rng.uniform(-180.0, 180.0, count)
    position = geodetic_to_ecef(lat, lon, rng.uniform(0.0, 300e3, count))
    velocity = rng.normal(0.0, 2_500.0, (count, 3))
    x = np.concatenate([position, velocity], axis=1)
    if n == 7:
        x = np.concatenate([x, rng.uniform(-2e-4, 2e-3, (count, 1))], axis=1)
    return x


def mixed_steps(count: int, seed: int) -> np.ndarray:
    """Steps of both signs, some zero, some longer than one sub-step, s."""
    rng = np.random.default_rng(seed)
    dt = rng.uniform(-12.0, 12.0, count)
    dt[::7] = 0.0
    return dt


def both(model: Ballistic) -> tuple[Ballistic, Ballistic]:
    return replace(model, compiled=True), replace(model, compiled=False)


MODELS = {
    "vacuum": Ballistic(acceleration_psd_m2_s3=0.0),
    "vacuum-fine": Ballistic(acceleration_psd_m2_s3=0.0, max_step_s=0.25),
    "drag": Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True, max_step_s=0.5),
    "drag-no-atmosphere": Ballistic(
        acceleration_psd_m2_s3=0.0, estimate_drag=True, sea_level_density_kg_m3=0.0
    ),
    "no-j2-no-rotation": Ballistic(acceleration_psd_m2_s3=0.0, j2=0.0, rotation_rad_s=0.0),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("seed", [1, 2])
def test_propagation_matches_the_numpy_reference(name: str, seed: int) -> None:
    compiled, reference = both(MODELS[name])
    x = random_states(compiled.state_dim, 64, seed)
    dt = mixed_steps(64, seed)
    moved = compiled.propagate(x, dt)
    np.testing.assert_allclose(moved, reference.propagate(x, dt), rtol=1e-12, atol=0.0)
    assert np.all(moved[dt == 0.0] == x[dt == 0.0])
    if compiled.state_dim == 7:
        assert np.all(moved[:, 6] == x[:, 6])


@pytest.mark.parametrize("name", ["vacuum", "drag"])
def test_propagation_matches_over_leading_axes_and_scalar_steps(name: str) -> None:
    compiled, reference = both(MODELS[name])
    x = random_states(compiled.state_dim, 12, 3).reshape(3, 4, -1)
    np.testing.assert_allclose(
        compiled.propagate(x, 4.0), reference.propagate(x, 4.0), rtol=1e-12, atol=0.0
    )
    assert compiled.propagate(x[:0], 1.0).shape == (0, 4, compiled.state_dim)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_complex_step_jacobian_matches_the_numpy_reference(name: str) -> None:
    compiled, reference = both(MODELS[name])
    x = random_states(compiled.state_dim, 16, 4)
    dt = mixed_steps(16, 4)
    jac, expected = compiled.jacobian(x, dt), reference.jacobian(x, dt)
    # Column by column, relative to the column's own size (columns differ by 10⁶ in scale).
    scale = np.abs(expected).max(axis=-2, keepdims=True)
    assert np.all(np.abs(jac - expected) <= 1e-9 * scale)


def test_deep_underground_states_stay_finite_as_in_the_reference() -> None:
    # The atmosphere's floor of −10 H keeps exp() from overflowing on both paths.
    compiled, reference = both(MODELS["drag"])
    x = random_states(7, 8, 5)
    x[:, :3] *= 0.9  # ~640 km underground
    moved = compiled.propagate(x, 1.0)
    assert np.isfinite(moved).all()
    np.testing.assert_allclose(moved, reference.propagate(x, 1.0), rtol=1e-12, atol=0.0)


def test_kernel_refuses_states_too_short_for_the_model() -> None:
    constants = MODELS["drag"].constants
    with pytest.raises(ValueError, match=r"states must have shape \(M, 7\+\)"):
        rk4_propagate(np.zeros((2, 6)), np.zeros(2), 1, True, constants)


def test_ellipsoid_heights_match_ecef_to_geodetic() -> None:
    rng = np.random.default_rng(6)
    lat = rng.uniform(-90.0, 90.0, 500)
    lon = rng.uniform(-180.0, 180.0, 500)
    position = geodetic_to_ecef(lat, lon, rng.uniform(-1e3, 2e6, 500))
    np.testing.assert_allclose(
        ellipsoid_heights(position), ecef_to_geodetic(position)[2], rtol=0.0, atol=1e-8
    )


def falling_tracks(n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-entering tracks 20–150 km up, diving at 1–4 km/s, and covariances around them."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(-50.0, 50.0, count), rng.uniform(-180.0, 180.0, count)
    position = geodetic_to_ecef(lat, lon, rng.uniform(20e3, 150e3, count))
    up = position / np.linalg.norm(position, axis=1, keepdims=True)
    horizontal = np.cross(up, rng.normal(size=(count, 3)))
    horizontal /= np.linalg.norm(horizontal, axis=1, keepdims=True)
    velocity = -rng.uniform(1e3, 4e3, (count, 1)) * up + rng.uniform(0, 3e3, (count, 1)) * (
        horizontal
    )
    x = np.concatenate([position, velocity], axis=1)
    sigmas = [300.0] * 3 + [20.0] * 3
    if n == 7:
        x = np.concatenate([x, rng.uniform(1e-4, 1e-3, (count, 1))], axis=1)
        sigmas.append(1e-4)
    P = np.broadcast_to(np.diag(np.square(sigmas)), (count, n, n)).copy()
    return x, P


@pytest.mark.parametrize("name", ["vacuum", "drag"])
def test_unscented_impacts_match_the_numpy_reference(name: str) -> None:
    compiled, reference = both(MODELS[name])
    x, P = falling_tracks(compiled.state_dim, 10, 7)
    # One estimate under the ground (BELOW_GROUND), one just above it, so that some of its
    # sigma points start underground and are flown backwards.
    lat, lon, _ = ecef_to_geodetic(x[:2, :3])
    x[:2, :3] = geodetic_to_ecef(lat, lon, np.array([50.0, 400.0]))
    fast = predict_impact(x, P, compiled, time_s=5.0, ground_altitude_m=100.0)
    slow = predict_impact(x, P, reference, time_s=5.0, ground_altitude_m=100.0)
    np.testing.assert_array_equal(fast.status, slow.status)
    assert fast.status[0] == ImpactStatus.BELOW_GROUND
    assert fast.status[1] == ImpactStatus.PREDICTED
    assert np.count_nonzero(fast.status == ImpactStatus.PREDICTED) >= 8
    np.testing.assert_allclose(fast.impact_time_s, slow.impact_time_s, rtol=1e-11)
    np.testing.assert_allclose(fast.impact_ecef_m, slow.impact_ecef_m, rtol=1e-12)
    np.testing.assert_allclose(fast.covariance_en_m2, slow.covariance_en_m2, rtol=1e-9)


def test_linearised_impacts_with_process_noise_match_the_numpy_reference() -> None:
    compiled, reference = both(replace(MODELS["drag"], acceleration_psd_m2_s3=1.0))
    x, P = falling_tracks(7, 6, 8)
    fast = predict_impact_linearised(x, P, compiled, process_noise=True)
    slow = predict_impact_linearised(x, P, reference, process_noise=True)
    np.testing.assert_array_equal(fast.status, slow.status)
    np.testing.assert_allclose(fast.impact_time_s, slow.impact_time_s, rtol=1e-11)
    np.testing.assert_allclose(fast.covariance_en_m2, slow.covariance_en_m2, rtol=1e-9)
