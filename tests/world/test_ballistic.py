"""Ballistic trajectory solver: aim, loft, phases, Earth rotation and drag, errors."""

from __future__ import annotations

import numpy as np
import pytest
from world_fixtures import aimed

from iamd.core import ConfigurationError
from iamd.geo import enu_to_ecef_vector, geodetic_to_ecef
from iamd.world import (
    MIN_RANGE_M,
    MISS_LIMIT_M,
    BallisticSolution,
    BallisticThreatSpec,
    Dynamics,
    RangeClass,
    class_burnout_speed_mps,
    fly_ballistic,
    max_range_m,
    solve_ballistic,
)

# (range class, fraction of the reach, azimuth, loft, launch latitude, launch longitude)
CASES = [
    (RangeClass.CRBM, 0.9, 45.0, 0.0, 38.0, 127.0),
    (RangeClass.CRBM, 0.3, 200.0, 1.0, 38.0, 127.0),
    (RangeClass.CRBM, 0.5, 300.0, -1.0, 38.0, 127.0),
    (RangeClass.SRBM, 1.0, 90.0, 0.0, 38.0, 127.0),
    (RangeClass.SRBM, 0.1, 160.0, 1.0, 38.0, 127.0),
    (RangeClass.SRBM, 0.6, 20.0, -1.0, -20.0, 30.0),
    (RangeClass.MRBM, 1.0, 270.0, 0.0, 40.0, 110.0),
    (RangeClass.MRBM, 0.4, 120.0, 0.5, 40.0, 110.0),
    (RangeClass.MRBM, 0.8, 0.0, -0.5, 40.0, 110.0),
    (RangeClass.IRBM, 1.0, 270.0, 0.0, 0.0, 0.0),  # westward on the equator: the worst case
    (RangeClass.IRBM, 1.0, 90.0, -1.0, 0.0, 0.0),
    (RangeClass.IRBM, 0.5, 330.0, 1.0, 40.0, 110.0),
]


def _spec(index: int) -> BallisticThreatSpec:
    cls, fraction, azimuth, loft, lat, lon = CASES[index]
    reach = max_range_m(class_burnout_speed_mps(cls))
    return aimed(
        f"case-{index}",
        lat=lat,
        lon=lon,
        range_m=fraction * reach,
        azimuth_deg=azimuth,
        range_class=cls,
        loft=loft,
        launch_alt_m=150.0,
        aim_alt_m=40.0 * index,
    )


@pytest.fixture(scope="module")
def specs() -> list[BallisticThreatSpec]:
    return [_spec(i) for i in range(len(CASES))]


@pytest.fixture(scope="module")
def solution(specs: list[BallisticThreatSpec]) -> BallisticSolution:
    return solve_ballistic(specs)


def _aims(specs: list[BallisticThreatSpec]) -> np.ndarray:
    return np.stack([geodetic_to_ecef(s.aim_lat_deg, s.aim_lon_deg, s.aim_alt_m) for s in specs])


def test_solver_hits_every_aim_point(
    specs: list[BallisticThreatSpec], solution: BallisticSolution
) -> None:
    miss = np.linalg.norm(solution.flight.impact_ecef_m - _aims(specs), axis=1)
    np.testing.assert_allclose(miss, solution.miss_m)
    assert np.all(miss < MISS_LIMIT_M)
    # The default tolerance is 1 m and the iteration gets there for all of these.
    assert np.all(miss < 1.0 + 1e-9)


def test_phase_times_are_in_order(solution: BallisticSolution) -> None:
    f = solution.flight
    assert np.all(f.launch_time_s < f.burnout_time_s)
    assert np.all(f.burnout_time_s <= f.apogee_time_s)
    assert np.all(f.apogee_time_s <= f.terminal_time_s)
    assert np.all(f.terminal_time_s < f.impact_time_s)
    assert np.all(f.burnout_time_s - f.launch_time_s <= 60.0 + 1e-9)


def test_burnout_speed_follows_the_loft(
    specs: list[BallisticThreatSpec], solution: BallisticSolution
) -> None:
    full = np.array([s.burnout_speed_mps for s in specs])
    loft = np.array([s.loft for s in specs])
    speed = solution.flight.burnout_speed_mps
    burn = solution.flight.burnout_time_s - solution.flight.launch_time_s
    # Never faster than the full-energy burnout speed (beyond the cut-off root tolerance).
    assert np.all(speed <= full * (1 + 1e-9))
    # Full loft either reaches the full speed or burns the motor out trying. (Full
    # depression may stop short of it, at half the minimum-energy flight-path angle.)
    reached = np.isclose(speed, full, rtol=1e-9) | (burn >= 60.0 - 1e-9)
    assert np.all(reached[loft == 1.0])
    assert np.all(speed[loft < 1.0] < full[loft < 1.0])


