"""Gating: chi-square thresholds, innovation statistics and k-d-tree spatial pre-gating.

Gating runs in two stages so that its cost grows about linearly with the number of targets:

1. :func:`spatial_candidate_pairs` finds, with a k-d tree over ECEF positions, the
   track/measurement pairs that are close enough to *possibly* pass the gate — a sphere test
   whose radius follows each track's and each measurement's position covariance;
2. the caller forms the innovations of the candidate pairs in measurement space, and
   :func:`innovation_statistics` and :func:`chi2_gate` give the exact Mahalanobis gate.

The pre-gate is conservative: with ``gate_sigma = sqrt(chi2_gate_threshold(p, 3))`` it never
drops a pair that passes the position-space gate ``(x − z)ᵀ (P + R)⁻¹ (x − z) ≤ γ`` of
probability ``p``, because the largest eigenvalue of a sum is at most the sum of the largest
eigenvalues, and ``sqrt(a + b) ≤ sqrt(a) + sqrt(b)``::

    ‖x − z‖² ≤ γ λmax(P + R) ≤ γ (λmax(P) + λmax(R)) ≤ (sqrt(γ λmax(P)) + sqrt(γ λmax(R)))²

For a measurement-space gate of the same probability on a nonlinear sensor (range, angles),
the converted covariance ``R`` is a linearisation; ``margin_m`` absorbs its error.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001 (chi-square tests on the normalised innovation).
.. [2] S. S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
   Artech House, 1999 (gating; a coarse gate before the fine test).
.. [3] J. L. Bentley, "Multidimensional binary search trees used for associative searching",
   *Communications of the ACM* 18(9), 509–517, 1975.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree
from scipy.stats import chi2

from iamd.core.typing import BoolArray, FloatArray, IntArray

_SWEEP_CANDIDATES = 16
"""Candidate pairs per point or query above which :func:`spatial_neighbour_pairs` builds a
k-d tree rather than sweep (dense scenes, where the slabs of a sweep hold too many points)."""

_MAX_RADIUS_CLASSES = 8
"""Measurement radii are grouped by powers of two (see :func:`spatial_candidate_pairs`); the
smallest classes merge beyond this many, which only widens their search a little."""


@functools.lru_cache(maxsize=64)
def chi2_gate_threshold(probability: float, dim: int) -> float:
    """Gate threshold ``γ`` on the squared Mahalanobis distance: ``P(χ²(dim) ≤ γ) = probability``.

    Parameters
    ----------
    probability : float
        Gate probability ``P_G``, in (0, 1): the probability that the true measurement of a
        detected target falls inside the gate.
    dim : int
        Dimension of the innovation (3 for range/azimuth/elevation, 2 for a line of sight).

    Returns
    -------
    float
        The threshold ``γ`` (dimensionless).

    Raises
    ------
    ValueError
        If ``probability`` is not in (0, 1) or ``dim`` is below 1.

    Examples
    --------
    >>> round(chi2_gate_threshold(0.99, 3), 3)
    11.345
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"gate probability must be in (0, 1) (got {probability})")
    if dim < 1:
        raise ValueError(f"dim must be at least 1 (got {dim})")
    # Cached: gates ask for the same few thresholds at every step, and chi2.ppf is slow.
    return float(chi2.ppf(probability, dim))


def chi2_gate(d2: npt.ArrayLike, dim: int, probability: float) -> BoolArray:
    """Whether each squared Mahalanobis distance passes the chi-square gate.

    Parameters
    ----------
    d2 : array_like, shape (K,)
        Squared Mahalanobis distances ``νᵀ S⁻¹ ν`` of the innovations (dimensionless).
    dim : int
        Dimension of the innovations.
    probability : float
        Gate probability, in (0, 1).

    Returns
    -------
    ndarray of bool, shape (K,)
        ``d2 ≤ chi2_gate_threshold(probability, dim)``; NaN fails the gate.

    Examples
    --------
    >>> chi2_gate([1.0, 20.0], 3, 0.99).tolist()
    [True, False]
    """
    return np.asarray(np.asarray(d2, dtype=float) <= chi2_gate_threshold(probability, dim))


