"""Truth: row order, phases, NaN rows, interpolation against direct integration, routes."""

from __future__ import annotations

import numpy as np
import pytest
from world_fixtures import aimed

import iamd.world
from iamd.core import ConfigurationError, ThreatId
from iamd.geo import ecef_to_geodetic, geodetic_to_ecef
from iamd.messages import ThreatCategory, ThreatPhase
from iamd.world import (
    TERMINAL_ALTITUDE_M,
    Dynamics,
    RangeClass,
    Truth,
    WaypointPath,
    WaypointThreatSpec,
    rk4_step,
)

SRBM = aimed(
    "srbm",
    lat=39.0,
    lon=125.5,
    range_m=700e3,
    azimuth_deg=150.0,
    launch_time_s=100.0,
    rcs_m2=0.3,
    aim_alt_m=25.0,
)
CRBM = aimed(
    "crbm",
    lat=39.0,
    lon=125.5,
    range_m=200e3,
    azimuth_deg=100.0,
    range_class=RangeClass.CRBM,
    loft=-0.3,
)
CRUISE = WaypointThreatSpec(
    threat_id=ThreatId("cruise"),
    category=ThreatCategory.CRUISE_MISSILE,
    waypoints=((38.0, 124.0), (37.0, 126.0), (36.5, 127.5)),
    altitude_m=30.0,
    speed_mps=250.0,
    launch_time_s=50.0,
    rcs_m2=0.1,
)
AIRCRAFT = WaypointThreatSpec(
    threat_id=ThreatId("aircraft"),
    category=ThreatCategory.AIRCRAFT,
    waypoints=((40.0, 128.0), (38.0, 130.0)),
    altitude_m=9_000.0,
    speed_mps=200.0,
    launch_time_s=0.0,
    rcs_m2=5.0,
)


@pytest.fixture(scope="module")
def truth() -> Truth:
    return Truth([SRBM, CRBM], [CRUISE, AIRCRAFT])


def test_rows_follow_the_given_order(truth: Truth) -> None:
    assert truth.threat_ids == ("srbm", "crbm", "cruise", "aircraft")
    assert len(truth) == 4
    np.testing.assert_array_equal(
        truth.categories,
        [
            ThreatCategory.BALLISTIC_MISSILE,
            ThreatCategory.BALLISTIC_MISSILE,
            ThreatCategory.CRUISE_MISSILE,
            ThreatCategory.AIRCRAFT,
        ],
    )
    np.testing.assert_array_equal(truth.rcs_m2, [0.3, 0.5, 0.1, 5.0])
    np.testing.assert_array_equal(truth.launch_time_s, [100.0, 0.0, 50.0, 0.0])
    assert np.all(np.isnan(truth.burnout_time_s[2:]))
    assert np.all(truth.burnout_time_s[:2] > truth.launch_time_s[:2])
    assert np.all(truth.end_time_s > truth.launch_time_s)


def test_end_points_are_the_aim_points_and_the_last_waypoints(truth: Truth) -> None:
    aims = [geodetic_to_ecef(s.aim_lat_deg, s.aim_lon_deg, s.aim_alt_m) for s in (SRBM, CRBM)]
    misses = np.linalg.norm(truth.end_ecef_m[:2] - np.stack(aims), axis=1)
    assert np.all(misses < 100.0)
    np.testing.assert_allclose(misses, truth.miss_m[:2])
    np.testing.assert_allclose(truth.end_ecef_m[2], geodetic_to_ecef(36.5, 127.5, 30.0))
    path = WaypointPath(CRUISE.waypoints, altitude_m=30.0, speed_mps=250.0, start_time_s=50.0)
    assert truth.end_time_s[2] == pytest.approx(path.end_time_s)


def _phase(truth: Truth, time_s: float) -> list[ThreatPhase]:
    return [ThreatPhase(p) for p in truth.state_at(time_s).phase]


def test_phases_through_the_flight(truth: Truth) -> None:
    srbm_burnout, srbm_terminal, srbm_end = (
        truth.burnout_time_s[0],
        truth.terminal_time_s[0],
        truth.end_time_s[0],
    )
    assert _phase(truth, 10.0)[0] == ThreatPhase.NOT_LAUNCHED
    assert _phase(truth, 10.0)[2] == ThreatPhase.NOT_LAUNCHED
    assert _phase(truth, 10.0)[3] == ThreatPhase.CRUISE
    assert _phase(truth, 110.0)[0] == ThreatPhase.BOOST
    assert _phase(truth, srbm_burnout - 1e-6)[0] == ThreatPhase.BOOST
    assert _phase(truth, srbm_burnout + 1e-6)[0] == ThreatPhase.MIDCOURSE
    assert _phase(truth, srbm_terminal - 1e-6)[0] == ThreatPhase.MIDCOURSE
    assert _phase(truth, srbm_terminal + 1e-6)[0] == ThreatPhase.TERMINAL
    assert _phase(truth, srbm_end - 1e-6)[0] == ThreatPhase.TERMINAL
    assert _phase(truth, srbm_end)[0] == ThreatPhase.IMPACTED
    assert _phase(truth, 200.0)[2] == ThreatPhase.CRUISE
    assert _phase(truth, truth.end_time_s[2])[2] == ThreatPhase.IMPACTED
    assert _phase(truth, 1e6) == [ThreatPhase.IMPACTED] * 4


