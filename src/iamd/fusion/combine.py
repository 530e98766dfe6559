r"""Track-to-track fusion rules over batches of track pairs and groups.

Every rule fuses ``K`` independent problems at once. A *pair* is two estimates of one object
(states ``(K, n)``, covariances ``(K, n, n)``); a *group* is up to ``N`` estimates of one
object from ``N`` sources (states ``(K, N, n)``, covariances ``(K, N, n, n)``), with an
optional ``present`` mask ``(K, N)`` for groups that have fewer than ``N`` members. States are
ECEF (m, m/s[, …]), all valid at the same time: aligning them in time is the caller's job.

All the rules except Bar-Shalom–Campo are information-weighted averages

.. math::

    P^{-1} = \sum_i ω_i P_i^{-1}, \qquad P^{-1} x = \sum_i ω_i P_i^{-1} x_i,

and differ in the weights ``ω`` and in what they assume about the correlation of the errors:

==============================  ===========================================================
rule (registry kind)            weights, assumption
==============================  ===========================================================
covariance intersection         ``ω`` on the simplex minimising ``tr P`` (or ``log det P``);
(``covariance-intersection``)   consistent for *any* unknown cross-covariance ([1]_)
fast CI (``fast-ci``)           closed-form simplex weights, no optimisation ([3]_, [4]_)
independent (``independent``)   ``ω_i = 1``: optimal if the errors are independent,
                                overconfident when they are not (common process noise,
                                shared measurements, earlier fusion)
information-decorrelated        ``ω_i = 1`` after subtracting the information the receiver
(``information-decorrelated``)  already holds from each source ([6]_, [7]_); equals
                                central fusion when tracks are exchanged at every scan
Bar-Shalom–Campo                optimal for two estimates with a *known* cross-covariance
                                ([5]_); the reference the others are measured against
==============================  ===========================================================

**Covariance intersection** is consistent for any weights on the simplex: a bad weight only
loosens the bound and never makes the estimate overconfident. So whenever an optimisation
stops early, the result is still safe. For two estimates the optimal ``ω`` is found exactly
for all pairs at once. One Cholesky factor ``P_b = L Lᵀ`` and one symmetric eigen-decomposition
``L⁻¹ P_a L⁻ᵀ = U diag(s) Uᵀ`` diagonalise both covariances together ([8]_ §8.7). With
``G = L U``, ``D_k = ω + (1 − ω) s_k`` and ``c_k = ‖G[:, k]‖²``::

    P(ω) = G diag(s / D) Gᵀ,   tr P(ω) = Σ_k c_k s_k / D_k,   log det P(ω) = c₀ − Σ_k log D_k,

and the state is ``x_b + G diag(ω / D) G⁻¹ (x_a − x_b)``. Both criteria are convex in ``ω``
and have closed-form first and second derivatives, so a Newton iteration safeguarded by
bisection finds the minimum of every pair in a few vectorised steps. For more than two
estimates the weights are found by a batched active-set Newton method on the simplex
(Bertsekas's ε-active set, [9]_). This is the true ``N``-ary optimum, which differs from
fusing the estimates one pair at a time. Sequential pairwise fusion is also a point on the
simplex (its information matrix is ``α(ω P₁⁻¹ + (1−ω) P₂⁻¹) + (1−α) P₃⁻¹``), so it is never
better than the optimum and usually worse.

**Compiled kernels.** A fusing node solves a few hundred small groups per batch, where each
batched NumPy step is dozens of calls on stacks of 6 × 6 matrices and costs more in calls than
in arithmetic. So the same two solvers also run one group at a time in numba kernels
(``compiled=True``, the default: four to five times faster on the air picture's batches);
the NumPy functions are the reference (``compiled=False``). The two reach the same optimum:
the criterion agrees to rounding, and so do the weights where the minimum is sharp, as the
trace's is; ``log det P`` is often flat along the simplex, and there the weights agree to the
solver's tolerance (``tests/fusion/test_combine_compiled.py``, which also checks both against
brute-force searches).

**Scale.** The trace mixes m² and (m/s)²: on a 6-D ECEF state it is dominated by the
position variances, which is usually what a fused air picture wants. The determinant does
not depend on units.

**Precision.** ECEF positions are ~6.4·10⁶ m. Every rule fuses differences from a reference
state and adds the reference back at the end, so the fused position keeps the resolution of
its inputs.

References
----------
.. [1] S. J. Julier and J. K. Uhlmann, "A non-divergent estimation algorithm in the presence
   of unknown correlations", *Proc. American Control Conference*, 1997, pp. 2369–2373.
.. [2] S. J. Julier and J. K. Uhlmann, "General decentralized data fusion with covariance
   intersection", in *Handbook of Multisensor Data Fusion*, 2nd ed., CRC Press, 2009, ch. 14.
.. [3] W. Niehsen, "Information fusion based on fast covariance intersection filtering",
   *Proc. 5th Int. Conf. on Information Fusion (FUSION 2002)*, pp. 901–904.
.. [4] D. Fränken and A. Hüpper, "Improved fast covariance intersection for distributed data
   fusion", *Proc. 8th Int. Conf. on Information Fusion (FUSION 2005)*.
.. [5] Y. Bar-Shalom and L. Campo, "The effect of the common process noise on the two-sensor
   fused-track covariance", *IEEE Trans. Aerosp. Electron. Syst.* 22(6), 1986, pp. 803–805.
.. [6] C.-Y. Chong, S. Mori, W. H. Barker and K.-C. Chang, "Architectures and algorithms for
   track association and fusion", *IEEE Aerosp. Electron. Syst. Mag.* 15(1), 2000, pp. 5–13.
.. [7] X. Tian and Y. Bar-Shalom, "Exact algorithms for four track-to-track fusion
   configurations: all you wanted to know but were afraid to ask", *Proc. 12th Int. Conf. on
   Information Fusion (FUSION 2009)*, pp. 537–544.
.. [8] G. H. Golub and C. F. Van Loan, *Matrix Computations*, 4th ed., Johns Hopkins, 2013.
.. [9] D. P. Bertsekas, "Projected Newton methods for optimization problems with simple
   constraints", *SIAM J. Control Optim.* 20(2), 1982, pp. 221–246.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

from iamd.core.gaussian import is_positive_definite, symmetrize
from iamd.core.registry import Registry
from iamd.core.typing import BoolArray, FloatArray

_FLAT_TOLERANCE = 1e-12
"""Two covariances whose whitened eigenvalues all lie within this of 1 are equal: any ``ω``
gives the same result, and ``ω = ½`` is returned."""

_ZERO_WEIGHT = 1e-12
"""Simplex weights at or below this count as zero when the active set is chosen."""

_ARMIJO = 1e-4
"""Sufficient-decrease fraction of the Newton line search on the simplex."""

_MAX_HALVINGS = 40
"""Step halvings before a group's line search gives up (its weights are still consistent)."""

_DECORRELATED_TOLERANCE = 1e-12
"""Relative smallest eigenvalue below which decorrelated information is not positive definite."""


class CiCriterion(enum.StrEnum):
    """What covariance intersection minimises over its weights."""

    TRACE = "trace"
    """``tr P``: the mean squared error bound, in the units of the state squared."""
    DETERMINANT = "determinant"
    """``log det P``: the volume of the uncertainty ellipsoid, independent of units."""


class FastCiMethod(enum.StrEnum):
    """Closed-form weights of fast covariance intersection."""

    IMPROVED = "improved"
    """Fränken and Hüpper's determinant-based weights ([4]_): invariant to a change of units."""
    TRACE = "trace"
    """Niehsen's weights ``ω_i ∝ 1 / tr P_i`` ([3]_): cheapest, but depends on units."""


class FusedEstimate(NamedTuple):
    """A batch of fused estimates.

    Attributes
    ----------
    state : ndarray, shape (K, n)
        Fused states, in the frame and units of the inputs (ECEF m, m/s).
    covariance : ndarray, shape (K, n, n)
        Fused covariances, symmetric positive definite.
    weights : ndarray, shape (K, N)
        Weight of each source's information matrix in the fused information matrix: on the
        simplex for covariance intersection, 1 for independent and decorrelated fusion, 0 for
        an absent source. Bar-Shalom–Campo has no such weights and reports NaN.
    """

    state: FloatArray
    covariance: FloatArray
    weights: FloatArray


class CommonPrior(NamedTuple):
    """What the receiver already knows, for :func:`information_decorrelated_fusion`.

    All arrays are valid at the time of the new source estimates (predicted there by the
    caller with the same motion model the sources use).

    Attributes
    ----------
    source_states : ndarray, shape (K, N, n)
        For each source, the estimate of it that the receiver already holds. This is the
        source's previous track report predicted to now, i.e. the source's own prior, when
        tracks are exchanged at every scan. ECEF.
    source_covariances : ndarray, shape (K, N, n, n)
        Their covariances.
    fused_state : ndarray, shape (K, n)
        The receiver's previous fused estimate predicted to now. ECEF.
    fused_covariance : ndarray, shape (K, n, n)
        Its covariance.
    source_known : ndarray of bool, shape (K, N), optional
        False where the receiver has nothing yet from that source (its first report for this
        object): nothing is subtracted for it. All True by default.
    """

    source_states: FloatArray
    source_covariances: FloatArray
    fused_state: FloatArray
    fused_covariance: FloatArray
    source_known: BoolArray | None = None


