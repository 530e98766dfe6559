r"""Interacting multiple model (IMM) estimator over stacks of tracks.

Each track carries ``r`` model-conditioned estimates (``(N, r, n)`` states, ``(N, r, n, n)``
covariances) and mode probabilities ``μ`` ``(N, r)``; the modes switch as a Markov chain
with transition matrix ``Π``, ``Π[i, j] = P(mode j at k+1 | mode i at k)``. One cycle
([1]_, [2]_ §11.6.6):

1. **Mixing** (in :func:`imm_predict`): ``c̄ⱼ = Σᵢ Πᵢⱼ μᵢ``, ``μᵢ|ⱼ = Πᵢⱼ μᵢ / c̄ⱼ``,
   ``x₀ⱼ = Σᵢ μᵢ|ⱼ xᵢ``, ``P₀ⱼ = Σᵢ μᵢ|ⱼ (Pᵢ + (xᵢ − x₀ⱼ)(xᵢ − x₀ⱼ)ᵀ)``.
2. **Mode-matched prediction** of ``(x₀ⱼ, P₀ⱼ)`` with model ``j``; the predicted mode
   probabilities are ``c̄``.
3. **Mode-matched update** (in :func:`imm_update`) with the same measurement, giving the
   likelihoods ``Λⱼ = N(νⱼ; 0, Sⱼ)``.
4. **Mode probabilities** ``μⱼ ∝ Λⱼ c̄ⱼ``, computed in log space (``log Λⱼ + log c̄ⱼ``,
   normalised by log-sum-exp) so that a far-off measurement never underflows to 0/0.
5. **Combination** ``x = Σⱼ μⱼ xⱼ``, ``P = Σⱼ μⱼ (Pⱼ + (xⱼ − x)(xⱼ − x)ᵀ)``.

A track that is not detected at a scan keeps its predicted estimate and ``μ = c̄``.

All modes share one state layout (the IMM mixes states component by component), e.g.
``NearlyConstantVelocity`` with a small ``q`` plus ``CoordinatedTurn`` at ±ω, all 6-D.
Models of different dimension are refused; to mix them, augment the smaller states with
the extra components (and a large variance) before calling.

References
----------
.. [1] H. A. P. Blom and Y. Bar-Shalom, "The interacting multiple model algorithm for
   systems with Markovian switching coefficients", *IEEE Trans. Automat. Contr.* 33(8),
   1988, pp. 780–783.
.. [2] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §11.6.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from iamd.core.errors import ConfigurationError
from iamd.core.gaussian import symmetrize
from iamd.core.typing import FloatArray, IntArray
from iamd.tracking.base import KalmanUpdate, MeasurementModel, MotionModel
from iamd.tracking.kalman import ekf_predict, ekf_update, innovation_log_likelihood
from iamd.tracking.unscented import SigmaPointParameters, ukf_predict, ukf_update


class ImmEstimate(NamedTuple):
    """The state of ``N`` IMM tracks with ``r`` modes.

    Attributes
    ----------
    state : ndarray, shape (N, n)
        Combined states (the output estimate), ECEF.
    covariance : ndarray, shape (N, n, n)
        Combined covariances (including the spread of the modes).
    mode_states : ndarray, shape (N, r, n)
        Model-conditioned states.
    mode_covariances : ndarray, shape (N, r, n, n)
        Model-conditioned covariances.
    mode_probabilities : ndarray, shape (N, r)
        Mode probabilities (rows sum to 1): predicted ``c̄`` after :func:`imm_predict`,
        posterior ``μ`` after :func:`imm_update`.
    log_likelihood : ndarray, shape (N,)
        After :func:`imm_update`: ``log Σⱼ c̄ⱼ Λⱼ``, the log-density of the measurement under
        the IMM's prediction (for association scores); zeros after :func:`imm_predict`.
    """

    state: FloatArray
    covariance: FloatArray
    mode_states: FloatArray
    mode_covariances: FloatArray
    mode_probabilities: FloatArray
    log_likelihood: FloatArray


def markov_transition_matrix(
    mean_sojourn_s: Sequence[float] | FloatArray, dt: FloatArray | float
) -> FloatArray:
    """Transition matrices of a mode chain with given mean sojourn times, for steps ``dt``.

    Mode ``i`` is kept over a step with probability ``exp(−Δt/τᵢ)`` and otherwise left for
    one of the other modes, uniformly ([2]_ §11.6.3 for the sojourn-time design).

    Parameters
    ----------
    mean_sojourn_s : sequence of float, length r
        Mean time ``τᵢ`` spent in each mode, s (> 0); ``r`` ≥ 2.
    dt : float or ndarray, shape (N,)
        Steps, s (≥ 0).

    Returns
    -------
    ndarray, shape (r, r) for a scalar ``dt``, (N, r, r) otherwise
        Rows sum to one.

    Raises
    ------
    ConfigurationError
        If a sojourn time is not positive or there are fewer than two modes.

    Examples
    --------
    >>> markov_transition_matrix([100.0, 20.0], 2.0).round(4)
    array([[0.9802, 0.0198],
           [0.0952, 0.9048]])
    """
    tau = np.asarray(mean_sojourn_s, dtype=float)
    if tau.ndim != 1 or tau.size < 2 or not np.all(tau > 0.0):
        raise ConfigurationError(
            f"markov_transition_matrix: mean_sojourn_s must list at least two positive "
            f"times (got {tau.tolist()})"
        )
    r = tau.size
    stay = np.exp(-np.asarray(dt, dtype=float)[..., None] / tau)
    leave = (1.0 - stay) / (r - 1)
    return np.asarray(leave[..., :, None] * (1.0 - np.eye(r)) + stay[..., :, None] * np.eye(r))


def _check(models: Sequence[MotionModel], transition: FloatArray, mode_states: FloatArray) -> None:
    r = len(models)
    dims = {model.state_dim for model in models}
    if len(dims) != 1:
        raise ConfigurationError(
            f"IMM: every model must have the same state dimension (got {sorted(dims)})"
        )
    if mode_states.shape[-2:] != (r, dims.pop()):
        raise ConfigurationError(
            f"IMM: mode_states must have shape (N, {r}, n) for {r} models (got {mode_states.shape})"
        )
    if transition.shape[-2:] != (r, r) or not np.allclose(transition.sum(axis=-1), 1.0):
        raise ConfigurationError(
            f"IMM: transition must be ({r}, {r}) (or (N, {r}, {r})) with rows summing to 1"
        )


def _log(p: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(p))


def _combine(
    weights: FloatArray, states: FloatArray, covariances: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Moment-matched Gaussian of a mixture: weights ``(..., r)`` over the mode axis."""
    mean = np.einsum("...j,...jn->...n", weights, states)
    spread = states - mean[..., None, :]
    covariance = np.einsum(
        "...j,...jab->...ab",
        weights,
        covariances + spread[..., :, None] * spread[..., None, :],
    )
    return np.asarray(mean), symmetrize(covariance)