def test_terminal_phase_starts_descending_through_100_km(truth: Truth) -> None:
    # The SRBM's apogee is above 100 km: terminal starts on the way down through it.
    assert truth.apogee_alt_m[0] > TERMINAL_ALTITUDE_M
    state = truth.state_at(truth.terminal_time_s[0])
    assert state.altitude_m[0] == pytest.approx(TERMINAL_ALTITUDE_M, abs=5.0)
    up = state.position_ecef_m[0] / np.linalg.norm(state.position_ecef_m[0])
    assert state.velocity_ecef_mps[0] @ up < 0.0
    # The slightly depressed CRBM's apogee is lower: terminal starts at the apogee.
    assert truth.apogee_alt_m[1] < TERMINAL_ALTITUDE_M
    top = truth.state_at(truth.terminal_time_s[1])
    climb = (
        top.velocity_ecef_mps[1] @ top.position_ecef_m[1] / np.linalg.norm(top.position_ecef_m[1])
    )
    assert climb == pytest.approx(0.0, abs=0.5)
    assert top.altitude_m[1] == pytest.approx(truth.apogee_alt_m[1], abs=2.0)


def test_rows_not_in_flight_have_nan_kinematics(truth: Truth) -> None:
    state = truth.state_at(60.0)  # SRBM not launched yet, the others flying
    np.testing.assert_array_equal(state.active, [False, True, True, True])
    assert np.all(np.isnan(state.position_ecef_m[0]))
    assert np.all(np.isnan(state.velocity_ecef_mps[0]))
    assert np.isnan(state.altitude_m[0])
    assert np.all(np.isfinite(state.position_ecef_m[1:]))
    np.testing.assert_array_equal(state.rcs_m2, truth.rcs_m2)
    late = truth.state_at(float(np.max(truth.end_time_s)) + 1.0)
    assert not late.active.any()
    assert np.all(np.isnan(late.position_ecef_m))
    np.testing.assert_array_equal(truth.state_at(105.0).boosting, [True, False, False, False])


def test_altitude_is_the_geodetic_height(truth: Truth) -> None:
    for time_s in (120.0, 300.0, 500.0):
        state = truth.state_at(time_s)
        flying = state.active
        _, _, height = ecef_to_geodetic(state.position_ecef_m[flying])
        np.testing.assert_array_equal(state.altitude_m[flying], height)
    # Coming down through the aim height at the impact time.
    near_end = truth.state_at(truth.end_time_s[0] - 1e-3)
    assert near_end.altitude_m[0] == pytest.approx(SRBM.aim_alt_m, abs=5.0)


def test_interpolation_matches_direct_integration(truth: Truth) -> None:
    """From the burnout knot on, a 0.1 s integration agrees with state_at to centimetres.

    The truth integrates with 1 s steps (10 s above 120 km) and interpolates between them;
    RK4 at 0.1 s is ten thousand times more accurate, so this measures both errors.
    """
    dynamics = Dynamics()
    for row, spec in enumerate((SRBM, CRBM)):
        times, positions, velocities = truth.knots.of_row(row)
        start = int(np.searchsorted(times, truth.burnout_time_s[row]))
        assert times[start] == pytest.approx(truth.burnout_time_s[row], abs=1e-9)
        state = np.concatenate([positions[start], velocities[start]])[None]
        t = float(times[start])
        checks = np.linspace(t + 0.37, truth.end_time_s[row] - 0.3, 25)
        worst_position = worst_velocity = 0.0
        for check in checks:
            while t < check - 1e-12:
                step = min(0.1, check - t)
                state = rk4_step(
                    dynamics,
                    state,
                    step,
                    inverse_beta_m2_kg=np.array([1.0 / spec.ballistic_coefficient_kg_m2]),
                )
                t += step
            truth_state = truth.state_at(float(check))
            worst_position = max(
                worst_position,
                float(np.linalg.norm(truth_state.position_ecef_m[row] - state[0, :3])),
            )
            worst_velocity = max(
                worst_velocity,
                float(np.linalg.norm(truth_state.velocity_ecef_mps[row] - state[0, 3:])),
            )
        assert worst_position < 0.1
        assert worst_velocity < 0.1