class FusionRule(Protocol):
    """A fusion rule: ``N`` estimates of each of ``K`` objects in, one per object out.

    Parameters
    ----------
    states : ndarray, shape (K, N, n)
        Source estimates, ECEF, valid at the same time.
    covariances : ndarray, shape (K, N, n, n)
        Their covariances, symmetric positive definite where present.
    present : ndarray of bool, shape (K, N), optional
        Which sources each group has (at least one per group); absent entries are ignored
        and may hold anything, NaN included. All present by default.
    prior : CommonPrior, optional
        The information the receiver already holds. Only the rules that need it read it.

    Returns
    -------
    FusedEstimate
    """

    def __call__(
        self,
        states: FloatArray,
        covariances: FloatArray,
        *,
        present: BoolArray | None = None,
        prior: CommonPrior | None = None,
    ) -> FusedEstimate:
        """Fuse each group of source estimates into one estimate."""
        ...


# --- shared helpers ---------------------------------------------------------------------------


def _transpose(a: FloatArray) -> FloatArray:
    return np.swapaxes(a, -1, -2)


def _information(covariance: FloatArray) -> FloatArray:
    """Symmetric inverses of SPD matrices through their Cholesky factors, ``(..., n, n)``."""
    inverse_factor = np.linalg.inv(np.linalg.cholesky(covariance))
    return symmetrize(_transpose(inverse_factor) @ inverse_factor)


def _prepare_groups(
    states: npt.ArrayLike, covariances: npt.ArrayLike, present: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray]:
    """Validate a group batch; absent entries become harmless (reference state, identity).

    Returns the states as differences from a reference state, the covariances, the mask, and
    the reference (the first present state of each group), so that large ECEF coordinates
    never enter a product with an information matrix.
    """
    x = np.asarray(states, dtype=float)
    p = np.asarray(covariances, dtype=float)
    if x.ndim != 3 or p.shape != (*x.shape, x.shape[-1]):
        raise ValueError(
            f"states (K, N, n) and covariances (K, N, n, n) do not match ({x.shape}, {p.shape})"
        )
    mask = (
        np.ones(x.shape[:2], dtype=bool)
        if present is None
        else np.asarray(present, dtype=bool).copy()
    )
    if mask.shape != x.shape[:2]:
        raise ValueError(f"present must have shape {x.shape[:2]} (got {mask.shape})")
    if not mask.any(axis=1).all():
        raise ValueError("every group needs at least one present source")
    rows = np.arange(x.shape[0])
    reference = x[rows, np.argmax(mask, axis=1)]
    difference = np.where(mask[..., None], x - reference[:, None, :], 0.0)
    safe = np.where(mask[..., None, None], p, np.eye(x.shape[-1]))
    return difference, safe, mask, reference


