"""Engagement feasibility: hand-computed intercept geometry, every reason code, the launch
window, chunking, empty inputs and input validation (``iamd.c2.feasibility``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import iamd.c2.feasibility as feasibility_module
from iamd.c2.feasibility import (
    Feasibility,
    FeasibilityReason,
    Shooters,
    engagement_feasibility,
)
from iamd.core import ConfigurationError
from iamd.core.typing import FloatArray
from iamd.geo import ecef_to_geodetic, enu_to_ecef_vector, geodetic_to_ecef

LAT0, LON0 = 34.0, 132.0
SITE = geodetic_to_ecef(LAT0, LON0, 0.0)
TIMES = np.arange(0.0, 121.0)  # a 1 s grid


def make_shooters(**overrides: Any) -> Shooters:
    params: dict[str, Any] = {
        "position_ecef_m": SITE[None],
        "mean_speed_mps": 2000.0,
        "min_range_m": 2000.0,
        "max_range_m": 150e3,
        "min_intercept_altitude_m": -1e4,
        "max_intercept_altitude_m": 1e5,
        "single_shot_pk": 0.75,
        "reaction_time_s": 6.0,
        "rounds": 4,
        "free_channels": 2,
    }
    params.update(overrides)
    return Shooters(**params)


def enu_path(start_enu: FloatArray, velocity_enu: FloatArray, times: FloatArray) -> FloatArray:
    """ECEF positions (T, 3) of a straight line in the launcher's local ENU frame."""
    enu = np.asarray(start_enu)[None, :] + times[:, None] * np.asarray(velocity_enu)[None, :]
    return SITE + enu_to_ecef_vector(enu, LAT0, LON0)


def evaluate(
    path: FloatArray, shooters: Shooters | None = None, now_s: float = 0.0, **kwargs: Any
) -> Feasibility:
    return engagement_feasibility(
        make_shooters() if shooters is None else shooters,
        times_s=TIMES,
        trajectory_ecef_m=path[None] if path.ndim == 2 else path,
        now_s=now_s,
        **kwargs,
    )


def assert_out_of_reach(result: Feasibility, reason: FeasibilityReason) -> None:
    assert result.reason[0, 0] == reason
    assert not result.feasible[0, 0]
    assert not result.in_reach[0, 0]
    assert result.kill_probability[0, 0] == 0.0
    for field in (
        result.intercept_time_s,
        result.intercept_altitude_m,
        result.intercept_range_m,
        result.latest_intercept_time_s,
        result.earliest_launch_time_s,
        result.latest_launch_time_s,
    ):
        assert np.isnan(field[0, 0])
    assert np.isnan(result.intercept_ecef_m[0, 0]).all()


# --------------------------------------------------------------------------------------------
# hand-computed geometry


def test_head_on_dive_matches_the_closed_form() -> None:
    # A threat diving along a straight line through the launcher: d(t) = D − u t exactly, so
    # the interceptor (launched at r, flying v) meets it where D − u t = v (t − r).
    distance, u, v, r = 80e3, 900.0, 2000.0, 6.0
    direction = np.array([0.0, math.cos(math.radians(20.0)), math.sin(math.radians(20.0))])
    path = enu_path(distance * direction, -u * direction, TIMES)
    path[distance - u * TIMES < 0.0] = np.nan  # impact on the launcher at 88.9 s
    result = evaluate(path)

    t_star = (distance + v * r) / (u + v)
    assert t_star == pytest.approx(31.7241379, abs=1e-6)
    assert result.reason[0, 0] == FeasibilityReason.FEASIBLE
    assert result.feasible[0, 0]
    assert result.in_reach[0, 0]
    assert result.intercept_time_s[0, 0] == pytest.approx(t_star, abs=1e-6)
    expected_point = SITE + enu_to_ecef_vector((distance - u * t_star) * direction, LAT0, LON0)
    np.testing.assert_allclose(result.intercept_ecef_m[0, 0], expected_point, atol=1e-3)
    assert result.intercept_range_m[0, 0] == pytest.approx(v * (t_star - r), abs=1e-3)
    expected_altitude = ecef_to_geodetic(expected_point)[2]
    assert result.intercept_altitude_m[0, 0] == pytest.approx(float(expected_altitude), abs=1e-3)
    assert result.earliest_launch_time_s[0, 0] == pytest.approx(r, abs=1e-6)
    # The last chance is at the minimum range: D − u t = 2 km, launched 1 s earlier.
    t_last = (distance - 2000.0) / u
    assert result.latest_intercept_time_s[0, 0] == pytest.approx(t_last, abs=1e-6)
    assert result.latest_launch_time_s[0, 0] == pytest.approx(t_last - 2000.0 / v, abs=1e-6)
    assert result.kill_probability[0, 0] == 0.75


