"""The exact WTA solver on dense problems: column generation over engagement patterns
(``iamd.c2.wta_bound``) and merged identical weapons, against brute force, against outer
approximation (the previous dense model) and against the full pattern model."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iamd.c2.wta_bound as wta_bound
import iamd.c2.wta_exact as wta_exact
from iamd.c2 import WtaProblem, brute_force, is_feasible, objective, solve_exact
from iamd.c2.wta_exact import _patterns, _WeaponClasses

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from wta import make_instance


def small_problem(rng: np.random.Generator) -> WtaProblem:
    """2–4 weapons with up to 3 rounds and salvo limits, 2–3 threats, certain kills and
    impossible pairs included."""
    weapons, threats = int(rng.integers(2, 5)), int(rng.integers(2, 4))
    p = rng.uniform(0.05, 0.95, (weapons, threats))
    p[rng.random(p.shape) < 0.15] = 0.0
    p[rng.random(p.shape) < 0.1] = 1.0
    return WtaProblem(
        values=rng.uniform(0.5, 10.0, threats),
        kill_probability=p,
        rounds=rng.integers(0, 4, weapons),
        max_salvo=rng.integers(1, 4, (weapons, threats)),
    )


def threat_patterns(problem: WtaProblem, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Every non-empty pattern of threat ``j`` as rows ``(n, W)``, and its capped ``−ln``
    survival ``(n,)``: the brute-force reference of the searches."""
    limit = problem.shot_limit[:, j]
    weapons = np.flatnonzero(limit > 0)
    rows = np.zeros((0, problem.n_weapons), np.int64)
    if weapons.size:
        shots = _patterns(limit[weapons])[1:]
        rows = np.zeros((shots.shape[0], problem.n_weapons), np.int64)
        rows[:, weapons] = shots
    kill, _ = wta_bound.kill_levels(problem)
    return rows, rows @ kill[:, j]


def reduced_values(problem: WtaProblem, j: int, multipliers: np.ndarray) -> np.ndarray:
    rows, z = threat_patterns(problem, j)
    return np.asarray(problem.values[j] * -np.expm1(-z) - rows @ multipliers)


def random_multipliers(problem: WtaProblem, rng: np.random.Generator) -> np.ndarray:
    scale = float(problem.values.max(initial=1.0))
    multipliers = rng.uniform(0.0, scale, problem.n_weapons)
    multipliers[rng.random(problem.n_weapons) < 0.3] = 0.0  # free rounds are the hard case
    return multipliers


