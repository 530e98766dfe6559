"""Covariance intersection's compiled kernels against the NumPy reference and brute force.

``covariance_intersection_group`` (and the pair functions) run compiled kernels by default;
``compiled=False`` runs the batched NumPy reference. The two repeat one algorithm, so they
must reach the same optimum: the same weights to rounding where the criterion is sharp (the
trace), the same criterion value everywhere, and fused estimates that agree to a tiny
fraction of their standard deviations. Both are checked against a brute-force search too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from iamd.fusion.combine import (
    CiCriterion,
    _optimal_pair_weight,
    _pair_weights_kernel,
    covariance_intersection,
    covariance_intersection_group,
    covariance_intersection_weight,
)


def random_covariances(
    rng: np.random.Generator, shape: tuple[int, ...], dim: int = 6
) -> np.ndarray:
    """Correlated SPD matrices, position σ 10 m–3 km, velocity σ 1–30 m/s (ECEF tracks)."""
    sigmas = np.concatenate(
        [rng.uniform(10.0, 3000.0, (*shape, 3)), rng.uniform(1.0, 30.0, (*shape, dim - 3))],
        axis=-1,
    )
    a = rng.normal(size=(*shape, dim, dim))
    correlation = a @ np.swapaxes(a, -1, -2) + dim * np.eye(dim)
    d = 1.0 / np.sqrt(np.einsum("...ii->...i", correlation))
    c = correlation * (sigmas * d)[..., :, None] * (sigmas * d)[..., None, :]
    return np.asarray(0.5 * (c + np.swapaxes(c, -1, -2)))


def random_groups(
    rng: np.random.Generator, groups: int, sources: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF-sized states, covariances and a mask with 1 … ``sources`` present per group."""
    covariances = random_covariances(rng, (groups, sources))
    errors = np.einsum(
        "knij,knj->kni", np.linalg.cholesky(covariances), rng.normal(size=(groups, sources, 6))
    )
    truth = np.concatenate(
        [rng.normal(0.0, 1.0, (groups, 3)), rng.normal(0.0, 200.0, (groups, 3))], axis=1
    )
    truth[:, :3] *= 6.4e6 / np.linalg.norm(truth[:, :3], axis=1, keepdims=True)
    present = rng.random((groups, sources)) < 0.7
    present[np.arange(groups), rng.integers(0, sources, groups)] = True
    states = np.where(present[..., None], truth[:, None, :] + errors, np.nan)
    covariances = np.where(present[..., None, None], covariances, np.nan)
    return states, covariances, present


def objective(covariance: np.ndarray, weights: np.ndarray, criterion: CiCriterion) -> float:
    """The CI criterion of one group (present covariances only) at given weights."""
    fused = np.einsum("n,nij->ij", weights, np.linalg.inv(covariance))
    if criterion is CiCriterion.TRACE:
        return float(np.trace(np.linalg.inv(fused)))
    return float(-np.linalg.slogdet(fused)[1])


def assert_same_estimate(compiled: object, reference: object, tolerance: float) -> None:
    """States and covariances within ``tolerance`` of the reference's standard deviations."""
    state, covariance, _ = compiled  # type: ignore[misc]
    ref_state, ref_covariance, _ = reference  # type: ignore[misc]
    sigma = np.sqrt(np.einsum("kii->ki", ref_covariance))
    assert np.all(np.abs(state - ref_state) <= tolerance * sigma)
    assert np.all(
        np.abs(covariance - ref_covariance) <= tolerance * sigma[:, :, None] * sigma[:, None, :]
    )


@pytest.mark.parametrize("criterion", list(CiCriterion))
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sources=st.integers(2, 5))
def test_compiled_groups_reach_the_reference_optimum(
    criterion: CiCriterion, seed: int, sources: int
) -> None:
    rng = np.random.default_rng(seed)
    states, covariances, present = random_groups(rng, 60, sources)
    compiled = covariance_intersection_group(
        states, covariances, present=present, criterion=criterion
    )
    reference = covariance_intersection_group(
        states, covariances, present=present, criterion=criterion, compiled=False
    )
    np.testing.assert_allclose(compiled.weights.sum(axis=1), 1.0, atol=1e-12)
    assert (compiled.weights >= 0.0).all()
    assert (compiled.weights[~present] == 0.0).all()
    for k in range(states.shape[0]):
        mine, theirs = (
            objective(covariances[k, present[k]], w[k, present[k]], criterion)
            for w in (compiled.weights, reference.weights)
        )
        # The same optimum: no worse than the reference beyond rounding, relative for the
        # trace (m²) and absolute for log det (dimensionless).
        slack = 1e-12 * abs(theirs) if criterion is CiCriterion.TRACE else 1e-12
        assert mine <= theirs + slack
        assert theirs <= mine + (1e-9 * abs(mine) if criterion is CiCriterion.TRACE else 1e-9)
    if criterion is CiCriterion.TRACE:
        # A sharp minimum: the weights themselves agree, and so do the estimates.
        np.testing.assert_allclose(compiled.weights, reference.weights, atol=1e-9)
        assert_same_estimate(compiled, reference, 1e-9)
    else:
        # log det is often flat along the simplex: weights that differ in the ninth digit
        # still give the same volume; the estimates agree to that digit.
        assert_same_estimate(compiled, reference, 1e-5)