def test_level_flight_at_altitude_matches_the_quadratic() -> None:
    # At 10 km altitude along the local East axis toward the launcher: the slant range is
    # sqrt((D − u t)² + h²), so (D − u t)² + h² = v² (t − r)², a quadratic in t.
    distance, height, u, v, r = 90e3, 10e3, 700.0, 1500.0, 8.0
    path = enu_path(np.array([distance, 0.0, height]), np.array([-u, 0.0, 0.0]), TIMES)
    result = evaluate(path, make_shooters(mean_speed_mps=v, reaction_time_s=r))

    a = u * u - v * v
    b = -2.0 * distance * u + 2.0 * v * v * r
    c = distance**2 + height**2 - (v * r) ** 2
    roots = np.roots([a, b, c])
    t_star = float(min(root.real for root in roots if root.real > r))
    assert result.reason[0, 0] == FeasibilityReason.FEASIBLE
    # The linear refinement of a slightly curved g(t) on a 1 s grid: far below the 0.5 s
    # required.
    assert abs(result.intercept_time_s[0, 0] - t_star) < 1e-3
    expected_point = SITE + enu_to_ecef_vector(
        np.array([distance - u * t_star, 0.0, height]), LAT0, LON0
    )
    np.testing.assert_allclose(result.intercept_ecef_m[0, 0], expected_point, atol=1.0)
    assert result.intercept_altitude_m[0, 0] == pytest.approx(10e3, abs=700.0)
    assert result.earliest_launch_time_s[0, 0] == pytest.approx(r, abs=1e-3)
    assert result.latest_launch_time_s[0, 0] >= result.earliest_launch_time_s[0, 0]


def test_refinement_beats_the_grid() -> None:
    # Without refinement, the earliest intercept would be the next grid second.
    distance, u = 80e3, 900.0
    direction = np.array([0.0, 1.0, 0.0])
    path = enu_path(distance * direction + [0.0, 0.0, 5000.0], -u * direction, TIMES)
    t_star_grid = float(evaluate(path).intercept_time_s[0, 0])
    assert t_star_grid != pytest.approx(round(t_star_grid), abs=0.05)


def test_max_range_bounds_the_earliest_intercept() -> None:
    # A slow threat far out: the interceptor could be launched at once, but the threat only
    # enters the 150 km range band at (200 km − 150 km) / 500 m/s = 100 s.
    direction = np.array([1.0, 0.0, 0.0])
    path = enu_path(200e3 * direction, -500.0 * direction, TIMES)
    result = evaluate(path)
    assert result.reason[0, 0] == FeasibilityReason.FEASIBLE
    assert result.intercept_time_s[0, 0] == pytest.approx(100.0, abs=1e-6)
    assert result.intercept_range_m[0, 0] == pytest.approx(150e3, abs=1e-3)
    assert result.earliest_launch_time_s[0, 0] == pytest.approx(100.0 - 75.0, abs=1e-6)


# --------------------------------------------------------------------------------------------
# every reason


def test_crossing_beyond_max_range_is_out_of_range() -> None:
    # Crosses 160 km north of a launcher whose reach is 150 km.
    path = enu_path(np.array([-60e3, 160e3, 8000.0]), np.array([800.0, 0.0, 0.0]), TIMES)
    assert_out_of_reach(evaluate(path), FeasibilityReason.OUT_OF_RANGE)


def test_altitude_band_excluding_the_path() -> None:
    path = enu_path(np.array([60e3, 0.0, 10e3]), np.array([-300.0, 0.0, 0.0]), TIMES)
    shooters = make_shooters(min_intercept_altitude_m=20e3, max_intercept_altitude_m=80e3)
    assert_out_of_reach(evaluate(path, shooters), FeasibilityReason.ALTITUDE)
    # The same path in a band that holds it is feasible.
    assert evaluate(path).feasible[0, 0]


def test_impact_before_the_interceptor_arrives_is_too_late() -> None:
    # In range from the start, but the trajectory ends (impact) 10 s from now: the
    # interceptor, launched at 6 s at the earliest, could not have flown 70 km by then.
    direction = np.array([0.0, math.cos(math.radians(20.0)), math.sin(math.radians(20.0))])
    path = enu_path(80e3 * direction, -900.0 * direction, TIMES)
    path[TIMES >= 10.0] = np.nan
    assert_out_of_reach(evaluate(path), FeasibilityReason.TOO_LATE)


def test_threat_gone_by_now_has_ended() -> None:
    path = enu_path(np.array([60e3, 0.0, 10e3]), np.array([-300.0, 0.0, 0.0]), TIMES)
    path[TIMES >= 40.0] = np.nan
    assert_out_of_reach(evaluate(path, now_s=50.0), FeasibilityReason.ENDED)