def imm_predict(
    mode_states: FloatArray,
    mode_covariances: FloatArray,
    mode_probabilities: FloatArray,
    dt: FloatArray | float,
    models: Sequence[MotionModel],
    transition: FloatArray,
    sigma_points: SigmaPointParameters | None = None,
) -> ImmEstimate:
    """Mix the modes and predict each with its own model ([1]_; [2]_ §11.6.6, steps 1–2).

    Parameters
    ----------
    mode_states : ndarray, shape (N, r, n)
        Model-conditioned states at the previous time, ECEF.
    mode_covariances : ndarray, shape (N, r, n, n)
        Model-conditioned covariances.
    mode_probabilities : ndarray, shape (N, r)
        Mode probabilities at the previous time (rows sum to 1).
    dt : float or ndarray, shape (N,)
        Time step of each track, s.
    models : sequence of MotionModel, length r
        One motion model per mode, all of the same state dimension ``n``.
    transition : ndarray, shape (r, r) or (N, r, r)
        Markov transition matrix ``Π[i, j] = P(j | i)`` (rows sum to 1), e.g. from
        :func:`markov_transition_matrix`.
    sigma_points : SigmaPointParameters, optional
        If given, the modes are predicted by the unscented filter; otherwise by the EKF.

    Returns
    -------
    ImmEstimate
        Predicted mode states and covariances, predicted mode probabilities ``c̄``, and the
        combined prediction.

    Raises
    ------
    ConfigurationError
        If the models, the transition matrix and the states do not fit together.

    Examples
    --------
    >>> from iamd.tracking.motion import NearlyConstantVelocity
    >>> models = [NearlyConstantVelocity(acceleration_psd_m2_s3=q) for q in (0.1, 10.0)]
    >>> states = np.zeros((1, 2, 6))
    >>> covariances = np.broadcast_to(np.eye(6), (1, 2, 6, 6))
    >>> prediction = imm_predict(
    ...     states, covariances, np.array([[0.9, 0.1]]), 1.0, models, np.eye(2)
    ... )
    >>> prediction.mode_probabilities
    array([[0.9, 0.1]])
    """
    x = np.asarray(mode_states, dtype=float)
    P = np.asarray(mode_covariances, dtype=float)
    mu = np.asarray(mode_probabilities, dtype=float)
    pi = np.asarray(transition, dtype=float)
    _check(models, pi, x)
    # log(Π_ij μ_i), shape (N, r_from, r_to); log c̄_j by log-sum-exp over i.
    log_joint = _log(pi) + _log(mu)[..., :, None]
    log_c = logsumexp(log_joint, axis=-2)
    with np.errstate(invalid="ignore"):
        mixing = np.exp(log_joint - log_c[..., None, :])
    # A mode no other mode can reach (c̄_j = 0) has undefined mixing weights: keep it as is.
    unreachable = ~np.isfinite(log_c)
    if np.any(unreachable):
        r = len(models)
        mixing = np.where(unreachable[..., None, :], np.eye(r), mixing)
    mixed_states = np.einsum("...ij,...in->...jn", mixing, x)
    spread = x[..., :, None, :] - mixed_states[..., None, :, :]
    mixed_covariances = np.einsum(
        "...ij,...ijab->...jab",
        mixing,
        P[..., :, None, :, :] + spread[..., None] * spread[..., None, :],
    )
    predicted_states = np.empty_like(x)
    predicted_covariances = np.empty_like(P)
    for j, model in enumerate(models):
        if sigma_points is None:
            xj, Pj = ekf_predict(
                mixed_states[..., j, :], mixed_covariances[..., j, :, :], dt, model
            )
        else:
            xj, Pj = ukf_predict(
                mixed_states[..., j, :], mixed_covariances[..., j, :, :], dt, model, sigma_points
            )
        predicted_states[..., j, :] = xj
        predicted_covariances[..., j, :, :] = Pj
    c_bar = np.exp(log_c)
    c_bar = c_bar / c_bar.sum(axis=-1, keepdims=True)
    state, covariance = _combine(c_bar, predicted_states, predicted_covariances)
    return ImmEstimate(
        state,
        covariance,
        predicted_states,
        predicted_covariances,
        c_bar,
        np.zeros(x.shape[:-2]),
    )


