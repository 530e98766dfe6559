"""Frames: round trips (hypothesis), ENU orthonormality, great circles against Vincenty."""

from __future__ import annotations

import numpy as np
import pymap3d.vincenty as vincenty
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.geo import (
    EARTH_RADIUS_MEAN_M,
    WGS84_A_M,
    WGS84_B_M,
    aer_to_ecef,
    ecef_to_aer,
    ecef_to_enu_matrix,
    ecef_to_geodetic,
    enu_to_ecef_vector,
    geodetic_to_ecef,
    great_circle_distance_m,
    great_circle_interpolate,
)

latitudes = st.floats(-89.999, 89.999)
longitudes = st.floats(-180.0, 179.999)
# pymap3d's closed-form inversion (You 2000) is exact to nanometres up to 100 km and to
# ~1 cm at 1000 km, the domain of threats and aircraft; it degrades beyond (≈ 90 m at GEO).
heights = st.floats(-1_000.0, 1_000_000.0)


@settings(max_examples=300, deadline=None)
@given(lat=latitudes, lon=longitudes, alt=heights)
def test_geodetic_ecef_geodetic_round_trip(lat: float, lon: float, alt: float) -> None:
    ecef = geodetic_to_ecef(lat, lon, alt)
    lat2, lon2, alt2 = ecef_to_geodetic(ecef)
    assert float(alt2) == pytest.approx(alt, abs=1e-6)
    assert float(lat2) == pytest.approx(lat, abs=1e-7)  # 1 cm
    assert float(np.mod(lon2 - lon + 180.0, 360.0) - 180.0) == pytest.approx(0.0, abs=1e-7)
    # And the position itself comes back to within a centimetre.
    back = geodetic_to_ecef(lat2, lon2, alt2)
    assert np.linalg.norm(back - ecef) < 0.01


def test_geodetic_to_ecef_known_points() -> None:
    np.testing.assert_allclose(geodetic_to_ecef(0.0, 0.0, 0.0), [WGS84_A_M, 0.0, 0.0])
    np.testing.assert_allclose(
        geodetic_to_ecef(0.0, 90.0, 10.0), [0.0, WGS84_A_M + 10, 0.0], atol=1e-6
    )
    np.testing.assert_allclose(geodetic_to_ecef(90.0, 0.0, 0.0), [0.0, 0.0, WGS84_B_M], atol=1e-6)


def test_geodetic_to_ecef_broadcasts() -> None:
    out = geodetic_to_ecef(np.array([0.0, 10.0, 20.0]), 5.0, 0.0)
    assert out.shape == (3, 3)


@settings(max_examples=300, deadline=None)
@given(
    lat=latitudes,
    lon=longitudes,
    alt=st.floats(-100.0, 5_000.0),
    east=st.floats(-500e3, 500e3),
    north=st.floats(-500e3, 500e3),
    up=st.floats(-5e3, 800e3),
)
def test_ecef_aer_ecef_round_trip(
    lat: float, lon: float, alt: float, east: float, north: float, up: float
) -> None:
    site = geodetic_to_ecef(lat, lon, alt)
    target = site + enu_to_ecef_vector(np.array([east, north, up]), lat, lon)
    aer = ecef_to_aer(target, site, lat, lon)
    assert 0.0 <= aer[0] < 2 * np.pi
    assert -np.pi / 2 <= aer[1] <= np.pi / 2
    assert aer[2] == pytest.approx(np.linalg.norm(target - site), rel=1e-12, abs=1e-6)
    np.testing.assert_allclose(aer_to_ecef(aer, site, lat, lon), target, atol=1e-6)