def _combine(
    difference: FloatArray, information: FloatArray, weights: FloatArray, reference: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``P = (Σ ω_i I_i)⁻¹`` and ``x = x_ref + P Σ ω_i I_i (x_i − x_ref)``."""
    fused_information = symmetrize(np.einsum("kn,knij->kij", weights, information))
    covariance = _information(fused_information)
    weighted = np.einsum("kn,knij,knj->ki", weights, information, difference)
    state = reference + np.einsum("kij,kj->ki", covariance, weighted)
    return np.asarray(state), covariance


def weighted_fusion(
    states: npt.ArrayLike,
    covariances: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    present: npt.ArrayLike | None = None,
) -> FusedEstimate:
    r"""Information-weighted average of each group with given weights.

    ``P⁻¹ = Σ ω_i P_i⁻¹`` and ``P⁻¹ x = Σ ω_i P_i⁻¹ x_i``. This is covariance intersection
    when the weights lie on the simplex ([1]_ eq. 6) and independent fusion when they are
    all 1.

    Parameters
    ----------
    states : array_like, shape (K, N, n)
        Source states, ECEF (m, m/s), valid at one time.
    covariances : array_like, shape (K, N, n, n)
        Their covariances, symmetric positive definite where present.
    weights : array_like, shape (K, N)
        Non-negative weights; each group needs a positive weight on a present source.
    present : array_like of bool, shape (K, N), optional
        Which sources each group has; absent entries get weight 0 whatever ``weights`` says.

    Returns
    -------
    FusedEstimate
        Fused states ``(K, n)``, covariances ``(K, n, n)`` and the weights used.

    Raises
    ------
    ValueError
        If the shapes do not match or a group has no present source.
    numpy.linalg.LinAlgError
        If a present covariance, or a fused information matrix, is not positive definite.

    Examples
    --------
    Equal weights on two unit-variance estimates of a scalar:

    >>> fused = weighted_fusion([[[0.0], [2.0]]], [[[[1.0]], [[1.0]]]], [[0.5, 0.5]])
    >>> fused.state[0], fused.covariance[0]
    (array([1.]), array([[1.]]))
    """
    difference, safe, mask, reference = _prepare_groups(states, covariances, present)
    w = np.where(mask, np.broadcast_to(np.asarray(weights, dtype=float), mask.shape), 0.0)
    state, covariance = _combine(difference, _information(safe), w, reference)
    return FusedEstimate(state, covariance, w)


# --- covariance intersection of pairs -------------------------------------------------------


class _Whitened(NamedTuple):
    """Both covariances of each pair diagonalised at once: ``P_b = G Gᵀ``, ``P_a = G S Gᵀ``."""

    factor: FloatArray  # L, Cholesky factor of P_b, (K, n, n)
    rotation: FloatArray  # U, (K, n, n)
    s: FloatArray  # eigenvalues of L⁻¹ P_a L⁻ᵀ, (K, n)

    @property
    def basis(self) -> FloatArray:
        """``G = L U``."""
        return np.asarray(self.factor @ self.rotation)


def _whiten(P_a: FloatArray, P_b: FloatArray) -> _Whitened:
    factor = np.asarray(np.linalg.cholesky(P_b), dtype=np.float64)
    left = np.asarray(np.linalg.solve(factor, P_a), dtype=float)
    whitened = np.asarray(np.linalg.solve(factor, _transpose(left)), dtype=float)
    s, rotation = np.linalg.eigh(symmetrize(whitened))
    # Rounding can leave a tiny non-positive eigenvalue for a nearly singular P_a; the
    # fused covariance must stay definite, so floor it at the resolution of the largest.
    floor = np.finfo(float).eps * s[:, -1:]
    return _Whitened(factor, rotation, np.asarray(np.maximum(s, floor), dtype=np.float64))


def _pair_derivatives(
    w: FloatArray, c: FloatArray, s: FloatArray, criterion: CiCriterion
) -> tuple[FloatArray, FloatArray]:
    """First and second derivatives of the criterion in ``ω`` (module notes), ``(K,)`` each."""
    mu = 1.0 - s
    # ω + (1 − ω)s adds two non-negative terms; s + ω(1 − s) cancels to 0 for huge s at ω = 1.
    d = w[:, None] + (1.0 - w[:, None]) * s
    if criterion is CiCriterion.TRACE:
        first = -(c * s * mu / d**2).sum(axis=1)
        second = 2.0 * (c * s * mu**2 / d**3).sum(axis=1)
    else:
        first = -(mu / d).sum(axis=1)
        second = (mu**2 / d**2).sum(axis=1)
    return np.asarray(first), np.asarray(second)


def _optimal_pair_weight(
    c: FloatArray, s: FloatArray, criterion: CiCriterion, max_iterations: int = 100
) -> FloatArray:
    """Minimiser in [0, 1] of a convex criterion, by Newton's method safeguarded by bisection."""
    count = s.shape[0]
    zeros, ones = np.zeros(count), np.ones(count)
    slope_at_0, _ = _pair_derivatives(zeros, c, s, criterion)
    slope_at_1, _ = _pair_derivatives(ones, c, s, criterion)
    flat = np.abs(1.0 - s).max(axis=1, initial=0.0) <= _FLAT_TOLERANCE
    # A convex function that rises from ω = 0 is minimal there; one still falling at ω = 1
    # is minimal at 1; otherwise the minimum is the root of the derivative in between.
    w = np.where(slope_at_0 >= 0.0, 0.0, np.where(slope_at_1 <= 0.0, 1.0, 0.5))
    interior = ~flat & (slope_at_0 < 0.0) & (slope_at_1 > 0.0)
    w[flat] = 0.5
    low, high = zeros.copy(), ones.copy()
    rows = np.flatnonzero(interior)
    for _ in range(max_iterations):
        if rows.size == 0:
            break
        current = w[rows]
        first, second = _pair_derivatives(current, c[rows], s[rows], criterion)
        low[rows] = np.where(first < 0.0, current, low[rows])
        high[rows] = np.where(first > 0.0, current, high[rows])
        step = np.divide(first, second, out=np.zeros_like(first), where=second > 0.0)
        newton = current - step
        inside = (second > 0.0) & (newton > low[rows]) & (newton < high[rows])
        candidate = np.where(inside, newton, 0.5 * (low[rows] + high[rows]))
        candidate = np.where(first == 0.0, current, candidate)
        w[rows] = candidate
        done = (np.abs(candidate - current) <= 1e-15) | (high[rows] - low[rows] <= 1e-15)
        rows = rows[~done]
    return np.asarray(w)


def _pair_weights(
    c: FloatArray, s: FloatArray, criterion: CiCriterion, *, compiled: bool
) -> FloatArray:
    """:func:`_optimal_pair_weight`, in the compiled kernel or in NumPy."""
    if compiled:
        return np.asarray(
            _pair_weights_kernel(
                np.ascontiguousarray(c, dtype=np.float64),
                np.ascontiguousarray(s, dtype=np.float64),
                criterion is CiCriterion.TRACE,
                100,
            )
        )
    return _optimal_pair_weight(c, s, criterion)


def _check_pair(P_a: npt.ArrayLike, P_b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    a = np.asarray(P_a, dtype=float)
    b = np.asarray(P_b, dtype=float)
    if a.ndim != 3 or a.shape != b.shape or a.shape[1] != a.shape[2]:
        raise ValueError(f"covariances must both have shape (K, n, n) (got {a.shape}, {b.shape})")
    return a, b


def covariance_intersection_weight(
    P_a: npt.ArrayLike,
    P_b: npt.ArrayLike,
    *,
    criterion: CiCriterion = CiCriterion.TRACE,
    compiled: bool = True,
) -> FloatArray:
    r"""Optimal covariance-intersection weight ``ω`` of each pair ([1]_).

    The ``ω ∈ [0, 1]`` that minimises ``tr P`` (or ``log det P``) of
    ``P⁻¹ = ω P_a⁻¹ + (1 − ω) P_b⁻¹``, found for all pairs at once (module notes).

    Parameters
    ----------
    P_a, P_b : array_like, shape (K, n, n)
        Covariances of the two estimates, symmetric positive definite (ECEF, m², m²/s, m²/s²).
    criterion : CiCriterion, optional
        ``TRACE`` (default) or ``DETERMINANT``.
    compiled : bool, optional
        Run the Newton iteration in the compiled kernel (default) or in the NumPy reference;
        the two agree to rounding.

    Returns
    -------
    ndarray, shape (K,)
        The weight of the *first* estimate, in [0, 1]: ½ when ``P_a = P_b``, otherwise 1
        when ``P_a ⪯ P_b`` and 0 when ``P_b ⪯ P_a``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``P_b`` is not positive definite.

    Examples
    --------
    Each estimate is good along one axis; the trace is smallest with equal weights:

    >>> covariance_intersection_weight([np.diag([1.0, 4.0])], [np.diag([4.0, 1.0])])
    array([0.5])
    """
    a, b = _check_pair(P_a, P_b)
    whitened = _whiten(a, b)
    c = (whitened.basis**2).sum(axis=1)
    return _pair_weights(c, whitened.s, CiCriterion(criterion), compiled=compiled)


def covariance_intersection(
    x_a: npt.ArrayLike,
    P_a: npt.ArrayLike,
    x_b: npt.ArrayLike,
    P_b: npt.ArrayLike,
    *,
    criterion: CiCriterion = CiCriterion.TRACE,
    weight: npt.ArrayLike | None = None,
    compiled: bool = True,
) -> FusedEstimate:
    r"""Covariance intersection of ``K`` pairs of estimates ([1]_).

    ``P⁻¹ = ω P_a⁻¹ + (1 − ω) P_b⁻¹``, ``P⁻¹ x = ω P_a⁻¹ x_a + (1 − ω) P_b⁻¹ x_b``, with ``ω``
    minimising ``tr P`` or ``log det P`` (:func:`covariance_intersection_weight`). The
    result is consistent whatever the correlation of the two errors.

    Parameters
    ----------
    x_a, x_b : array_like, shape (K, n)
        The two estimates, ECEF (m, m/s), valid at the same time.
    P_a, P_b : array_like, shape (K, n, n)
        Their covariances, symmetric positive definite.
    criterion : CiCriterion, optional
        What ``ω`` minimises: ``TRACE`` (default) or ``DETERMINANT``.
    weight : float or array_like, shape (K,), optional
        A given ``ω`` in [0, 1] instead of the optimal one.
    compiled : bool, optional
        Search ``ω`` in the compiled kernel (default) or in the NumPy reference.

    Returns
    -------
    FusedEstimate
        States ``(K, n)``, covariances ``(K, n, n)`` and weights ``(K, 2)`` = ``(ω, 1 − ω)``.

    Raises
    ------
    ValueError
        If the shapes do not match or a given weight is outside [0, 1].
    numpy.linalg.LinAlgError
        If ``P_b`` is not positive definite.

    Examples
    --------
    >>> fused = covariance_intersection(
    ...     [[0.0, 0.0]], [np.diag([1.0, 4.0])], [[2.0, 2.0]], [np.diag([4.0, 1.0])]
    ... )
    >>> fused.state[0], fused.covariance[0].diagonal(), fused.weights[0]
    (array([0.4, 1.6]), array([1.6, 1.6]), array([0.5, 0.5]))
    """
    a, b = _check_pair(P_a, P_b)
    xa = np.asarray(x_a, dtype=float)
    xb = np.asarray(x_b, dtype=float)
    if xa.shape != a.shape[:2] or xb.shape != a.shape[:2]:
        raise ValueError(f"states must have shape {a.shape[:2]} (got {xa.shape}, {xb.shape})")
    whitened = _whiten(a, b)
    basis = whitened.basis
    s = whitened.s
    if weight is None:
        w = _pair_weights((basis**2).sum(axis=1), s, CiCriterion(criterion), compiled=compiled)
    else:
        w = np.broadcast_to(np.asarray(weight, dtype=float), (a.shape[0],)).copy()
        if not ((w >= 0.0) & (w <= 1.0)).all():
            raise ValueError("covariance intersection weights must lie in [0, 1]")
    d = w[:, None] + (1.0 - w[:, None]) * s
    # The difference, not the states, is transformed: ECEF coordinates stay out of products.
    whitened_difference = np.einsum(
        "kji,kj->ki",
        whitened.rotation,
        np.linalg.solve(whitened.factor, (xa - xb)[..., None])[..., 0],
    )
    state = xb + np.einsum("kij,kj->ki", basis, w[:, None] * whitened_difference / d)
    covariance = symmetrize((basis * (s / d)[:, None, :]) @ _transpose(basis))
    return FusedEstimate(np.asarray(state), covariance, np.stack([w, 1.0 - w], axis=1))


# --- covariance intersection of groups ------------------------------------------------------


def _group_objective(
    information: FloatArray, w: FloatArray, criterion: CiCriterion
) -> tuple[FloatArray, FloatArray]:
    """Criterion value and fused covariance ``P = (Σ ω_i I_i)⁻¹`` of each group."""
    factor = np.linalg.cholesky(symmetrize(np.einsum("kn,knij->kij", w, information)))
    inverse_factor = np.linalg.inv(factor)
    covariance = _transpose(inverse_factor) @ inverse_factor
    if criterion is CiCriterion.TRACE:
        value = (inverse_factor**2).sum(axis=(1, 2))
    else:
        value = -2.0 * np.log(np.diagonal(factor, axis1=1, axis2=2)).sum(axis=1)
    return np.asarray(value), np.asarray(covariance)


def _group_derivatives(
    information: FloatArray, covariance: FloatArray, criterion: CiCriterion
) -> tuple[FloatArray, FloatArray]:
    """Gradient ``(K, N)`` and Hessian ``(K, N, N)`` of the criterion in the weights.

    With ``M_i = P I_i``: ``∂ tr P/∂ω_i = −tr(M_i P)``, ``∂² tr P/∂ω_i∂ω_j = 2 tr(M_i M_j P)``;
    ``∂ log det P/∂ω_i = −tr M_i``, ``∂² log det P/∂ω_i∂ω_j = tr(M_i M_j)``.
    """
    m = covariance[:, None] @ information
    if criterion is CiCriterion.TRACE:
        mp = m @ covariance[:, None]
        gradient = -np.einsum("knaa->kn", mp)
        hessian = 2.0 * np.einsum("knab,kmba->knm", m, mp)
    else:
        gradient = -np.einsum("knaa->kn", m)
        hessian = np.einsum("knab,kmba->knm", m, m)
    return np.asarray(gradient), np.asarray(hessian)


def _newton_direction(
    gradient: FloatArray, hessian: FloatArray, weights: FloatArray, free: BoolArray
) -> FloatArray:
    """Newton step within ``Σ ω = 1``: held weights go to zero, free ones follow Newton.

    A held weight ``i`` moves by ``d_i = −ω_i`` (zero at a full step); the free weights
    minimise the quadratic model given that, ``Σ_F d = Σ_held ω``. One KKT system
    ``[[H_FF, 1], [1ᵀ, 0]] [d_F; λ] = [−g_F − H_F,held d_held; Σ_held ω]`` per group, padded
    to a fixed size (a held weight's row reads ``d_i = 0`` there). A small ridge keeps it
    solvable when two sources carry the same information (``H`` singular along their
    difference).
    """
    count, size = gradient.shape
    held_step = np.where(free, 0.0, -weights)
    coupling = np.einsum("kij,kj->ki", hessian, held_step)
    both = free[:, :, None] & free[:, None, :]
    diagonal = np.einsum("knn->kn", hessian)
    ridge = 1e-10 * np.where(free, diagonal, 0.0).max(axis=1) + np.finfo(float).tiny
    system = np.zeros((count, size + 1, size + 1))
    system[:, :size, :size] = np.where(both, hessian, np.eye(size))
    system[:, np.arange(size), np.arange(size)] += np.where(free, ridge[:, None], 0.0)
    system[:, :size, size] = free
    system[:, size, :size] = free
    rhs = np.concatenate(
        [np.where(free, -gradient - coupling, 0.0), -held_step.sum(axis=1, keepdims=True)],
        axis=1,
    )
    solution = np.linalg.solve(system, rhs[..., None])[:, :size, 0]
    return np.asarray(np.where(free, solution, held_step))


def _group_ci_weights(
    information: FloatArray,
    mask: BoolArray,
    criterion: CiCriterion,
    max_iterations: int,
) -> FloatArray:
    """Optimal simplex weights of each group by an active-set Newton method, batched.

    The active set is Bertsekas's ε-active set made scale-free: a weight whose gradient is
    above the multiplier ``ν = Σ ω_i g_i`` (it would gain by shrinking) is *held* when a
    diagonal Newton step would take it to zero or below, ``ω_i ≤ (g_i − ν) / H_ii``, and is
    driven to zero; the others take a Newton step within ``Σ ω = 1``. Holding only the
    weights already at zero lets a vanishing weight jam the iteration in ever shorter steps.
    Steps are cut where the first weight reaches zero (the ratio test of active-set
    methods) and backtracked by Armijo's rule. A group stops when its Newton decrement
    vanishes relative to the criterion or its line search fails; either way its weights
    stay on the simplex.
    """
    present_count = mask.sum(axis=1)
    w = mask / present_count[:, None]
    # Pairs are solved exactly by the caller; singletons need no weights.
    rows = np.flatnonzero(present_count > 2)
    if rows.size == 0:
        return np.asarray(w)
    scale = np.ones(w.shape[0])
    if criterion is CiCriterion.TRACE:
        scale[rows] = _group_objective(information[rows], w[rows], criterion)[0]
    for _ in range(max_iterations):
        if rows.size == 0:
            break
        info, weights, valid = information[rows], w[rows], mask[rows]
        value, covariance = _group_objective(info, weights, criterion)
        gradient, hessian = _group_derivatives(info, covariance, criterion)
        excess = gradient - (weights * gradient).sum(axis=1, keepdims=True)
        diagonal = np.einsum("knn->kn", hessian)
        held = (excess > 0.0) & (weights * diagonal <= excess)
        free = valid & ~held
        direction = _newton_direction(gradient, hessian, weights, free)
        # A weight at zero that the step would push negative cannot move: hold it, re-solve
        # (each pass holds at least one more weight, so this ends).
        for _ in range(weights.shape[1]):
            pushed_out = free & (weights <= _ZERO_WEIGHT) & (direction < 0.0)
            if not pushed_out.any():
                break
            free &= ~pushed_out
            direction = _newton_direction(gradient, hessian, weights, free)
        decrement = -(gradient * direction).sum(axis=1)
        converged = decrement <= 1e-13 * scale[rows]
        # Ratio test: stop where the first shrinking weight reaches zero. The segment stays
        # on the simplex, so a descent direction always admits an Armijo step, where the
        # projected arc of a nearly-zero free weight can bend into an ascent path and jam.
        shrinking = valid & (direction < 0.0)
        ratio = np.where(shrinking, weights / np.where(shrinking, -direction, 1.0), np.inf)
        step = np.minimum(1.0, ratio.min(axis=1))
        pending = np.flatnonzero(~converged & (step > 0.0))
        accepted = np.zeros(rows.size, dtype=bool)
        trial = weights.copy()
        for _ in range(_MAX_HALVINGS):
            if pending.size == 0:
                break
            candidate = np.maximum(weights[pending] + step[pending, None] * direction[pending], 0.0)
            candidate = np.where(candidate <= _ZERO_WEIGHT, 0.0, candidate)
            candidate /= candidate.sum(axis=1, keepdims=True)
            trial_value, _ = _group_objective(info[pending], candidate, criterion)
            predicted = (gradient[pending] * (candidate - weights[pending])).sum(axis=1)
            sufficient = trial_value <= value[pending] + _ARMIJO * predicted
            trial[pending[sufficient]] = candidate[sufficient]
            accepted[pending[sufficient]] = True
            step[pending[~sufficient]] *= 0.5
            pending = pending[~sufficient]
        w[rows] = trial
        rows = rows[accepted & ~converged]
    return np.asarray(w)


def covariance_intersection_group(
    states: npt.ArrayLike,
    covariances: npt.ArrayLike,
    *,
    present: npt.ArrayLike | None = None,
    criterion: CiCriterion = CiCriterion.TRACE,
    max_iterations: int = 50,
    compiled: bool = True,
) -> FusedEstimate:
    r"""``N``-ary covariance intersection of ``K`` groups of estimates ([1]_, [2]_).

    ``P⁻¹ = Σ ω_i P_i⁻¹`` with ``ω`` on the simplex (``ω_i ≥ 0``, ``Σ ω_i = 1``) minimising
    ``tr P`` (or ``log det P``) jointly over all sources of a group. This is not the same as
    fusing the sources one pair at a time, which is one point on the same simplex and so
    never better (module notes). Groups with two sources use the exact pair solver of
    :func:`covariance_intersection_weight`, larger ones a batched active-set Newton method
    (module notes).

    Parameters
    ----------
    states : array_like, shape (K, N, n)
        Source states, ECEF (m, m/s), valid at one time.
    covariances : array_like, shape (K, N, n, n)
        Their covariances, symmetric positive definite where present.
    present : array_like of bool, shape (K, N), optional
        Which sources each group has (at least one); absent entries are ignored.
    criterion : CiCriterion, optional
        ``TRACE`` (default) or ``DETERMINANT``.
    max_iterations : int, optional
        Newton iterations at most (typically 3–8 are used). Weights are on the simplex
        after every iteration, so stopping early never makes the result overconfident.
    compiled : bool, optional
        Solve the groups one at a time in the compiled kernel (default) or all at once in
        NumPy (the reference); both reach the same optimum (module notes).

    Returns
    -------
    FusedEstimate
        States ``(K, n)``, covariances ``(K, n, n)`` and the simplex weights ``(K, N)``.

    Raises
    ------
    ValueError
        If the shapes do not match or a group has no present source.
    numpy.linalg.LinAlgError
        If a present covariance is not positive definite.

    Examples
    --------
    Three scalar estimates, the third much better: it takes all the weight.

    >>> fused = covariance_intersection_group(
    ...     [[[0.0], [1.0], [5.0]]], [[[[4.0]], [[4.0]], [[1.0]]]]
    ... )
    >>> fused.weights.round(12).tolist(), fused.state.tolist()
    ([[0.0, 0.0, 1.0]], [[5.0]])
    """
    difference, safe, mask, reference = _prepare_groups(states, covariances, present)
    chosen = CiCriterion(criterion)
    if compiled:
        count, _, dim = difference.shape
        offset = np.empty((count, dim))
        fused = np.empty((count, dim, dim))
        weights = np.empty(mask.shape)
        failed = _ci_groups_kernel(
            np.ascontiguousarray(difference),
            np.ascontiguousarray(safe),
            np.ascontiguousarray(mask),
            chosen is CiCriterion.TRACE,
            int(max_iterations),
            offset,
            fused,
            weights,
        )
        if failed >= 0:
            raise np.linalg.LinAlgError(
                f"covariance intersection of group {failed}: a covariance, or the fused "
                "information, is not positive definite"
            )
        return FusedEstimate(reference + offset, fused, weights)
    information = np.where(mask[..., None, None], _information(safe), 0.0)
    weights = _group_ci_weights(information, mask, chosen, max_iterations)
    pairs = np.flatnonzero(mask.sum(axis=1) == 2)
    if pairs.size:
        # The pair solver is exact; it replaces the iteration's result for those groups.
        first = np.argmax(mask[pairs], axis=1)
        second = mask.shape[1] - 1 - np.argmax(mask[pairs][:, ::-1], axis=1)
        omega = covariance_intersection_weight(
            safe[pairs, first], safe[pairs, second], criterion=chosen, compiled=False
        )
        weights[pairs] = 0.0
        weights[pairs, first] = omega
        weights[pairs, second] = 1.0 - omega
    state, covariance = _combine(difference, information, weights, reference)
    return FusedEstimate(state, covariance, weights)


# --- compiled kernels of covariance intersection ---------------------------------------------
#
# The NumPy functions above solve every group of a batch at once, but a batch of the air
# picture holds a few hundred groups of 2–5 sources, and each Newton iteration is some forty
# NumPy calls on stacks of 6 × 6 matrices: the calls, not the arithmetic, cost the time. The
# kernels below run the same algorithms one group at a time in compiled loops: the pair
# solver repeats ``_optimal_pair_weight`` step for step, the group solver ``_group_ci_weights``
# (same active set, Newton system, ratio test, Armijo rule and stopping rule), and
# ``_ci_groups_kernel`` adds the information matrices, the whitening of pairs and the final
# combination. Cholesky factors, triangular inverses and the KKT solve (Gaussian elimination
# with partial pivoting, over the present sources only) are written out instead of LAPACK's
# (the pairs' eigen-decomposition is LAPACK's, through numba), the symmetric products are
# formed one triangle at a time, and the line search's accepted point is not evaluated again
# by the next iteration. So the iterates agree with the NumPy reference to rounding, not bit
# for bit, and the optimum they reach is the same (``tests/fusion/test_combine_compiled.py``).
# Compiled on first use (about 10 CPU-s) and cached on disk (``cache=True``), ``fastmath``
# off and NumPy's error model, as in :mod:`iamd.tracking.ballistic_kernel`.

_F = TypeVar("_F", bound=Callable[..., Any])

_TINY = float(np.finfo(float).tiny)
_EPSILON = float(np.finfo(float).eps)


def _compiled(function: _F) -> _F:
    """``numba.njit`` with the project's settings, keeping the Python signature for mypy."""
    return cast(
        _F, numba.njit(cache=True, fastmath=False, nogil=True, error_model="numpy")(function)
    )


@_compiled
def _pair_slopes(w: float, c: Any, s: Any, trace: bool) -> tuple[float, float]:
    """One row of :func:`_pair_derivatives`: first and second derivative at ``ω = w``."""
    first = 0.0
    second = 0.0
    for k in range(s.shape[0]):
        mu = 1.0 - s[k]
        d = w + (1.0 - w) * s[k]
        if trace:
            first += c[k] * s[k] * mu / (d * d)
            second += c[k] * s[k] * (mu * mu) / (d * d * d)
        else:
            first += mu / d
            second += (mu * mu) / (d * d)
    if trace:
        return -first, 2.0 * second
    return -first, second


@_compiled
def _pair_weight_row(c: Any, s: Any, trace: bool, max_iterations: int) -> float:
    """One row of :func:`_optimal_pair_weight`: the same bracketing and Newton steps."""
    slope_at_0 = _pair_slopes(0.0, c, s, trace)[0]
    slope_at_1 = _pair_slopes(1.0, c, s, trace)[0]
    flat = True
    for k in range(s.shape[0]):
        if not abs(1.0 - s[k]) <= _FLAT_TOLERANCE:
            flat = False
    if flat:
        return 0.5
    if slope_at_0 >= 0.0:
        return 0.0
    if slope_at_1 <= 0.0:
        return 1.0
    if not (slope_at_0 < 0.0 and slope_at_1 > 0.0):
        return 0.5  # a non-finite slope: as the NumPy reference, which leaves ½
    w, low, high = 0.5, 0.0, 1.0
    for _ in range(max_iterations):
        current = w
        first, second = _pair_slopes(current, c, s, trace)
        if first < 0.0:
            low = current
        if first > 0.0:
            high = current
        newton = current - (first / second if second > 0.0 else 0.0)
        if first == 0.0:
            candidate = current
        elif second > 0.0 and low < newton < high:
            candidate = newton
        else:
            candidate = 0.5 * (low + high)
        w = candidate
        if abs(candidate - current) <= 1e-15 or high - low <= 1e-15:
            break
    return w


@_compiled
def _pair_weights_kernel(c: Any, s: Any, trace: bool, max_iterations: int) -> Any:
    """:func:`_optimal_pair_weight` of every row, ``(K,)``."""
    out = np.empty(s.shape[0])
    for row in range(s.shape[0]):
        out[row] = _pair_weight_row(c[row], s[row], trace, max_iterations)
    return out


@_compiled
def _cholesky_row(a: Any, factor: Any, n: int) -> bool:
    """Lower Cholesky factor of ``a`` into ``factor``; False if ``a`` is not definite."""
    for j in range(n):
        diagonal = a[j, j]
        for k in range(j):
            diagonal -= factor[j, k] * factor[j, k]
        if not diagonal > 0.0:
            return False
        root = math.sqrt(diagonal)
        factor[j, j] = root
        for i in range(j + 1, n):
            total = a[i, j]
            for k in range(j):
                total -= factor[i, k] * factor[j, k]
            factor[i, j] = total / root
        for i in range(j):
            factor[i, j] = 0.0
    return True


@_compiled
def _lower_inverse_row(factor: Any, inverse: Any, n: int) -> None:
    """Inverse of a lower-triangular matrix, by forward substitution."""
    for j in range(n):
        for i in range(j):
            inverse[i, j] = 0.0
        inverse[j, j] = 1.0 / factor[j, j]
        for i in range(j + 1, n):
            total = 0.0
            for k in range(j, i):
                total -= factor[i, k] * inverse[k, j]
            inverse[i, j] = total / factor[i, i]


@_compiled
def _gram_row(inverse: Any, out: Any, n: int) -> None:
    """``L⁻ᵀ L⁻¹`` of a lower-triangular ``L⁻¹``, exactly symmetric."""
    for a in range(n):
        for b in range(a + 1):
            total = 0.0
            for k in range(a, n):
                total += inverse[k, a] * inverse[k, b]
            out[a, b] = total
            out[b, a] = total


@_compiled
def _group_objective_row(
    information: Any,
    w: Any,
    m: int,
    trace: bool,
    fused: Any,
    factor: Any,
    inverse: Any,
    covariance: Any,
) -> float:
    """One row of :func:`_group_objective` (fills ``covariance``); ``inf`` if not definite."""
    n = fused.shape[0]
    for a in range(n):
        for b in range(a + 1):
            total = 0.0
            for i in range(m):
                total += w[i] * information[i, a, b]
            fused[a, b] = total
            fused[b, a] = total
    if not _cholesky_row(fused, factor, n):
        return math.inf
    _lower_inverse_row(factor, inverse, n)
    _gram_row(inverse, covariance, n)
    value = 0.0
    if trace:
        for a in range(n):
            value += covariance[a, a]
    else:
        for a in range(n):
            value -= 2.0 * math.log(factor[a, a])
    return value


@_compiled
def _group_derivatives_row(
    information: Any,
    covariance: Any,
    m: int,
    trace: bool,
    product: Any,
    sandwich: Any,
    gradient: Any,
    hessian: Any,
) -> None:
    """One row of :func:`_group_derivatives`, from ``M_i = P I_i`` and ``S_i = M_i P``.

    ``S_i`` is symmetric, so one triangle is formed, and so is the Hessian:
    ``tr(M_i M_j P) = Σ_ab (S_i)_ab (M_j)_ab`` for the trace, ``tr(M_i M_j)`` for log det.
    """
    n = covariance.shape[0]
    for i in range(m):
        for a in range(n):
            for b in range(n):
                total = 0.0
                for k in range(n):
                    total += covariance[a, k] * information[i, k, b]
                product[i, a, b] = total
        if trace:
            for a in range(n):
                for b in range(a + 1):
                    total = 0.0
                    for k in range(n):
                        total += product[i, a, k] * covariance[k, b]
                    sandwich[i, a, b] = total
                    sandwich[i, b, a] = total
        total = 0.0
        for a in range(n):
            total += sandwich[i, a, a] if trace else product[i, a, a]
        gradient[i] = -total
    for i in range(m):
        for j in range(i, m):
            total = 0.0
            if trace:
                for a in range(n):
                    for b in range(n):
                        total += sandwich[i, a, b] * product[j, a, b]
                total *= 2.0
            else:
                for a in range(n):
                    for b in range(n):
                        total += product[i, a, b] * product[j, b, a]
            hessian[i, j] = total
            hessian[j, i] = total


@_compiled
def _solve_row(system: Any, rhs: Any, size: int) -> bool:
    """Solve ``system · x = rhs`` in place (Gaussian elimination, partial pivoting)."""
    for column in range(size):
        pivot = column
        largest = abs(system[column, column])
        for row in range(column + 1, size):
            if abs(system[row, column]) > largest:
                largest = abs(system[row, column])
                pivot = row
        if not largest > 0.0:
            return False
        if pivot != column:
            for k in range(size):
                system[column, k], system[pivot, k] = system[pivot, k], system[column, k]
            rhs[column], rhs[pivot] = rhs[pivot], rhs[column]
        for row in range(column + 1, size):
            ratio = system[row, column] / system[column, column]
            for k in range(column, size):
                system[row, k] -= ratio * system[column, k]
            rhs[row] -= ratio * rhs[column]
    for row in range(size - 1, -1, -1):
        total = rhs[row]
        for k in range(row + 1, size):
            total -= system[row, k] * rhs[k]
        rhs[row] = total / system[row, row]
    return True


@_compiled
def _newton_direction_row(
    gradient: Any,
    hessian: Any,
    w: Any,
    free: Any,
    m: int,
    system: Any,
    rhs: Any,
    direction: Any,
) -> bool:
    """One row of :func:`_newton_direction` over the ``m`` present sources; False if singular."""
    held_sum = 0.0
    largest = 0.0
    for i in range(m):
        if free[i]:
            largest = max(largest, hessian[i, i])
        else:
            held_sum += w[i]
    ridge = 1e-10 * largest + _TINY
    for i in range(m):
        coupling = 0.0
        for j in range(m):
            if not free[j]:
                coupling -= hessian[i, j] * w[j]
        for j in range(m):
            if free[i] and free[j]:
                system[i, j] = hessian[i, j]
            else:
                system[i, j] = 1.0 if i == j else 0.0
        if free[i]:
            system[i, i] += ridge
            rhs[i] = -gradient[i] - coupling
        else:
            rhs[i] = 0.0
        system[i, m] = 1.0 if free[i] else 0.0
        system[m, i] = system[i, m]
    system[m, m] = 0.0
    rhs[m] = held_sum
    if not _solve_row(system, rhs, m + 1):
        return False
    for i in range(m):
        direction[i] = rhs[i] if free[i] else -w[i]
    return True


@_compiled
def _group_weights_row(
    information: Any, m: int, trace: bool, max_iterations: int, w: Any, scratch: Any
) -> None:
    """One row of :func:`_group_ci_weights` (``m`` ≥ 3 present sources), into ``w``."""
    fused, factor, inverse, covariance, product, sandwich, hessian, system = scratch[0]
    gradient, rhs, direction, candidate = scratch[1]
    free = scratch[2]
    for i in range(m):
        w[i] = 1.0 / m
    # ``value`` and ``covariance`` always belong to ``w``: the line search's accepted trial
    # is the next iteration's point, so it is not evaluated twice.
    value = _group_objective_row(information, w, m, trace, fused, factor, inverse, covariance)
    scale = value if trace else 1.0
    for _ in range(max_iterations):
        _group_derivatives_row(
            information, covariance, m, trace, product, sandwich, gradient, hessian
        )
        multiplier = 0.0
        for i in range(m):
            multiplier += w[i] * gradient[i]
        for i in range(m):
            excess = gradient[i] - multiplier
            free[i] = not (excess > 0.0 and w[i] * hessian[i, i] <= excess)
        if not _newton_direction_row(gradient, hessian, w, free, m, system, rhs, direction):
            return
        for _ in range(m):
            pushed_out = False
            for i in range(m):
                if free[i] and w[i] <= _ZERO_WEIGHT and direction[i] < 0.0:
                    free[i] = False
                    pushed_out = True
            if not pushed_out:
                break
            if not _newton_direction_row(gradient, hessian, w, free, m, system, rhs, direction):
                return
        decrement = 0.0
        for i in range(m):
            decrement -= gradient[i] * direction[i]
        if decrement <= 1e-13 * scale:
            return
        step = 1.0
        for i in range(m):
            if direction[i] < 0.0:
                step = min(step, w[i] / -direction[i])
        if not step > 0.0:
            return
        accepted = False
        for _ in range(_MAX_HALVINGS):
            total = 0.0
            for i in range(m):
                x = max(w[i] + step * direction[i], 0.0)
                candidate[i] = 0.0 if x <= _ZERO_WEIGHT else x
                total += candidate[i]
            predicted = 0.0
            for i in range(m):
                candidate[i] /= total
                predicted += gradient[i] * (candidate[i] - w[i])
            trial = _group_objective_row(
                information, candidate, m, trace, fused, factor, inverse, covariance
            )
            if trial <= value + _ARMIJO * predicted:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            return
        value = trial
        for i in range(m):
            w[i] = candidate[i]


@_compiled
def _whitened_pair_row(P_a: Any, P_b: Any, factor: Any, inverse: Any, c: Any, s: Any) -> bool:
    """One row of :func:`_whiten`: ``c`` and the floored ``s``; False if ``P_b`` is not definite."""
    n = P_a.shape[0]
    if not _cholesky_row(P_b, factor, n):
        return False
    _lower_inverse_row(factor, inverse, n)
    whitened = np.empty((n, n))
    for a in range(n):
        for b in range(a + 1):
            total = 0.0
            for k in range(a + 1):
                row = 0.0
                for j in range(b + 1):
                    row += P_a[k, j] * inverse[b, j]
                total += inverse[a, k] * row
            whitened[a, b] = total
            whitened[b, a] = total
    eigenvalues, rotation = np.linalg.eigh(whitened)
    floor = _EPSILON * eigenvalues[n - 1]
    for k in range(n):
        s[k] = max(eigenvalues[k], floor)
        total = 0.0
        for a in range(n):
            entry = 0.0
            for j in range(a + 1):
                entry += factor[a, j] * rotation[j, k]
            total += entry * entry
        c[k] = total
    return True


@_compiled
def _ci_groups_kernel(
    difference: Any,
    covariances: Any,
    mask: Any,
    trace: bool,
    max_iterations: int,
    offset: Any,
    fused_covariance: Any,
    weights: Any,
) -> int:
    """:func:`covariance_intersection_group` of every group, after :func:`_prepare_groups`.

    Fills ``offset`` (fused state minus the reference), ``fused_covariance`` and ``weights``.
    Returns -1, or the first group whose present covariance (or fused information) is not
    positive definite.
    """
    count, width, n = difference.shape
    information = np.empty((width, n, n))
    deltas = np.empty((width, n))
    w = np.empty(width)
    where = np.empty(width, dtype=np.int64)
    factor = np.zeros((n, n))
    inverse = np.zeros((n, n))
    fused = np.empty((n, n))
    c = np.empty(n)
    s = np.empty(n)
    scratch = (
        (
            fused,
            factor,
            inverse,
            np.empty((n, n)),
            np.empty((width, n, n)),
            np.empty((width, n, n)),
            np.empty((width, width)),
            np.empty((width + 1, width + 1)),
        ),
        (np.empty(width), np.empty(width + 1), np.empty(width), np.empty(width)),
        np.empty(width, dtype=np.bool_),
    )
    for g in range(count):
        m = 0
        for i in range(width):
            weights[g, i] = 0.0
            if mask[g, i]:
                where[m] = i
                m += 1
        for i in range(m):
            if not _cholesky_row(covariances[g, where[i]], factor, n):
                return g
            _lower_inverse_row(factor, inverse, n)
            _gram_row(inverse, information[i], n)
            deltas[i] = difference[g, where[i]]
        if m == 1:
            w[0] = 1.0
        elif m == 2:
            if not _whitened_pair_row(
                covariances[g, where[0]], covariances[g, where[1]], factor, inverse, c, s
            ):
                return g
            w[0] = _pair_weight_row(c, s, trace, 100)
            w[1] = 1.0 - w[0]
        else:
            _group_weights_row(information, m, trace, max_iterations, w, scratch)
        # P = (Σ ω_i I_i)⁻¹ and x − x_ref = P Σ ω_i I_i (x_i − x_ref), as in _combine.
        for a in range(n):
            for b in range(a + 1):
                total = 0.0
                for i in range(m):
                    total += w[i] * information[i, a, b]
                fused[a, b] = total
                fused[b, a] = total
        if not _cholesky_row(fused, factor, n):
            return g
        _lower_inverse_row(factor, inverse, n)
        _gram_row(inverse, fused_covariance[g], n)
        for a in range(n):
            c[a] = 0.0
            for i in range(m):
                total = 0.0
                for b in range(n):
                    total += information[i, a, b] * deltas[i, b]
                c[a] += w[i] * total
        for a in range(n):
            total = 0.0
            for b in range(n):
                total += fused_covariance[g, a, b] * c[b]
            offset[g, a] = total
        for i in range(m):
            weights[g, where[i]] = w[i]
    return -1


# --- closed-form and reference rules ---------------------------------------------------------


def fast_covariance_intersection_weights(
    covariances: npt.ArrayLike,
    *,
    present: npt.ArrayLike | None = None,
    method: FastCiMethod = FastCiMethod.IMPROVED,
) -> FloatArray:
    r"""Closed-form simplex weights of fast covariance intersection.

    * ``IMPROVED`` (Fränken and Hüpper [4]_, eq. 14): with ``I_i = P_i⁻¹``, ``J = Σ_j I_j``
      and ``m`` sources present,
      ``ω_i = (|J| − |J − I_i| + |I_i|) / (m |J| + Σ_j (|I_j| − |J − I_j|))``. The
      determinants enter only as ratios to ``|J|``, so there is no overflow.
    * ``TRACE`` (Niehsen [3]_): ``ω_i ∝ 1 / tr P_i``.

    Parameters
    ----------
    covariances : array_like, shape (K, N, n, n)
        Source covariances, symmetric positive definite where present.
    present : array_like of bool, shape (K, N), optional
        Which sources each group has; absent ones get weight 0.
    method : FastCiMethod, optional
        ``IMPROVED`` (default) or ``TRACE``.

    Returns
    -------
    ndarray, shape (K, N)
        Weights on the simplex of the present sources.

    Examples
    --------
    >>> fast_covariance_intersection_weights([[np.eye(2), 4.0 * np.eye(2)]]).round(4)
    array([[0.8, 0.2]])
    """
    p = np.asarray(covariances, dtype=float)
    if p.ndim != 4 or p.shape[-1] != p.shape[-2]:
        raise ValueError(f"covariances must have shape (K, N, n, n) (got {p.shape})")
    mask = np.ones(p.shape[:2], dtype=bool) if present is None else np.asarray(present, dtype=bool)
    if mask.shape != p.shape[:2] or not mask.any(axis=1).all():
        raise ValueError("present must be (K, N) with at least one source per group")
    safe = np.where(mask[..., None, None], p, np.eye(p.shape[-1]))
    if FastCiMethod(method) is FastCiMethod.TRACE:
        inverse_trace = np.where(mask, 1.0 / np.einsum("knii->kn", safe), 0.0)
        return np.asarray(inverse_trace / inverse_trace.sum(axis=1, keepdims=True))
    information = np.where(mask[..., None, None], _information(safe), 0.0)
    total = information.sum(axis=1)
    others = mask[:, None, :] & ~np.eye(mask.shape[1], dtype=bool)
    # Σ_{j≠i} I_j summed directly, not J − I_i, so that a lone source gives an exact zero.
    rest = np.einsum("kij,kjab->kiab", others.astype(float), information)
    _, log_total = np.linalg.slogdet(total)
    sign_own, log_own = np.linalg.slogdet(information)
    sign_rest, log_rest = np.linalg.slogdet(rest)
    own = np.where(mask, sign_own * np.exp(log_own - log_total[:, None]), 0.0)
    remainder = np.where(mask, sign_rest * np.exp(log_rest - log_total[:, None]), 0.0)
    numerator = np.where(mask, 1.0 - remainder + own, 0.0)
    return np.asarray(numerator / numerator.sum(axis=1, keepdims=True))


def fast_covariance_intersection(
    states: npt.ArrayLike,
    covariances: npt.ArrayLike,
    *,
    present: npt.ArrayLike | None = None,
    method: FastCiMethod = FastCiMethod.IMPROVED,
) -> FusedEstimate:
    """Covariance intersection with closed-form weights ([3]_, [4]_), no optimisation.

    Consistent like any covariance intersection; its covariance is at least as large as
    that of :func:`covariance_intersection_group` under the trace or determinant.

    Parameters
    ----------
    states : array_like, shape (K, N, n)
        Source states, ECEF (m, m/s), valid at one time.
    covariances : array_like, shape (K, N, n, n)
        Their covariances, symmetric positive definite where present.
    present : array_like of bool, shape (K, N), optional
        Which sources each group has (at least one).
    method : FastCiMethod, optional
        ``IMPROVED`` (Fränken–Hüpper, default) or ``TRACE`` (Niehsen).

    Returns
    -------
    FusedEstimate
    """
    weights = fast_covariance_intersection_weights(covariances, present=present, method=method)
    return weighted_fusion(states, covariances, weights, present=present)


def independent_fusion(
    states: npt.ArrayLike, covariances: npt.ArrayLike, *, present: npt.ArrayLike | None = None
) -> FusedEstimate:
    r"""Naive fusion: the information matrices add, ``P⁻¹ = Σ P_i⁻¹``.

    Optimal when the source errors are independent. Tracks of one object are not: they
    share the object's process noise and often earlier fused data. The result is then
    *overconfident* (its NEES exceeds the state dimension), which is why it is not the
    default rule.

    Parameters
    ----------
    states : array_like, shape (K, N, n)
        Source states, ECEF (m, m/s), valid at one time.
    covariances : array_like, shape (K, N, n, n)
        Their covariances, symmetric positive definite where present.
    present : array_like of bool, shape (K, N), optional
        Which sources each group has (at least one).

    Returns
    -------
    FusedEstimate
        With weights 1 (present) and 0 (absent).
    """
    difference, safe, mask, reference = _prepare_groups(states, covariances, present)
    weights = mask.astype(float)
    state, covariance = _combine(difference, _information(safe), weights, reference)
    return FusedEstimate(state, covariance, weights)


def bar_shalom_campo(
    x_a: npt.ArrayLike,
    P_a: npt.ArrayLike,
    x_b: npt.ArrayLike,
    P_b: npt.ArrayLike,
    P_ab: npt.ArrayLike,
) -> FusedEstimate:
    r"""Optimal fusion of two estimates whose error cross-covariance is known ([5]_).

    With ``U = P_a + P_b − P_ab − P_abᵀ``:
    ``x = x_a + (P_a − P_ab) U⁻¹ (x_b − x_a)`` and
    ``P = P_a − (P_a − P_ab) U⁻¹ (P_a − P_abᵀ)``. This is the minimum-variance linear
    combination, so every consistent rule's covariance is at least this one. Trackers do not
    know ``P_ab`` in practice. Here it is the reference of the tests.

    Parameters
    ----------
    x_a, x_b : array_like, shape (K, n)
        The two estimates, ECEF, valid at one time.
    P_a, P_b : array_like, shape (K, n, n)
        Their covariances.
    P_ab : array_like, shape (K, n, n)
        Cross-covariance ``E[(x_a − x)(x_b − x)ᵀ]`` of their errors.

    Returns
    -------
    FusedEstimate
        With NaN weights (the rule has no information weights).

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``U`` is singular (the two estimates have identical errors).
    """
    a, b = _check_pair(P_a, P_b)
    cross = np.asarray(P_ab, dtype=float)
    xa = np.asarray(x_a, dtype=float)
    xb = np.asarray(x_b, dtype=float)
    u = symmetrize(a + b - cross - _transpose(cross))
    left = a - cross
    gain = _transpose(np.asarray(np.linalg.solve(u, _transpose(left))))
    state = xa + np.einsum("kij,kj->ki", gain, xb - xa)
    covariance = symmetrize(a - gain @ _transpose(left))
    return FusedEstimate(np.asarray(state), covariance, np.full((a.shape[0], 2), np.nan))


def information_decorrelated_fusion(
    states: npt.ArrayLike,
    covariances: npt.ArrayLike,
    *,
    prior: CommonPrior,
    present: npt.ArrayLike | None = None,
) -> FusedEstimate:
    r"""Information-matrix fusion: add only the information that is new since the last report.

    ``P⁻¹ = P̄_f⁻¹ + Σ_i (P_i⁻¹ − P̄_i⁻¹)`` and
    ``P⁻¹ x = P̄_f⁻¹ x̄_f + Σ_i (P_i⁻¹ x_i − P̄_i⁻¹ x̄_i)`` ([6]_, [7]_ §3). ``(x̄_f, P̄_f)`` is
    the receiver's previous fused estimate and ``(x̄_i, P̄_i)`` the estimate of source ``i``
    it already holds, both predicted to now. Each difference ``P_i⁻¹ x_i − P̄_i⁻¹ x̄_i`` is
    the information of the measurements source ``i`` used since its previous report (its
    "tracklet"), so nothing is counted twice.

    **What the caller must supply** (:class:`CommonPrior`): per group, the previous fused
    estimate and, per source, its previous report, all predicted to the current time with
    the motion model the sources use. When a source's report is its own prior updated with
    new measurements (no feedback of the fused track to the source) and reports arrive at
    every scan, this equals central measurement fusion exactly for linear Gaussian models,
    process noise included ([7]_). At a lower exchange rate the local priors have seen
    process noise the fused prior has not, and it is an approximation. A source without a
    previous report (``source_known`` False) adds its whole information.

    **Safeguard.** If a group's decorrelated information is not positive definite (a source
    restarted its track, or the priors do not belong to these reports), that group falls
    back to :func:`covariance_intersection_group` of its sources, which needs no prior. Its
    weights then lie on the simplex instead of being all 1, which tells the caller.

    Parameters
    ----------
    states : array_like, shape (K, N, n)
        New source states, ECEF (m, m/s), valid at one time.
    covariances : array_like, shape (K, N, n, n)
        Their covariances, symmetric positive definite where present.
    prior : CommonPrior
        The receiver's prior knowledge, at the same time.
    present : array_like of bool, shape (K, N), optional
        Which sources reported (at least one per group); absent ones add and subtract
        nothing.

    Returns
    -------
    FusedEstimate
        Weights 1 (present) and 0 (absent), or CI weights where the safeguard acted.

    Raises
    ------
    ValueError
        If the shapes do not match.
    """
    difference, safe, mask, reference = _prepare_groups(states, covariances, present)
    count, size, dim = difference.shape
    fused_state = np.asarray(prior.fused_state, dtype=float)
    fused_covariance = np.asarray(prior.fused_covariance, dtype=float)
    prior_states = np.asarray(prior.source_states, dtype=float)
    prior_covariances = np.asarray(prior.source_covariances, dtype=float)
    if (
        fused_state.shape != (count, dim)
        or fused_covariance.shape != (count, dim, dim)
        or prior_states.shape != (count, size, dim)
        or prior_covariances.shape != (count, size, dim, dim)
    ):
        raise ValueError("the common prior's shapes do not match the source estimates")
    known = (
        np.ones((count, size), dtype=bool)
        if prior.source_known is None
        else np.asarray(prior.source_known, dtype=bool)
    )
    subtract = mask & known
    information = np.where(mask[..., None, None], _information(safe), 0.0)
    prior_information = np.where(
        subtract[..., None, None],
        _information(np.where(subtract[..., None, None], prior_covariances, np.eye(dim))),
        0.0,
    )
    fused_information = _information(fused_covariance)
    total = symmetrize(fused_information + information.sum(axis=1) - prior_information.sum(axis=1))
    prior_difference = np.where(subtract[..., None], prior_states - reference[:, None, :], 0.0)
    vector = (
        np.einsum("kij,kj->ki", fused_information, fused_state - reference)
        + np.einsum("knij,knj->ki", information, difference)
        - np.einsum("knij,knj->ki", prior_information, prior_difference)
    )
    good = is_positive_definite(total, tolerance=_DECORRELATED_TOLERANCE)
    state = np.empty((count, dim))
    covariance = np.empty((count, dim, dim))
    weights = mask.astype(float)
    if good.any():
        covariance[good] = _information(total[good])
        state[good] = reference[good] + np.einsum("kij,kj->ki", covariance[good], vector[good])
    if not good.all():
        bad = ~good
        fallback = covariance_intersection_group(
            np.asarray(states, dtype=float)[bad],
            safe[bad],
            present=mask[bad],
        )
        state[bad], covariance[bad], weights[bad] = fallback
    return FusedEstimate(state, covariance, weights)


# --- registry and conformance ----------------------------------------------------------------


def _ignoring_prior(
    fuse: Callable[..., FusedEstimate],
) -> FusionRule:
    """Adapt a rule that needs no prior to the :class:`FusionRule` call signature."""

    def rule(
        states: FloatArray,
        covariances: FloatArray,
        *,
        present: BoolArray | None = None,
        prior: CommonPrior | None = None,
    ) -> FusedEstimate:
        return fuse(states, covariances, present=present)

    rule.__doc__ = fuse.__doc__
    rule.__name__ = fuse.__name__
    return rule


def _decorrelated_rule(
    states: FloatArray,
    covariances: FloatArray,
    *,
    present: BoolArray | None = None,
    prior: CommonPrior | None = None,
) -> FusedEstimate:
    if prior is None:
        raise ValueError(
            "the 'information-decorrelated' fusion rule needs the common prior "
            "(prior=CommonPrior(...)): the previous fused estimate and each source's "
            "previous report, predicted to now"
        )
    return information_decorrelated_fusion(states, covariances, prior=prior, present=present)


FUSION_RULES: Registry[FusionRule] = Registry("fusion rule")
"""Fusion rules by name: ``"covariance-intersection"`` (default, trace criterion),
``"fast-ci"`` (Fränken–Hüpper weights), ``"independent"`` and ``"information-decorrelated"``
(needs ``prior``)."""

FUSION_RULES.register("covariance-intersection")(_ignoring_prior(covariance_intersection_group))
FUSION_RULES.register("fast-ci")(_ignoring_prior(fast_covariance_intersection))
FUSION_RULES.register("independent")(_ignoring_prior(independent_fusion))
FUSION_RULES.register("information-decorrelated")(_decorrelated_rule)

DEFAULT_FUSION_RULE = "covariance-intersection"
"""The rule a fusion node uses unless configured otherwise: consistent with unknown
correlations."""


def _random_covariances(
    rng: np.random.Generator, shape: tuple[int, ...], sigmas: FloatArray
) -> FloatArray:
    """Random correlated SPD matrices with standard deviations about ``sigmas``."""
    dim = sigmas.shape[-1]
    a = rng.normal(size=(*shape, dim, dim))
    correlation = a @ _transpose(a) + dim * np.eye(dim)
    d = 1.0 / np.sqrt(np.einsum("...ii->...i", correlation))
    scale = sigmas * d
    return symmetrize(correlation * scale[..., :, None] * scale[..., None, :])


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def check_fusion_rule(
    rule: FusionRule,
    rng: np.random.Generator,
    *,
    groups: int = 16,
    sources: int = 3,
    state_dim: int = 6,
) -> FusedEstimate:
    """Check that a fusion rule honours the :class:`FusionRule` contract on random groups.

    The one conformance check every registered rule passes: ECEF-sized states with
    correlated covariances spanning three orders of magnitude (velocity variances ~10⁻² of
    the position ones), some groups with absent sources (NaN-filled) and one with a single
    source, and a common prior that is consistent with the reports (each source's prior
    holds less information than its report). The rule must return finite states ``(K, n)``,
    symmetric positive-definite covariances ``(K, n, n)``, finite weights ``(K, N)`` that are
    0 for absent sources, and the same result when the sources are listed in another order.

    Parameters
    ----------
    rule : FusionRule
        The rule under test.
    rng : numpy.random.Generator
        Source of the random cases.
    groups, sources, state_dim : int, optional
        ``K``, ``N`` and ``n`` of the case (``n`` ≥ 3; positions are the first three).

    Returns
    -------
    FusedEstimate
        What the rule returned, for further checks by the caller.

    Raises
    ------
    AssertionError
        On the first broken rule, with a message naming it.
    """
    shape = (groups, sources)
    sigmas = np.concatenate(
        [rng.uniform(10.0, 3000.0, (*shape, 3)), rng.uniform(1.0, 30.0, (*shape, state_dim - 3))],
        axis=-1,
    )
    covariances = _random_covariances(rng, shape, sigmas)
    truth = np.concatenate(
        [rng.normal(0.0, 1.0, (groups, 3)), rng.normal(0.0, 200.0, (groups, state_dim - 3))],
        axis=-1,
    )
    truth[:, :3] *= 6.4e6 / np.linalg.norm(truth[:, :3], axis=1, keepdims=True)
    errors = np.einsum(
        "knij,knj->kni", np.linalg.cholesky(covariances), rng.normal(size=(*shape, state_dim))
    )
    states = truth[:, None, :] + errors
    prior_covariances = covariances + _random_covariances(rng, shape, sigmas)
    fused_covariance = _random_covariances(rng, (groups,), sigmas[:, 0] * 3.0)
    prior = CommonPrior(
        source_states=states + rng.normal(0.0, 1.0, states.shape) * np.sqrt(sigmas),
        source_covariances=prior_covariances,
        fused_state=truth + rng.normal(0.0, 100.0, truth.shape),
        fused_covariance=fused_covariance,
    )
    present = rng.random(shape) < 0.75
    present[np.arange(groups), rng.integers(0, sources, groups)] = True
    present[0] = False
    present[0, 0] = True
    states_in = np.where(present[..., None], states, np.nan)
    covariances_in = np.where(present[..., None, None], covariances, np.nan)

    result = rule(states_in, covariances_in, present=present, prior=prior)
    _require(isinstance(result, FusedEstimate), "a fusion rule must return a FusedEstimate")
    state, covariance, weights = result
    _require(state.shape == (groups, state_dim), f"state shape {state.shape}")
    _require(covariance.shape == (groups, state_dim, state_dim), "covariance shape")
    _require(weights.shape == shape, f"weights shape {weights.shape}")
    _require(bool(np.isfinite(state).all()), "fused states must be finite")
    _require(
        bool(is_positive_definite(covariance).all()),
        "fused covariances must be symmetric positive definite",
    )
    _require(bool(np.isfinite(weights).all()), "weights must be finite")
    _require(bool((weights[~present] == 0.0).all()), "absent sources must have weight 0")

    order = rng.permutation(sources)
    permuted = rule(
        states_in[:, order],
        covariances_in[:, order],
        present=present[:, order],
        prior=prior._replace(
            source_states=prior.source_states[:, order],
            source_covariances=prior.source_covariances[:, order],
        ),
    )
    sigma = np.sqrt(np.einsum("kii->ki", covariance))
    _require(
        bool(np.all(np.abs(permuted.state - state) <= 1e-6 * sigma)),
        "the fused state must not depend on the order of the sources",
    )
    _require(
        bool(
            np.all(
                np.abs(permuted.covariance - covariance)
                <= 1e-6 * sigma[:, :, None] * sigma[:, None, :]
            )
        ),
        "the fused covariance must not depend on the order of the sources",
    )
    return result
