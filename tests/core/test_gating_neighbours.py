"""The coarse spatial pre-gate: every point in reach of a query, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core.gating import spatial_neighbours

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