def test_the_trajectory_shape_orders_with_the_loft() -> None:
    lofts = [-1.0, -0.5, 0.0, 0.5, 1.0]
    specs = [
        aimed(f"loft{x}", lat=35.0, lon=125.0, range_m=600e3, azimuth_deg=60.0, loft=x)
        for x in lofts
    ]
    flight = solve_ballistic(specs).flight
    apogee = flight.apogee_height_m
    flight_time = flight.impact_time_s - flight.launch_time_s
    assert np.all(np.diff(apogee) > 0)
    assert np.all(np.diff(flight_time) > 0)
    # The minimum-energy shot needs the lowest burnout speed of the family.
    speed = flight.burnout_speed_mps
    assert speed[2] == np.min(speed)
    assert speed[0] > speed[1] > speed[2] < speed[3] < speed[4]
    assert speed[4] == pytest.approx(class_burnout_speed_mps(RangeClass.SRBM), rel=1e-9)


def test_earth_rotation_moves_the_impact_when_not_solved_for() -> None:
    """A northbound shot solved with rotation lands west of its aim once rotation stops.

    Coriolis pushes a northbound missile east (to the right in the northern hemisphere), so
    the solver aims it west of the target; without rotation that offset shows.
    """
    spec = aimed(
        "north", lat=30.0, lon=120.0, range_m=1_500e3, azimuth_deg=0.0, range_class=RangeClass.MRBM
    )
    solved = solve_ballistic([spec])
    still = fly_ballistic(
        [spec], solved.guidance_aim_ecef, dynamics=Dynamics(rotation_rad_s=0.0), record=False
    )
    aim = _aims([spec])[0]
    shift = still.impact_ecef_m[0] - aim
    east = enu_to_ecef_vector(np.array([1.0, 0.0, 0.0]), spec.aim_lat_deg, spec.aim_lon_deg)
    assert np.linalg.norm(shift) > 10e3
    assert shift @ east < -10e3
    # And a missile steered straight at its aim (no solving) misses by kilometres.
    naive = fly_ballistic([spec], record=False)
    assert np.linalg.norm(naive.impact_ecef_m[0] - aim) > 10e3


def test_drag_shortens_the_flight() -> None:
    spec = aimed(
        "drag", lat=10.0, lon=50.0, range_m=250e3, azimuth_deg=135.0, range_class=RangeClass.CRBM
    )
    solved = solve_ballistic([spec])
    vacuum = fly_ballistic(
        [spec],
        solved.guidance_aim_ecef,
        dynamics=Dynamics(sea_level_density_kg_m3=0.0),
        record=False,
    )
    launch = geodetic_to_ecef(10.0, 50.0, 0.0)
    aim = _aims([spec])[0]
    assert np.linalg.norm(vacuum.impact_ecef_m[0] - launch) > np.linalg.norm(aim - launch) + 1e3


def test_the_same_input_gives_the_same_trajectory_bit_for_bit(
    specs: list[BallisticThreatSpec], solution: BallisticSolution
) -> None:
    again = solve_ballistic(specs[:3] + specs[3:])
    np.testing.assert_array_equal(again.flight.impact_ecef_m, solution.flight.impact_ecef_m)
    assert again.flight.knots is not None
    assert solution.flight.knots is not None
    np.testing.assert_array_equal(
        again.flight.knots.position_ecef_m, solution.flight.knots.position_ecef_m
    )


def test_a_threat_flies_the_same_alone_or_in_a_batch(
    specs: list[BallisticThreatSpec], solution: BallisticSolution
) -> None:
    alone = solve_ballistic([specs[4]])
    np.testing.assert_allclose(
        alone.flight.impact_ecef_m[0], solution.flight.impact_ecef_m[4], atol=1.0
    )


def test_an_aim_beyond_reach_is_refused_naming_the_threat() -> None:
    speed = class_burnout_speed_mps(RangeClass.CRBM)
    spec = aimed(
        "too-far",
        lat=0.0,
        lon=0.0,
        range_m=2.0 * max_range_m(speed),
        azimuth_deg=90.0,
        speed_mps=speed,
    )
    with pytest.raises(ConfigurationError, match=r"too-far \(ground range 59\d km, reach 300 km"):
        solve_ballistic([spec], max_iterations=6)


def test_an_aim_too_close_is_refused() -> None:
    spec = aimed("close", lat=0.0, lon=0.0, range_m=0.5 * MIN_RANGE_M, azimuth_deg=0.0)
    with pytest.raises(ConfigurationError, match=r"minimum range of 20 km: close \(10\.0 km\)"):
        solve_ballistic([spec])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("burnout_speed_mps", 0.0),
        ("burn_time_s", -1.0),
        ("loft", 1.5),
        ("ballistic_coefficient_kg_m2", 0.0),
        ("rcs_m2", float("nan")),
    ],
)
def test_invalid_specs_are_refused(field: str, value: float) -> None:
    values = {"speed_mps": value} if field == "burnout_speed_mps" else {field: value}
    spec = aimed("bad", lat=0.0, lon=0.0, range_m=100e3, azimuth_deg=0.0, **values)
    with pytest.raises(ConfigurationError, match=rf"bad: {field} out of range"):
        solve_ballistic([spec])


def test_an_empty_batch_is_fine() -> None:
    solution = solve_ballistic([])
    assert solution.miss_m.shape == (0,)
