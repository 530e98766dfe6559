r"""Track-to-track correlation: which incoming track of another source is which system track.

A system track ``i`` and an incoming track ``j`` (another node's local track, or one of its
own sensors' tracks) are compared through the difference of their states in the chosen
components (position, or position and velocity):

.. math::

    Δ_{ij} = x_i − x_j, \qquad S_{ij} = P_i + P_j + B_{ij}, \qquad
    B_{ij} = (σ_i^2 + σ_j^2)\,I_3 \text{ on the position block},

where ``σ`` is each track's *sensor-bias allowance*: the standard deviation, in metres per
axis, of the uncorrected position bias of the source that produced it (radar alignment,
navigation error of a ship, survey error of a site). The two biases are independent, so their
variances add. A constant position offset carries no velocity error, so ``B`` has no
velocity block.

* **Gate.** ``d² = Δᵀ S⁻¹ Δ ≤ γ`` with ``P(χ²(m) ≤ γ) = gate_probability``, ``m`` = 3 or 6.
  The errors of two tracks of one object are correlated (they share its process noise), so
  the exact difference covariance is ``P_i + P_j − P_ij − P_ji`` ([1]_). The cross term is
  unknown across nodes; leaving it out makes ``S`` larger and the gate wider, i.e. it errs
  on the side of keeping the right pair.
* **Cost.** The generalised distance ``d² + ln |S|`` ([2]_): the negative log-likelihood of
  the pair up to a constant, ``−2 ln N(Δ; 0, S) − m ln 2π``. The ``ln |S|`` term is there
  because a pair of vague tracks at a small ``d²`` is weaker evidence than a pair of sharp
  tracks at the same ``d²``. Set ``log_det_cost=False`` for the plain ``d²``.
* **Assignment.** A 2-D assignment (global nearest neighbour) with
  :func:`iamd.core.assignment.assign_sparse`. Leaving a system track free costs one more
  than the costliest gated pair can, and leaving an incoming track free costs nothing. So
  the gate alone decides *whether* a pair may be assigned, and the cost only decides
  *between* competing gated pairs.
* **Spatial pre-gate.** :func:`iamd.core.gating.spatial_candidate_pairs` (k-d trees) finds
  the candidates, with the bias allowance added to each side's position covariance and
  ``gate_sigma = sqrt(γ)``. It never drops a pair the exact gate passes: a 3-D position
  marginal of ``d²`` is at most ``d²``, and the eigenvalue bound in the
  :mod:`~iamd.core.gating` notes covers the sum. ``pregate=False`` compares every pair
  instead (for tests and tiny pictures).
* **Several sources** (:func:`correlate_sources`). Each source's tracks are assigned to the
  system tracks in turn, one 2-D problem per source ([3]_ §8.4, sequential). An incoming
  track that stays free starts a *provisional* system track, which later sources may pair
  with. Two sources that both see a new object therefore agree on one new track instead of
  starting two. The states of system tracks are not fused between sources: the caller fuses
  afterwards.

**Time alignment is the caller's job**: every state passed in must be valid at the same time
(predict each track to a common time first). A difference of states valid at different
times is not a zero-mean Gaussian, and the gate would reject true pairs of fast movers.

All states are ECEF (m, m/s); extra components beyond the sixth (e.g. an inverse ballistic
coefficient) are ignored.

References
----------
.. [1] Y. Bar-Shalom, "On the track-to-track correlation problem", *IEEE Trans. Automatic
   Control* 26(2), 1981, pp. 571–572.
.. [2] S. S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
   Artech House, 1999 (generalised distance ``d² + ln |S|``, global nearest neighbour).
.. [3] Y. Bar-Shalom, P. K. Willett and X. Tian, *Tracking and Data Fusion: A Handbook of
   Algorithms*, YBS Publishing, 2011 (track-to-track association).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from iamd.core.assignment import UNASSIGNED, assign_sparse
from iamd.core.errors import ConfigurationError
from iamd.core.gating import chi2_gate_threshold, innovation_statistics, spatial_candidate_pairs
from iamd.core.typing import FloatArray, IntArray


class CorrelationSpace(enum.StrEnum):
    """Which state components two tracks are compared on."""

    POSITION = "position"
    """ECEF position (3-D): robust to the velocity lag of a manoeuvring target."""
    POSITION_VELOCITY = "position-velocity"
    """ECEF position and velocity (6-D): separates crossing or close formations."""

    @property
    def dim(self) -> int:
        """Number of compared components: 3 or 6."""
        return 3 if self is CorrelationSpace.POSITION else 6


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationConfig:
    """How tracks of different sources are correlated.

    Parameters
    ----------
    space : CorrelationSpace
        Compared components: ``POSITION`` (default) or ``POSITION_VELOCITY``.
    gate_probability : float
        Probability that the difference of two tracks of one object passes the chi-square
        gate, in (0, 1); 0.999 by default.
    log_det_cost : bool
        Cost ``d² + ln |S|`` (default) or ``d²`` alone (module notes).
    pregate : bool
        Find candidate pairs with the k-d-tree pre-gate (default) or compare every pair.

    Raises
    ------
    ConfigurationError
        If ``gate_probability`` is not in (0, 1).
    """

    space: CorrelationSpace = CorrelationSpace.POSITION
    gate_probability: float = 0.999
    log_det_cost: bool = True
    pregate: bool = True

    def __post_init__(self) -> None:
        p = self.gate_probability
        if not (math.isfinite(p) and 0.0 < p < 1.0):
            raise ConfigurationError(
                f"CorrelationConfig: gate_probability must be in (0, 1) (got {p!r})"
            )

    @property
    def gate_threshold(self) -> float:
        """The chi-square gate ``γ`` on ``d²`` (dimensionless)."""
        return chi2_gate_threshold(self.gate_probability, self.space.dim)


class TrackSet(NamedTuple):
    """The tracks of one side of a correlation, all valid at one time.

    Attributes
    ----------
    states : ndarray, shape (M, n)
        ECEF states (m, m/s), ``n`` ≥ 3 (≥ 6 to compare velocities).
    covariances : ndarray, shape (M, n, n)
        Their covariances, symmetric positive definite.
    position_bias_sigma_m : float or ndarray, shape (M,)
        Sensor-bias allowance of each track's source: standard deviation of its uncorrected
        position bias per axis, m (≥ 0). Usually one value per source.
    """

    states: FloatArray
    covariances: FloatArray
    position_bias_sigma_m: FloatArray | float = 0.0

    @property
    def size(self) -> int:
        """Number of tracks ``M``."""
        return int(np.shape(self.states)[0])


class PairStatistics(NamedTuple):
    """Statistics of candidate pairs.

    Attributes
    ----------
    d2 : ndarray, shape (K,)
        Squared Mahalanobis distances ``Δᵀ S⁻¹ Δ`` (dimensionless).
    log_det : ndarray, shape (K,)
        ``ln |S|`` (log of m², or of m² and (m/s)², to the power of the dimension).
    cost : ndarray, shape (K,)
        Assignment costs: ``d² + ln |S|`` or ``d²``.
    """

    d2: FloatArray
    log_det: FloatArray
    cost: FloatArray


class Correlation(NamedTuple):
    """The result of correlating one set of incoming tracks with the system tracks.

    Attributes
    ----------
    pairs : ndarray of int, shape (P, 2)
        ``(system track, incoming track)`` index pairs, sorted by system track.
    unassigned_system : ndarray of int
        System tracks with no incoming partner.
    unassigned_incoming : ndarray of int
        Incoming tracks with no system partner (candidates for new system tracks).
    """

    pairs: IntArray
    unassigned_system: IntArray
    unassigned_incoming: IntArray


class MultiSourceCorrelation(NamedTuple):
    """The result of correlating several sources with the system tracks in turn.

    With ``N`` existing system tracks, the ``r``-th new (provisional) system track, started
    by ``new_tracks[r]``, has the system index ``N + r``.

    Attributes
    ----------
    pairs : tuple of ndarray of int, each shape (P_s, 2)
        Per source, ``(system track, source track)`` pairs. The system index may refer to a
        provisional track that an earlier source started (``≥ N``).
    unassigned : tuple of ndarray of int
        Per source, its tracks that paired with nothing and started a provisional system
        track each.
    new_tracks : ndarray of int, shape (R, 2)
        ``(source, source track)`` that started each provisional system track, in order.
    unassigned_system : ndarray of int
        Existing system tracks (``< N``) that no source paired with.
    """

    pairs: tuple[IntArray, ...]
    unassigned: tuple[IntArray, ...]
    new_tracks: IntArray
    unassigned_system: IntArray


def _bias_variance(tracks: TrackSet) -> FloatArray:
    sigma = np.broadcast_to(np.asarray(tracks.position_bias_sigma_m, dtype=float), (tracks.size,))
    if not (np.isfinite(sigma) & (sigma >= 0.0)).all():
        raise ValueError("position_bias_sigma_m must be finite and >= 0")
    return np.asarray(sigma**2)


def _check(tracks: TrackSet, dim: int, role: str) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(tracks.states, dtype=float)
    p = np.asarray(tracks.covariances, dtype=float)
    if x.ndim != 2 or p.shape != (*x.shape, x.shape[-1]) or x.shape[-1] < dim:
        raise ValueError(
            f"{role} tracks need states (M, n ≥ {dim}) and covariances (M, n, n) "
            f"(got {x.shape}, {p.shape})"
        )
    return x, p


def correlation_statistics(
    system: TrackSet,
    incoming: TrackSet,
    pairs: npt.ArrayLike,
    *,
    space: CorrelationSpace = CorrelationSpace.POSITION,
    log_det_cost: bool = True,
) -> PairStatistics:
    r"""Distance, log-determinant and cost of given ``(system, incoming)`` pairs.

    ``Δ = x_i − x_j`` and ``S = P_i + P_j + (σ_i² + σ_j²) I₃`` on the position block, in
    the components of ``space`` (module notes).

    Parameters
    ----------
    system, incoming : TrackSet
        The two sets of tracks, ECEF, valid at the same time.
    pairs : array_like of int, shape (K, 2)
        ``(system track, incoming track)`` index pairs.
    space : CorrelationSpace, optional
        Compared components (position by default).
    log_det_cost : bool, optional
        Whether the cost includes ``ln |S|`` (default) or is ``d²`` alone.

    Returns
    -------
    PairStatistics
        ``d2``, ``log_det`` and ``cost``, each ``(K,)``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a difference covariance is not positive definite.

    Examples
    --------
    Two tracks 300 m apart along x, 100 m σ each, 200 m bias allowance on one source:

    >>> a = TrackSet(np.array([[6378137.0, 0.0, 0.0]]), np.eye(3)[None] * 100.0**2)
    >>> b = TrackSet(np.array([[6378437.0, 0.0, 0.0]]), np.eye(3)[None] * 100.0**2, 200.0)
    >>> stats = correlation_statistics(a, b, [[0, 0]])
    >>> round(float(stats.d2[0]), 12)
    1.5
    """
    dim = CorrelationSpace(space).dim
    xs, ps = _check(system, dim, "system")
    xi, pi = _check(incoming, dim, "incoming")
    index = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    i, j = index[:, 0], index[:, 1]
    difference = xs[i, :dim] - xi[j, :dim]
    covariance = ps[i, :dim, :dim] + pi[j, :dim, :dim]
    bias = _bias_variance(system)[i] + _bias_variance(incoming)[j]
    covariance[:, [0, 1, 2], [0, 1, 2]] += bias[:, None]
    d2, log_det = innovation_statistics(difference, covariance)
    cost = d2 + log_det if log_det_cost else d2
    return PairStatistics(d2, log_det, np.asarray(cost))


def _candidates(system: TrackSet, incoming: TrackSet, config: CorrelationConfig) -> IntArray:
    """Pairs worth the exact gate: the k-d-tree pre-gate, or every finite pair."""
    dim = config.space.dim
    xs, ps = _check(system, dim, "system")
    xi, pi = _check(incoming, dim, "incoming")
    if config.pregate:
        eye = np.eye(3)
        return spatial_candidate_pairs(
            xs[:, :3],
            ps[:, :3, :3] + _bias_variance(system)[:, None, None] * eye,
            xi[:, :3],
            pi[:, :3, :3] + _bias_variance(incoming)[:, None, None] * eye,
            gate_sigma=math.sqrt(config.gate_threshold),
        )

    def usable(x: FloatArray, p: FloatArray) -> IntArray:
        finite = np.isfinite(x[:, :dim]).all(axis=1) & np.isfinite(p[:, :dim, :dim]).all(
            axis=(1, 2)
        )
        return np.flatnonzero(finite)

    rows, cols = np.meshgrid(usable(xs, ps), usable(xi, pi), indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.int64)


def gated_pairs(
    system: TrackSet, incoming: TrackSet, *, config: CorrelationConfig
) -> tuple[IntArray, PairStatistics]:
    """The ``(system, incoming)`` pairs that pass the chi-square gate, and their statistics.

    Parameters
    ----------
    system, incoming : TrackSet
        The two sets of tracks, ECEF, valid at the same time.
    config : CorrelationConfig
        Space, gate, cost and pre-gating.

    Returns
    -------
    pairs : ndarray of int, shape (K, 2)
        Gated pairs, sorted by system track then incoming track.
    statistics : PairStatistics
        Their ``d2``, ``log_det`` and ``cost``.
    """
    candidates = _candidates(system, incoming, config)
    statistics = correlation_statistics(
        system, incoming, candidates, space=config.space, log_det_cost=config.log_det_cost
    )
    inside = statistics.d2 <= config.gate_threshold
    order = np.lexsort((candidates[inside, 1], candidates[inside, 0]))
    kept = np.flatnonzero(inside)[order]
    return candidates[kept], PairStatistics(*(np.asarray(a[kept]) for a in statistics))


def correlate(system: TrackSet, incoming: TrackSet, *, config: CorrelationConfig) -> Correlation:
    """Assign incoming tracks to system tracks, at most one each (2-D assignment).

    Parameters
    ----------
    system : TrackSet
        The system tracks (``N``), ECEF, predicted to the incoming tracks' time.
    incoming : TrackSet
        One source's tracks (``M``), ECEF, at the same time.
    config : CorrelationConfig
        Space, gate, cost and pre-gating.

    Returns
    -------
    Correlation
        Assigned pairs and the unassigned tracks of each side.

    Examples
    --------
    >>> P = np.tile(np.eye(3) * 50.0**2, (2, 1, 1))
    >>> system = TrackSet(np.array([[6378137.0, 0, 0], [6378137.0, 5000, 0]]), P)
    >>> incoming = TrackSet(np.array([[6378137.0, 5040, 0], [6378137.0, 90000, 0]]), P)
    >>> result = correlate(system, incoming, config=CorrelationConfig())
    >>> result.pairs.tolist(), result.unassigned_system.tolist(), result.unassigned_incoming
    ([[1, 0]], [0], array([1]))
    """
    n_system, n_incoming = system.size, incoming.size
    pairs, statistics = gated_pairs(system, incoming, config=config)
    if pairs.shape[0] == 0:
        return Correlation(
            pairs, np.arange(n_system, dtype=np.int64), np.arange(n_incoming, dtype=np.int64)
        )
    # One above the costliest gated pair: the gate alone decides whether a pair may be
    # assigned, the cost only which of competing gated pairs.
    free_cost = config.gate_threshold + float((statistics.cost - statistics.d2).max()) + 1.0
    result = assign_sparse(
        pairs,
        statistics.cost,
        (n_system, n_incoming),
        unassigned_row_cost=free_cost,
    )
    rows = np.flatnonzero(result.row_to_col != UNASSIGNED)
    assigned = np.stack([rows, result.row_to_col[rows]], axis=1).astype(np.int64)
    return Correlation(
        assigned,
        np.flatnonzero(result.row_to_col == UNASSIGNED).astype(np.int64),
        np.flatnonzero(result.col_to_row == UNASSIGNED).astype(np.int64),
    )


def correlate_sources(
    system: TrackSet, sources: Sequence[TrackSet], *, config: CorrelationConfig
) -> MultiSourceCorrelation:
    """Correlate several sources with the system tracks, one 2-D assignment per source.

    Sources are taken in the order given. A source track that pairs with nothing starts a
    provisional system track (index ``N``, ``N + 1``, …) with that track's state,
    covariance and bias allowance, which later sources may pair with (module notes).

    Parameters
    ----------
    system : TrackSet
        The existing system tracks (``N``), ECEF, at the sources' time.
    sources : sequence of TrackSet
        Each source's tracks, ECEF, at the same time.
    config : CorrelationConfig
        Space, gate, cost and pre-gating.

    Returns
    -------
    MultiSourceCorrelation
        Per source, its pairs and its tracks that started new system tracks; the origin of
        every new system track; the existing system tracks no source updated.
    """
    dim = config.space.dim
    xs, ps = _check(system, dim, "system")
    n_existing = xs.shape[0]
    states, covariances = [xs], [ps]
    bias = [np.sqrt(_bias_variance(system))]
    updated = np.zeros(n_existing, dtype=bool)
    all_pairs: list[IntArray] = []
    all_unassigned: list[IntArray] = []
    origins: list[IntArray] = []
    # A loop over sources (a handful per node), each one vectorised over its tracks.
    for index, source in enumerate(sources):
        xi, pi = _check(source, dim, f"source {index}")
        if xi.shape[1] != xs.shape[1]:
            raise ValueError(
                f"source {index} has {xi.shape[1]} state components, the system {xs.shape[1]}"
            )
        current = TrackSet(
            np.concatenate(states), np.concatenate(covariances), np.concatenate(bias)
        )
        result = correlate(current, source, config=config)
        all_pairs.append(result.pairs)
        updated[result.pairs[result.pairs[:, 0] < n_existing, 0]] = True
        new = result.unassigned_incoming
        all_unassigned.append(new)
        origins.append(np.stack([np.full(new.size, index, dtype=np.int64), new], axis=1))
        states.append(xi[new])
        covariances.append(pi[new])
        bias.append(np.sqrt(_bias_variance(source))[new])
    new_tracks = np.concatenate(origins) if origins else np.zeros((0, 2), dtype=np.int64)
    return MultiSourceCorrelation(
        tuple(all_pairs),
        tuple(all_unassigned),
        new_tracks.astype(np.int64),
        np.flatnonzero(~updated).astype(np.int64),
    )
