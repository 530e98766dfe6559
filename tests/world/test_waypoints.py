"""Waypoint routes: constant speed, arrival time, heading, great circles, holding."""

from __future__ import annotations

import numpy as np
import pymap3d.vincenty as vincenty
import pytest

from iamd.core import ConfigurationError
from iamd.geo import (
    EARTH_RADIUS_MEAN_M,
    ecef_to_geodetic,
    geodetic_to_ecef,
    great_circle_distance_m,
    great_circle_interpolate,
)
from iamd.world import WaypointPath

ROUTE = [(30.0, 120.0), (33.0, 125.0), (31.5, 131.0), (35.0, 135.0)]


def _corner_times(path: WaypointPath) -> np.ndarray:
    points = np.array(ROUTE)
    legs = great_circle_distance_m(points[:-1, 0], points[:-1, 1], points[1:, 0], points[1:, 1])
    return path.start_time_s + np.cumsum(legs)[:-1] / path.speed_mps


@pytest.fixture
def path() -> WaypointPath:
    return WaypointPath(ROUTE, altitude_m=8_000.0, speed_mps=230.0, start_time_s=100.0)


def test_arrival_time_is_length_over_speed(path: WaypointPath) -> None:
    points = np.array(ROUTE)
    length = great_circle_distance_m(points[:-1, 0], points[:-1, 1], points[1:, 0], points[1:, 1])
    assert path.length_m == pytest.approx(float(length.sum()), rel=1e-12)
    assert path.duration_s == pytest.approx(path.length_m / 230.0, rel=1e-12)
    assert path.end_time_s == pytest.approx(100.0 + path.duration_s)
    end = path.platform_state(path.end_time_s)
    assert (end.lat_deg, end.lon_deg) == pytest.approx(ROUTE[-1], abs=1e-9)


def test_ground_speed_is_constant_along_the_great_circles(path: WaypointPath) -> None:
    times = np.linspace(path.start_time_s, path.end_time_s, 4_001)
    lat, lon, _, position, velocity = path.states(times)
    steps = great_circle_distance_m(lat[:-1], lon[:-1], lat[1:], lon[1:]) / np.diff(times)
    # Legs are straight between corners; a step across a corner cuts it and is shorter.
    corners = np.searchsorted(times, _corner_times(path))
    straight = np.ones(steps.size, bool)
    straight[np.clip(corners - 1, 0, steps.size - 1)] = False
    np.testing.assert_allclose(steps[straight], 230.0, rtol=1e-6)
    # The ECEF speed differs from the ground speed only by the ellipsoid's curvature radii.
    # (At the end time itself the object has arrived and holds still.)
    speed = np.linalg.norm(velocity[:-1], axis=1)
    np.testing.assert_allclose(speed, 230.0, rtol=0.008)
    assert np.linalg.norm(velocity[-1]) == 0.0
    _, _, height = ecef_to_geodetic(position)
    np.testing.assert_allclose(height, 8_000.0, atol=1e-6)


def test_velocity_is_the_derivative_of_position(path: WaypointPath) -> None:
    times = np.linspace(path.start_time_s + 10, path.end_time_s - 10, 50)
    _, _, _, _, velocity = path.states(times)
    ahead = path.states(times + 0.05)[3]
    behind = path.states(times - 0.05)[3]
    central = (ahead - behind) / 0.1
    # Skip the samples within 0.05 s of a corner.
    near_corner = np.min(np.abs(times[:, None] - _corner_times(path)[None]), axis=1) < 0.1
    np.testing.assert_allclose(velocity[~near_corner], central[~near_corner], atol=1e-4)


