r"""Unscented Kalman filter over stacks of tracks, with scaled sigma points.

The scaled unscented transform of Julier as written by Wan & van der Merwe ([1]_ eq. 15):
for an ``n``-D Gaussian, ``2n+1`` sigma points ``χ₀ = x``, ``χ_{±i} = x ± √c·Lᵢ`` with
``L Lᵀ = P`` (Cholesky), ``c = α²(n + κ)``, ``λ = c − n`` and weights

``W₀ᵐ = λ/c``, ``W₀ᶜ = λ/c + 1 − α² + β``, ``Wᵢᵐ = Wᵢᶜ = 1/(2c)``.

Means are accumulated as deviations from the central point (``ȳ = Y₀ + Σ Wᵢ (Yᵢ − Y₀)``),
which keeps full precision at ECEF magnitudes (7·10⁶ m) even when ``W₀ᵐ`` is large and
negative. Angle components of measurements are averaged on the circle,
``ẑ = Z₀ + atan2(Σ Wᵢ sin(Zᵢ − Z₀), Σ Wᵢ cos(Zᵢ − Z₀))`` (the weighted circular mean, as
Stone Soup's ``Angle.average``), and their deviations are wrapped to ``(−π, π]``.

Sigma points are laid out as ``(2n+1, N, n)``, so a measurement model holding per-row
geometry of shape ``(N, ...)`` broadcasts over them (one call, many sensors).

References
----------
.. [1] E. A. Wan and R. van der Merwe, "The unscented Kalman filter for nonlinear
   estimation", *Proc. IEEE AS-SPCC Symposium*, 2000, pp. 153–158.
.. [2] S. J. Julier, "The scaled unscented transformation", *Proc. American Control
   Conference*, 2002, pp. 4555–4559.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.gaussian import symmetrize
from iamd.core.typing import FloatArray
from iamd.tracking.base import KalmanUpdate, MeasurementModel, MotionModel


@dataclass(frozen=True, slots=True, kw_only=True)
class SigmaPointParameters:
    """Parameters ``α, β, κ`` of the scaled unscented transform ([1]_, [2]_).

    Parameters
    ----------
    alpha : float
        Spread of the sigma points around the mean (> 0).
    beta : float
        Prior knowledge of the distribution; 2 is optimal for a Gaussian.
    kappa : float
        Secondary scaling; ``n + κ`` must be positive.

    Notes
    -----
    The defaults ``α = 1, β = 2, κ = 0`` put the points at ``±√n`` standard deviations with
    *non-negative* weights (``W₀ᵐ = 0``, ``W₀ᶜ = 2``), so every transformed covariance is a
    positive combination of outer products and stays positive semi-definite. The small
    ``α = 10⁻³`` often quoted from [1]_ gives ``W₀ᶜ ≈ −10⁶·…`` for ``n = 6``, and a
    covariance that is a difference of huge terms; use it only with care.

    Raises
    ------
    ConfigurationError
        If ``alpha`` is not positive or a value is not finite.

    Examples
    --------
    >>> mean_weights, covariance_weights, scale = SigmaPointParameters().weights(6)
    >>> mean_weights[:2], covariance_weights[:2], scale
    (array([0.        , 0.08333333]), array([2.        , 0.08333333]), 6.0)
    """

    alpha: float = 1.0
    beta: float = 2.0
    kappa: float = 0.0

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.alpha, self.beta, self.kappa)):
            raise ConfigurationError(
                f"SigmaPointParameters: alpha, beta and kappa must be finite "
                f"(got {self.alpha!r}, {self.beta!r}, {self.kappa!r})"
            )
        if self.alpha <= 0.0:
            raise ConfigurationError(
                f"SigmaPointParameters: alpha must be > 0 (got {self.alpha!r})"
            )

    def weights(self, n: int) -> tuple[FloatArray, FloatArray, float]:
        """Mean weights ``(2n+1,)``, covariance weights ``(2n+1,)`` and ``c = α²(n+κ)``.

        Raises
        ------
        ConfigurationError
            If ``n + κ`` is not positive.
        """
        if n + self.kappa <= 0.0:
            raise ConfigurationError(
                f"SigmaPointParameters: n + kappa must be > 0 (got n={n}, kappa={self.kappa!r})"
            )
        c = self.alpha**2 * (n + self.kappa)
        lam = c - n
        mean_weights = np.full(2 * n + 1, 0.5 / c)
        mean_weights[0] = lam / c
        covariance_weights = mean_weights.copy()
        covariance_weights[0] += 1.0 - self.alpha**2 + self.beta
        return mean_weights, covariance_weights, c


def _square_root(P: FloatArray) -> FloatArray:
    """Lower Cholesky factors; a symmetric eigen square root if some matrix is not PD."""
    try:
        return np.asarray(np.linalg.cholesky(P), dtype=float)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(symmetrize(P))
        return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :])


def sigma_points(x: FloatArray, P: FloatArray, parameters: SigmaPointParameters) -> FloatArray:
    """Scaled sigma points ``(2n+1, N, n)`` of ``N`` Gaussians ([1]_ eq. 15).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Means.
    P : ndarray, shape (N, n, n)
        Covariances (symmetric positive semi-definite).
    parameters : SigmaPointParameters
        ``α, β, κ``.

    Returns
    -------
    ndarray, shape (2n+1, N, n)
        Row 0 is the mean, rows ``1…n`` the plus and ``n+1…2n`` the minus points.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    _, _, c = parameters.weights(n)
    # Columns of the factor, as (n, N, n): spread[i] is the i-th column of √c·L.
    spread = np.moveaxis(math.sqrt(c) * _square_root(np.asarray(P, dtype=float)), -1, 0)
    return np.concatenate([x[None], x[None] + spread, x[None] - spread], axis=0)


