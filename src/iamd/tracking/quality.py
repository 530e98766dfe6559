"""Track quality: a 0–15 figure from the position covariance and the age of the last update.

Networked tracking links compress "how good is this track now" into a small integer, so
that receivers can pick the best report of an object without reading covariances (the
public idea behind Link-16's track quality). This module defines its own, documented
version of that idea; no bin edge comes from any standard.

Definition
----------
1. Extrapolate the worst-axis position standard deviation by the age ``τ`` of the last
   update, with the velocity uncertainty and a white-noise acceleration of power spectral
   density ``q`` ([1]_ §6.2)::

       σ(τ)² = (σ_p + τ σ_v)² + q τ³ / 3

   where ``σ_p = sqrt(λmax(P_pos))`` and ``σ_v = sqrt(λmax(P_vel))`` (0 when only the
   position block is given). ``σ_p + τ σ_v`` bounds the worst-axis standard deviation of
   ``p + τ v`` whatever the position–velocity correlation (triangle inequality), so
   quality never rises while a track ages without an update.
2. Take the radius of the 95 % error sphere, ``r95 = sqrt(χ²₃(0.95)) · σ(τ) ≈ 2.80 σ(τ)``:
   the sphere that contains the 95 % ellipsoid of a 3-D Gaussian with that worst axis.
3. Bin it on 15 log-spaced edges ``b_k = 6 m · 3000^(k/14)``, ``k = 0 … 14``, from 6 m to
   18 km (each about 1.77 times the one before)::

       TQ = 15 − #{k : r95 ≥ b_k}

   =====  =================  =====  =================
   TQ     r95 below           TQ     r95 below
   =====  =================  =====  =================
   15     6 m                 7      582 m
   14     10.6 m              6      1.03 km
   13     18.8 m              5      1.83 km
   12     33.4 m              4      3.24 km
   11     59.1 m              3      5.74 km
   10     105 m               2      10.2 km
   9      186 m               1      18 km
   8      329 m               0      18 km or more
   =====  =================  =====  =================

Quality is monotone: a larger covariance (in the Loewner order) or an older update never
gives a higher number. A non-finite covariance gives 0.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §6.2 (white-noise acceleration model, covariance
   prediction).
.. [2] S. S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
   Artech House, 1999 (track quality in track reporting between systems).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

from iamd.core.typing import FloatArray, IntArray

MAX_QUALITY = 15
"""Best track quality."""

QUALITY_EDGES_M: FloatArray = 6.0 * 3000.0 ** (np.arange(15) / 14.0)
"""The 15 bin edges of the 95 % error radius, m: ``6 m · 3000^(k/14)``, 6 m … 18 km."""

_R95_PER_SIGMA = math.sqrt(float(chi2.ppf(0.95, 3)))


def _block_sigma(covariance: FloatArray, start: int) -> FloatArray:
    """``sqrt(λmax)`` of the 3 × 3 diagonal block starting at ``start``."""
    block = covariance[..., start : start + 3, start : start + 3]
    finite = np.asarray(np.isfinite(block).all(axis=(-1, -2)))
    safe = np.where(finite[..., None, None], block, 0.0)
    largest = np.linalg.eigvalsh(0.5 * (safe + np.swapaxes(safe, -1, -2)))[..., -1]
    return np.asarray(np.where(finite, np.sqrt(np.maximum(largest, 0.0)), np.inf))


def position_sigma_m(covariance: npt.ArrayLike) -> FloatArray:
    """Worst-axis position standard deviation ``sqrt(λmax(P_pos))``.

    Parameters
    ----------
    covariance : array_like, shape (..., 3, 3) or (..., 6, 6)
        Position covariance, or position–velocity state covariance (position first),
        ECEF, SI units.

    Returns
    -------
    ndarray, shape (...)
        Standard deviation along the worst axis, m (``inf`` for a non-finite covariance).

    Examples
    --------
    >>> float(position_sigma_m(np.diag([9.0, 16.0, 4.0])))
    4.0
    """
    p = _state_covariance(covariance)
    return _block_sigma(p, 0)


def position_error_radius_95_m(
    covariance: npt.ArrayLike, age_s: npt.ArrayLike = 0.0, *, acceleration_psd_m2_s3: float = 1.0
) -> FloatArray:
    """Radius of the 95 % position error sphere after extrapolating by the update age.

    Parameters
    ----------
    covariance : array_like, shape (..., 3, 3) or (..., 6, 6)
        Position covariance (m²) or position–velocity state covariance (position first, m,
        m/s), ECEF, at the time of the last update.
    age_s : array_like, shape (...)
        Time since the last update, s (≥ 0).
    acceleration_psd_m2_s3 : float, optional
        Power spectral density ``q`` of the white-noise acceleration per axis, m²/s³.

    Returns
    -------
    ndarray, shape (...)
        ``r95``, m (see the module notes).

    Examples
    --------
    >>> P = np.diag([100.0, 100.0, 100.0, 1.0, 1.0, 1.0])
    >>> position_error_radius_95_m(P, [0.0, 10.0], acceleration_psd_m2_s3=0.0).round(2)
    array([27.95, 55.91])
    """
    p = _state_covariance(covariance)
    age = np.asarray(age_s, dtype=float)
    if (age < 0.0).any():
        raise ValueError("age_s must be ≥ 0")
    if acceleration_psd_m2_s3 < 0.0:
        raise ValueError(f"acceleration_psd_m2_s3 must be ≥ 0 (got {acceleration_psd_m2_s3})")
    sigma_p = _block_sigma(p, 0)
    sigma_v = _block_sigma(p, 3) if p.shape[-1] == 6 else np.zeros_like(sigma_p)
    with np.errstate(invalid="ignore"):  # inf · 0 for a non-finite velocity block, age 0
        spread = sigma_p + np.where(age > 0.0, age * sigma_v, 0.0)
    variance = spread**2 + acceleration_psd_m2_s3 * age**3 / 3.0
    return np.asarray(_R95_PER_SIGMA * np.sqrt(variance))


def track_quality(
    covariance: npt.ArrayLike, age_s: npt.ArrayLike = 0.0, *, acceleration_psd_m2_s3: float = 1.0
) -> IntArray:
    """Track quality 0–15 from the covariance and the age of the last update.

    Parameters
    ----------
    covariance : array_like, shape (..., 3, 3) or (..., 6, 6)
        Position covariance (m²) or position–velocity state covariance (position first),
        ECEF, at the time of the last update.
    age_s : array_like, shape (...)
        Time since the last update, s (≥ 0).
    acceleration_psd_m2_s3 : float, optional
        Power spectral density ``q`` of the white-noise acceleration per axis, m²/s³.

    Returns
    -------
    ndarray of int, shape (...)
        Quality, 15 (r95 < 6 m) down to 0 (r95 ≥ 18 km or a non-finite covariance).

    Examples
    --------
    A 10 m track (5 m/s) is TQ 12 when fresh, and loses quality as it coasts:

    >>> P = np.diag([100.0, 100.0, 100.0, 25.0, 25.0, 25.0])
    >>> track_quality(P, [0.0, 10.0, 60.0, 600.0]).tolist()
    [12, 9, 5, 0]
    """
    radius = position_error_radius_95_m(
        covariance, age_s, acceleration_psd_m2_s3=acceleration_psd_m2_s3
    )
    bins = np.searchsorted(QUALITY_EDGES_M, radius, side="right")
    quality = np.where(np.isfinite(radius), MAX_QUALITY - bins, 0)
    return np.asarray(quality, dtype=np.int64)


def _state_covariance(covariance: npt.ArrayLike) -> FloatArray:
    p = np.asarray(covariance, dtype=float)
    if p.ndim < 2 or p.shape[-1] != p.shape[-2] or p.shape[-1] not in (3, 6):
        raise ValueError(f"covariance must have shape (..., 3, 3) or (..., 6, 6) (got {p.shape})")
    return p