def test_aer_conventions() -> None:
    """Azimuth clockwise from north, elevation above the horizontal plane."""
    site = geodetic_to_ecef(35.0, 139.0, 0.0)
    for enu, azimuth_deg, elevation_deg in [
        ([0.0, 1000.0, 0.0], 0.0, 0.0),
        ([1000.0, 0.0, 0.0], 90.0, 0.0),
        ([0.0, -1000.0, 1000.0], 180.0, 45.0),
        ([-1000.0, 0.0, 0.0], 270.0, 0.0),
    ]:
        target = site + enu_to_ecef_vector(np.array(enu), 35.0, 139.0)
        az, el, _ = ecef_to_aer(target, site, 35.0, 139.0)
        assert np.degrees(az) == pytest.approx(azimuth_deg, abs=1e-9)
        assert np.degrees(el) == pytest.approx(elevation_deg, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(lat=latitudes, lon=longitudes)
def test_enu_matrix_is_a_rotation_with_up_along_the_normal(lat: float, lon: float) -> None:
    rotation = ecef_to_enu_matrix(lat, lon)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    # "Up" is the ellipsoid normal: moving along it changes only the height.
    base = geodetic_to_ecef(lat, lon, 0.0)
    _, _, alt = ecef_to_geodetic(base + 1000.0 * rotation[2])
    assert float(alt) == pytest.approx(1000.0, abs=1e-6)


pairs = st.tuples(latitudes, longitudes, latitudes, longitudes)


@settings(max_examples=300, deadline=None)
@given(points=pairs)
def test_great_circle_distance_matches_vincenty(points: tuple[float, ...]) -> None:
    lat1, lon1, lat2, lon2 = points
    geodesic, _ = vincenty.vdist(lat1, lon1, lat2, lon2)
    geodesic = float(geodesic)
    # Vincenty does not converge for nearly antipodal points; the sphere is not at fault.
    if not np.isfinite(geodesic) or geodesic < 1.0 or geodesic > 19_900e3:
        return
    sphere = float(great_circle_distance_m(lat1, lon1, lat2, lon2))
    # The mean-radius sphere against the ellipsoid: worst case is a short north-south arc at
    # the equator, where the meridian radius of curvature a(1−e²) is 0.56 % below R.
    worst = EARTH_RADIUS_MEAN_M / (WGS84_A_M * (1 - (1 - (WGS84_B_M / WGS84_A_M) ** 2))) - 1
    assert worst == pytest.approx(0.0056, abs=1e-4)
    assert abs(sphere / geodesic - 1.0) <= worst + 1e-5


@pytest.mark.parametrize(
    ("lat1", "lon1", "lat2", "lon2"),
    [
        (35.68, 139.69, 37.57, 126.98),  # Tokyo - Seoul
        (25.03, 121.56, 14.60, 120.98),  # Taipei - Manila
        (51.5, -0.13, 40.71, -74.01),  # London - New York
        (0.0, 0.0, 0.0, 90.0),  # a quarter of the equator
    ],
)
def test_great_circle_distance_within_half_a_percent_on_real_routes(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    geodesic, _ = vincenty.vdist(lat1, lon1, lat2, lon2)
    sphere = great_circle_distance_m(lat1, lon1, lat2, lon2)
    assert abs(float(sphere) / float(geodesic) - 1.0) < 0.005


def test_great_circle_interpolate_ends_and_midpoint() -> None:
    lat, lon = great_circle_interpolate(10.0, 20.0, 40.0, 60.0, np.array([0.0, 0.5, 1.0]))
    assert (lat[0], lon[0]) == pytest.approx((10.0, 20.0))
    assert (lat[2], lon[2]) == pytest.approx((40.0, 60.0))
    first = great_circle_distance_m(10.0, 20.0, lat[1], lon[1])
    second = great_circle_distance_m(lat[1], lon[1], 40.0, 60.0)
    assert float(first) == pytest.approx(float(second), rel=1e-9)
    total = great_circle_distance_m(10.0, 20.0, 40.0, 60.0)
    assert float(first + second) == pytest.approx(float(total), rel=1e-9)


def test_great_circle_interpolate_identical_points() -> None:
    lat, lon = great_circle_interpolate(5.0, 6.0, 5.0, 6.0, np.array([0.3, 0.7]))
    np.testing.assert_allclose(lat, 5.0)
    np.testing.assert_allclose(lon, 6.0)


def test_closed_form_geodetic_matches_the_forward_transform_and_pymap3d() -> None:
    import pymap3d

    rng = np.random.default_rng(3)
    lat = np.concatenate([[90.0, -90.0, 0.0, 1e-9, -89.99999], rng.uniform(-90, 90, 5000)])
    lon = rng.uniform(-180, 180, lat.size)
    alt = np.concatenate(
        [rng.uniform(-1000, 1e5, lat.size // 2), rng.uniform(1e5, 4.5e7, lat.size - lat.size // 2)]
    )
    ecef = geodetic_to_ecef(lat, lon, alt)
    back_lat, back_lon, back_alt = ecef_to_geodetic(ecef)
    np.testing.assert_allclose(back_alt, alt, atol=1e-6)
    np.testing.assert_allclose(back_lat, lat, atol=1e-10)
    wrapped = (back_lon - lon + 180.0) % 360.0 - 180.0
    assert np.abs(wrapped[np.abs(lat) < 89.9]).max() < 1e-10
    _, _, reference = pymap3d.ecef2geodetic(ecef[:, 0], ecef[:, 1], ecef[:, 2])
    np.testing.assert_allclose(back_alt, reference, atol=1e-3)
