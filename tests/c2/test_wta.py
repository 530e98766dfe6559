"""Weapon-target assignment: exact solver against brute force, heuristic quality, stickiness,
limits and input validation (``iamd.c2.wta*``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import iamd.c2
from iamd.c2 import (
    WtaProblem,
    brute_force,
    count_switches,
    is_feasible,
    objective,
    solve_exact,
    solve_heuristic,
)
from iamd.core import ConfigurationError, IamdError

# The benchmark's instance generator is reused for a smoke test at a tiny size.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from wta import KINDS, make_instance, run_case


def random_problem(rng: np.random.Generator, *, weapons: int, threats: int) -> WtaProblem:
    """A small problem with every feature: zero and certain kills, salvo limits, a mask."""
    p = rng.uniform(0.0, 1.0, (weapons, threats))
    p[rng.random(p.shape) < 0.15] = 0.0
    p[rng.random(p.shape) < 0.1] = 1.0
    return WtaProblem(
        values=rng.uniform(0.0, 10.0, threats),
        kill_probability=p,
        rounds=rng.integers(0, 3, weapons),
        max_salvo=rng.integers(0, 3, (weapons, threats)) if rng.random() < 0.5 else None,
        feasible=rng.random(p.shape) < 0.85 if rng.random() < 0.5 else None,
    )


def test_public_api() -> None:
    assert set(iamd.c2.__all__) >= {
        "MIN_SURVIVAL",
        "PATTERN_LIMIT",
        "WtaProblem",
        "WtaSolution",
        "brute_force",
        "check_shots",
        "count_switches",
        "is_feasible",
        "objective",
        "solve_exact",
        "solve_heuristic",
    }
    for name in iamd.c2.__all__:
        assert hasattr(iamd.c2, name)


def test_objective_is_the_expected_value_destroyed() -> None:
    problem = WtaProblem(
        values=[10.0, 4.0, 2.0], kill_probability=[[0.5, 0.2, 1.0], [0.4, 0.0, 0.3]], rounds=[3, 2]
    )
    shots = np.array([[2, 0, 1], [1, 0, 0]])
    expected = 10.0 * (1 - 0.5**2 * 0.6) + 0.0 + 2.0 * 1.0
    assert objective(problem, shots) == pytest.approx(expected, rel=1e-15)
    assert objective(problem, np.zeros((2, 3), np.int64)) == 0.0


# --- exact solver -------------------------------------------------------------------------

# The exact solver's three models, forced on every threat: all patterns in one MILP (small
# threats), column generation over patterns (dense threats, the default for them), outer
# approximation (the fallback).
MODELS = (
    {"pattern_limit": 1024},
    {"pattern_limit": 0, "column_generation": True},
    {"pattern_limit": 0, "column_generation": False},
)


@pytest.mark.parametrize("seed", range(40))
def test_exact_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = random_problem(rng, weapons=3, threats=3)
    reference = brute_force(problem)
    for model in MODELS:
        solution = solve_exact(problem, **model)
        assert solution.optimal
        assert is_feasible(problem, solution.shots)
        assert solution.objective == pytest.approx(reference.objective, rel=1e-6, abs=1e-9)
        assert solution.objective == pytest.approx(objective(problem, solution.shots), rel=1e-12)
        # The bound is a true upper bound, and tight.
        assert solution.bound is not None
        assert solution.bound >= reference.objective * (1 - 1e-9) - 1e-12
        assert solution.gap is not None
        assert solution.gap <= 1e-6


@pytest.mark.parametrize("seed", range(8))
def test_exact_matches_brute_force_on_batteries(seed: int) -> None:
    # Two batteries with up to 4 rounds and salvo limits over 3 threats: shots x_ij > 1.
    rng = np.random.default_rng(100 + seed)
    problem = WtaProblem(
        values=rng.uniform(1.0, 10.0, 3),
        kill_probability=rng.uniform(0.2, 0.9, (2, 3)),
        rounds=rng.integers(1, 5, 2),
        max_salvo=rng.integers(1, 4, (2, 3)),
    )
    reference = brute_force(problem)
    for model in MODELS:
        solution = solve_exact(problem, **model)
        assert solution.optimal
        assert solution.objective == pytest.approx(reference.objective, rel=1e-6)


def test_the_three_models_agree() -> None:
    rng = np.random.default_rng(7)
    problem = make_instance("battery-style", 12, 20, rng)
    solutions = [solve_exact(problem, **model) for model in MODELS]
    for solution in solutions:
        assert solution.optimal
        assert solution.objective == pytest.approx(solutions[0].objective, rel=2e-6)


def test_exact_handles_certain_kills() -> None:
    # p = 1 is capped inside outer approximation and column generation's pricing; the plan
    # and its value stay exact.
    problem = WtaProblem(
        values=[5.0, 3.0, 1.0],
        kill_probability=[[1.0, 0.5, 0.5], [1.0, 1.0, 0.2]],
        rounds=[1, 2],
    )
    reference = brute_force(problem)
    assert reference.objective == pytest.approx(5.0 + 3.0 + 0.5)
    for model in MODELS:
        solution = solve_exact(problem, **model)
        assert solution.optimal
        assert solution.objective == pytest.approx(reference.objective, rel=1e-12)
        assert solution.bound is not None
        assert solution.bound >= reference.objective


@pytest.mark.parametrize("column_generation", [True, False])
def test_exact_out_of_time_reports_a_valid_bound_and_no_proof(column_generation: bool) -> None:
    problem = make_instance("interceptor-rich", 60, 240, np.random.default_rng(0))
    solution = solve_exact(problem, time_limit_s=0.02, column_generation=column_generation)
    assert not solution.optimal
    assert solution.bound is not None
    assert solution.bound > solution.objective
    assert is_feasible(problem, solution.shots)


def test_empty_problems() -> None:
    for weapons, threats in ((0, 3), (2, 0), (0, 0)):
        problem = WtaProblem(
            values=np.ones(threats),
            kill_probability=np.full((weapons, threats), 0.5),
            rounds=np.ones(weapons, np.int64),
        )
        for solution in (solve_exact(problem), solve_heuristic(problem), brute_force(problem)):
            assert solution.shots.shape == (weapons, threats)
            assert solution.objective == 0.0


# --- heuristic ----------------------------------------------------------------------------


def one_to_one_problem(rng: np.random.Generator, weapons: int, threats: int) -> WtaProblem:
    """Single rounds, W ≤ T, with values in [1, 1.5] and p in [0.7, 0.95].

    Claim: then every optimal plan is one-to-one (every weapon fires, no threat gets two
    shots), so the optimum is the linear assignment maximum of ``Σ V_j p_ij``.

    Proof. A shot always adds ``V_j P_j p_ij > 0``, so every round fires in an optimal plan.
    Suppose threat ``j`` gets two or more shots; as ``W ≤ T`` some threat ``k`` gets none.
    Removing one shot ``i`` from ``j`` loses ``V_j p_ij Π_(other shots at j) q ≤
    V_j p_ij (1 − p_min) ≤ 1.5 × 0.95 × 0.3 = 0.4275``; firing it at ``k`` gains
    ``V_k p_ik ≥ 0.7``. The move improves the plan, which contradicts its optimality. So an
    optimal plan is a matching that uses every weapon, whose value is ``Σ V_j p_ij`` over its
    pairs: the linear assignment problem. (Checked numerically below, too.)
    """
    values = rng.uniform(1.0, 1.5, threats)
    p = rng.uniform(0.7, 0.95, (weapons, threats))
    gain_first = values[None, :] * p
    loss_second = values[None, :] * p * (1.0 - p.min(axis=0))[None, :]
    assert gain_first.min() > loss_second.max()
    return WtaProblem(values=values, kill_probability=p, rounds=np.ones(weapons, np.int64))


def assignment_optimum(problem: WtaProblem) -> float:
    gain = problem.values[None, :] * problem.kill_probability
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return float(gain[rows, cols].sum())


@pytest.mark.parametrize(("weapons", "threats", "seed"), [(3, 3, 0), (3, 4, 1), (4, 4, 2)])
def test_one_to_one_optimum_is_the_assignment_optimum(
    weapons: int, threats: int, seed: int
) -> None:
    problem = one_to_one_problem(np.random.default_rng(seed), weapons, threats)
    reference = brute_force(problem)
    assert reference.shots.sum(axis=0).max() == 1
    assert reference.objective == pytest.approx(assignment_optimum(problem), rel=1e-12)


@pytest.mark.parametrize(
    ("weapons", "threats", "seed"),
    [(4, 4, 3), (5, 7, 4), (20, 20, 5), (30, 30, 6), (40, 60, 7), (100, 100, 8)],
)
def test_heuristic_is_optimal_when_one_to_one_is_provably_optimal(
    weapons: int, threats: int, seed: int
) -> None:
    problem = one_to_one_problem(np.random.default_rng(seed), weapons, threats)
    solution = solve_heuristic(problem)
    assert solution.objective == pytest.approx(assignment_optimum(problem), rel=1e-12)
    assert solution.shots.sum(axis=0).max() == 1


def naive_plans(problem: WtaProblem) -> list[np.ndarray]:
    """Two baselines: every round at its weapon's best single-shot target, ignoring the
    others; and plain maximum marginal return without local search."""
    limit = problem.shot_limit
    best_alone = np.zeros_like(limit)
    gain = problem.values[None, :] * problem.kill_probability
    gain = np.where(limit > 0, gain, -1.0)
    for i in range(problem.n_weapons):
        remaining = int(problem.rounds[i])
        for j in np.argsort(-gain[i]):
            if remaining == 0 or gain[i, j] < 0:
                break
            best_alone[i, j] = min(remaining, limit[i, j])
            remaining -= best_alone[i, j]
    greedy = np.zeros_like(limit)
    survival = np.ones(problem.n_threats)
    spare = problem.rounds.copy()
    while True:
        marginal = problem.values * survival * problem.kill_probability
        marginal[(greedy >= limit) | (spare[:, None] <= 0)] = -1.0
        i, j = np.unravel_index(np.argmax(marginal), marginal.shape)
        if marginal[i, j] <= 0:
            break
        greedy[i, j] += 1
        spare[i] -= 1
        survival[j] *= 1.0 - problem.kill_probability[i, j]
    return [best_alone, greedy]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(3))
def test_heuristic_never_worse_than_naive_baselines(kind: str, seed: int) -> None:
    problem = make_instance(kind, 30, 60, np.random.default_rng(seed))
    solution = solve_heuristic(problem)
    for plan in naive_plans(problem):
        assert is_feasible(problem, plan)
        assert solution.objective >= objective(problem, plan) - 1e-9


@pytest.mark.parametrize("kind", KINDS)
def test_heuristic_is_close_to_the_exact_optimum(kind: str) -> None:
    problem = make_instance(kind, 10, 20, np.random.default_rng(11))
    exact = solve_exact(problem)
    heuristic = solve_heuristic(problem)
    assert exact.optimal
    assert heuristic.objective <= exact.objective * (1 + 1e-9)
    assert heuristic.objective >= 0.99 * exact.objective


@pytest.mark.parametrize("seed", range(30))
def test_heuristic_respects_rounds_salvo_limits_and_masks(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    problem = random_problem(rng, weapons=6, threats=5)
    solution = solve_heuristic(problem)
    shots = solution.shots
    assert shots.min() >= 0
    assert (shots.sum(axis=1) <= problem.rounds).all()
    if problem.max_salvo is not None:
        assert (shots <= problem.max_salvo).all()
    assert (shots[problem.kill_probability == 0.0] == 0).all()
    if problem.feasible is not None:
        assert (shots[~problem.feasible] == 0).all()
    assert is_feasible(problem, shots)
    assert solution.objective <= brute_force(problem).objective + 1e-9


def test_infeasible_pairs_never_get_shots_even_when_they_are_the_best() -> None:
    # Weapon 0 is by far best against threat 0 but may not engage it; weapon 1 has p = 0
    # against threat 1. Plenty of rounds, so an unconstrained plan would use those pairs.
    feasible = np.array([[False, True], [True, True]])
    problem = WtaProblem(
        values=[100.0, 1.0],
        kill_probability=[[0.99, 0.5], [0.3, 0.0]],
        rounds=[5, 5],
        feasible=feasible,
    )
    for solution in (solve_heuristic(problem), solve_exact(problem)):
        assert solution.shots[0, 0] == 0
        assert solution.shots[1, 1] == 0
        assert solution.shots[1, 0] == 5  # every useful round goes where it may
    assert not is_feasible(problem, [[1, 0], [0, 0]])
    assert not is_feasible(problem, [[0, 0], [0, 1]])


# --- re-planning with a switch penalty -----------------------------------------------------


SWAP_PROBLEM = WtaProblem(
    values=[1.0, 1.0], kill_probability=[[0.9, 0.8], [0.8, 0.6]], rounds=[1, 1]
)
# Plan A (0→0, 1→1) destroys 0.9 + 0.6 = 1.5; plan B (0→1, 1→0) 0.8 + 0.8 = 1.6, the optimum.
PLAN_A = np.array([[1, 0], [0, 1]])
PLAN_B = np.array([[0, 1], [1, 0]])


def test_switch_penalty_keeps_the_previous_plan_when_the_gain_is_below_it() -> None:
    # Moving to B re-aims both shots: a penalty of 2 × 0.06 = 0.12 exceeds the 0.1 gain.
    kept = solve_heuristic(SWAP_PROBLEM, previous=PLAN_A, switch_penalty=0.06)
    np.testing.assert_array_equal(kept.shots, PLAN_A)
    assert kept.switches == 0
    # 2 × 0.04 = 0.08 < 0.1: switching pays.
    moved = solve_heuristic(SWAP_PROBLEM, previous=PLAN_A, switch_penalty=0.04)
    np.testing.assert_array_equal(moved.shots, PLAN_B)
    assert moved.switches == 2
    # Without a penalty the previous plan is ignored.
    free = solve_heuristic(SWAP_PROBLEM, previous=PLAN_A)
    np.testing.assert_array_equal(free.shots, PLAN_B)


def test_a_spare_round_engages_a_new_threat_at_no_switch_cost() -> None:
    problem = WtaProblem(values=[1.0, 1.0], kill_probability=[[0.9, 0.5]], rounds=[2])
    solution = solve_heuristic(problem, previous=[[1, 0]], switch_penalty=100.0)
    np.testing.assert_array_equal(solution.shots, [[1, 1]])
    assert solution.switches == 0
    assert count_switches(np.array([[2, 0]]), np.array([[1, 1]])) == 1


def test_previous_plan_beyond_the_current_limits_is_cut_back() -> None:
    # The weapon has fired one of its rounds and threat 1 is now out of reach.
    problem = WtaProblem(
        values=[1.0, 1.0],
        kill_probability=[[0.9, 0.5]],
        rounds=[1],
        feasible=[[True, False]],
    )
    solution = solve_heuristic(problem, previous=[[1, 1]], switch_penalty=1.0)
    np.testing.assert_array_equal(solution.shots, [[1, 0]])
    assert solution.switches == 1  # the shot at threat 1 could not be kept


@pytest.mark.parametrize("seed", range(5))
def test_sticky_replanning_never_costs_more_than_the_penalty_allows(seed: int) -> None:
    # The re-plan maximises value − λ × switches, so it scores at least as well as keeping
    # the previous plan, and at least as well as the unpenalised plan scored the same way.
    rng = np.random.default_rng(seed)
    problem = make_instance("battery-style", 20, 40, rng)
    previous = solve_heuristic(make_instance("battery-style", 20, 40, rng)).shots
    previous = np.minimum(previous, problem.shot_limit)
    penalty = 2.0
    sticky = solve_heuristic(problem, previous=previous, switch_penalty=penalty)
    free = solve_heuristic(problem)

    def score(shots: np.ndarray) -> float:
        return objective(problem, shots) - penalty * count_switches(previous, shots)

    assert is_feasible(problem, sticky.shots)
    assert score(sticky.shots) >= score(free.shots) - 1e-9
    if is_feasible(problem, previous):
        assert score(sticky.shots) >= score(previous) - 1e-9


# --- input validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"values": [[1.0]]}, r"values must have shape \(n_threats,\)"),
        ({"values": [1.0, -2.0]}, r"values must be finite and >= 0 \(got -2.0\)"),
        ({"values": [1.0, np.nan]}, r"values must be finite and >= 0"),
        ({"kill_probability": [[0.5, 0.5, 0.5]]}, r"kill_probability must have shape"),
        ({"kill_probability": [[0.5, 1.2]]}, r"kill_probability must lie in \[0, 1\]"),
        ({"kill_probability": [[-0.1, 0.5]]}, r"kill_probability must lie in \[0, 1\]"),
        ({"kill_probability": [[np.nan, 0.5]]}, r"kill_probability must lie in \[0, 1\]"),
        ({"rounds": [1, 2]}, r"rounds must have shape \(1,\)"),
        ({"rounds": [-1]}, r"rounds must be >= 0 \(got -1\)"),
        ({"rounds": [1.5]}, r"rounds must be whole numbers"),
        ({"max_salvo": [[1, 1, 1]]}, r"max_salvo must have shape \(1, 2\)"),
        ({"max_salvo": [[1, -1]]}, r"max_salvo must be >= 0"),
        ({"feasible": [[1, 0]]}, r"feasible must be booleans"),
        ({"feasible": [[True, False, True]]}, r"feasible must have shape \(1, 2\)"),
    ],
)
def test_problem_validation(arguments: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "values": [1.0, 2.0],
        "kill_probability": [[0.5, 0.5]],
        "rounds": [1],
    }
    with pytest.raises(ConfigurationError, match=message) as raised:
        WtaProblem(**(base | arguments))  # type: ignore[arg-type]
    assert isinstance(raised.value, IamdError)
    assert isinstance(raised.value, ValueError)


def test_problem_is_read_only() -> None:
    problem = WtaProblem(values=[1.0], kill_probability=[[0.5]], rounds=[2], max_salvo=1)
    with pytest.raises(ValueError, match="read-only"):
        problem.kill_probability[0, 0] = 1.0
    np.testing.assert_array_equal(problem.shot_limit, [[1]])


def test_solver_argument_validation() -> None:
    with pytest.raises(
        ConfigurationError, match=r"shots must have shape \(2, 2\) \(got \(1, 2\)\)"
    ):
        objective(SWAP_PROBLEM, [[1, 0]])
    with pytest.raises(ConfigurationError, match="shots must be >= 0"):
        objective(SWAP_PROBLEM, [[1, -1], [0, 0]])
    with pytest.raises(ConfigurationError, match=r"previous must have shape \(2, 2\)"):
        solve_heuristic(SWAP_PROBLEM, previous=[1, 0])
    with pytest.raises(ConfigurationError, match="previous must be whole numbers"):
        solve_heuristic(SWAP_PROBLEM, previous=[[0.5, 0], [0, 0]])
    with pytest.raises(ConfigurationError, match="switch_penalty must be finite and >= 0"):
        solve_heuristic(SWAP_PROBLEM, previous=PLAN_A, switch_penalty=-1.0)
    with pytest.raises(ConfigurationError, match="time_limit_s must be finite and > 0"):
        solve_exact(SWAP_PROBLEM, time_limit_s=0.0)
    with pytest.raises(ConfigurationError, match=r"mip_gap must be in \[0, 1\)"):
        solve_exact(SWAP_PROBLEM, mip_gap=1.0)
    with pytest.raises(ConfigurationError, match="threads must be >= 1"):
        solve_exact(SWAP_PROBLEM, threads=0)
    with pytest.raises(ConfigurationError, match="pattern_limit must be >= 0"):
        solve_exact(SWAP_PROBLEM, pattern_limit=-1)
    big = WtaProblem(values=np.ones(6), kill_probability=np.full((6, 6), 0.5), rounds=np.full(6, 3))
    with pytest.raises(ConfigurationError, match="brute force would enumerate"):
        brute_force(big)


# --- benchmark smoke test -----------------------------------------------------------------


def test_benchmark_pieces_fit_together() -> None:
    rng = np.random.default_rng(0)
    battery = make_instance("battery-style", 10, 20, rng)
    assert battery.n_weapons == 4
    assert (battery.rounds == 5).all()
    reach = battery.shot_limit > 0
    assert (reach.sum(axis=0) >= 2).all()
    assert (reach.sum(axis=0) <= 4).all()
    assert battery.shot_limit.max() == 2
    case = run_case("equal-count", 5, 10, instances=1, seed=1, time_limit_s=10.0)
    assert case["exact_proven"] == 1
    assert case["rounds"] == 5
    assert 0.0 <= case["heuristic_gap_mean_pct"] <= case["heuristic_gap_max_pct"]