def imm_update(
    prediction: ImmEstimate,
    z: FloatArray,
    R: FloatArray,
    measurement: MeasurementModel,
    sigma_points: SigmaPointParameters | None = None,
) -> ImmEstimate:
    """Update every mode with the measurement, re-weight the modes and combine ([1]_).

    Parameters
    ----------
    prediction : ImmEstimate
        The result of :func:`imm_predict` for the same ``N`` tracks.
    z : ndarray, shape (N, m)
        One measurement per track.
    R : ndarray, shape (N, m, m) or (m, m)
        Measurement noise covariances.
    measurement : MeasurementModel
        Measurement model (per-row geometry matching the ``N`` rows).
    sigma_points : SigmaPointParameters, optional
        If given, the modes are updated by the unscented filter; otherwise by the EKF.

    Returns
    -------
    ImmEstimate
        Posterior mode states, covariances and probabilities, the combined estimate, and
        the log-likelihood of the measurement under the IMM prediction.
    """
    c_bar = np.asarray(prediction.mode_probabilities, dtype=float)
    r = c_bar.shape[-1]
    states = np.empty_like(prediction.mode_states)
    covariances = np.empty_like(prediction.mode_covariances)
    log_likelihoods = np.empty_like(c_bar)
    for j in range(r):
        xj = prediction.mode_states[..., j, :]
        Pj = prediction.mode_covariances[..., j, :, :]
        result: KalmanUpdate = (
            ekf_update(xj, Pj, z, R, measurement)
            if sigma_points is None
            else ukf_update(xj, Pj, z, R, measurement, sigma_points)
        )
        states[..., j, :] = result.state
        covariances[..., j, :, :] = result.covariance
        log_likelihoods[..., j] = innovation_log_likelihood(
            result.innovation, result.innovation_covariance
        )
    log_joint = log_likelihoods + _log(c_bar)
    log_total = logsumexp(log_joint, axis=-1)
    mu = np.exp(log_joint - log_total[..., None])
    mu = mu / mu.sum(axis=-1, keepdims=True)
    state, covariance = _combine(mu, states, covariances)
    return ImmEstimate(state, covariance, states, covariances, mu, np.asarray(log_total))


