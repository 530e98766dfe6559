"""Equations of motion against closed forms: gravity, potential, energy, drag, vacuum flights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.geo import (
    EARTH_J2,
    EARTH_MU_M3_S2,
    EARTH_RADIUS_MEAN_M,
    WGS84_A_M,
    ecef_to_geodetic,
    enu_to_ecef_vector,
    geodetic_to_ecef,
)
from iamd.world import Dynamics, rk4_step, vacuum_range_m
from iamd.world.kepler import minimum_energy, range_angle, vertical_apogee_height_m

NO_DRAG = np.zeros(1)


def _coast_to_surface(
    dynamics: Dynamics, state: np.ndarray, dt: float, surface_m: float = 0.0
) -> tuple[np.ndarray, float, float]:
    """Integrate one state until it comes down through a height; returns state, time, apogee."""
    s = np.asarray(state, float)[None]
    t, apogee = 0.0, -np.inf
    while True:
        new = rk4_step(dynamics, s, dt, inverse_beta_m2_kg=NO_DRAG)
        h0 = float(dynamics.height_m(s[:, :3])[0]) - surface_m
        h1 = float(dynamics.height_m(new[:, :3])[0]) - surface_m
        apogee = max(apogee, h1)
        if h0 > 0.0 >= h1 and t > 0.0:
            # Cubic Hermite on the last step, root by bisection: exact enough for 1e-9.
            lo, hi = 0.0, 1.0
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                p = _hermite(s[0], new[0], dt, mid)
                if float(dynamics.height_m(p[None])[0]) - surface_m > 0.0:
                    lo = mid
                else:
                    hi = mid
            return _hermite(s[0], new[0], dt, lo), t + lo * dt, apogee
        s, t = new, t + dt


def _hermite(a: np.ndarray, b: np.ndarray, dt: float, x: float) -> np.ndarray:
    x2, x3 = x * x, x**3
    return (
        (2 * x3 - 3 * x2 + 1) * a[:3]
        + (x3 - 2 * x2 + x) * dt * a[3:]
        + (3 * x2 - 2 * x3) * b[:3]
        + (x3 - x2) * dt * b[3:]
    )


def _launch_state(speed_mps: float, flight_path_deg: float, radius_m: float) -> np.ndarray:
    """On the equator of a sphere, flying east at a flight-path angle."""
    gamma = np.radians(flight_path_deg)
    return np.array([radius_m, 0.0, 0.0, speed_mps * np.sin(gamma), speed_mps * np.cos(gamma), 0.0])


def test_point_mass_gravity_and_j2_at_equator_and_pole() -> None:
    dynamics = Dynamics()
    r = WGS84_A_M + 500e3
    points = np.array([[r, 0.0, 0.0], [0.0, 0.0, r]])
    g = dynamics.gravity(points)
    central = EARTH_MU_M3_S2 / r**2
    factor = (WGS84_A_M / r) ** 2
    # Standard J2 results: 1 + 3/2·J2·(a/r)² at the equator, 1 − 3·J2·(a/r)² at the pole.
    assert -g[0, 0] == pytest.approx(central * (1 + 1.5 * EARTH_J2 * factor), rel=1e-12)
    assert -g[1, 2] == pytest.approx(central * (1 - 3.0 * EARTH_J2 * factor), rel=1e-12)
    np.testing.assert_allclose(g[0, 1:], 0.0, atol=1e-15)
    point_mass = Dynamics(j2=0.0).gravity(points)
    np.testing.assert_allclose(np.linalg.norm(point_mass, axis=1), central, rtol=1e-14)


@settings(max_examples=50, deadline=None)
@given(
    lat=st.floats(-89.0, 89.0),
    lon=st.floats(-180.0, 180.0),
    height=st.floats(0.0, 2_000e3),
)
def test_acceleration_at_rest_is_minus_the_potential_gradient(
    lat: float, lon: float, height: float
) -> None:
    dynamics = Dynamics(sea_level_density_kg_m3=0.0)
    p = geodetic_to_ecef(lat, lon, height)
    step = 1.0
    gradient = np.array(
        [
            (
                dynamics.potential_m2_s2((p + step * e)[None])[0]
                - dynamics.potential_m2_s2((p - step * e)[None])[0]
            )
            / (2 * step)
            for e in np.eye(3)
        ]
    )
    a = dynamics.acceleration(p[None], np.zeros((1, 3)), inverse_beta_m2_kg=NO_DRAG)[0]
    np.testing.assert_allclose(a, -gradient, atol=1e-7)


def test_coriolis_deflects_to_the_right_in_the_north() -> None:
    dynamics = Dynamics(j2=0.0, sea_level_density_kg_m3=0.0)
    p = geodetic_to_ecef(45.0, 0.0, 0.0)[None]
    north = enu_to_ecef_vector(np.array([0.0, 1000.0, 0.0]), 45.0, 0.0)[None]
    at_rest = dynamics.acceleration(p, np.zeros((1, 3)), inverse_beta_m2_kg=NO_DRAG)
    moving = dynamics.acceleration(p, north, inverse_beta_m2_kg=NO_DRAG)
    east = enu_to_ecef_vector(np.array([1.0, 0.0, 0.0]), 45.0, 0.0)
    coriolis_east = float((moving - at_rest)[0] @ east)
    # 2·Ω·v·sin(latitude) to the right (east) of a northbound object.
    assert coriolis_east == pytest.approx(2 * 7.2921150e-5 * 1000.0 * np.sin(np.pi / 4), rel=1e-9)


def test_drag_balances_gravity_at_terminal_speed() -> None:
    dynamics = Dynamics(j2=0.0, rotation_rad_s=0.0, sphere_radius_m=EARTH_RADIUS_MEAN_M)
    beta = 10_000.0
    height = 5_000.0
    r = EARTH_RADIUS_MEAN_M + height
    g = EARTH_MU_M3_S2 / r**2
    rho = 1.225 * np.exp(-height / 7_200.0)
    terminal = np.sqrt(2 * beta * g / rho)  # ½ρv²/β = g
    a = dynamics.acceleration(
        np.array([[r, 0.0, 0.0]]),
        np.array([[-terminal, 0.0, 0.0]]),
        inverse_beta_m2_kg=np.array([1 / beta]),
    )
    np.testing.assert_allclose(a, 0.0, atol=1e-12)


def test_height_is_the_geodetic_height_to_six_parts_per_million() -> None:
    rng = np.random.default_rng(3)
    lat = rng.uniform(-90, 90, 20_000)
    lon = rng.uniform(-180, 180, 20_000)
    height = rng.uniform(-1_000, 3_000e3, 20_000)
    approximate = Dynamics().height_m(geodetic_to_ecef(lat, lon, height))
    assert np.all(np.abs(approximate - height) <= 6e-6 * np.abs(height) + 1e-6)
    # Exact on the ellipsoid itself, where impacts are found.
    on_surface = Dynamics().height_m(geodetic_to_ecef(lat, lon, 0.0))
    np.testing.assert_allclose(on_surface, 0.0, atol=1e-6)


@pytest.mark.parametrize("step_s", [1.0, 10.0])
def test_specific_energy_is_conserved_without_drag_and_thrust(step_s: float) -> None:
    """The Jacobi integral of the rotating frame, with J2 and rotation on, over 25 minutes."""
    dynamics = Dynamics(sea_level_density_kg_m3=0.0)
    position = geodetic_to_ecef(35.0, 125.0, 100e3)
    velocity = enu_to_ecef_vector(np.array([3000.0, 4000.0, 3000.0]), 35.0, 125.0)
    state = np.concatenate([position, velocity])[None]
    start = dynamics.jacobi_energy_m2_s2(state[:, :3], state[:, 3:])[0]
    drift = 0.0
    for _ in range(int(1500 / step_s)):
        state = rk4_step(dynamics, state, step_s, inverse_beta_m2_kg=NO_DRAG)
        energy = dynamics.jacobi_energy_m2_s2(state[:, :3], state[:, 3:])[0]
        drift = max(drift, abs(energy / start - 1.0))
    assert drift < (1e-12 if step_s == 1.0 else 1e-9)


def test_drag_removes_energy() -> None:
    dynamics = Dynamics()
    state = np.concatenate(
        [geodetic_to_ecef(0.0, 0.0, 20e3), enu_to_ecef_vector(np.array([2000.0, 0, 0]), 0, 0)]
    )[None]
    start = dynamics.jacobi_energy_m2_s2(state[:, :3], state[:, 3:])[0]
    for _ in range(20):
        state = rk4_step(dynamics, state, 0.5, inverse_beta_m2_kg=np.array([1e-4]))
    assert dynamics.jacobi_energy_m2_s2(state[:, :3], state[:, 3:])[0] < start - 1e4


@pytest.mark.parametrize("speed_mps", [1_000.0, 3_000.0, 5_000.0, 6_500.0])
def test_minimum_energy_vacuum_range_on_a_sphere_matches_the_closed_form(
    speed_mps: float,
) -> None:
    radius = EARTH_RADIUS_MEAN_M
    dynamics = Dynamics.vacuum_sphere(radius)
    expected = vacuum_range_m(speed_mps, radius)
    gamma = np.degrees((np.pi - expected / radius) / 4.0)  # γ* = (π − Ψ)/4
    impact, _, _ = _coast_to_surface(dynamics, _launch_state(speed_mps, gamma, radius), 0.5)
    flown = radius * np.arctan2(impact[1], impact[0])
    assert flown == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("flight_path_deg", [10.0, 30.0, 60.0, 80.0])
def test_vacuum_range_at_any_angle_matches_the_closed_form(flight_path_deg: float) -> None:
    radius = EARTH_RADIUS_MEAN_M
    speed = 4_000.0
    dynamics = Dynamics.vacuum_sphere(radius)
    impact, _, _ = _coast_to_surface(dynamics, _launch_state(speed, flight_path_deg, radius), 0.5)
    nu = speed**2 * radius / EARTH_MU_M3_S2
    expected = radius * float(range_angle(nu, np.radians(flight_path_deg)))
    assert radius * np.arctan2(impact[1], impact[0]) == pytest.approx(expected, rel=1e-7)


def test_minimum_energy_angle_beats_its_neighbours() -> None:
    radius = EARTH_RADIUS_MEAN_M
    speed = 3_000.0
    nu = speed**2 * radius / EARTH_MU_M3_S2
    _, gamma_star = minimum_energy(1.0, vacuum_range_m(speed, radius) / radius)
    ranges = range_angle(nu, gamma_star + np.radians([-2.0, 0.0, 2.0]))
    assert ranges[1] > ranges[0]
    assert ranges[1] > ranges[2]


@pytest.mark.parametrize("speed_mps", [500.0, 2_000.0, 5_000.0])
def test_vertical_shot_apogee_matches_energy_conservation(speed_mps: float) -> None:
    radius = EARTH_RADIUS_MEAN_M
    dynamics = Dynamics.vacuum_sphere(radius)
    _, flight_time, apogee = _coast_to_surface(
        dynamics, _launch_state(speed_mps, 90.0, radius), 0.1
    )
    expected = vertical_apogee_height_m(speed_mps, radius, EARTH_MU_M3_S2)
    # h = v²r²/(2μ − v²r) tends to v²/(2g) for slow shots (the gap is h/r, 0.2 % here).
    if speed_mps == 500.0:
        g = EARTH_MU_M3_S2 / radius**2
        assert expected == pytest.approx(speed_mps**2 / (2 * g), rel=2.5e-3)
    # The sampled maximum lies within g·dt²/8 (1 cm here) below the true apogee.
    assert apogee == pytest.approx(expected, rel=2e-6)
    assert apogee <= expected * (1 + 1e-9)
    assert flight_time > 2 * speed_mps / (EARTH_MU_M3_S2 / radius**2) * 0.99


def test_rotation_moves_a_vertical_shot_west() -> None:
    """A vertical shot lands west of its launch point (Coriolis, e.g. Goldstein §4.10)."""
    radius = WGS84_A_M
    speed = 1_000.0
    launch = geodetic_to_ecef(0.0, 0.0, 0.0)
    state = np.concatenate([launch, [speed, 0.0, 0.0]])
    impact, flight_time, _ = _coast_to_surface(
        Dynamics(j2=0.0, sea_level_density_kg_m3=0.0), state, 0.2
    )
    _, lon, _ = ecef_to_geodetic(impact)
    drift_m = np.radians(float(lon)) * radius
    g = EARTH_MU_M3_S2 / radius**2
    # Flat-Earth closed form: westward drift (4/3)·Ω·g·(t/2)³ for a flight of t seconds.
    expected = 4.0 / 3.0 * 7.2921150e-5 * g * (flight_time / 2) ** 3
    assert drift_m < 0.0
    assert -drift_m == pytest.approx(expected, rel=0.05)