def test_boost_is_smooth_and_reaches_its_burnout_speed(truth: Truth) -> None:
    burnout = truth.burnout_time_s[0]
    times = np.arange(100.0, burnout, 0.05)
    states = [truth.state_at(float(t)) for t in times]
    positions = np.array([s.position_ecef_m[0] for s in states])
    velocities = np.array([s.velocity_ecef_mps[0] for s in states])
    central = (positions[2:] - positions[:-2]) / 0.1
    # (The central difference errs by a_T·0.05 s where the pitch-over turns the thrust.)
    np.testing.assert_allclose(central, velocities[1:-1], atol=2.0)
    speed = np.linalg.norm(velocities, axis=1)
    assert np.all(np.diff(speed) > 0.0)
    altitude = np.array([s.altitude_m[0] for s in states])
    assert np.all(np.diff(altitude) > 0.0)


def test_waypoint_rows_follow_their_paths(truth: Truth) -> None:
    path = WaypointPath(CRUISE.waypoints, altitude_m=30.0, speed_mps=250.0, start_time_s=50.0)
    for time_s in np.linspace(50.0, path.end_time_s - 1e-6, 37):
        state = truth.state_at(float(time_s))
        _, _, _, position, velocity = path.states(float(time_s))
        np.testing.assert_allclose(state.position_ecef_m[2], position[0], atol=1e-3)
        np.testing.assert_allclose(state.velocity_ecef_mps[2], velocity[0], atol=1e-6)
        assert state.phase[2] == ThreatPhase.CRUISE


def test_duplicate_ids_are_refused() -> None:
    twin = WaypointThreatSpec(
        threat_id=ThreatId("srbm"),
        category=ThreatCategory.AIRCRAFT,
        waypoints=((0.0, 0.0), (1.0, 1.0)),
        altitude_m=1.0,
        speed_mps=100.0,
        launch_time_s=0.0,
        rcs_m2=1.0,
    )
    with pytest.raises(ConfigurationError, match="duplicate threat ids: srbm"):
        Truth([], [twin, twin])


def test_a_bad_route_names_its_threat() -> None:
    still = WaypointThreatSpec(
        threat_id=ThreatId("parked"),
        category=ThreatCategory.AIRCRAFT,
        waypoints=((0.0, 0.0), (1.0, 1.0)),
        altitude_m=1.0,
        speed_mps=0.0,
        launch_time_s=0.0,
        rcs_m2=1.0,
    )
    with pytest.raises(ConfigurationError, match="parked: speed_mps must be > 0"):
        Truth([], [still])
    with pytest.raises(ConfigurationError, match="step_s"):
        Truth([], [], step_s=0.0)


def test_an_empty_truth_answers_with_empty_rows() -> None:
    state = Truth().state_at(12.0)
    assert state.position_ecef_m.shape == (0, 3)
    assert state.phase.shape == (0,)


def test_public_api_is_pinned() -> None:
    assert sorted(iamd.world.__all__) == sorted(
        [
            "MIN_RANGE_M",
            "MISS_LIMIT_M",
            "TERMINAL_ALTITUDE_M",
            "BallisticFlight",
            "BallisticSolution",
            "BallisticThreatSpec",
            "Dynamics",
            "KnotTable",
            "RangeClass",
            "Truth",
            "WaypointPath",
            "WaypointThreatSpec",
            "class_burnout_speed_mps",
            "commanded_burnout",
            "fly_ballistic",
            "max_range_m",
            "required_velocity",
            "rk4_step",
            "solve_ballistic",
            "vacuum_range_m",
        ]
    )
    for name in iamd.world.__all__:
        assert hasattr(iamd.world, name)


def test_a_destroyed_threat_leaves_the_sky_at_the_intercept() -> None:
    truth = Truth(waypoint=[CRUISE, AIRCRAFT])
    assert truth.destroy([0], 100.0).tolist() == [0]
    before, after = truth.state_at(99.0), truth.state_at(100.0)
    assert before.active.tolist() == [True, True]
    assert after.active.tolist() == [False, True]
    assert after.phase[0] == ThreatPhase.DESTROYED
    assert np.isnan(after.position_ecef_m[0]).all()
    # Nothing is destroyed twice, nor before its launch, nor after its end.
    assert truth.destroy([0], 150.0).size == 0
    assert truth.destroy([1], truth.end_time_s[1] + 1.0).size == 0
    assert truth.destroyed_at_s[0] == 100.0
    with pytest.raises(ConfigurationError, match="out of range"):
        truth.destroy([5], 10.0)