# --- the search: pricing and enumeration against brute force -------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_pricing_finds_each_threats_best_pattern(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = small_problem(rng)
    multipliers = random_multipliers(problem, rng)
    search = wta_bound._Search(problem)
    priced = search.price(multipliers, thorough=True)
    assert priced is not None
    assert priced.exact
    for j in range(problem.n_threats):
        best = max(reduced_values(problem, j, multipliers).max(initial=0.0), 0.0)
        assert priced.found[j] == pytest.approx(best, rel=1e-12, abs=1e-12)
    # Each pattern returned reaches its threat's best and respects the limits.
    for j, weapon, shots in priced.patterns:
        assert (shots >= 1).all()
        assert (shots <= problem.shot_limit[weapon, j]).all()
        x = np.zeros(problem.n_weapons, np.int64)
        x[weapon] = shots
        kill, _ = wta_bound.kill_levels(problem)
        value = problem.values[j] * -np.expm1(-(x @ kill[:, j])) - x @ multipliers
        assert value == pytest.approx(priced.found[j], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_a_stopped_pricing_search_still_bounds_the_best(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wta_bound, "QUICK_PRICING_NODES", 2)
    rng = np.random.default_rng(50 + seed)
    problem = make_instance("interceptor-rich", 3, 8, rng)
    multipliers = random_multipliers(problem, rng) * 0.3
    priced = wta_bound._Search(problem).price(multipliers, thorough=False)
    assert priced is not None
    for j in range(problem.n_threats):
        best = max(reduced_values(problem, j, multipliers).max(initial=0.0), 0.0)
        assert priced.found[j] <= best + 1e-12
        assert priced.upper[j] >= best - 1e-12
    assert priced.bound >= priced.estimate


@pytest.mark.parametrize("seed", range(30))
def test_enumeration_lists_exactly_the_patterns_within_the_slack(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    problem = small_problem(rng)
    multipliers = random_multipliers(problem, rng)
    search = wta_bound._Search(problem)
    priced = search.price(multipliers, thorough=True)
    assert priced is not None
    slack = float(rng.uniform(0.0, 3.0))
    listed = search.enumerate(multipliers, priced.upper, slack)
    assert listed is not None
    found = {(j, tuple(w.tolist()), tuple(s.tolist())) for j, w, s in listed}
    assert len(found) == len(listed)  # no pattern twice
    for j in range(problem.n_threats):
        rows, _ = threat_patterns(problem, j)
        shortfall = priced.upper[j] - reduced_values(problem, j, multipliers)
        for row, short in zip(rows, shortfall, strict=True):
            if abs(short - slack) < 1e-9:
                continue  # on the edge: either answer is right
            weapon = np.flatnonzero(row)
            key = (j, tuple(weapon.tolist()), tuple(row[weapon].tolist()))
            assert (key in found) == (short <= slack)


@pytest.mark.parametrize("seed", range(20))
def test_the_lagrangian_bound_holds_for_any_multipliers(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    problem = small_problem(rng)
    optimum = brute_force(problem).objective
    search = wta_bound._Search(problem)
    for _ in range(5):
        priced = search.price(random_multipliers(problem, rng), thorough=True)
        assert priced is not None
        assert priced.bound >= optimum * (1 - 1e-12)


def all_plans(problem: WtaProblem) -> list[np.ndarray]:
    """Every feasible plan of a tiny problem."""
    per_weapon = []
    for i in range(problem.n_weapons):
        grid = itertools.product(*(range(int(k) + 1) for k in problem.shot_limit[i]))
        per_weapon.append([row for row in grid if sum(row) <= problem.rounds[i]])
    return [np.array(plan, dtype=np.int64) for plan in itertools.product(*per_weapon)]


@pytest.mark.parametrize("seed", range(15))
def test_every_plan_above_the_floor_uses_only_listed_patterns(seed: int) -> None:
    # Reduced-value fixing: start column generation from doing nothing, take a floor below
    # the optimum so that several plans clear it, and check each of them.
    rng = np.random.default_rng(300 + seed)
    problem = small_problem(rng)
    empty = np.zeros(problem.kill_probability.shape, np.int64)
    found = wta_bound.lagrangian_bound(
        problem, empty, deadline=time.perf_counter() + 10.0, mip_gap=0.0, threads=1
    )
    assert found.complete
    optimum = brute_force(problem).objective
    assert found.bound >= optimum * (1 - 1e-12)
    assert found.lagrangian >= found.bound
    floor = 0.9 * optimum
    listed = wta_bound.near_optimal_patterns(problem, found, floor)
    assert listed is not None
    keys = {(j, tuple(w.tolist()), tuple(s.tolist())) for j, w, s in listed}
    checked = 0
    for plan in all_plans(problem):
        if objective(problem, plan) < floor:
            continue
        checked += 1
        for j, weapon, shots in wta_bound.Patterns.of_plan(plan):
            assert (j, tuple(weapon.tolist()), tuple(shots.tolist())) in keys
    assert checked >= 1


# --- solve_exact through column generation -------------------------------------------------


def fractional_problem(seed: int) -> WtaProblem:
    """Batteries whose pattern LP is not integral (seeds found by search): the solver has to
    go past the Lagrangian bound, through the enumeration and its MILP."""
    rng = np.random.default_rng(seed)
    weapons, threats = int(rng.integers(3, 6)), int(rng.integers(2, 4))
    return WtaProblem(
        values=rng.uniform(1, 10, threats),
        kill_probability=rng.uniform(0.3, 0.95, (weapons, threats)),
        rounds=rng.integers(1, 3, weapons),
        max_salvo=rng.integers(1, 3, (weapons, threats)),
    )


@pytest.mark.parametrize("seed", [94, 118, 313, 326, 430, 460, 639, 647])
def test_fractional_lp_is_settled_by_the_near_optimal_patterns(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = fractional_problem(seed)
    reference = brute_force(problem)
    found = wta_bound.lagrangian_bound(
        problem,
        reference.shots,
        deadline=time.perf_counter() + 10.0,
        mip_gap=1e-6,
        threads=1,
    )
    assert found.bound > reference.objective * (1 + 1e-4)  # the LP bound is not enough
    calls: list[int] = []
    enumerate_patterns = wta_exact.near_optimal_patterns

    def counted(*args: Any, **kwargs: Any) -> wta_bound.Patterns | None:
        calls.append(1)
        return enumerate_patterns(*args, **kwargs)

    monkeypatch.setattr(wta_exact, "near_optimal_patterns", counted)
    solution = solve_exact(problem, pattern_limit=0)
    assert calls == [1]
    assert solution.optimal
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)
    assert solution.bound is not None
    assert reference.objective <= solution.bound <= reference.objective * (1 + 1e-6)


@pytest.mark.parametrize(
    ("kind", "threats", "rounds", "seed"),
    [
        ("interceptor-rich", 12, 24, 0),
        ("interceptor-rich", 12, 24, 1),
        ("equal-count", 25, 25, 2),
        ("dense-batteries", 20, 40, 3),
        ("battery-style", 30, 60, 4),
    ],
)
def test_column_generation_agrees_with_outer_approximation(
    kind: str, threats: int, rounds: int, seed: int
) -> None:
    problem = make_instance(kind, threats, rounds, np.random.default_rng(seed))
    priced = solve_exact(problem, pattern_limit=0)
    outer = solve_exact(problem, pattern_limit=0, column_generation=False)
    for solution in (priced, outer):
        assert solution.optimal
        assert is_feasible(problem, solution.shots)
    assert priced.objective == pytest.approx(outer.objective, rel=2e-6)
    assert priced.bound is not None
    assert outer.bound is not None
    assert priced.objective <= outer.bound * (1 + 1e-12)
    assert outer.objective <= priced.bound * (1 + 1e-12)


def test_dense_target_size_is_proven_quickly() -> None:
    # The size: 100 threats, 200 single rounds each reaching every threat.
    rng = np.random.default_rng(5)
    solve_exact(make_instance("interceptor-rich", 3, 6, rng), pattern_limit=0)  # compile
    problem = make_instance("interceptor-rich", 100, 200, rng)
    start = time.process_time()
    solution = solve_exact(problem, time_limit_s=60.0)
    assert solution.optimal
    assert solution.gap is not None
    assert solution.gap <= 1e-6
    assert time.process_time() - start < 10.0  # about 0.5 CPU-s measured


def test_search_budget_exceeded_falls_back_to_outer_approximation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = make_instance("interceptor-rich", 6, 12, np.random.default_rng(9))
    reference = solve_exact(problem, pattern_limit=0)
    monkeypatch.setattr(wta_bound, "MAX_SEARCH_NODES", 3)
    fallback = solve_exact(problem, pattern_limit=0)
    assert fallback.optimal
    assert fallback.objective == pytest.approx(reference.objective, rel=2e-6)


# --- identical weapons ---------------------------------------------------------------------


def typed_problem(rng: np.random.Generator, weapons: int, threats: int) -> WtaProblem:
    """Weapons of two or three types: identical rows of kill probability, rounds, salvo."""
    types = int(rng.integers(2, 4))
    p = rng.uniform(0.2, 0.95, (types, threats))
    p[rng.random(p.shape) < 0.2] = 0.0
    kind = rng.integers(0, types, weapons)
    rounds = rng.integers(1, 3, types)[kind]
    salvo = rng.integers(1, 3, (types, threats))[kind]
    return WtaProblem(
        values=rng.uniform(1.0, 10.0, threats),
        kill_probability=p[kind],
        rounds=rounds,
        max_salvo=salvo,
    )


@pytest.mark.parametrize("seed", range(12))
def test_identical_weapons_are_merged_without_changing_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    problem = typed_problem(rng, weapons=4, threats=2)
    classes = _WeaponClasses.of(problem)
    assert classes is not None
    assert classes.problem.n_weapons < problem.n_weapons
    reference = brute_force(problem)
    for pattern_limit in (0, 1024):
        solution = solve_exact(problem, pattern_limit=pattern_limit)
        assert solution.optimal
        assert is_feasible(problem, solution.shots)
        assert solution.objective == pytest.approx(reference.objective, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), weapons=st.integers(2, 12), threats=st.integers(1, 6))
def test_a_class_plan_splits_into_a_feasible_plan_of_its_members(
    seed: int, weapons: int, threats: int
) -> None:
    rng = np.random.default_rng(seed)
    problem = typed_problem(rng, weapons, threats)
    classes = _WeaponClasses.of(problem)
    if classes is None:
        return
    merged = classes.problem
    # A random class plan within the class limits and magazines.
    plan = np.zeros(merged.kill_probability.shape, np.int64)
    for c in range(merged.n_weapons):
        for j in rng.permutation(threats):
            room = int(merged.rounds[c] - plan[c].sum())
            plan[c, j] = rng.integers(0, min(room, merged.shot_limit[c, j]) + 1)
    split = classes.split(plan)
    assert is_feasible(problem, split)
    np.testing.assert_array_equal(classes.merge(split), plan)
    assert objective(problem, split) == pytest.approx(objective(merged, plan), rel=1e-12)


def test_many_identical_rounds_collapse_to_their_types() -> None:
    # 200 single rounds of three types against 100 threats: three weapons with ~67 rounds.
    rng = np.random.default_rng(3)
    types = rng.uniform(0.5, 0.9, (3, 100))
    problem = WtaProblem(
        values=rng.uniform(25.0, 100.0, 100),
        kill_probability=types[rng.integers(0, 3, 200)],
        rounds=np.ones(200, np.int64),
    )
    classes = _WeaponClasses.of(problem)
    assert classes is not None
    assert classes.problem.n_weapons == 3
    solution = solve_exact(problem, time_limit_s=60.0)
    assert solution.optimal
    assert is_feasible(problem, solution.shots)
    assert solution.shots.sum(axis=0).max() >= 2
