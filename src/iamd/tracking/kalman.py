r"""Extended Kalman filter over stacks of tracks: predict, update (Joseph form), likelihood.

Pure functions of NumPy arrays: ``N`` tracks at once, each with its own time step and its
own sensor geometry (see :mod:`iamd.tracking.measurement`). With a linear model (e.g.
:class:`~iamd.tracking.motion.NearlyConstantVelocity` and
:class:`~iamd.tracking.measurement.PositionMeasurement`) this is the Kalman filter.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §5.2 (Kalman filter), §5.2.3 (Joseph form), §10.3 (EKF).
"""

from __future__ import annotations

import numpy as np

from iamd.core.gaussian import symmetrize
from iamd.core.typing import FloatArray
from iamd.tracking.base import KalmanUpdate, MeasurementModel, MotionModel


def _transpose(a: FloatArray) -> FloatArray:
    return np.swapaxes(a, -1, -2)


def ekf_predict(
    x: FloatArray, P: FloatArray, dt: FloatArray | float, model: MotionModel
) -> tuple[FloatArray, FloatArray]:
    """Predict ``N`` estimates over their time steps ([1]_ §10.3.2).

    ``x' = f(x, Δt)``, ``P' = F P Fᵀ + Q`` with ``F = ∂f/∂x`` at the prior mean.

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Prior states, ECEF (m, m/s[, m²/kg]).
    P : ndarray, shape (N, n, n)
        Prior covariances.
    dt : float or ndarray, shape (N,)
        Time step of each track, s (≥ 0).
    model : MotionModel
        The motion model (its :attr:`~iamd.tracking.base.MotionModel.state_dim` is ``n``).

    Returns
    -------
    x : ndarray, shape (N, n)
        Predicted states.
    P : ndarray, shape (N, n, n)
        Predicted covariances, symmetric.

    Examples
    --------
    >>> from iamd.tracking.motion import NearlyConstantVelocity
    >>> model = NearlyConstantVelocity(acceleration_psd_m2_s3=0.0)
    >>> x, P = ekf_predict(np.zeros((1, 6)), np.eye(6)[None], 1.0, model)
    >>> P[0, 0, [0, 3]]
    array([2., 1.])
    """
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    F = model.jacobian(x, dt)
    predicted = model.propagate(x, dt)
    covariance = F @ P @ _transpose(F) + model.process_noise(x, dt)
    return predicted, symmetrize(covariance)


def ekf_update(
    x: FloatArray, P: FloatArray, z: FloatArray, R: FloatArray, measurement: MeasurementModel
) -> KalmanUpdate:
    """Update ``N`` predicted estimates with one measurement each ([1]_ §5.2, §10.3.2).

    ``ν = z ⊖ h(x)`` (angles wrapped), ``S = H P Hᵀ + R``, ``K = P Hᵀ S⁻¹``,
    ``x⁺ = x + K ν`` and the Joseph form ``P⁺ = (I − K H) P (I − K H)ᵀ + K R Kᵀ``
    ([1]_ eq. 5.2.3-18), which stays symmetric positive definite under rounding where
    ``(I − K H) P`` need not.

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Predicted states, ECEF.
    P : ndarray, shape (N, n, n)
        Predicted covariances.
    z : ndarray, shape (N, m)
        Measurements, in the model's units (angles in rad).
    R : ndarray, shape (N, m, m) or (m, m)
        Measurement noise covariances.
    measurement : MeasurementModel
        Measurement model whose per-row geometry (if any) matches the ``N`` rows.

    Returns
    -------
    KalmanUpdate
        Posterior states and covariances, innovations ``(N, m)`` and their covariances
        ``(N, m, m)``.

    Examples
    --------
    >>> from iamd.tracking.measurement import PositionMeasurement
    >>> result = ekf_update(
    ...     np.zeros((1, 6)), np.eye(6)[None], np.ones((1, 3)), np.eye(3), PositionMeasurement()
    ... )
    >>> result.state[0]
    array([0.5, 0.5, 0.5, 0. , 0. , 0. ])
    >>> result.covariance[0].diagonal()
    array([0.5, 0.5, 0.5, 1. , 1. , 1. ])
    """
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    R = np.asarray(R, dtype=float)
    H = measurement.jacobian(x)
    innovation = measurement.residual(np.asarray(z, dtype=float), measurement.predict(x))
    PHt = P @ _transpose(H)
    S = symmetrize(H @ PHt + R)
    # K = P Hᵀ S⁻¹, solved as S Kᵀ = H P (S symmetric), never by an explicit inverse.
    K = _transpose(np.asarray(np.linalg.solve(S, _transpose(PHt)), dtype=float))
    state = x + (K @ innovation[..., None])[..., 0]
    A = np.eye(x.shape[-1]) - K @ H
    covariance = A @ P @ _transpose(A) + K @ R @ _transpose(K)
    return KalmanUpdate(state, symmetrize(covariance), innovation, S)


def innovation_log_likelihood(
    innovation: FloatArray, innovation_covariance: FloatArray
) -> FloatArray:
    """Log of the Gaussian density ``N(ν; 0, S)`` of innovations, computed through Cholesky.

    ``log L = −½ (νᵀ S⁻¹ ν + log det S + m log 2π)``: the measurement likelihood of a track
    (IMM mode probabilities, association scores), in log space so it never underflows.

    Parameters
    ----------
    innovation : ndarray, shape (N, m)
        Innovations, measurement units.
    innovation_covariance : ndarray, shape (N, m, m)
        Their covariances (symmetric positive definite).

    Returns
    -------
    ndarray, shape (N,)
        Log-likelihoods (natural log of a density in the measurement units).

    Examples
    --------
    >>> float(innovation_log_likelihood(np.zeros((1, 1)), np.ones((1, 1, 1)))[0])
    -0.9189385332046727
    """
    nu = np.asarray(innovation, dtype=float)
    factor = np.linalg.cholesky(np.asarray(innovation_covariance, dtype=float))
    whitened = np.linalg.solve(factor, nu[..., None])[..., 0]
    log_det = 2.0 * np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(axis=-1)
    m = nu.shape[-1]
    return np.asarray(
        -0.5 * (np.einsum("...i,...i->...", whitened, whitened) + log_det + m * np.log(2 * np.pi))
    )
