"""Sparse GNN assignment: optimal against brute force, equal to SciPy on dense problems, edges."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from iamd.core.assignment import UNASSIGNED, Assignment, assign_sparse, bipartite_components


def brute_force(
    pairs: np.ndarray, costs: np.ndarray, row_cost: np.ndarray, col_cost: np.ndarray
) -> float:
    """Least total cost over every matching of the pairs, by exhaustive search."""
    n, m = row_cost.size, col_cost.size
    options: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for (i, j), c in zip(pairs.tolist(), costs.tolist(), strict=True):
        options[i].append((j, c))
    best = np.inf

    def search(i: int, used: frozenset[int], total: float) -> None:
        nonlocal best
        if i == n:
            free = [j for j in range(m) if j not in used]
            best = min(best, total + float(col_cost[free].sum()))
            return
        search(i + 1, used, total + row_cost[i])
        for j, c in options[i]:
            if j not in used:
                search(i + 1, used | {j}, total + c)

    search(0, frozenset(), 0.0)
    return best


def check_consistent(
    result: Assignment,
    pairs: np.ndarray,
    costs: np.ndarray,
    row_cost: np.ndarray,
    col_cost: np.ndarray,
) -> None:
    """The two maps are inverse, use only given pairs, and the cost adds up."""
    lookup = {(int(i), int(j)): float(c) for (i, j), c in zip(pairs, costs, strict=True)}
    total = 0.0
    for i, j in enumerate(result.row_to_col.tolist()):
        if j == UNASSIGNED:
            total += row_cost[i]
        else:
            assert result.col_to_row[j] == i
            total += lookup[(i, j)]
    for j, i in enumerate(result.col_to_row.tolist()):
        if i == UNASSIGNED:
            total += col_cost[j]
        else:
            assert result.row_to_col[i] == j
    assert result.cost == pytest.approx(total, rel=1e-12, abs=1e-12)


@st.composite
def small_problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 5))
    m = draw(st.integers(0, 5))
    cells = [(i, j) for i in range(n) for j in range(m)]
    chosen = draw(st.lists(st.sampled_from(cells), unique=True) if cells else st.just([]))
    pairs = np.array(sorted(chosen), dtype=np.int64).reshape(-1, 2)
    value = st.floats(-10.0, 10.0, allow_nan=False)
    costs = np.array(draw(st.lists(value, min_size=len(chosen), max_size=len(chosen))))
    row_cost = np.array(draw(st.lists(value, min_size=n, max_size=n)))
    col_cost = np.array(draw(st.lists(value, min_size=m, max_size=m)))
    return pairs, costs, row_cost, col_cost


@settings(max_examples=300, deadline=None)
@given(problem=small_problems(), sparse=st.booleans())
def test_optimal_against_brute_force(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], sparse: bool
) -> None:
    pairs, costs, row_cost, col_cost = problem
    shape = (row_cost.size, col_cost.size)
    result = assign_sparse(
        pairs,
        costs,
        shape,
        unassigned_row_cost=row_cost,
        unassigned_col_cost=col_cost,
        max_dense_cells=0 if sparse else 10**6,
    )
    check_consistent(result, pairs, costs, row_cost, col_cost)
    assert result.cost == pytest.approx(
        brute_force(pairs, costs, row_cost, col_cost), rel=1e-9, abs=1e-9
    )


@pytest.mark.parametrize(("n", "m"), [(1, 1), (5, 5), (7, 3), (3, 7), (40, 60), (200, 150)])
def test_identical_to_linear_sum_assignment_on_dense_problems(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 1000 + m)
    for _ in range(5):
        matrix = rng.normal(size=(n, m)) * 10.0
        pairs = np.argwhere(np.ones((n, m), dtype=bool))
        # A prohibitive non-assignment makes every row (or column) take a partner.
        result = assign_sparse(pairs, matrix.ravel(), (n, m), unassigned_row_cost=1e6)
        rows, cols = linear_sum_assignment(matrix)
        expected = np.full(n, UNASSIGNED)
        expected[rows] = cols
        np.testing.assert_array_equal(result.row_to_col, expected)


def test_empty_inputs() -> None:
    for shape in [(0, 0), (3, 0), (0, 4), (3, 4)]:
        result = assign_sparse(
            np.zeros((0, 2), int), [], shape, unassigned_row_cost=2.0, unassigned_col_cost=0.5
        )
        assert result.row_to_col.tolist() == [UNASSIGNED] * shape[0]
        assert result.col_to_row.tolist() == [UNASSIGNED] * shape[1]
        assert result.cost == pytest.approx(2.0 * shape[0] + 0.5 * shape[1])
    assert assign_sparse([], [], (2, 2), unassigned_row_cost=1.0).cost == 2.0


def test_all_unassigned_when_no_pair_is_cheaper_than_leaving_it() -> None:
    # Each pair costs exactly its row's plus its column's non-assignment cost: a tie, which
    # leaves both free.
    pairs = np.argwhere(np.ones((4, 4), dtype=bool))
    result = assign_sparse(
        pairs, np.full(16, 5.0), (4, 4), unassigned_row_cost=3.0, unassigned_col_cost=2.0
    )
    assert (result.row_to_col == UNASSIGNED).all()
    assert (result.col_to_row == UNASSIGNED).all()
    assert result.cost == 20.0
    more = assign_sparse(pairs, np.full(16, 9.0), (4, 4), unassigned_row_cost=3.0)
    assert (more.row_to_col == UNASSIGNED).all()


def test_infinite_cost_is_no_pair() -> None:
    result = assign_sparse([[0, 0], [0, 1]], [np.inf, 1.0], (1, 2), unassigned_row_cost=2.0)
    assert result.row_to_col.tolist() == [1]


def test_sparse_and_dense_solvers_agree_on_a_giant_component() -> None:
    # A chain of overlapping gates along a line makes one component of 400 rows.
    rng = np.random.default_rng(3)
    n = 400
    x = np.sort(rng.uniform(0, n, n))
    z = np.sort(rng.uniform(0, n, n))
    distance = np.abs(x[:, None] - z[None, :])
    pairs = np.argwhere(distance < 6.0)
    costs = distance[pairs[:, 0], pairs[:, 1]] ** 2
    assert bipartite_components(pairs, (n, n))[2] == 1
    dense = assign_sparse(pairs, costs, (n, n), unassigned_row_cost=40.0)
    sparse = assign_sparse(pairs, costs, (n, n), unassigned_row_cost=40.0, max_dense_cells=0)
    assert sparse.cost == pytest.approx(dense.cost, rel=1e-12)
    np.testing.assert_array_equal(sparse.row_to_col, dense.row_to_col)


def test_components_of_a_small_graph() -> None:
    rows, cols, count = bipartite_components([[0, 1], [2, 1], [3, 3]], (4, 4))
    assert count == 5
    assert rows[0] == rows[2] == cols[1]
    assert rows[3] == cols[3]
    assert len({rows[1], cols[0], cols[2], rows[0], rows[3]}) == 5


@pytest.mark.parametrize(
    ("pairs", "costs", "message"),
    [
        ([[0, 0], [0, 0]], [1.0, 2.0], "must not repeat"),
        ([[0, 5]], [1.0], "out of range"),
        ([[0, 0]], [np.nan], "NaN"),
        ([[0, 0]], [-np.inf], "NaN or -inf"),
        ([[0, 0]], [1.0, 2.0], "costs must have shape"),
        ([[0.0, 0.0]], [1.0], "integers"),
        ([0, 0], [1.0], r"shape \(K, 2\)"),
    ],
)
def test_malformed_input_is_rejected(pairs: object, costs: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign_sparse(pairs, costs, (2, 2), unassigned_row_cost=1.0)  # type: ignore[arg-type]


def test_non_finite_unassigned_cost_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be finite"):
        assign_sparse([[0, 0]], [1.0], (1, 1), unassigned_row_cost=np.inf)


def scattered_scene(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs and costs of ``n`` targets in a 1,000 km cube, each with a few candidates."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.0, 1e6, (n, 3))
    tracks = truth + rng.normal(0.0, 300.0, (n, 3))
    measurements = truth + rng.normal(0.0, 300.0, (n, 3))
    found = cKDTree(measurements).query_ball_point(tracks, 60_000.0 * (5000 / n) ** (1 / 3))
    pairs = np.array([(i, j) for i, js in enumerate(found) for j in js], dtype=np.int64)
    d2 = np.sum((tracks[pairs[:, 0]] - measurements[pairs[:, 1]]) ** 2, axis=1) / (2 * 300.0**2)
    return pairs, d2


@pytest.mark.parametrize("n", [1000, 5000])
def test_near_linear_on_sparse_scenes(n: int) -> None:
    pairs, d2 = scattered_scene(n, seed=n)
    start = time.perf_counter()
    result = assign_sparse(pairs, d2, (n, n), unassigned_row_cost=16.0)
    elapsed = time.perf_counter() - start
    assert pairs.shape[0] > 4 * n  # about five candidates per track
    assert elapsed < 0.5
    assert (result.row_to_col == np.arange(n)).mean() > 0.99