def test_positions_stay_on_the_great_circle_of_each_leg() -> None:
    route = WaypointPath([(10.0, 20.0), (40.0, 60.0)], altitude_m=0.0, speed_mps=300.0)
    times = np.linspace(0.0, route.duration_s, 11)
    lat, lon, _, _, _ = route.states(times)
    expected_lat, expected_lon = great_circle_interpolate(10.0, 20.0, 40.0, 60.0, times / times[-1])
    np.testing.assert_allclose(lat, expected_lat, atol=1e-9)
    np.testing.assert_allclose(lon, expected_lon, atol=1e-9)
    # All points lie in the plane through the Earth's centre and both ends.
    ends = np.radians([[10.0, 20.0], [40.0, 60.0]])
    units = np.stack(
        [
            np.cos(ends[:, 0]) * np.cos(ends[:, 1]),
            np.cos(ends[:, 0]) * np.sin(ends[:, 1]),
            np.sin(ends[:, 0]),
        ],
        -1,
    )
    normal = np.cross(units[0], units[1])
    la, lo = np.radians(lat), np.radians(lon)
    points = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    np.testing.assert_allclose(points @ normal, 0.0, atol=1e-12)
    # The time fraction is the distance fraction.
    flown = great_circle_distance_m(10.0, 20.0, lat, lon)
    np.testing.assert_allclose(flown, 300.0 * times, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize(
    ("start", "end", "heading"),
    [
        ((0.0, 10.0), (0.0, 12.0), 90.0),
        ((0.0, 10.0), (3.0, 10.0), 0.0),
        ((20.0, 10.0), (17.0, 10.0), 180.0),
        ((0.0, 10.0), (0.0, 8.0), 270.0),
    ],
)
def test_heading_on_cardinal_courses(
    start: tuple[float, float], end: tuple[float, float], heading: float
) -> None:
    route = WaypointPath([start, end], altitude_m=0.0, speed_mps=100.0)
    state = route.platform_state(route.duration_s / 2)
    assert np.mod(state.heading_deg - heading + 180.0, 360.0) - 180.0 == pytest.approx(
        0.0, abs=1e-9
    )


def test_heading_is_the_initial_great_circle_course(path: WaypointPath) -> None:
    state = path.platform_state(path.start_time_s + 1e-6)
    _, azimuth = vincenty.vdist(*ROUTE[0], *ROUTE[1])
    # Sphere against ellipsoid azimuth: a few hundredths of a degree apart.
    assert state.heading_deg == pytest.approx(float(azimuth), abs=0.2)
    # The course on a great circle changes along the leg (it is not a rhumb line).
    later = path.platform_state(0.9 * _corner_times(path)[0] + 0.1 * path.start_time_s)
    assert abs(later.heading_deg - state.heading_deg) > 0.5


def test_before_the_start_and_after_the_end_the_object_holds(path: WaypointPath) -> None:
    before = path.states(np.array([0.0, 99.0]))
    np.testing.assert_allclose(before[0], ROUTE[0][0])
    np.testing.assert_allclose(before[1], ROUTE[0][1])
    np.testing.assert_allclose(before[4], 0.0)
    after = path.platform_state(path.end_time_s + 3_600.0)
    assert (after.lat_deg, after.lon_deg) == pytest.approx(ROUTE[-1], abs=1e-9)
    np.testing.assert_allclose(after.position_ecef_m, geodetic_to_ecef(*ROUTE[-1], 8_000.0))
    arrival = path.platform_state(path.end_time_s - 1e-3)
    assert after.heading_deg == pytest.approx(arrival.heading_deg, abs=1e-3)
    assert path.states(path.end_time_s + 1.0)[4] == pytest.approx(np.zeros((1, 3)))


def test_repeated_waypoints_take_no_time() -> None:
    plain = WaypointPath([(0.0, 0.0), (0.0, 1.0)], altitude_m=0.0, speed_mps=100.0)
    doubled = WaypointPath(
        [(0.0, 0.0), (0.0, 0.0), (0.0, 1.0), (0.0, 1.0)], altitude_m=0.0, speed_mps=100.0
    )
    assert doubled.duration_s == pytest.approx(plain.duration_s)
    assert doubled.platform_state(300.0).lon_deg == pytest.approx(
        plain.platform_state(300.0).lon_deg
    )


def test_zero_speed_holds_at_the_first_waypoint() -> None:
    ship = WaypointPath([(10.0, 10.0), (11.0, 10.0)], altitude_m=0.0, speed_mps=0.0)
    assert np.isinf(ship.duration_s)
    state = ship.platform_state(1e6)
    assert (state.lat_deg, state.lon_deg) == pytest.approx((10.0, 10.0))
    assert state.heading_deg == pytest.approx(0.0, abs=1e-9)


def test_knots_cover_the_route_with_corners_twice(path: WaypointPath) -> None:
    times, positions, velocities = path.knots(30.0)
    assert times[0] == pytest.approx(path.start_time_s)
    assert times[-1] == pytest.approx(path.end_time_s)
    assert np.all(np.diff(times) >= 0.0)
    assert np.max(np.diff(times)) <= 30.0 + 1e-9
    assert int(np.sum(np.diff(times) == 0.0)) == len(ROUTE) - 2
    assert positions.shape == velocities.shape == (times.size, 3)


@pytest.mark.parametrize(
    ("waypoints", "speed", "match"),
    [
        ([(0.0, 0.0)], 10.0, "at least two"),
        ([(0.0, 0.0), (95.0, 0.0)], 10.0, "latitudes"),
        ([(0.0, 0.0), (1.0, 0.0)], -1.0, "speed_mps"),
        ([(0.0, 0.0), (0.0, 180.0)], 10.0, "antipodal"),
        ([(0.0, 0.0), (float("nan"), 0.0)], 10.0, "finite"),
    ],
)
def test_invalid_routes_are_refused(
    waypoints: list[tuple[float, float]], speed: float, match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        WaypointPath(waypoints, altitude_m=0.0, speed_mps=speed)


def test_radius_of_the_ground_track_is_the_mean_radius() -> None:
    route = WaypointPath([(0.0, 0.0), (0.0, 90.0)], altitude_m=0.0, speed_mps=1_000.0)
    assert route.length_m == pytest.approx(EARTH_RADIUS_MEAN_M * np.pi / 2)
