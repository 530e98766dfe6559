"""Horizon distance and line of sight over the 4/3-Earth against constructed geometry."""

from __future__ import annotations

import numpy as np
import pytest

from iamd.geo import (
    EARTH_RADIUS_MEAN_M,
    REFRACTION_K,
    geodetic_to_ecef,
    horizon_distance_m,
    line_of_sight_clear,
)


def test_ten_metre_mast_sees_thirteen_kilometres() -> None:
    # The radar rule of thumb d ≈ 4.12·√h km (h in m) for the 4/3 Earth.
    assert float(horizon_distance_m(10.0)) == pytest.approx(13.0e3, rel=0.005)
    assert float(horizon_distance_m(10.0)) == pytest.approx(4.12e3 * np.sqrt(10.0), rel=0.002)


@pytest.mark.parametrize("height_m", [1.0, 30.0, 1_000.0, 10_000.0, 400_000.0])
def test_horizon_distance_is_the_tangent_length(height_m: float) -> None:
    radius = REFRACTION_K * EARTH_RADIUS_MEAN_M
    tangent = np.sqrt((radius + height_m) ** 2 - radius**2)
    # (the difference of squares loses digits for small heights, hence 1e-7)
    assert float(horizon_distance_m(height_m)) == pytest.approx(tangent, rel=1e-7)


def test_horizon_without_refraction_is_shorter() -> None:
    assert float(horizon_distance_m(100.0, k=1.0)) == pytest.approx(
        float(horizon_distance_m(100.0)) / np.sqrt(REFRACTION_K), rel=1e-4
    )


def test_horizon_distance_of_negative_heights_is_zero() -> None:
    np.testing.assert_array_equal(horizon_distance_m(np.array([-5.0, 0.0])), [0.0, 0.0])


def _limit_ground_angle(site_alt_m: float, target_alt_m: float, k: float = REFRACTION_K) -> float:
    """Ground angle at which the ray between two heights grazes the effective sphere."""
    radius = k * EARTH_RADIUS_MEAN_M
    effective = np.arccos(radius / (radius + site_alt_m)) + np.arccos(
        radius / (radius + target_alt_m)
    )
    return float(k * effective)


@pytest.mark.parametrize(
    ("site_alt_m", "target_alt_m"), [(10.0, 10.0), (30.0, 1_000.0), (100.0, 20_000.0)]
)
@pytest.mark.parametrize("k", [REFRACTION_K, 1.0])
def test_line_of_sight_just_inside_and_just_beyond_the_horizon(
    site_alt_m: float, target_alt_m: float, k: float
) -> None:
    limit = _limit_ground_angle(site_alt_m, target_alt_m, k)
    site = geodetic_to_ecef(0.0, 0.0, site_alt_m)
    angles = np.degrees(limit * np.array([0.98, 0.999, 1.001, 1.02]))
    targets = geodetic_to_ecef(np.zeros(4), angles, target_alt_m)
    clear = line_of_sight_clear(site, site_alt_m, targets, np.full(4, target_alt_m), k=k)
    np.testing.assert_array_equal(clear, [True, True, False, False])


def test_line_of_sight_is_clear_overhead_and_blocked_at_the_antipode() -> None:
    site = geodetic_to_ecef(40.0, 10.0, 20.0)
    targets = np.stack([geodetic_to_ecef(40.0, 10.0, 50e3), geodetic_to_ecef(-40.0, -170.0, 50e3)])
    clear = line_of_sight_clear(site, 20.0, targets, np.array([50e3, 50e3]))
    np.testing.assert_array_equal(clear, [True, False])


def test_a_ground_target_is_seen_only_within_the_site_horizon() -> None:
    site_alt = 25.0
    reach_m = float(horizon_distance_m(site_alt))
    site = geodetic_to_ecef(0.0, 0.0, site_alt)
    angles = np.degrees(np.array([0.97, 1.03]) * reach_m / EARTH_RADIUS_MEAN_M)
    targets = geodetic_to_ecef(np.zeros(2), angles, 0.0)
    np.testing.assert_array_equal(
        line_of_sight_clear(site, site_alt, targets, np.zeros(2)), [True, False]
    )
