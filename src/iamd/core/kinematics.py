"""Kinematics of the white-noise acceleration model, shared by tracking and fusion.

The tracker's :class:`~iamd.tracking.motion.NearlyConstantVelocity` and the fusion stage's
time alignment of remote tracks use the same continuous white-noise acceleration model
([1]_ §6.2.2); the stages are siblings and may not import each other, so its math lives here.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iamd.core.gaussian import symmetrize
from iamd.core.typing import FloatArray


def white_acceleration_noise(dt: FloatArray, psd: float, state_dim: int) -> FloatArray:
    """Process noise of the continuous white-noise acceleration model ([1]_ eq. 6.2.2-12).

    ``Q = q·[[Δt³/3, Δt²/2], [Δt²/2, Δt]] ⊗ I₃`` on the position and velocity; zero on any
    further states.

    Parameters
    ----------
    dt : ndarray, shape (...)
        Steps, s (≥ 0).
    psd : float
        Power spectral density ``q`` of the acceleration noise per axis, m²/s³.
    state_dim : int
        Dimension ``n`` ≥ 6 of the states (ECEF position and velocity first).

    Returns
    -------
    ndarray, shape (..., n, n)

    Examples
    --------
    >>> white_acceleration_noise(np.array([2.0]), 3.0, 6)[0, [0, 0, 3], [0, 3, 3]].tolist()
    [8.0, 6.0, 6.0]
    """
    q = np.zeros((*dt.shape, state_dim, state_dim))
    eye = np.eye(3)
    q[..., :3, :3] = (psd * dt**3 / 3.0)[..., None, None] * eye
    q[..., :3, 3:6] = (psd * dt**2 / 2.0)[..., None, None] * eye
    q[..., 3:6, :3] = q[..., :3, 3:6]
    q[..., 3:6, 3:6] = (psd * dt)[..., None, None] * eye
    return q


def predict_nearly_constant_velocity(
    state: npt.ArrayLike,
    covariance: npt.ArrayLike,
    dt: npt.ArrayLike,
    acceleration_psd_m2_s3: float,
) -> tuple[FloatArray, FloatArray]:
    r"""Predict ECEF estimates with a nearly-constant-velocity model.

    ``p ← p + Δt·v``, ``v ← v``, ``P ← F P Fᵀ + Q(|Δt|)`` with ``Q`` from
    :func:`white_acceleration_noise`; ``F P Fᵀ`` is written out by blocks so that no 6×6
    product is formed. A negative step (an estimate newer than the target time) moves the
    state back and still *adds* ``Q(|Δt|)``: going back in time does not make an
    estimate more certain.

    Parameters
    ----------
    state : array_like, shape (K, 6)
        ECEF position (m) and velocity (m/s).
    covariance : array_like, shape (K, 6, 6)
        Their covariances.
    dt : array_like, shape (K,) or scalar
        Prediction steps, s.
    acceleration_psd_m2_s3 : float
        Power spectral density ``q`` of the white acceleration noise, m²/s³, per axis.

    Returns
    -------
    state : ndarray, shape (K, 6)
    covariance : ndarray, shape (K, 6, 6)

    Examples
    --------
    >>> x, P = predict_nearly_constant_velocity(
    ...     [[7e6, 0.0, 0.0, 100.0, 0.0, 0.0]], [np.eye(6)], [2.0], 3.0
    ... )
    >>> x[0, :2].tolist(), P[0, [0, 3], [0, 3]].tolist(), float(P[0, 0, 3])
    ([7000200.0, 0.0], [13.0, 7.0], 8.0)
    """
    x = np.asarray(state, dtype=float)
    p = np.asarray(covariance, dtype=float)
    step = np.broadcast_to(np.asarray(dt, dtype=float), x.shape[:-1])
    out_x = x.copy()
    out_x[..., :3] += step[..., None] * x[..., 3:6]
    s = step[..., None, None]
    pp, pv, vp, vv = p[..., :3, :3], p[..., :3, 3:], p[..., 3:, :3], p[..., 3:, 3:]
    out_p = np.empty_like(p)
    out_p[..., :3, :3] = pp + s * (pv + vp) + s * s * vv
    out_p[..., :3, 3:] = pv + s * vv
    out_p[..., 3:, :3] = vp + s * vv
    out_p[..., 3:, 3:] = vv
    out_p += white_acceleration_noise(np.abs(step), float(acceleration_psd_m2_s3), 6)
    return out_x, symmetrize(out_p)
