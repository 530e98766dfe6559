"""Global-nearest-neighbour assignment on a sparse cost matrix, and its bipartite clusters.

Rows are the items that want a partner (tracks), columns the candidates (measurements, or
another node's tracks when fusion reuses this); only the gated pairs carry a cost, and every
row and column may also stay unassigned at a price. The problem solved is::

    minimise  Σ_{(i,j) ∈ A} c_ij  +  Σ_{row i free} a_i  +  Σ_{column j free} b_j

over matchings ``A`` of the given pairs (each row and each column used at most once), where
``a`` and ``b`` are the non-assignment costs of rows and columns ([1]_, [2]_).

Subtracting ``a_i + b_j`` from each pair leaves the *reduced* cost of assigning it rather than
leaving both ends free; a pair whose reduced cost is not negative can never improve a
solution, so it is dropped (this is where the gate and the non-assignment cost meet). The
remaining pairs split into the connected components of their bipartite graph
(:func:`scipy.sparse.csgraph.connected_components`), each of which is an independent
problem:

* components with a single row or a single column (by far the most common in a sparse air
  picture) are solved together, vectorised: the cheapest pair wins;
* other components are solved exactly by :func:`scipy.optimize.linear_sum_assignment`
  (Jonker–Volgenant) on a small dense block in which a missing pair costs 0, i.e. "leave both
  unassigned", which needs no dummy rows or columns;
* a component too big for a dense block (more than ``max_dense_cells`` cells, which only a
  long chain of overlapping gates or a dense cloud of clutter produces) *and* less than 1 %
  filled goes to the sparse Jonker–Volgenant solver
  :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`, with one dummy column per
  row and one dummy row per column for the "unassigned" option. On a fuller component the
  dense solver is faster (measured: 5× at 3,000 × 3,000 fully filled), so it keeps it.

The split is why this is used instead of one sparse matching over the whole picture: the
work is linear in the number of pairs plus a cubic term in the size of each component, so a
scene of thousands of well-separated targets costs about as much as its gating, and the
dense solver, which is deterministic across SciPy versions, does nearly all the work.

References
----------
.. [1] S. S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
   Artech House, 1999 (global nearest neighbour, assignment with non-assignment costs).
.. [2] Y. Bar-Shalom, P. K. Willett and X. Tian, *Tracking and Data Fusion: A Handbook of
   Algorithms*, YBS Publishing, 2011 (2-D assignment).
.. [3] R. Jonker and A. Volgenant, "A shortest augmenting path algorithm for dense and
   sparse linear assignment problems", *Computing* 38, 325–340, 1987.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from iamd.core.typing import FloatArray, IntArray

UNASSIGNED = -1
"""Partner index of a row or column that stays unassigned."""

MAX_DENSE_CELLS = 1_000_000
"""Default size (rows × columns) above which a component sparse enough is solved as a sparse
problem."""

_SPARSE_FILL_RATIO = 100
"""A big component goes to the sparse solver when fewer than 1/this of its cells are pairs:
measured crossover of the two SciPy solvers is near 1 % fill (2,000 × 2,000, SciPy 1.17)."""


class Assignment(NamedTuple):
    """The result of a sparse assignment.

    Attributes
    ----------
    row_to_col : ndarray of int, shape (N,)
        Column assigned to each row (track → measurement), or ``UNASSIGNED`` (-1).
    col_to_row : ndarray of int, shape (M,)
        Row assigned to each column, or ``UNASSIGNED`` (-1).
    cost : float
        Total cost: assigned pair costs plus the non-assignment costs of free rows and
        columns.
    """

    row_to_col: IntArray
    col_to_row: IntArray
    cost: float


def validate_pairs(pairs: npt.ArrayLike, shape: tuple[int, int]) -> IntArray:
    """Return ``pairs`` as an ``int64`` array of shape (K, 2), checked against ``shape``.

    Parameters
    ----------
    pairs : array_like of int, shape (K, 2)
        ``(row, column)`` index pairs; an empty sequence is allowed.
    shape : tuple of int
        ``(N, M)``: the number of rows and columns.

    Returns
    -------
    ndarray of int64, shape (K, 2)

    Raises
    ------
    ValueError
        If the array is not (K, 2) integers or an index is out of range.
    """
    array = np.asarray(pairs)
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"pairs must have shape (K, 2) (got {array.shape})")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"pairs must be integers (got dtype {array.dtype})")
    n_rows, n_cols = shape
    result = array.astype(np.int64)
    if (
        result.min() < 0
        or result[:, 0].max(initial=-1) >= n_rows
        or result[:, 1].max(initial=-1) >= n_cols
    ):
        raise ValueError(f"pair index out of range for shape {shape}")
    return result


def bipartite_components(
    pairs: npt.ArrayLike, shape: tuple[int, int]
) -> tuple[IntArray, IntArray, int]:
    """Connected components (clusters) of the bipartite graph that the pairs draw.

    Parameters
    ----------
    pairs : array_like of int, shape (K, 2)
        ``(row, column)`` edges, e.g. gated track/measurement pairs.
    shape : tuple of int
        ``(N, M)``: the number of rows and columns.

    Returns
    -------
    row_labels : ndarray of int, shape (N,)
        Component of each row.
    col_labels : ndarray of int, shape (M,)
        Component of each column. A row or column without a pair is a component of its own.
    count : int
        Number of components; labels are ``0 … count-1``.

    Examples
    --------
    >>> rows, cols, count = bipartite_components([[0, 0], [1, 0], [2, 2]], (3, 3))
    >>> rows.tolist(), cols.tolist(), count
    ([0, 0, 1], [0, 2, 1], 3)
    """
    n_rows, n_cols = shape
    p = validate_pairs(pairs, shape)
    size = n_rows + n_cols
    if size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    graph = coo_array(
        (np.ones(p.shape[0]), (p[:, 0], n_rows + p[:, 1])), shape=(size, size)
    ).tocsr()
    count, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    return labels[:n_rows], labels[n_rows:], int(count)


def assign_sparse(
    pairs: npt.ArrayLike,
    costs: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    unassigned_row_cost: npt.ArrayLike,
    unassigned_col_cost: npt.ArrayLike = 0.0,
    max_dense_cells: int = MAX_DENSE_CELLS,
) -> Assignment:
    """Optimal (global-nearest-neighbour) assignment on a sparse cost matrix.

    Parameters
    ----------
    pairs : array_like of int, shape (K, 2)
        ``(row, column)`` pairs that may be assigned (e.g. gated track/measurement pairs);
        each pair at most once. Rows are tracks, columns measurements.
    costs : array_like of float, shape (K,)
        Cost of assigning each pair (any units, e.g. a negative log-likelihood ratio);
        ``+inf`` means "not allowed", like a missing pair.
    shape : tuple of int
        ``(N, M)``: the number of rows and columns.
    unassigned_row_cost : float or array_like, shape (N,)
        Cost of leaving each row unassigned (finite); the gate of a distance cost.
    unassigned_col_cost : float or array_like, shape (M,), optional
        Cost of leaving each column unassigned (finite); 0 by default.
    max_dense_cells : int, optional
        Components of more than this many rows × columns, and less than 1 % filled, are
        solved by the sparse Jonker–Volgenant solver instead of a dense block (the result is
        the same optimum; see the module notes).

    Returns
    -------
    Assignment
        ``row_to_col`` (N,), ``col_to_row`` (M,) and the total cost. A pair whose cost
        equals the sum of its two non-assignment costs is left unassigned.

    Raises
    ------
    ValueError
        On malformed shapes, out-of-range or repeated pairs, NaN or ``-inf`` costs, or
        non-finite non-assignment costs.

    Examples
    --------
    Two tracks compete for measurement 0; track 1 also sees measurement 1:

    >>> result = assign_sparse(
    ...     [[0, 0], [1, 0], [1, 1]], [1.0, 2.0, 4.0], (2, 2), unassigned_row_cost=5.0
    ... )
    >>> result.row_to_col.tolist(), result.col_to_row.tolist(), result.cost
    ([0, 1], [0, 1], 5.0)

    With a cheaper non-assignment, track 1 stays free instead:

    >>> assign_sparse(
    ...     [[0, 0], [1, 0], [1, 1]], [1.0, 2.0, 4.0], (2, 2), unassigned_row_cost=3.0
    ... ).row_to_col.tolist()
    [0, -1]
    """
    n_rows, n_cols = (int(shape[0]), int(shape[1]))
    p = validate_pairs(pairs, (n_rows, n_cols))
    c = np.asarray(costs, dtype=float).reshape(-1)
    if c.shape[0] != p.shape[0]:
        raise ValueError(f"costs must have shape ({p.shape[0]},) (got {c.shape})")
    if np.isnan(c).any() or np.isneginf(c).any():
        raise ValueError("costs must not be NaN or -inf")
    row_cost = np.broadcast_to(np.asarray(unassigned_row_cost, dtype=float), (n_rows,))
    col_cost = np.broadcast_to(np.asarray(unassigned_col_cost, dtype=float), (n_cols,))
    if not (np.isfinite(row_cost).all() and np.isfinite(col_cost).all()):
        raise ValueError("non-assignment costs must be finite")
    rows, cols = p[:, 0], p[:, 1]
    if np.unique(rows * n_cols + cols).size != rows.size:
        raise ValueError("pairs must not repeat")

    reduced = c - row_cost[rows] - col_cost[cols]
    keep = np.flatnonzero(reduced < 0.0)
    chosen = _solve_reduced(rows[keep], cols[keep], reduced[keep], n_rows, n_cols, max_dense_cells)
    chosen = keep[chosen]

    row_to_col = np.full(n_rows, UNASSIGNED, dtype=np.int64)
    col_to_row = np.full(n_cols, UNASSIGNED, dtype=np.int64)
    row_to_col[rows[chosen]] = cols[chosen]
    col_to_row[cols[chosen]] = rows[chosen]
    total = (
        float(c[chosen].sum())
        + float(row_cost[row_to_col == UNASSIGNED].sum())
        + float(col_cost[col_to_row == UNASSIGNED].sum())
    )
    return Assignment(row_to_col, col_to_row, total)


def _solve_reduced(
    rows: IntArray,
    cols: IntArray,
    reduced: FloatArray,
    n_rows: int,
    n_cols: int,
    max_dense_cells: int,
) -> IntArray:
    """Indices of the pairs chosen, all reduced costs being negative."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    row_labels, _, count = bipartite_components(np.stack([rows, cols], axis=1), (n_rows, n_cols))
    component = row_labels[rows]
    rows_in = np.bincount(row_labels[np.unique(rows)], minlength=count)
    cols_in = np.bincount(row_labels[rows[np.unique(cols, return_index=True)[1]]], minlength=count)

    # Group the pairs by component, cheapest first within each.
    order = np.lexsort((reduced, component))
    grouped = component[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    ends = np.r_[starts[1:], grouped.size]
    labels = grouped[starts]

    # A star (one row or one column) takes its cheapest pair.
    star = (rows_in[labels] == 1) | (cols_in[labels] == 1)
    chosen = [order[starts[star]]]
    for start, end in zip(starts[~star], ends[~star], strict=True):
        members = order[start:end]
        chosen.append(
            members[
                _solve_component(rows[members], cols[members], reduced[members], max_dense_cells)
            ]
        )
    return np.concatenate(chosen).astype(np.int64)


def _solve_component(
    rows: IntArray, cols: IntArray, reduced: FloatArray, max_dense_cells: int
) -> IntArray:
    """Indices (into the component's pairs) of the optimal choice for one component."""
    unique_rows, r = np.unique(rows, return_inverse=True)
    unique_cols, k = np.unique(cols, return_inverse=True)
    n, m = unique_rows.size, unique_cols.size
    if n * m > max_dense_cells and rows.size * _SPARSE_FILL_RATIO < n * m:
        matched_r, matched_k = _match_sparse(r, k, reduced, n, m)
    else:
        # A missing pair costs 0 = "both unassigned": every partial matching of negative
        # pairs extends to a full one at no extra cost, so the rectangular optimum is ours.
        block = np.zeros((n, m))
        block[r, k] = reduced
        matched_r, matched_k = linear_sum_assignment(block)
        taken = block[matched_r, matched_k] < 0.0
        matched_r, matched_k = matched_r[taken], matched_k[taken]
    keys = r * m + k
    order = np.argsort(keys)
    return np.asarray(order[np.searchsorted(keys, matched_r * m + matched_k, sorter=order)])


def _match_sparse(
    r: IntArray, k: IntArray, reduced: FloatArray, n: int, m: int
) -> tuple[IntArray, IntArray]:
    """Real pairs of the sparse Jonker–Volgenant optimum, with the "unassigned" option.

    Left vertices are the rows ``0…n-1`` plus one dummy per column (``n + j``); right
    vertices the columns ``0…m-1`` plus one dummy per row (``m + i``). Row ``i`` may take its
    own dummy, column ``j`` its own dummy row, and for every pair ``(i, j)`` the two dummies
    may pair up, so a full matching of size ``n + m`` exists and its real pairs are any
    matching. Every weight is shifted by the same positive constant (a full matching always
    has ``n + m`` edges, so the optimum does not move) because SciPy reads a zero weight as
    "no edge".
    """
    shift = 1.0 + float(np.abs(reduced).max())
    source = np.concatenate([r, np.arange(n), n + np.arange(m), n + k])
    target = np.concatenate([k, m + np.arange(n), np.arange(m), m + r])
    weight = np.concatenate([reduced, np.zeros(n + m + r.size)]) + shift
    graph = coo_array((weight, (source, target)), shape=(n + m, n + m)).tocsr()
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    real = (matched_rows < n) & (matched_cols < m)
    return matched_rows[real].astype(np.int64), matched_cols[real].astype(np.int64)