def imm_pda_update(
    prediction: ImmEstimate,
    pairs: IntArray,
    pair_weights: FloatArray,
    missed_weights: FloatArray,
    z: FloatArray,
    R: FloatArray,
    measurement: MeasurementModel,
    *,
    detection_probability: float,
    gate_probability: float,
    clutter_density: float,
) -> ImmEstimate:
    r"""Update IMM tracks with probabilistically associated measurements (IMM-JPDA).

    Each track ``i`` has gated measurements ``k`` with association probabilities
    ``β_ik`` and ``β_i0`` (none is its own), from a joint probabilistic data association
    over the *combined* predictions (:class:`~iamd.tracking.association.JpdaAssociator`);
    the same ``β`` serve every mode, a common simplification of the IMM-JPDA ([1]_ §4).
    In each mode ``j`` the posterior is the moment-matched mixture of the missed
    hypothesis (the prediction) and one EKF update per gated measurement:

    .. math::

        x_j = β_0 x_j^- + Σ_k β_k x_{jk}, \qquad
        P_j = β_0 P_j^- + Σ_k β_k P_{jk} + \text{spread of the means},

    which is the PDA update ([2]_ eq. 6.4.2-5 to -9) written so that each measurement may
    have its own noise covariance. The mode probabilities follow the IMM-PDAF mode
    likelihood ([2]_ §11.7.4) ``Λ_j ∝ (1 − P_D P_G)·λ + P_D Σ_k N(ν_jk; 0, S_jk)``, with
    ``λ`` the clutter density: a mode that explains a measurement well gains, and a miss
    leaves the modes where the prediction put them.

    Parameters
    ----------
    prediction : ImmEstimate
        Predicted tracks (``N`` rows), from :func:`imm_predict`.
    pairs : ndarray of int, shape (K, 2)
        Gated ``(track row, measurement)`` pairs; track rows index ``prediction``.
    pair_weights : ndarray, shape (K,)
        ``β_ik`` of each pair.
    missed_weights : ndarray, shape (N,)
        ``β_i0`` of each track (with the pair weights of its row, sums to 1).
    z : ndarray, shape (M, m)
        All measurements of the scan; ``pairs[:, 1]`` indexes them.
    R : ndarray, shape (M, m, m)
        Their noise covariances.
    measurement : MeasurementModel
        Measurement model with one geometry for every row (e.g. one radar's scan).
    detection_probability, gate_probability : float
        ``P_D`` and ``P_G`` of the association.
    clutter_density : float
        Spatial density ``λ`` of false measurements, per unit of measurement space.

    Returns
    -------
    ImmEstimate
        Posterior mode estimates, mode probabilities and combined estimate; the
        log-likelihood is that of the mode-mixed measurement set.

    References
    ----------
    .. [1] H. A. P. Blom and E. A. Bloem, "Probabilistic data association avoiding track
       coalescence", *IEEE Trans. Automat. Contr.* 45(2), 2000, pp. 247–259.
    .. [2] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to
       Tracking and Navigation*, Wiley, 2001.
    """
    c_bar = np.asarray(prediction.mode_probabilities, dtype=float)
    n_tracks, r = c_bar.shape
    tracks, columns = pairs[:, 0], pairs[:, 1]
    beta = np.asarray(pair_weights, dtype=float)
    beta0 = np.asarray(missed_weights, dtype=float)
    states = np.empty_like(prediction.mode_states)
    covariances = np.empty_like(prediction.mode_covariances)
    log_likelihoods = np.empty_like(c_bar)
    miss_term = np.log(
        max((1.0 - detection_probability * gate_probability) * clutter_density, 1e-300)
    )
    for j in range(r):
        xj = prediction.mode_states[:, j, :]
        Pj = prediction.mode_covariances[:, j, :, :]
        result = ekf_update(xj[tracks], Pj[tracks], z[columns], R[columns], measurement)
        # Moment matching of the mixture: weights over (missed, pair 1, pair 2, …) per track.
        mean = beta0[:, None] * xj
        np.add.at(mean, tracks, beta[:, None] * result.state)
        spread_missed = xj - mean
        covariance = beta0[:, None, None] * (
            Pj + spread_missed[:, :, None] * spread_missed[:, None, :]
        )
        spread = result.state - mean[tracks]
        np.add.at(
            covariance,
            tracks,
            beta[:, None, None] * (result.covariance + spread[:, :, None] * spread[:, None, :]),
        )
        states[:, j, :] = mean
        covariances[:, j, :, :] = symmetrize(covariance)
        pair_log = innovation_log_likelihood(result.innovation, result.innovation_covariance)
        terms = np.full(n_tracks, miss_term)
        # log(e^miss + P_D Σ_k N_jk), summed per track in log space.
        per_pair = np.log(detection_probability) + pair_log
        stacked_tracks = np.concatenate([np.arange(n_tracks), tracks])
        stacked_logs = np.concatenate([terms, per_pair])
        shift = np.full(n_tracks, -np.inf)
        np.maximum.at(shift, stacked_tracks, stacked_logs)
        sums = np.zeros(n_tracks)
        np.add.at(sums, stacked_tracks, np.exp(stacked_logs - shift[stacked_tracks]))
        log_likelihoods[:, j] = shift + np.log(sums)
    log_joint = log_likelihoods + _log(c_bar)
    log_total = logsumexp(log_joint, axis=-1)
    mu = np.exp(log_joint - log_total[..., None])
    mu = mu / mu.sum(axis=-1, keepdims=True)
    state, covariance = _combine(mu, states, covariances)
    return ImmEstimate(state, covariance, states, covariances, mu, np.asarray(log_total))