def innovation_statistics(
    innovations: npt.ArrayLike, covariances: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Squared Mahalanobis distance and log-determinant of many innovations at once.

    One Cholesky factor ``S = L Lᵀ`` gives both: ``d² = ‖L⁻¹ ν‖²`` and
    ``ln |S| = 2 Σ ln Lᵢᵢ`` — the two numbers a gate and a likelihood cost need.

    Parameters
    ----------
    innovations : array_like, shape (K, m)
        Innovations ``ν = z − ẑ`` of the candidate pairs, in measurement units (angles
        wrapped to (−π, π] by the caller).
    covariances : array_like, shape (K, m, m)
        Innovation covariances ``S = H P Hᵀ + R``, symmetric positive definite.

    Returns
    -------
    d2 : ndarray, shape (K,)
        Squared Mahalanobis distances (dimensionless).
    log_det : ndarray, shape (K,)
        Natural logarithm of ``|S|`` (in the log of the measurement units squared).

    Raises
    ------
    numpy.linalg.LinAlgError
        If a covariance is not positive definite.

    Examples
    --------
    >>> d2, log_det = innovation_statistics([[2.0, 0.0]], [np.diag([4.0, 1.0])])
    >>> float(d2[0]), round(float(log_det[0]), 6)
    (1.0, 1.386294)
    """
    nu = np.asarray(innovations, dtype=float)
    s = np.asarray(covariances, dtype=float)
    if nu.ndim != 2 or s.shape != (*nu.shape, nu.shape[-1]):
        raise ValueError(
            f"innovations (K, m) and covariances (K, m, m) do not match ({nu.shape}, {s.shape})"
        )
    if nu.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    factor = np.linalg.cholesky(s)
    whitened = np.linalg.solve(factor, nu[..., None])[..., 0]
    d2 = np.einsum("ki,ki->k", whitened, whitened)
    log_det = 2.0 * np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(axis=-1)
    return np.asarray(d2), np.asarray(log_det)


def gate_radii_m(covariances: npt.ArrayLike, gate_sigma: float) -> FloatArray:
    """Radius ``gate_sigma · sqrt(λmax)`` of the sphere around each 3-D position gate.

    Parameters
    ----------
    covariances : array_like, shape (N, 3, 3)
        Position covariances, ECEF, m².
    gate_sigma : float
        Number of standard deviations along the worst axis (dimensionless).

    Returns
    -------
    ndarray, shape (N,)
        Radii, m.
    """
    p = np.asarray(covariances, dtype=float).reshape(-1, 3, 3)
    if p.shape[0] == 0:
        return np.zeros(0)
    # eigvalsh reads one triangle; symmetrising first makes the bound hold for both.
    largest = np.linalg.eigvalsh(0.5 * (p + np.swapaxes(p, -1, -2)))[:, -1]
    return np.asarray(gate_sigma * np.sqrt(np.maximum(largest, 0.0)))


def spatial_candidate_pairs(
    track_positions_m: npt.ArrayLike,
    track_covariances_m2: npt.ArrayLike,
    measurement_positions_m: npt.ArrayLike,
    measurement_covariances_m2: npt.ArrayLike,
    *,
    gate_sigma: float,
    margin_m: float = 0.0,
) -> IntArray:
    """Track/measurement pairs close enough in space to be worth a Mahalanobis test.

    A pair is a candidate when the distance between the predicted track position ``x`` and
    the measured position ``z`` is at most ``r_track + r_measurement + margin_m``, with
    ``r = gate_sigma · sqrt(λmax)`` of each position covariance (:func:`gate_radii_m`). This
    contains the 3-D Mahalanobis gate of threshold ``gate_sigma²`` on ``P + R`` (module
    notes), so it never loses a pair that gate would pass.

    A k-d tree holds the measurements; each track asks for the measurements within its own
    radius plus the largest measurement radius, then the exact sphere test filters. So that
    a few poor measurements (large covariance, e.g. far range) do not widen every search,
    measurements are grouped by their radius in powers of two, with one tree per group.

    Parameters
    ----------
    track_positions_m : array_like, shape (N, 3)
        Predicted track positions, ECEF, m.
    track_covariances_m2 : array_like, shape (N, 3, 3)
        Their position covariances, ECEF, m².
    measurement_positions_m : array_like, shape (M, 3)
        Measured positions converted to ECEF, m.
    measurement_covariances_m2 : array_like, shape (M, 3, 3)
        Their (converted) covariances, ECEF, m².
    gate_sigma : float
        Gate size in standard deviations, e.g. ``sqrt(chi2_gate_threshold(0.999, 3))``.
    margin_m : float, optional
        Extra distance added to every pair's radius, m (linearisation error, bias, …).

    Returns
    -------
    ndarray of int, shape (K, 2)
        ``(track, measurement)`` candidate pairs, sorted by track then measurement. A track
        or measurement with a non-finite position or covariance has no candidate.

    Raises
    ------
    ValueError
        If the shapes do not match or a parameter is negative.

    Examples
    --------
    Two tracks 10 km apart, σ = 100 m; measurements at 150 m and 5 km from the first:

    >>> tracks = [[6378137.0, 0.0, 0.0], [6378137.0, 10000.0, 0.0]]
    >>> measurements = [[6378137.0, 150.0, 0.0], [6378137.0, 5000.0, 0.0]]
    >>> P = np.tile(np.eye(3) * 100.0**2, (2, 1, 1))
    >>> R = np.tile(np.eye(3) * 50.0**2, (2, 1, 1))
    >>> spatial_candidate_pairs(tracks, P, measurements, R, gate_sigma=4.0).tolist()
    [[0, 0]]
    """
    x = np.asarray(track_positions_m, dtype=float).reshape(-1, 3)
    z = np.asarray(measurement_positions_m, dtype=float).reshape(-1, 3)
    p = np.asarray(track_covariances_m2, dtype=float).reshape(-1, 3, 3)
    r = np.asarray(measurement_covariances_m2, dtype=float).reshape(-1, 3, 3)
    if p.shape[0] != x.shape[0] or r.shape[0] != z.shape[0]:
        raise ValueError(
            "positions (N, 3) and covariances (N, 3, 3) must have the same length "
            f"(tracks {x.shape[0]} vs {p.shape[0]}, measurements {z.shape[0]} vs {r.shape[0]})"
        )
    if not (gate_sigma >= 0.0 and margin_m >= 0.0):
        raise ValueError(f"gate_sigma and margin_m must be ≥ 0 (got {gate_sigma}, {margin_m})")
    empty = np.zeros((0, 2), dtype=np.int64)
    track_ok = np.flatnonzero(np.isfinite(x).all(axis=1) & np.isfinite(p).all(axis=(1, 2)))
    measurement_ok = np.flatnonzero(np.isfinite(z).all(axis=1) & np.isfinite(r).all(axis=(1, 2)))
    if track_ok.size == 0 or measurement_ok.size == 0:
        return empty

    track_radius = gate_radii_m(p[track_ok], gate_sigma) + margin_m
    measurement_radius = gate_radii_m(r[measurement_ok], gate_sigma)
    found_tracks: list[IntArray] = []
    found_measurements: list[IntArray] = []
    for members in _radius_classes(measurement_radius):
        reach = float(measurement_radius[members].max())
        points = z[measurement_ok[members]]
        tree = cKDTree(points)
        neighbours = tree.query_ball_point(x[track_ok], track_radius + reach, return_sorted=False)
        counts, local = _flatten(neighbours)
        t = np.repeat(np.arange(track_ok.size), counts)
        distance = np.linalg.norm(x[track_ok[t]] - points[local], axis=1)
        inside = distance <= track_radius[t] + measurement_radius[members[local]]
        found_tracks.append(track_ok[t[inside]])
        found_measurements.append(measurement_ok[members[local[inside]]])
    tracks = np.concatenate(found_tracks)
    measurements = np.concatenate(found_measurements)
    order = np.lexsort((measurements, tracks))
    return np.stack([tracks[order], measurements[order]], axis=1).astype(np.int64)


def spatial_neighbours(
    points_m: npt.ArrayLike,
    point_radii_m: npt.ArrayLike,
    query_positions_m: npt.ArrayLike,
    query_radii_m: npt.ArrayLike,
) -> IntArray:
    """The points within reach of at least one query: ``‖p − q‖ ≤ r_p + r_q``.

    The coarse stage of a gate against a large set: with radii that bound the gate radii
    of :func:`gate_radii_m` from above, the result holds every point that
    :func:`spatial_candidate_pairs` could pair with one of the queries, so the exact gating
    may run on those points alone. The distinct points of :func:`spatial_neighbour_pairs`;
    see there for the cost. A pair that passes only by rounding may be missed: bounds should
    carry a small margin.

    Parameters
    ----------
    points_m : array_like, shape (N, 3)
        Point positions, ECEF, m.
    point_radii_m : array_like, shape (N,)
        Their reach, m (≥ 0).
    query_positions_m : array_like, shape (M, 3)
        Query positions, ECEF, m.
    query_radii_m : array_like, shape (M,)
        Their reach, m (≥ 0).

    Returns
    -------
    ndarray of int, shape (K,)
        Indices of the points in reach of some query, sorted, each once. A point or query
        with a non-finite position or radius is in reach of nothing.

    Raises
    ------
    ValueError
        If the shapes do not match.

    Examples
    --------
    >>> points = [[0.0, 0.0, 0.0], [1000.0, 0.0, 0.0], [5000.0, 0.0, 0.0]]
    >>> spatial_neighbours(points, [100.0, 100.0, 100.0], [[1150.0, 0.0, 0.0]], [60.0]).tolist()
    [1]
    """
    pairs = spatial_neighbour_pairs(points_m, point_radii_m, query_positions_m, query_radii_m)
    return np.unique(pairs[:, 0]).astype(np.int64)


def spatial_neighbour_pairs(
    points_m: npt.ArrayLike,
    point_radii_m: npt.ArrayLike,
    query_positions_m: npt.ArrayLike,
    query_radii_m: npt.ArrayLike,
) -> IntArray:
    """Every (point, query) pair within reach of each other: ``‖p − q‖ ≤ r_p + r_q``.

    With radii that bound the gate radii of :func:`gate_radii_m` from above, the pairs hold
    every pair that :func:`spatial_candidate_pairs` would find, so the exact gate may run on
    them directly. The points are sorted along the axis of their widest extent and each
    query takes the slab within its radius plus the largest point radius, then the exact
    sphere test filters: one sort of the points, no tree to build, which is what a large set
    queried by a small batch, with all positions new at every call, needs. When the slabs
    would hold too many points (a dense cluster, or a few points of a much larger reach), a
    k-d tree over the points whose radius is at most twice the median answers instead, and
    the others look up a tree of the queries. A pair that passes only by rounding may be
    missed: bounds should carry a small margin.

    Parameters
    ----------
    points_m : array_like, shape (N, 3)
        Point positions, ECEF, m.
    point_radii_m : array_like, shape (N,)
        Their reach, m (≥ 0).
    query_positions_m : array_like, shape (M, 3)
        Query positions, ECEF, m.
    query_radii_m : array_like, shape (M,)
        Their reach, m (≥ 0).

    Returns
    -------
    ndarray of int, shape (K, 2)
        ``(point, query)`` index pairs, sorted by point then query. A point or query with a
        non-finite position or radius is in reach of nothing.

    Raises
    ------
    ValueError
        If the shapes do not match.

    Examples
    --------
    >>> points = [[0.0, 0.0, 0.0], [1000.0, 0.0, 0.0], [5000.0, 0.0, 0.0]]
    >>> queries = [[1150.0, 0.0, 0.0], [4000.0, 0.0, 0.0]]
    >>> spatial_neighbour_pairs(points, [100.0, 100.0, 100.0], queries, [60.0, 950.0]).tolist()
    [[1, 0], [2, 1]]
    """
    x = np.asarray(points_m, dtype=float).reshape(-1, 3)
    r = np.asarray(point_radii_m, dtype=float).reshape(-1)
    z = np.asarray(query_positions_m, dtype=float).reshape(-1, 3)
    s = np.asarray(query_radii_m, dtype=float).reshape(-1)
    if r.shape[0] != x.shape[0] or s.shape[0] != z.shape[0]:
        raise ValueError(
            "positions (N, 3) and radii (N,) must have the same length "
            f"(points {x.shape[0]} vs {r.shape[0]}, queries {z.shape[0]} vs {s.shape[0]})"
        )
    point_ok = np.flatnonzero(_finite_rows(x) & np.isfinite(r))
    query_ok = np.flatnonzero(_finite_rows(z) & np.isfinite(s))
    if point_ok.size == 0 or query_ok.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    found_points: list[IntArray] = []
    found_queries: list[IntArray] = []

    def keep(point: IntArray, query: IntArray) -> None:
        inside = _distance(x[point], z[query]) <= r[point] + s[query]
        found_points.append(point[inside])
        found_queries.append(query[inside])

    radius = r[point_ok]
    swept = _sweep(x[point_ok], z[query_ok], s[query_ok] + float(radius.max()))
    if swept is not None:
        keep(point_ok[swept[0]], query_ok[swept[1]])
    else:
        # Too dense for a sweep, or a few points of a much larger reach widen every slab:
        # one k-d tree over the points whose radius is at most twice the median (rebuilt at
        # every call, so sliding-midpoint splits and no node compaction, which build it
        # about twice as fast), and the others look up a tree of the queries.
        typical = radius <= 2.0 * max(float(np.median(radius)), 0.0)
        inner = point_ok[typical]
        tree = cKDTree(x[inner], balanced_tree=False, compact_nodes=False)
        reach = float(radius[typical].max())
        counts, local = _flatten(
            tree.query_ball_point(z[query_ok], s[query_ok] + reach, return_sorted=False)
        )
        keep(inner[local], np.repeat(query_ok, counts))
        outer = point_ok[~typical]
        if outer.size:
            queries = cKDTree(z[query_ok], balanced_tree=False, compact_nodes=False)
            counts, local = _flatten(
                queries.query_ball_point(
                    x[outer], r[outer] + float(s[query_ok].max()), return_sorted=False
                )
            )
            keep(np.repeat(outer, counts), query_ok[local])
    point = np.concatenate(found_points)
    query = np.concatenate(found_queries)
    order = np.lexsort((query, point))
    return np.stack([point[order], query[order]], axis=1).astype(np.int64)


def _sweep(
    points: FloatArray, queries: FloatArray, reach: FloatArray
) -> tuple[IntArray, IntArray] | None:
    """Every (point, query) pair whose coordinates along one axis differ by at most ``reach``.

    A sort and sweep along the axis of the points' widest extent: the points of a pair within
    ``reach`` of each other in space are within it along any axis, so the pairs hold every
    pair in reach. Cheaper than building a k-d tree over the points when the slabs are thin;
    None when they would hold more than :data:`_SWEEP_CANDIDATES` pairs per point or query.
    """
    axis = int(np.argmax([np.ptp(points[:, k]) for k in range(points.shape[1])]))
    order = np.argsort(points[:, axis])
    key = points[order, axis]
    low = np.searchsorted(key, queries[:, axis] - reach, side="left")
    counts = np.searchsorted(key, queries[:, axis] + reach, side="right") - low
    total = int(counts.sum())
    if total > _SWEEP_CANDIDATES * (points.shape[0] + queries.shape[0]):
        return None
    query = np.repeat(np.arange(queries.shape[0], dtype=np.int64), counts)
    rank = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return order[np.repeat(low, counts) + rank], query


def _distance(a: FloatArray, b: FloatArray) -> FloatArray:
    """``‖a − b‖`` row by row of ``(K, 3)`` arrays, as ``np.linalg.norm(a − b, axis=1)``."""
    d = a - b
    return np.asarray(np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]))


def _finite_rows(x: FloatArray) -> BoolArray:
    """Whether every entry of each row of an ``(N, 3)`` array is finite.

    Column by column: NumPy reduces along an axis of length 3 about ten times slower.
    """
    return np.asarray(np.isfinite(x[:, 0]) & np.isfinite(x[:, 1]) & np.isfinite(x[:, 2]))


def _flatten(neighbours: npt.NDArray[np.object_]) -> tuple[IntArray, IntArray]:
    """The length of each list of a k-d tree's ``query_ball_point``, and their concatenation."""
    counts = np.fromiter(map(len, neighbours), dtype=np.int64, count=len(neighbours))
    flat = np.fromiter(
        itertools.chain.from_iterable(neighbours), dtype=np.int64, count=int(counts.sum())
    )
    return counts, flat


def _radius_classes(radius: FloatArray) -> list[IntArray]:
    """Group radii by their power of two, so a group's largest is < 2× its smallest."""
    if radius.size == 0:
        return []
    exponent = np.floor(np.log2(np.maximum(radius, np.finfo(float).tiny)))
    exponent = np.maximum(exponent, exponent.max() - (_MAX_RADIUS_CLASSES - 1))
    return [np.flatnonzero(exponent == value) for value in np.unique(exponent)]
