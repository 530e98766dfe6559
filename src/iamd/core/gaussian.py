"""Batched operations on Gaussian estimates (states ``(..., n)``, covariances ``(..., n, n)``).

Shared by tracking, fusion and later stages, so it lives in ``core``: these are the few
pieces of linear algebra every estimator needs, written once for stacks of many items.
"""

from __future__ import annotations

import numpy as np

from iamd.core.typing import FloatArray


def symmetrize(covariance: FloatArray) -> FloatArray:
    """``(P + Pᵀ)/2`` over the last two axes: removes the asymmetry rounding leaves behind."""
    return np.asarray(0.5 * (covariance + np.swapaxes(covariance, -1, -2)))


def mahalanobis_squared(residual: FloatArray, covariance: FloatArray) -> FloatArray:
    """Squared Mahalanobis distance ``νᵀ S⁻¹ ν`` for stacks of residuals.

    Parameters
    ----------
    residual : ndarray, shape (..., m)
        Residuals (e.g. innovations), in the units of the measurement.
    covariance : ndarray, shape (..., m, m)
        Their covariances, symmetric positive definite; broadcast against ``residual``.

    Returns
    -------
    ndarray, shape (...)
        The squared distances (dimensionless; χ²(m) under the Gaussian hypothesis).

    Notes
    -----
    Solved through a Cholesky factor rather than an explicit inverse, which is both faster
    and better conditioned for the badly scaled covariances of ECEF tracks (metres next to
    metres per second).

    Examples
    --------
    >>> float(mahalanobis_squared(np.array([2.0, 0.0]), np.diag([4.0, 1.0])))
    1.0
    """
    r = np.asarray(residual, float)
    s = np.asarray(covariance, float)
    shape = np.broadcast_shapes(r.shape[:-1], s.shape[:-2])
    r = np.broadcast_to(r, (*shape, r.shape[-1]))
    s = np.broadcast_to(s, (*shape, *s.shape[-2:]))
    factor = np.linalg.cholesky(s)
    whitened = np.linalg.solve(factor, r[..., None])[..., 0]
    return np.asarray(np.einsum("...i,...i->...", whitened, whitened))


def is_positive_definite(covariance: FloatArray, *, tolerance: float = 0.0) -> np.ndarray:
    """Whether each matrix of a stack is symmetric positive definite.

    Symmetry is checked to a relative 1e-9; definiteness by the smallest eigenvalue of the
    symmetric part being above ``tolerance`` times the largest.
    """
    p = np.asarray(covariance, float)
    scale = np.maximum(np.abs(p).max(axis=(-1, -2)), np.finfo(float).tiny)
    symmetric = np.abs(p - np.swapaxes(p, -1, -2)).max(axis=(-1, -2)) <= 1e-9 * scale
    eigenvalues = np.linalg.eigvalsh(symmetrize(p))
    definite = eigenvalues[..., 0] > tolerance * eigenvalues[..., -1]
    return np.asarray(symmetric & definite & np.isfinite(p).all(axis=(-1, -2)))