def test_resources_come_first_and_keep_the_geometry() -> None:
    path = enu_path(np.array([60e3, 0.0, 10e3]), np.array([-300.0, 0.0, 0.0]), TIMES)
    shooters = make_shooters(
        position_ecef_m=np.repeat(SITE[None], 4, axis=0),
        rounds=[0, 0, 3, 3],
        free_channels=[0, 1, 0, 1],
    )
    tracked = np.array([[True], [True], [True], [False]])
    result = evaluate(path, shooters, fire_control_track=tracked)
    assert result.reason[:, 0].tolist() == [
        FeasibilityReason.NO_ROUNDS,
        FeasibilityReason.NO_ROUNDS,
        FeasibilityReason.NO_CHANNEL,
        FeasibilityReason.NO_FIRE_CONTROL_TRACK,
    ]
    assert not result.feasible.any()
    assert (result.kill_probability == 0.0).all()
    # The intercept itself is still there: a refill or a track makes the pair feasible.
    assert result.in_reach.all()
    assert np.isfinite(result.intercept_time_s).all()
    np.testing.assert_allclose(result.intercept_time_s, result.intercept_time_s[0, 0])


def test_reason_precedence_of_resources_over_geometry() -> None:
    path = enu_path(np.array([-60e3, 160e3, 8000.0]), np.array([800.0, 0.0, 0.0]), TIMES)
    assert evaluate(path, make_shooters(rounds=0)).reason[0, 0] == FeasibilityReason.NO_ROUNDS


# --------------------------------------------------------------------------------------------
# many pairs at once


def random_scene(rng: np.random.Generator, s: int, n: int) -> tuple[Shooters, FloatArray]:
    lat = LAT0 + rng.uniform(-1.0, 1.0, s)
    lon = LON0 + rng.uniform(-1.0, 1.0, s)
    shooters = Shooters(
        position_ecef_m=geodetic_to_ecef(lat, lon, np.zeros(s)),
        mean_speed_mps=rng.uniform(800.0, 3000.0, s),
        min_range_m=rng.uniform(1000.0, 5000.0, s),
        max_range_m=rng.uniform(30e3, 160e3, s),
        min_intercept_altitude_m=rng.choice([50.0, 15e3], s),
        max_intercept_altitude_m=rng.choice([30e3, 150e3], s),
        single_shot_pk=rng.uniform(0.5, 0.9, s),
        reaction_time_s=rng.uniform(2.0, 15.0, s),
        rounds=rng.integers(0, 4, s),
        free_channels=rng.integers(0, 3, s),
    )
    start = rng.uniform([-200e3, -200e3, 1e3], [200e3, 200e3, 60e3], (n, 3))
    velocity = rng.uniform([-1500.0, -1500.0, -150.0], [1500.0, 1500.0, 0.0], (n, 3))
    paths = np.stack([enu_path(start[k], velocity[k], TIMES) for k in range(n)])
    ends = rng.integers(5, TIMES.size + 1, n)
    paths[TIMES[None, :] >= ends[:, None]] = np.nan
    return shooters, paths


def test_pairs_agree_with_one_at_a_time_and_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    shooters, paths = random_scene(rng, 6, 25)
    whole = evaluate(paths, shooters, now_s=3.0)
    assert whole.reason.shape == (6, 25)
    assert whole.intercept_ecef_m.shape == (6, 25, 3)
    assert len(set(whole.reason.ravel().tolist())) >= 4  # the scene exercises several reasons

    monkeypatch.setattr(feasibility_module, "_CHUNK_ELEMENTS", 3 * 6 * TIMES.size)
    chunked = evaluate(paths, shooters, now_s=3.0)
    for name in Feasibility.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name), err_msg=name)

    single = evaluate(paths[4:5], make_shooters(**_shooter_row(shooters, 2)), now_s=3.0)
    for name in Feasibility.__dataclass_fields__:
        np.testing.assert_allclose(
            getattr(single, name)[0, 0], getattr(whole, name)[2, 4], rtol=1e-12, err_msg=name
        )


def _shooter_row(shooters: Shooters, row: int) -> dict[str, Any]:
    return {
        name: (getattr(shooters, name)[row : row + 1]) for name in Shooters.__dataclass_fields__
    }


