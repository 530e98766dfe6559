"""GOSPA and OSPA distances between the true and the tracked positions, per assessment time.

GOSPA (α = 2) with cut-off ``c`` and order ``p`` between the true positions ``X`` and the
track positions ``Y`` is

    d = ( min over assignments γ of  Σ_{(i,j)∈γ} ‖xᵢ − yⱼ‖ᵖ  +  cᵖ/2 · (|X| + |Y| − 2|γ|) )^(1/p)

where γ pairs truths with tracks one to one and only pairs closer than ``c`` may be assigned
[1]_ (Proposition 1). It splits into a *localisation* part (the first sum), a *missed* part
(``cᵖ/2`` per unassigned truth) and a *false* part (``cᵖ/2`` per unassigned track); the three
parts are in m^p and add up to ``dᵖ``. OSPA [2]_ normalises by the larger cardinality and
charges ``cᵖ`` per cardinality error instead. Definitions and defaults: ``docs/metrics.md``.

References
----------
.. [1] A. S. Rahmathullah, Á. F. García-Fernández, L. Svensson, "Generalized optimal
   sub-pattern assignment metric", Proc. 20th Int. Conf. on Information Fusion, 2017,
   arXiv:1601.05585 (Definition 1; Proposition 1 for α = 2). Restated in Á. F.
   García-Fernández, A. S. Rahmathullah, L. Svensson, "A metric on the space of finite sets
   of trajectories for evaluation of multi-target tracking algorithms", IEEE Trans. Signal
   Process. 68, 2020.
.. [2] D. Schuhmacher, B.-T. Vo, B.-N. Vo, "A consistent metric for performance evaluation
   of multi-object filters", IEEE Trans. Signal Process. 56(8), 2008 (Sec. III, the OSPA
   distance of order p with cut-off c).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.optimize import linear_sum_assignment

from iamd.core import ConfigurationError
from iamd.core.typing import FloatArray, IntArray
from iamd.metrics.picture import AlignedPicture, TimeAlignment, align_picture, step_bounds

DEFAULT_CUTOFF_M = 5000.0
"""Default GOSPA/OSPA cut-off ``c``, m: an error beyond it is as bad as a missed target."""
DEFAULT_ORDER = 1.0
"""Default order ``p``: with p = 1 the decomposition is in metres and simply adds up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GospaDecomposition:
    """GOSPA at one time and its decomposition (α = 2).

    ``distance_m ** order == localisation + missed + false``.
    """

    distance_m: float
    """The GOSPA distance, m."""
    localisation: float
    """Σ ‖xᵢ − yⱼ‖ᵖ over the assigned pairs, m^p."""
    missed: float
    """cᵖ/2 × number of missed truths, m^p."""
    false: float
    """cᵖ/2 × number of false tracks, m^p."""
    assigned: int
    """Truth–track pairs assigned (closer than ``c``)."""
    missed_targets: int
    """Truths left unassigned."""
    false_tracks: int
    """Tracks left unassigned."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True, kw_only=True)
class GospaSeries:
    """GOSPA and its decomposition at every assessment time (arrays of shape (K,))."""

    times_s: FloatArray
    """Assessment times, s."""
    distance_m: FloatArray
    """GOSPA distance at each time, m."""
    localisation: FloatArray
    """Localisation part, m^p."""
    missed: FloatArray
    """Missed-target part, m^p."""
    false: FloatArray
    """False-track part, m^p."""
    assigned: IntArray
    """Truth–track pairs assigned at each time."""
    missed_targets: IntArray
    """Truths left unassigned at each time."""
    false_tracks: IntArray
    """Tracks left unassigned at each time."""
    cutoff_m: float
    """Cut-off ``c``, m."""
    order: float
    """Order ``p``."""

    @property
    def mean_distance_m(self) -> float:
        """Mean GOSPA over the assessment times, m (NaN when there are none)."""
        return float(np.mean(self.distance_m)) if self.distance_m.size else math.nan

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (arrays as lists)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        out["mean_distance_m"] = self.mean_distance_m
        return out


def _check(cutoff_m: float, order: float) -> None:
    if not (math.isfinite(cutoff_m) and cutoff_m > 0.0):
        raise ConfigurationError(f"GOSPA/OSPA: cutoff_m must be finite and > 0 (got {cutoff_m})")
    if not (math.isfinite(order) and order >= 1.0):
        raise ConfigurationError(f"GOSPA/OSPA: order must be finite and >= 1 (got {order})")


def _positions(points: FloatArray) -> FloatArray:
    return np.asarray(points, np.float64).reshape(-1, 3)


def _distances(truth: FloatArray, tracks: FloatArray) -> FloatArray:
    difference = truth[:, None, :] - tracks[None, :, :]
    return np.asarray(np.sqrt(np.einsum("ijk,ijk->ij", difference, difference)))


def _assign(truth: FloatArray, tracks: FloatArray, cutoff_m: float, order: float) -> FloatArray:
    """``‖x − y‖ᵖ`` of the optimally assigned pairs closer than the cut-off (cost min(d, c)ᵖ)."""
    distance = _distances(truth, tracks)
    cost = np.minimum(distance, cutoff_m) ** order
    if min(cost.shape) == 1:
        flat = int(np.argmin(cost))
        rows, cols = np.unravel_index(flat, cost.shape)
        chosen = distance[rows, cols].reshape(1)
    else:
        rows, cols = linear_sum_assignment(cost)
        chosen = distance[rows, cols]
    return np.asarray(chosen[chosen < cutoff_m] ** order)


def gospa(
    truth_positions: FloatArray,
    track_positions: FloatArray,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
) -> GospaDecomposition:
    """GOSPA distance (α = 2) between true and tracked positions at one time.

    Parameters
    ----------
    truth_positions : ndarray, shape (n, 3)
        True positions, ECEF, m.
    track_positions : ndarray, shape (m, 3)
        Track positions at the same time, ECEF, m.
    cutoff_m : float
        Cut-off ``c`` > 0, m: a pair at least this far apart is a missed target plus a false
        track (``cᵖ/2`` each).
    order : float
        Order ``p`` ≥ 1.

    Returns
    -------
    GospaDecomposition
        The distance (m) and its localisation, missed and false parts (m^p) and counts.

    Raises
    ------
    iamd.core.ConfigurationError
        ``cutoff_m`` ≤ 0 or ``order`` < 1.

    Notes
    -----
    The optimal assignment minimises Σ min(d, c)ᵖ over matchings of size min(n, m)
    (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``); matched pairs at the
    cut-off count as unassigned, which gives the same minimum as the assignment-set form of
    [1]_, Proposition 1.

    References
    ----------
    .. [1] A. S. Rahmathullah, Á. F. García-Fernández, L. Svensson, "Generalized optimal
       sub-pattern assignment metric", FUSION 2017, arXiv:1601.05585, Definition 1 and
       Proposition 1 (α = 2).

    Examples
    --------
    One truth tracked 30 m off, one truth missed, no false track; c = 100 m, p = 1:
    30 + 100/2 = 80 m.

    >>> result = gospa(np.array([[0.0, 0, 0], [1e4, 0, 0]]), np.array([[30.0, 0, 0]]),
    ...                cutoff_m=100.0, order=1.0)
    >>> result.distance_m, result.localisation, result.missed, result.false
    (80.0, 30.0, 50.0, 0.0)
    """
    _check(cutoff_m, order)
    truth = _positions(truth_positions)
    tracks = _positions(track_positions)
    assigned = (
        _assign(truth, tracks, cutoff_m, order) if truth.size and tracks.size else np.empty(0)
    )
    half = cutoff_m**order / 2.0
    missed_targets = truth.shape[0] - assigned.size
    false_tracks = tracks.shape[0] - assigned.size
    localisation = float(assigned.sum())
    missed = half * missed_targets
    false = half * false_tracks
    return GospaDecomposition(
        distance_m=(localisation + missed + false) ** (1.0 / order),
        localisation=localisation,
        missed=missed,
        false=false,
        assigned=int(assigned.size),
        missed_targets=int(missed_targets),
        false_tracks=int(false_tracks),
    )


def gospa_steps(
    times_s: FloatArray,
    truth_step: IntArray,
    truth_positions: FloatArray,
    track_step: IntArray,
    track_positions: FloatArray,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
) -> GospaSeries:
    """GOSPA (α = 2) at every assessment time, from true and tracked positions in long form.

    Parameters
    ----------
    times_s : ndarray, shape (K,)
        Assessment times, s.
    truth_step : ndarray of int, shape (R,)
        Step (index into ``times_s``) of each truth row, non-decreasing.
    truth_positions : ndarray, shape (R, 3)
        True positions, ECEF, m.
    track_step : ndarray of int, shape (Q,)
        Step of each track row, non-decreasing.
    track_positions : ndarray, shape (Q, 3)
        Track positions at their step's time, ECEF, m.
    cutoff_m, order : float
        Cut-off ``c`` (m) and order ``p``, as in :func:`gospa`.

    Returns
    -------
    GospaSeries
        Per-step distance and decomposition, as :func:`gospa` gives for each step.

    Notes
    -----
    Steps where one side is empty (the usual case before detection and after impact) are
    computed for all steps at once; an assignment problem is solved only at the others.

    Examples
    --------
    >>> series = gospa_steps(
    ...     np.array([0.0, 1.0]), np.array([0, 1]), np.zeros((2, 3)),
    ...     np.array([1]), np.array([[3.0, 4.0, 0.0]]), cutoff_m=10.0, order=2.0)
    >>> series.distance_m.tolist(), series.missed.tolist()
    ([7.0710678118654755, 5.0], [50.0, 0.0])
    """
    _check(cutoff_m, order)
    times = np.asarray(times_s, np.float64).reshape(-1)
    t_step = np.asarray(truth_step, np.int64).reshape(-1)
    y_step = np.asarray(track_step, np.int64).reshape(-1)
    truth = _positions(truth_positions)
    tracks = _positions(track_positions)
    if np.any(np.diff(t_step) < 0) or np.any(np.diff(y_step) < 0):
        raise ValueError("gospa_steps: truth_step and track_step must be non-decreasing")
    count = times.size
    truths = np.bincount(t_step, minlength=count)[:count]
    held = np.bincount(y_step, minlength=count)[:count]
    assigned = np.zeros(count, np.int64)
    localisation = np.zeros(count)
    truth_begin, truth_end = step_bounds(t_step, count)
    track_begin, track_end = step_bounds(y_step, count)
    for step in np.flatnonzero((truths > 0) & (held > 0)):
        pairs = _assign(
            truth[truth_begin[step] : truth_end[step]],
            tracks[track_begin[step] : track_end[step]],
            cutoff_m,
            order,
        )
        assigned[step] = pairs.size
        localisation[step] = pairs.sum()
    half = cutoff_m**order / 2.0
    missed_targets = truths - assigned
    false_tracks = held - assigned
    missed = half * missed_targets
    false = half * false_tracks
    return GospaSeries(
        times_s=times,
        distance_m=(localisation + missed + false) ** (1.0 / order),
        localisation=localisation,
        missed=missed.astype(np.float64),
        false=false.astype(np.float64),
        assigned=assigned,
        missed_targets=missed_targets.astype(np.int64),
        false_tracks=false_tracks.astype(np.int64),
        cutoff_m=cutoff_m,
        order=order,
    )


def ospa(
    truth_positions: FloatArray,
    track_positions: FloatArray,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
) -> float:
    """OSPA distance between true and tracked positions at one time, m.

    ``d = ( (min_π Σᵢ min(‖xᵢ − y_π(i)‖, c)ᵖ + cᵖ·(n − m)) / n )^(1/p)`` with
    ``m ≤ n`` the two cardinalities; 0 when both sets are empty, ``c`` when one is.

    Parameters
    ----------
    truth_positions : ndarray, shape (n, 3)
        True positions, ECEF, m.
    track_positions : ndarray, shape (m, 3)
        Track positions at the same time, ECEF, m.
    cutoff_m, order : float
        Cut-off ``c`` > 0 (m) and order ``p`` ≥ 1.

    Returns
    -------
    float
        The OSPA distance, m, in [0, c].

    References
    ----------
    .. [1] D. Schuhmacher, B.-T. Vo, B.-N. Vo, "A consistent metric for performance
       evaluation of multi-object filters", IEEE Trans. Signal Process. 56(8), 2008, Sec. III.

    Examples
    --------
    >>> ospa(np.zeros((1, 3)), np.array([[30.0, 0, 0], [500, 0, 0]]), cutoff_m=100.0)
    65.0
    """
    _check(cutoff_m, order)
    truth = _positions(truth_positions)
    tracks = _positions(track_positions)
    larger = max(truth.shape[0], tracks.shape[0])
    if larger == 0:
        return 0.0
    if truth.size == 0 or tracks.size == 0:
        return cutoff_m
    distance = np.minimum(_distances(truth, tracks), cutoff_m) ** order
    rows, cols = linear_sum_assignment(distance)
    unmatched = larger - rows.size
    total = float(distance[rows, cols].sum()) + cutoff_m**order * unmatched
    return float((total / larger) ** (1.0 / order))


def ospa_steps(
    times_s: FloatArray,
    truth_step: IntArray,
    truth_positions: FloatArray,
    track_step: IntArray,
    track_positions: FloatArray,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
) -> FloatArray:
    """OSPA at every assessment time, from true and tracked positions in long form.

    Parameters
    ----------
    times_s : ndarray, shape (K,)
        Assessment times, s.
    truth_step : ndarray of int, shape (R,)
        Step (index into ``times_s``) of each truth row, non-decreasing.
    truth_positions : ndarray, shape (R, 3)
        True positions, ECEF, m.
    track_step : ndarray of int, shape (Q,)
        Step of each track row, non-decreasing.
    track_positions : ndarray, shape (Q, 3)
        Track positions at their step's time, ECEF, m.
    cutoff_m, order : float
        Cut-off ``c`` (m) and order ``p``, as in :func:`ospa`.

    Returns
    -------
    ndarray, shape (K,)
        OSPA distance at each step, m (0 at steps where both sets are empty).
    """
    _check(cutoff_m, order)
    count = np.asarray(times_s).size
    t_step = np.asarray(truth_step, np.int64).reshape(-1)
    y_step = np.asarray(track_step, np.int64).reshape(-1)
    truth = _positions(truth_positions)
    tracks = _positions(track_positions)
    truth_begin, truth_end = step_bounds(t_step, count)
    track_begin, track_end = step_bounds(y_step, count)
    return np.array(
        [
            ospa(
                truth[truth_begin[step] : truth_end[step]],
                tracks[track_begin[step] : track_end[step]],
                cutoff_m=cutoff_m,
                order=order,
            )
            for step in range(count)
        ]
    )


def picture_gospa(
    picture: AlignedPicture,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
) -> GospaSeries:
    """GOSPA (α = 2) of an aligned picture at each of its assessment times.

    Parameters
    ----------
    picture : AlignedPicture
        Truth and one node's tracks at common assessment times (positions ECEF, m).
    cutoff_m, order : float
        Cut-off ``c`` (m) and order ``p``, as in :func:`gospa`.

    Returns
    -------
    GospaSeries
        Per-time GOSPA and its decomposition.
    """
    return gospa_steps(
        picture.times_s,
        picture.truth_step,
        picture.truth_states[:, :3],
        picture.track_step,
        picture.track_states[:, :3],
        cutoff_m=cutoff_m,
        order=order,
    )


def gospa_series(
    truth: pa.Table,
    tracks: pa.Table,
    node: str,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
    alignment: TimeAlignment | None = None,
) -> GospaSeries:
    """GOSPA of one node's picture at every assessment time, from the recording tables.

    Parameters
    ----------
    truth : pyarrow.Table
        The ``truth`` table.
    tracks : pyarrow.Table
        The ``local_tracks`` table.
    node : str
        The node whose picture is assessed.
    cutoff_m, order : float
        Cut-off ``c`` (m) and order ``p``, as in :func:`gospa`.
    alignment : TimeAlignment, optional
        How tracks are brought to the assessment times (see :func:`align_picture`).

    Returns
    -------
    GospaSeries
        Per-time GOSPA and its decomposition; ``mean_distance_m`` is the mean GOSPA.
    """
    picture = align_picture(truth, tracks, node, alignment=alignment)
    return picture_gospa(picture, cutoff_m=cutoff_m, order=order)