@pytest.mark.parametrize("criterion", list(CiCriterion))
def test_compiled_pair_weight_matches_a_bounded_scalar_search(criterion: CiCriterion) -> None:
    rng = np.random.default_rng(11)
    P = random_covariances(rng, (60, 2))
    omega = covariance_intersection_weight(P[:, 0], P[:, 1], criterion=criterion)
    reference = covariance_intersection_weight(
        P[:, 0], P[:, 1], criterion=criterion, compiled=False
    )
    np.testing.assert_allclose(omega, reference, atol=1e-13)
    group = covariance_intersection_group(np.zeros((60, 2, 6)), P, criterion=criterion)
    np.testing.assert_allclose(group.weights[:, 0], omega, rtol=0.0, atol=1e-12)
    for k in range(P.shape[0]):
        best = minimize_scalar(
            lambda w, k=k: objective(P[k], np.array([w, 1.0 - w]), criterion),
            bounds=(0.0, 1.0),
            method="bounded",
            options={"xatol": 1e-12},
        )
        mine = objective(P[k], np.array([omega[k], 1.0 - omega[k]]), criterion)
        assert mine <= best.fun + (
            1e-12 * abs(best.fun) if criterion is CiCriterion.TRACE else 1e-12
        )
        assert abs(omega[k] - best.x) <= 1e-6


def test_compiled_group_weights_match_a_brute_force_simplex_search() -> None:
    rng = np.random.default_rng(12)
    P = random_covariances(rng, (8, 3))
    fused = covariance_intersection_group(np.zeros((8, 3, 6)), P)
    # Every point of a 1/200 grid on the simplex, then a finer grid around the best one.
    grid = np.array([(i, j, 200 - i - j) for i in range(201) for j in range(201 - i)]) / 200.0
    for k in range(P.shape[0]):
        values = [objective(P[k], w, CiCriterion.TRACE) for w in grid]
        centre = grid[int(np.argmin(values))]
        fine = (
            centre
            + np.array([(i, j, -i - j) for i in range(-10, 11) for j in range(-10, 11)]) / 2000.0
        )
        fine = fine[(fine >= 0.0).all(axis=1)]
        brute = min(objective(P[k], w, CiCriterion.TRACE) for w in fine)
        ours = objective(P[k], fused.weights[k], CiCriterion.TRACE)
        assert ours <= brute * (1.0 + 1e-12)


def test_compiled_pair_kernel_repeats_the_numpy_newton_iteration() -> None:
    rng = np.random.default_rng(13)
    s = np.exp(rng.normal(0.0, 3.0, (500, 6)))
    c = np.exp(rng.normal(0.0, 3.0, (500, 6)))
    s[:20] = 1.0  # flat: ½
    s[20:40] = np.linspace(0.01, 0.5, 6)  # P_a ⪯ P_b: ω = 1
    s[40:60] = np.linspace(2.0, 50.0, 6)  # P_b ⪯ P_a: ω = 0
    for criterion in CiCriterion:
        ours = _pair_weights_kernel(c, s, criterion is CiCriterion.TRACE, 100)
        theirs = _optimal_pair_weight(c, s, criterion)
        np.testing.assert_allclose(ours, theirs, rtol=0.0, atol=1e-14)
        assert (ours[:20] == 0.5).all()
        assert (ours[20:40] == 1.0).all()
        assert (ours[40:60] == 0.0).all()


def test_identical_sources_and_single_sources() -> None:
    rng = np.random.default_rng(14)
    P = random_covariances(rng, (4,))
    x = rng.normal(0.0, 100.0, (4, 6))
    same = covariance_intersection_group(
        np.repeat(x[:, None], 3, axis=1), np.repeat(P[:, None], 3, axis=1)
    )
    np.testing.assert_allclose(same.weights.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(same.state, x, rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(same.covariance, P, rtol=1e-9)
    single = covariance_intersection_group(
        x[:, None], P[:, None], present=np.ones((4, 1), dtype=bool)
    )
    np.testing.assert_array_equal(single.weights, 1.0)
    np.testing.assert_allclose(single.covariance, P, rtol=1e-12)
    np.testing.assert_allclose(single.state, x, rtol=0.0, atol=1e-12)


def test_group_of_two_equals_the_pair_function() -> None:
    rng = np.random.default_rng(15)
    P = random_covariances(rng, (30, 2))
    x = rng.normal(0.0, 100.0, (30, 2, 6)) + np.array([-3.9e6, 3.4e6, 3.7e6, 0.0, 0.0, 0.0])
    group = covariance_intersection_group(x, P)
    pair = covariance_intersection(x[:, 0], P[:, 0], x[:, 1], P[:, 1])
    np.testing.assert_allclose(group.weights, pair.weights, rtol=0.0, atol=1e-12)
    assert_same_estimate(group, pair, 1e-9)


@pytest.mark.parametrize("compiled", [True, False])
def test_a_covariance_that_is_not_positive_definite_raises(compiled: bool) -> None:
    P = np.tile(np.eye(6), (2, 3, 1, 1))
    P[1, 2, 0, 0] = -1.0
    with pytest.raises(np.linalg.LinAlgError):
        covariance_intersection_group(np.zeros((2, 3, 6)), P, compiled=compiled)