def test_window_and_envelope_invariants() -> None:
    rng = np.random.default_rng(11)
    shooters, paths = random_scene(rng, 8, 40)
    now = 4.0
    result = evaluate(paths, shooters, now_s=now)
    reach = result.in_reach
    assert reach.any()
    assert (~reach).any()
    ready = (now + shooters.reaction_time_s)[:, None] * np.ones_like(result.intercept_time_s)
    assert (result.earliest_launch_time_s[reach] >= ready[reach] - 1e-9).all()
    assert (result.latest_launch_time_s[reach] >= result.earliest_launch_time_s[reach]).all()
    assert (result.latest_intercept_time_s[reach] >= result.intercept_time_s[reach]).all()
    # The earliest intercept meets the envelope (to the refinement's linear accuracy).
    low = shooters.min_range_m[:, None] * np.ones(reach.shape)
    high = shooters.max_range_m[:, None] * np.ones(reach.shape)
    assert (result.intercept_range_m[reach] >= low[reach] - 1.0).all()
    assert (result.intercept_range_m[reach] <= high[reach] + 1.0).all()
    flight = result.intercept_range_m / shooters.mean_speed_mps[:, None]
    launch = result.intercept_time_s - flight
    assert (launch[reach] >= ready[reach] - 1e-3).all()
    # Kill probability only where feasible, and feasible only where in reach with resources.
    pk = shooters.single_shot_pk[:, None] * np.ones(reach.shape)
    np.testing.assert_array_equal(result.kill_probability, np.where(result.feasible, pk, 0.0))
    assert not (result.feasible & ~reach).any()
    np.testing.assert_array_equal(result.feasible, result.reason == FeasibilityReason.FEASIBLE)
    assert np.isnan(result.intercept_time_s[~reach]).all()


# --------------------------------------------------------------------------------------------
# edges and validation


@pytest.mark.parametrize(("s", "n", "t"), [(0, 3, 5), (2, 0, 5), (0, 0, 5), (2, 3, 0)])
def test_empty_inputs_give_empty_shapes(s: int, n: int, t: int) -> None:
    shooters = make_shooters(position_ecef_m=np.repeat(SITE[None], s, axis=0))
    paths = np.full((n, t, 3), np.nan)
    result = engagement_feasibility(
        shooters, times_s=np.arange(float(t)), trajectory_ecef_m=paths, now_s=0.0
    )
    assert result.feasible.shape == (s, n)
    assert result.intercept_ecef_m.shape == (s, n, 3)
    assert result.reason.dtype == np.int64
    if t == 0:
        assert (result.reason == FeasibilityReason.ENDED).all()


def test_results_are_read_only() -> None:
    path = enu_path(np.array([60e3, 0.0, 10e3]), np.array([-300.0, 0.0, 0.0]), TIMES)
    result = evaluate(path)
    with pytest.raises(ValueError, match="read-only"):
        result.kill_probability[0, 0] = 1.0


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"mean_speed_mps": 0.0}, "mean_speed_mps must be > 0"),
        ({"min_range_m": -1.0}, "min_range_m must be >= 0"),
        ({"max_range_m": 1000.0}, "max_range_m must be >= min_range_m"),
        ({"max_intercept_altitude_m": -2e4}, "max_intercept_altitude_m must be >="),
        ({"single_shot_pk": 1.5}, r"single_shot_pk must be in \[0, 1\]"),
        ({"reaction_time_s": -1.0}, "reaction_time_s must be >= 0"),
        ({"rounds": 1.5}, "rounds must be whole numbers"),
        ({"free_channels": -1}, "free_channels must be >= 0"),
        ({"position_ecef_m": SITE}, r"position_ecef_m must have shape \(S, 3\)"),
        ({"mean_speed_mps": [1.0, 2.0]}, r"mean_speed_mps must have shape \(1,\)"),
        ({"min_range_m": float("nan")}, "min_range_m must be finite"),
    ],
)
def test_bad_shooters_name_the_field(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        make_shooters(**overrides)


def test_bad_call_arguments_name_the_field() -> None:
    shooters = make_shooters()
    path = enu_path(np.array([60e3, 0.0, 10e3]), np.array([-300.0, 0.0, 0.0]), TIMES)[None]
    with pytest.raises(ConfigurationError, match="times_s must be strictly increasing"):
        engagement_feasibility(shooters, times_s=TIMES[::-1], trajectory_ecef_m=path, now_s=0.0)
    with pytest.raises(ConfigurationError, match="trajectory_ecef_m must have shape"):
        engagement_feasibility(shooters, times_s=TIMES, trajectory_ecef_m=path[0], now_s=0.0)
    infinite = path.copy()
    infinite[0, 3, 1] = np.inf
    with pytest.raises(ConfigurationError, match="trajectory_ecef_m must be finite or NaN"):
        engagement_feasibility(shooters, times_s=TIMES, trajectory_ecef_m=infinite, now_s=0.0)
    with pytest.raises(ConfigurationError, match="now_s must be finite"):
        engagement_feasibility(shooters, times_s=TIMES, trajectory_ecef_m=path, now_s=math.nan)
    with pytest.raises(ConfigurationError, match="fire_control_track must be booleans"):
        evaluate(path, shooters, fire_control_track=np.ones((1, 1)))
    with pytest.raises(ConfigurationError, match="fire_control_track must have shape"):
        evaluate(path, shooters, fire_control_track=np.ones((2, 2), dtype=bool))
