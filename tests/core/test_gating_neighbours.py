"""The coarse spatial pre-gate: every point in reach of a query, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core.gating import _sweep, spatial_neighbour_pairs, spatial_neighbours

CENTRE = np.array([-3.9e6, 3.4e6, 3.7e6])  # ECEF, over the Sea of Japan


def brute_force(
    points: np.ndarray, radii: np.ndarray, queries: np.ndarray, query_radii: np.ndarray
) -> np.ndarray:
    distance = np.linalg.norm(points[:, None, :] - queries[None, :, :], axis=2)
    return np.flatnonzero((distance <= radii[:, None] + query_radii[None, :]).any(axis=1))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), points=st.integers(1, 300), queries=st.integers(1, 40))
def test_matches_brute_force(seed: int, points: int, queries: int) -> None:
    rng = np.random.default_rng(seed)
    x = CENTRE + rng.uniform(-50e3, 50e3, (points, 3))
    # A few points of a much larger reach, which the tree leaves to the brute-force test.
    r = rng.uniform(100.0, 2000.0, points) * np.where(rng.random(points) < 0.1, 20.0, 1.0)
    z = CENTRE + rng.uniform(-50e3, 50e3, (queries, 3))
    s = rng.uniform(100.0, 2000.0, queries)
    expected = brute_force(x, r, z, s)
    found = spatial_neighbours(x, r, z, s)
    # Only pairs at the reach within rounding may differ.
    distance = np.linalg.norm(x[:, None, :] - z[None, :, :], axis=2) - (r[:, None] + s[None, :])
    edge = np.flatnonzero((np.abs(distance) < 1e-6).any(axis=1))
    assert np.setdiff1d(np.setxor1d(found, expected), edge).size == 0
    assert found.dtype == np.int64
    assert np.all(np.diff(found) > 0)


def test_non_finite_points_and_queries_reach_nothing() -> None:
    x = CENTRE + np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [np.nan, 0.0, 0.0]])
    r = np.array([100.0, np.inf, 100.0])
    z = CENTRE + np.array([[0.0, 0.0, 0.0], [np.nan, 0.0, 0.0]])
    assert spatial_neighbours(x, r, z, [50.0, 50.0]).tolist() == [0]
    assert spatial_neighbours(x, r, z[1:], [50.0]).tolist() == []
    assert spatial_neighbours(np.zeros((0, 3)), np.zeros(0), z, [50.0, 50.0]).tolist() == []


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="must have the same length"):
        spatial_neighbours(np.zeros((2, 3)), [1.0], np.zeros((1, 3)), [1.0])


def brute_force_pairs(
    points: np.ndarray, radii: np.ndarray, queries: np.ndarray, query_radii: np.ndarray
) -> np.ndarray:
    distance = np.linalg.norm(points[:, None, :] - queries[None, :, :], axis=2)
    return np.argwhere(distance <= radii[:, None] + query_radii[None, :])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.integers(1, 400),
    queries=st.integers(1, 60),
    extent_m=st.sampled_from([2e3, 50e3, 1e6]),
    outliers=st.booleans(),
)
def test_pairs_match_brute_force(
    seed: int, points: int, queries: int, extent_m: float, outliers: bool
) -> None:
    # A dense cluster (2 km) takes the k-d trees, a wide scene (1,000 km) the sweep; a few
    # points of a much larger reach push a scene from one to the other.
    rng = np.random.default_rng(seed)
    x = CENTRE + rng.uniform(-extent_m, extent_m, (points, 3))
    r = rng.uniform(100.0, 2000.0, points)
    if outliers:
        r *= np.where(rng.random(points) < 0.05, 50.0, 1.0)
    z = CENTRE + rng.uniform(-extent_m, extent_m, (queries, 3))
    s = rng.uniform(100.0, 2000.0, queries)
    found = spatial_neighbour_pairs(x, r, z, s)
    expected = brute_force_pairs(x, r, z, s)
    assert found.dtype == np.int64
    assert found.shape[1] == 2
    # Sorted by point then query, each pair once.
    keys = found[:, 0] * queries + found[:, 1]
    assert np.all(np.diff(keys) > 0)
    # Only pairs at the reach within rounding may differ.
    distance = np.linalg.norm(x[:, None, :] - z[None, :, :], axis=2) - (r[:, None] + s[None, :])
    edge = np.abs(distance) < 1e-6
    a = {tuple(p) for p in found.tolist()}
    b = {tuple(p) for p in expected.tolist()}
    assert all(edge[p] for p in a ^ b)
    np.testing.assert_array_equal(spatial_neighbours(x, r, z, s), np.unique(found[:, 0]))


def test_pairs_of_non_finite_points_and_queries() -> None:
    x = CENTRE + np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [np.nan, 0.0, 0.0]])
    r = np.array([100.0, np.inf, 100.0])
    z = CENTRE + np.array([[0.0, 0.0, 0.0], [np.nan, 0.0, 0.0], [20.0, 0.0, 0.0]])
    assert spatial_neighbour_pairs(x, r, z, [50.0, 50.0, 50.0]).tolist() == [[0, 0], [0, 2]]
    assert spatial_neighbour_pairs(x, r, np.zeros((0, 3)), []).shape == (0, 2)


@pytest.mark.parametrize("scene", ["dense", "one-far-reaching-point"])
def test_pairs_fall_back_to_trees_where_a_sweep_would_compare_too_many(scene: str) -> None:
    rng = np.random.default_rng(7)
    extent = 1e3 if scene == "dense" else 500e3
    x = CENTRE + rng.uniform(-extent, extent, (300, 3))
    r = rng.uniform(100.0, 500.0, 300)
    if scene == "one-far-reaching-point":
        r[17] = 2e6
    z = CENTRE + rng.uniform(-extent, extent, (50, 3))
    s = rng.uniform(100.0, 500.0, 50)
    assert _sweep(x, z, s + r.max()) is None
    found = spatial_neighbour_pairs(x, r, z, s)
    np.testing.assert_array_equal(found, brute_force_pairs(x, r, z, s))
