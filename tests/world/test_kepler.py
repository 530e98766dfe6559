"""Closed-form conics: consistency between the formulas and with iamd.world.reach."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.geo import EARTH_MU_M3_S2, EARTH_RADIUS_MEAN_M
from iamd.world import commanded_burnout, vacuum_range_m
from iamd.world.kepler import flight_path_angle, minimum_energy, range_angle, speed_parameter
from iamd.world.reach import burnout_speed_for_range_mps


@pytest.mark.parametrize("range_km", [100.0, 1_000.0, 5_000.0, 12_000.0])
def test_minimum_energy_on_one_radius_is_the_classic_result(range_km: float) -> None:
    phi = range_km * 1e3 / EARTH_RADIUS_MEAN_M
    nu, gamma = minimum_energy(1.0, phi)
    assert float(gamma) == pytest.approx((np.pi - phi) / 4.0, abs=1e-12)
    speed = np.sqrt(float(nu) * EARTH_MU_M3_S2 / EARTH_RADIUS_MEAN_M)
    assert speed == pytest.approx(burnout_speed_for_range_mps(range_km * 1e3), rel=1e-12)
    assert vacuum_range_m(speed) == pytest.approx(range_km * 1e3, rel=1e-12)
    assert float(range_angle(nu, gamma)) == pytest.approx(phi, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    rho=st.floats(0.97, 1.03),
    phi=st.floats(0.005, 2.5),
    excess=st.floats(1.0, 3.0),
    lofted=st.booleans(),
)
def test_flight_path_angle_and_speed_parameter_are_inverse(
    rho: float, phi: float, excess: float, lofted: bool
) -> None:
    nu_min, gamma_star = minimum_energy(rho, phi)
    nu = float(nu_min) * excess
    gamma = float(flight_path_angle(nu, rho, phi, lofted))
    assert (gamma >= float(gamma_star) - 1e-12) if lofted else (gamma <= float(gamma_star) + 1e-12)
    assert float(speed_parameter(rho, phi, gamma)) == pytest.approx(nu, rel=1e-8)


def test_speed_parameter_is_smallest_at_the_minimum_energy_angle() -> None:
    nu_min, gamma_star = minimum_energy(1.01, 0.3)
    around = speed_parameter(1.01, 0.3, float(gamma_star) + np.array([-0.05, 0.05]))
    assert np.all(around > nu_min)


def test_impossible_angles_need_infinite_speed() -> None:
    # Pointing 10° below the horizon cannot reach a point at the same radius.
    assert np.isinf(speed_parameter(1.0, 0.2, np.radians(-10.0)))


def test_loft_rule() -> None:
    rho, phi = np.full(5, 1.0), np.full(5, 0.1)
    nu_min, gamma_star = minimum_energy(1.0, 0.1)
    nu_full = np.full(5, 3.0 * float(nu_min))
    loft = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    nu, gamma = commanded_burnout(nu_full, rho, phi, loft)
    # Minimum energy at 0, full energy on the lofted side.
    assert nu[2] == pytest.approx(float(nu_min))
    assert gamma[2] == pytest.approx(float(gamma_star))
    assert nu[4] == pytest.approx(nu_full[4])
    assert nu[3] == pytest.approx(0.5 * (float(nu_min) + nu_full[3]))
    # Depressed side: never flatter than half the minimum-energy angle.
    assert gamma[0] == pytest.approx(0.5 * float(gamma_star))
    assert np.all(np.diff(gamma) > 0)
    assert nu[1] < nu[0]
    assert nu[3] < nu[4]


def test_loft_rule_when_the_aim_is_out_of_reach_commands_minimum_energy() -> None:
    nu_min, gamma_star = minimum_energy(1.0, 0.5)
    nu, gamma = commanded_burnout(
        np.array([0.5 * float(nu_min)]), np.array([1.0]), np.array([0.5]), np.array([1.0])
    )
    assert nu[0] == pytest.approx(float(nu_min))
    assert gamma[0] == pytest.approx(float(gamma_star))