def _weighted_mean(
    points: FloatArray, weights: FloatArray, angular: tuple[bool, ...] | None = None
) -> FloatArray:
    """Mean of ``(L, N, d)`` points as central point plus weighted deviations."""
    deviations = points[1:] - points[:1]
    mean = points[0] + np.einsum("l,l...->...", weights[1:], deviations)
    if angular is not None and any(angular):
        index = [i for i, is_angle in enumerate(angular) if is_angle]
        delta = deviations[..., index]
        # The circular mean of Stone Soup's Angle.average, about the central point; the
        # central point's own deviation is zero (sin 0 = 0, cos 0 = 1).
        sine = np.einsum("l,l...->...", weights[1:], np.sin(delta))
        cosine = weights[0] + np.einsum("l,l...->...", weights[1:], np.cos(delta))
        mean[..., index] = points[0][..., index] + np.arctan2(sine, cosine)
    return np.asarray(mean)


def ukf_predict(
    x: FloatArray,
    P: FloatArray,
    dt: FloatArray | float,
    model: MotionModel,
    parameters: SigmaPointParameters | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Predict ``N`` estimates with the unscented transform of the motion model ([1]_).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Prior states, ECEF.
    P : ndarray, shape (N, n, n)
        Prior covariances.
    dt : float or ndarray, shape (N,)
        Time step of each track, s.
    model : MotionModel
        Motion model; its process noise is evaluated at the prior mean and added.
    parameters : SigmaPointParameters, optional
        ``α, β, κ``; the defaults of :class:`SigmaPointParameters` if omitted.

    Returns
    -------
    x : ndarray, shape (N, n)
    P : ndarray, shape (N, n, n)

    Examples
    --------
    A linear model gives the Kalman prediction:

    >>> from iamd.tracking.motion import NearlyConstantVelocity
    >>> model = NearlyConstantVelocity(acceleration_psd_m2_s3=0.0)
    >>> x, P = ukf_predict(np.zeros((1, 6)), np.eye(6)[None], 1.0, model)
    >>> P[0, 0, [0, 3]].round(12)
    array([2., 1.])
    """
    parameters = SigmaPointParameters() if parameters is None else parameters
    x = np.asarray(x, dtype=float)
    mean_weights, covariance_weights, _ = parameters.weights(x.shape[-1])
    points = sigma_points(x, P, parameters)
    step = np.broadcast_to(np.asarray(dt, dtype=float), x.shape[:-1])
    moved = model.propagate(points, step[None])
    mean = _weighted_mean(moved, mean_weights)
    deviations = moved - mean
    covariance = np.einsum("l,l...i,l...j->...ij", covariance_weights, deviations, deviations)
    return mean, symmetrize(covariance + model.process_noise(x, dt))


def ukf_update(
    x: FloatArray,
    P: FloatArray,
    z: FloatArray,
    R: FloatArray,
    measurement: MeasurementModel,
    parameters: SigmaPointParameters | None = None,
) -> KalmanUpdate:
    """Update ``N`` estimates with one measurement each, by the unscented transform ([1]_).

    ``ẑ`` = weighted (circular for angles) mean of ``Zᵢ = h(χᵢ)``,
    ``S = Σ Wᶜ (Zᵢ ⊖ ẑ)(Zᵢ ⊖ ẑ)ᵀ + R``, ``C = Σ Wᶜ (χᵢ − x)(Zᵢ ⊖ ẑ)ᵀ``, ``K = C S⁻¹``,
    ``x⁺ = x + K (z ⊖ ẑ)``, ``P⁺ = P − K S Kᵀ`` (``⊖`` wraps angle components).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Predicted states, ECEF.
    P : ndarray, shape (N, n, n)
        Predicted covariances.
    z : ndarray, shape (N, m)
        Measurements.
    R : ndarray, shape (N, m, m) or (m, m)
        Measurement noise covariances.
    measurement : MeasurementModel
        Measurement model (per-row geometry broadcasts over the sigma points).
    parameters : SigmaPointParameters, optional
        ``α, β, κ``; the defaults of :class:`SigmaPointParameters` if omitted.

    Returns
    -------
    KalmanUpdate
        Posterior states and covariances, innovations ``z ⊖ ẑ`` and their covariances.
    """
    parameters = SigmaPointParameters() if parameters is None else parameters
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    mean_weights, covariance_weights, _ = parameters.weights(x.shape[-1])
    points = sigma_points(x, P, parameters)
    predicted = measurement.predict(points)
    z_mean = _weighted_mean(predicted, mean_weights, measurement.angular)
    dz = measurement.residual(predicted, z_mean)
    dx = points - x
    S = np.einsum("l,l...i,l...j->...ij", covariance_weights, dz, dz) + np.asarray(R, float)
    S = symmetrize(S)
    cross = np.einsum("l,l...i,l...j->...ij", covariance_weights, dx, dz)
    K = np.swapaxes(np.linalg.solve(S, np.swapaxes(cross, -1, -2)), -1, -2)
    innovation = measurement.residual(np.asarray(z, dtype=float), z_mean)
    state = x + (K @ innovation[..., None])[..., 0]
    covariance = P - K @ S @ np.swapaxes(K, -1, -2)
    return KalmanUpdate(state, symmetrize(covariance), innovation, S)
