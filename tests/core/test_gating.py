"""Gating: chi-square thresholds, innovation statistics, and k-d-tree pre-gating that never
loses a pair the exact gate passes (property test against brute force) and scales."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from iamd.core.gating import (
    chi2_gate,
    chi2_gate_threshold,
    gate_radii_m,
    innovation_statistics,
    spatial_candidate_pairs,
)

CENTRE = np.array([-3.9e6, 3.4e6, 3.7e6])  # ECEF, over the Sea of Japan


def random_covariances(rng: np.random.Generator, count: int, sigma_m: np.ndarray) -> np.ndarray:
    """Random SPD 3 × 3 covariances with axis standard deviations up to ``sigma_m``."""
    rotation, _ = np.linalg.qr(rng.normal(size=(count, 3, 3)))
    axes = rng.uniform(0.05, 1.0, (count, 3)) * sigma_m[:, None]
    return np.einsum("nij,nj,nkj->nik", rotation, axes**2, rotation)


def test_chi2_thresholds() -> None:
    assert chi2_gate_threshold(0.99, 3) == pytest.approx(11.3448667, rel=1e-7)
    assert chi2_gate_threshold(0.95, 2) == pytest.approx(-2.0 * math.log(0.05), rel=1e-12)
    assert chi2_gate([0.0, 11.3, 11.4, np.nan], 3, 0.99).tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    ("probability", "dim", "message"),
    [(1.0, 3, "in \\(0, 1\\)"), (0.0, 3, "in \\(0, 1\\)"), (0.9, 0, "at least 1")],
)
def test_chi2_threshold_rejects_bad_arguments(probability: float, dim: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chi2_gate_threshold(probability, dim)


def test_innovation_statistics_match_inverse_and_determinant() -> None:
    rng = np.random.default_rng(1)
    s = random_covariances(rng, 50, rng.uniform(1.0, 1e4, 50))
    nu = rng.normal(size=(50, 3)) * 100.0
    d2, log_det = innovation_statistics(nu, s)
    expected = np.einsum("ki,kij,kj->k", nu, np.linalg.inv(s), nu)
    np.testing.assert_allclose(d2, expected, rtol=1e-9)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(s)[1], rtol=1e-12, atol=1e-12)
    empty_d2, empty_log_det = innovation_statistics(np.zeros((0, 2)), np.zeros((0, 2, 2)))
    assert empty_d2.shape == empty_log_det.shape == (0,)
    with pytest.raises(ValueError, match="do not match"):
        innovation_statistics(nu, s[:, :2, :2])


def test_gate_radius_is_sigma_times_worst_axis() -> None:
    p = np.diag([4.0, 100.0, 25.0])[None]
    assert gate_radii_m(p, 3.0).tolist() == [30.0]


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_tracks=st.integers(0, 60),
    n_measurements=st.integers(0, 60),
    probability=st.sampled_from([0.9, 0.99, 0.9999]),
    spread=st.sampled_from([1.0, 30.0, 1000.0]),
)
def test_pre_gate_never_loses_a_pair_the_exact_gate_passes(
    seed: int, n_tracks: int, n_measurements: int, probability: float, spread: float
) -> None:
    rng = np.random.default_rng(seed)
    # Covariances from 1 m to 10 × spread m (mixed scales), in a box sized so that gates
    # overlap: every example has a few dozen exact-gate pairs on average.
    half_width = 50.0 * spread
    x = CENTRE + rng.uniform(-half_width, half_width, (n_tracks, 3))
    z = CENTRE + rng.uniform(-half_width, half_width, (n_measurements, 3))
    p = random_covariances(rng, n_tracks, 10.0 ** rng.uniform(0, math.log10(spread) + 1, n_tracks))
    r = random_covariances(
        rng, n_measurements, 10.0 ** rng.uniform(0, math.log10(spread) + 1, n_measurements)
    )
    gamma = chi2_gate_threshold(probability, 3)
    pairs = spatial_candidate_pairs(x, p, z, r, gate_sigma=math.sqrt(gamma))

    difference = x[:, None, :] - z[None, :, :]
    combined = p[:, None] + r[None, :]
    d2 = np.einsum("nmi,nmij,nmj->nm", difference, np.linalg.inv(combined), difference)
    exact = {(int(i), int(j)) for i, j in np.argwhere(d2 <= gamma)}
    found = {(int(i), int(j)) for i, j in pairs}
    assert exact <= found
    # And the candidates are exactly the sphere test, done by brute force.
    radius_x = math.sqrt(gamma) * np.sqrt(np.linalg.eigvalsh(p)[:, -1]) if n_tracks else x[:, 0]
    radius_z = (
        math.sqrt(gamma) * np.sqrt(np.linalg.eigvalsh(r)[:, -1]) if n_measurements else z[:, 0]
    )
    sphere = np.linalg.norm(difference, axis=-1) <= radius_x[:, None] + radius_z[None, :]
    assert found == {(int(i), int(j)) for i, j in np.argwhere(sphere)}
    # Sorted by track, then measurement.
    assert pairs.tolist() == sorted(pairs.tolist())


def test_margin_widens_the_pre_gate() -> None:
    x = CENTRE[None]
    z = CENTRE[None] + [[0.0, 0.0, 1000.0]]
    p = r = np.eye(3)[None] * 100.0**2
    assert spatial_candidate_pairs(x, p, z, r, gate_sigma=4.0).shape == (0, 2)
    assert spatial_candidate_pairs(x, p, z, r, gate_sigma=4.0, margin_m=250.0).tolist() == [[0, 0]]


def test_empty_and_non_finite_inputs() -> None:
    p = np.eye(3)[None] * 1e4
    empty = np.zeros((0, 3))
    assert spatial_candidate_pairs(
        empty, empty.reshape(0, 3, 3), CENTRE[None], p, gate_sigma=3.0
    ).shape == (0, 2)
    assert spatial_candidate_pairs(
        CENTRE[None], p, empty, empty.reshape(0, 3, 3), gate_sigma=3.0
    ).shape == (0, 2)
    x = np.stack([CENTRE, CENTRE + np.nan, CENTRE])
    px = np.stack([p[0], p[0], np.full((3, 3), np.inf)])
    assert spatial_candidate_pairs(x, px, CENTRE[None], p, gate_sigma=3.0).tolist() == [[0, 0]]
    with pytest.raises(ValueError, match="same length"):
        spatial_candidate_pairs(x, p, CENTRE[None], p, gate_sigma=3.0)
    with pytest.raises(ValueError, match="must be ≥ 0"):
        spatial_candidate_pairs(CENTRE[None], p, CENTRE[None], p, gate_sigma=-1.0)


def test_pre_gate_scales_to_5000_by_5000() -> None:
    # 5,000 objects over a 1,000 km × 1,000 km × 200 km region, tracks and measurements of a
    # few hundred metres; a tenth of the measurements are poor (10 km), as at long range.
    rng = np.random.default_rng(5)
    n = 5000
    truth = CENTRE + rng.uniform(-5e5, 5e5, (n, 3)) * [1.0, 1.0, 0.2]
    p = random_covariances(rng, n, np.full(n, 400.0))
    sigma_z = np.where(rng.random(n) < 0.1, 10_000.0, 200.0)
    r = random_covariances(rng, n, sigma_z)
    x = truth + rng.normal(0.0, 200.0, (n, 3))
    z = truth + rng.normal(0.0, 1.0, (n, 3)) * sigma_z[:, None] * 0.5
    gate_sigma = math.sqrt(chi2_gate_threshold(0.9999, 3))
    start = time.perf_counter()
    pairs = spatial_candidate_pairs(x, p, z, r, gate_sigma=gate_sigma)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    # Nearly every object finds its own measurement among a handful of candidates.
    own = pairs[:, 0] == pairs[:, 1]
    assert own.sum() > 0.999 * n
    assert pairs.shape[0] < 20 * n


def test_chi2_gate_agrees_with_scipy_survival() -> None:
    d2 = np.linspace(0.0, 30.0, 301)
    passed = chi2_gate(d2, 2, 0.999)
    np.testing.assert_array_equal(passed, chi2.sf(d2, 2) >= 0.001 - 1e-15)
