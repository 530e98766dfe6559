"""Radar horizon and line of sight over a smooth Earth with 4/3-Earth refraction.

Model: standard atmospheric refraction bends radio rays downward; it is equivalent to straight
rays over a sphere of effective radius ``k·R`` with ``k = 4/3`` (Skolnik, *Introduction to
Radar Systems*, 3rd ed., §8.2). Terrain is not modelled: the Earth is a smooth sphere of mean
radius ``R``, heights are geodetic heights above the ellipsoid.
"""

from __future__ import annotations

import numpy as np

from iamd.core.typing import BoolArray, FloatArray
from iamd.geo.constants import EARTH_RADIUS_MEAN_M, REFRACTION_K


def horizon_distance_m(height_m: FloatArray | float, k: float = REFRACTION_K) -> FloatArray:
    """Straight-line distance from a point at ``height_m`` to its horizon, m.

    ``d = sqrt(2·k·R·h + h²)`` on a sphere of effective radius ``k·R``; for small heights this
    is the familiar ``4.12·sqrt(h)`` km with ``h`` in metres.
    """
    h = np.maximum(np.asarray(height_m, float), 0.0)
    radius = k * EARTH_RADIUS_MEAN_M
    return np.asarray(np.sqrt(2.0 * radius * h + h * h))


def line_of_sight_clear(
    site_ecef_m: FloatArray,
    site_alt_m: float,
    target_ecef_m: FloatArray,
    target_alt_m: FloatArray,
    k: float = REFRACTION_K,
) -> BoolArray:
    """Whether straight (refracted) rays from a site reach each target above the horizon.

    Parameters
    ----------
    site_ecef_m : ndarray, shape (3,)
        Site position, ECEF, m (only its direction from Earth's centre is used).
    site_alt_m : float
        Site height above the ellipsoid, m.
    target_ecef_m : ndarray, shape (N, 3)
        Target positions, ECEF, m.
    target_alt_m : ndarray, shape (N,)
        Target heights above the ellipsoid, m.
    k : float
        Effective-Earth-radius factor (4/3 for standard refraction; 1 for geometric optics).

    Returns
    -------
    ndarray of bool, shape (N,)
        True where the ray between site and target does not pass below the effective sphere.

    Notes
    -----
    The ground angle between the two points is the angle between their ECEF vectors; on the
    effective sphere it shrinks by ``1/k``. Both points are placed at their heights above
    that sphere and the ray is cleared when its closest approach to the centre, within the
    segment, is no lower than the effective radius.
    """
    site = np.asarray(site_ecef_m, float)
    targets = np.atleast_2d(np.asarray(target_ecef_m, float))
    cos_angle = (targets @ site) / (np.linalg.norm(targets, axis=-1) * np.linalg.norm(site))
    ground_angle = np.arccos(np.clip(cos_angle, -1.0, 1.0))
    radius = k * EARTH_RADIUS_MEAN_M
    angle = ground_angle / k
    # Negative ellipsoid heights are real (the geoid dips ~100 m below the ellipsoid in
    # places), so heights are used as they are, not clamped at zero.
    r1 = radius + float(site_alt_m)
    r2 = radius + np.asarray(target_alt_m, float)
    # Site at (r1, 0), target at (r2 cos a, r2 sin a) in the plane of the great circle.
    dx = r2 * np.cos(angle) - r1
    dy = r2 * np.sin(angle)
    length_sq = dx * dx + dy * dy
    s = np.clip(
        np.divide(-r1 * dx, length_sq, out=np.zeros_like(dx), where=length_sq > 0), 0.0, 1.0
    )
    closest_sq = (r1 + s * dx) ** 2 + (s * dy) ** 2
    # A relative tolerance: radius² is ~7e13 m², so an absolute one below float resolution
    # would make points lying on the sphere flip between clear and blocked at random.
    # 1e-12 relative is a few micrometres of height, far above rounding, far below physics.
    return np.asarray(closest_sq >= radius * radius * (1.0 - 1e-12))
