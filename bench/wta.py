"""Benchmark: the real-time WTA heuristic against the exact optimum, on generated instances.

For each instance kind and size, ``--instances`` random problems are solved by
:func:`iamd.c2.solve_heuristic` (maximum marginal return and layered assignment, then local
search) and by :func:`iamd.c2.solve_exact` (engagement patterns on HiGHS, one thread: all of
them for battery-style, column generation for the dense kinds), the reference peer: where it
proves its optimum (to a relative gap of 1e-6, within ``--time-limit``), the heuristic's gap
to it is the heuristic's true optimality gap; where it runs out of time, the heuristic's gap
to the exact solver's *proven bound* is printed too, an upper estimate of the true gap.
Printed per kind and size: the heuristic's mean and worst gap and its mean and worst time,
the exact solver's mean and worst time and how many optima it proved. The last line is a
JSON object with all of it.

Instances (``make_instance``), sizes given as threats × interceptor rounds:

* **equal-count** (sanity): ``T`` threats, ``T`` single-round weapons, every pair feasible,
  ``p ~ U[0.6, 0.9]``, values ``~ U[25, 100]`` (the generator of Ahuja et al., 2007).
* **interceptor-rich** 2:1: ``T`` threats, ``2T`` single-round weapons, otherwise the same
  — the classic dense WTA, and the hardest kind for the exact solver (no two weapons alike,
  so none merge).
* **battery-style**: ``T`` threats and ``2T`` rounds in ``2T / 5`` batteries of 5 rounds
  at random points of a unit square. Each threat is reachable by its 2, 3 or 4 nearest
  batteries (mean 3); ``p = p_battery × (1 − 0.4 (d / d_far)²)`` with the battery's type
  ``p_battery ~ U[0.6, 0.9]``, ``d`` the distance and ``d_far`` 1.1 × that of the
  threat's farthest reachable battery; at most 2 rounds of one battery per threat
  (shoot–shoot doctrine).
* **dense-batteries** (only with ``--kinds``): the rounds of interceptor-rich in batteries of
  5, every battery reaching every threat, ``p ~ U[0.6, 0.9]``, at most 2 rounds per threat.

Targets (issue 5): at 100 threats × 200 rounds, heuristic mean gap ≤ 1 % in ≤ 50 ms; exact
optimum proven in ≤ 10 s on one thread.

Usage: ``python bench/wta.py [--seed 1] [--instances 5] [--sizes 10x20,50x100,100x200]
[--kinds equal-count,interceptor-rich,battery-style] [--time-limit 60]``
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from iamd.c2 import WtaProblem, solve_exact, solve_heuristic

KINDS = ("equal-count", "interceptor-rich", "battery-style")
EXTRA_KINDS = ("dense-batteries",)
SIZES = ((10, 20), (50, 100), (100, 200))
BATTERY_ROUNDS = 5
MAX_SALVO = 2


def make_instance(kind: str, threats: int, rounds: int, rng: np.random.Generator) -> WtaProblem:
    """One random problem of a kind, with ``threats`` threats and ``rounds`` rounds in all
    (equal-count uses ``threats`` rounds)."""
    values = rng.uniform(25.0, 100.0, threats)
    if kind in ("equal-count", "interceptor-rich"):
        weapons = threats if kind == "equal-count" else rounds
        p = rng.uniform(0.6, 0.9, (weapons, threats))
        return WtaProblem(values=values, kill_probability=p, rounds=np.ones(weapons, np.int64))
    batteries = max(rounds // BATTERY_ROUNDS, 1)
    if kind == "dense-batteries":
        p = rng.uniform(0.6, 0.9, (batteries, threats))
        return WtaProblem(
            values=values,
            kill_probability=p,
            rounds=np.full(batteries, BATTERY_ROUNDS, np.int64),
            max_salvo=MAX_SALVO,
        )
    if kind != "battery-style":
        raise ValueError(f"unknown kind {kind!r}")
    sites = rng.uniform(0.0, 1.0, (batteries, 2))
    aims = rng.uniform(0.0, 1.0, (threats, 2))
    distance = np.linalg.norm(sites[:, None, :] - aims[None, :, :], axis=2)
    reach = rng.choice([2, 3, 4], size=threats)
    rank = np.argsort(np.argsort(distance, axis=0), axis=0)
    feasible = rank < np.minimum(reach, batteries)[None, :]
    far = 1.1 * np.where(feasible, distance, 0.0).max(axis=0)
    battery_p = rng.uniform(0.6, 0.9, batteries)
    p = battery_p[:, None] * (1.0 - 0.4 * (distance / far[None, :]) ** 2)
    return WtaProblem(
        values=values,
        kill_probability=np.where(feasible, p, 0.0),
        rounds=np.full(batteries, BATTERY_ROUNDS, np.int64),
        max_salvo=MAX_SALVO,
        feasible=feasible,
    )


def run_case(
    kind: str, threats: int, rounds: int, *, instances: int, seed: int, time_limit_s: float
) -> dict[str, Any]:
    """Solve ``instances`` problems of one kind and size both ways; return the figures."""
    rng = np.random.default_rng([seed, (*KINDS, *EXTRA_KINDS).index(kind), threats, rounds])
    gaps, bound_gaps, heuristic_ms, exact_s, proven, exact_gaps = [], [], [], [], 0, []
    weapons = 0
    for _ in range(instances):
        problem = make_instance(kind, threats, rounds, rng)
        weapons = problem.n_weapons
        heuristic = solve_heuristic(problem)
        exact = solve_exact(problem, time_limit_s=time_limit_s, threads=1)
        # Gap to the exact solver's plan (the optimum when proven) and to its proven bound
        # (an upper estimate of the true gap, the figure to use when the optimum is not
        # proven in the time limit).
        reference = max(exact.objective, heuristic.objective)
        bound = max(exact.bound or reference, reference)
        gaps.append((reference - heuristic.objective) / reference if reference > 0 else 0.0)
        bound_gaps.append((bound - heuristic.objective) / bound if bound > 0 else 0.0)
        heuristic_ms.append(1e3 * heuristic.solve_time_s)
        exact_s.append(exact.solve_time_s)
        exact_gaps.append(exact.gap or 0.0)
        proven += int(exact.optimal)
    return {
        "size": f"{threats}x{rounds}",
        "kind": kind,
        "threats": threats,
        "rounds": threats if kind == "equal-count" else rounds,
        "weapons": weapons,
        "instances": instances,
        "heuristic_gap_mean_pct": round(100 * float(np.mean(gaps)), 4),
        "heuristic_gap_max_pct": round(100 * float(np.max(gaps)), 4),
        "heuristic_gap_to_bound_mean_pct": round(100 * float(np.mean(bound_gaps)), 4),
        "heuristic_gap_to_bound_max_pct": round(100 * float(np.max(bound_gaps)), 4),
        "heuristic_ms_mean": round(float(np.mean(heuristic_ms)), 2),
        "heuristic_ms_max": round(float(np.max(heuristic_ms)), 2),
        "exact_s_mean": round(float(np.mean(exact_s)), 3),
        "exact_s_max": round(float(np.max(exact_s)), 3),
        "exact_proven": proven,
        "exact_gap_max": float(np.max(exact_gaps)),
    }


def report(case: dict[str, Any]) -> None:
    """Print one human-readable line."""
    print(
        f"{case['kind']:>16} {case['threats']:>4} threats × {case['rounds']:>4} rounds "
        f"({case['weapons']:>3} weapons): heuristic gap mean {case['heuristic_gap_mean_pct']:.3f} %"
        f" max {case['heuristic_gap_max_pct']:.3f} %, time mean {case['heuristic_ms_mean']:.1f}"
        f" ms max {case['heuristic_ms_max']:.1f} ms; exact time mean {case['exact_s_mean']:.2f} s"
        f" max {case['exact_s_max']:.2f} s, proven {case['exact_proven']}/{case['instances']}"
        + (
            ""
            if case["exact_proven"] == case["instances"]
            else f" (heuristic gap to the proven bound: mean "
            f"{case['heuristic_gap_to_bound_mean_pct']:.3f} %, max "
            f"{case['heuristic_gap_to_bound_max_pct']:.3f} %)"
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instances", type=int, default=5, help="instances per kind and size")
    parser.add_argument(
        "--sizes", default=",".join(f"{t}x{r}" for t, r in SIZES), help="threats x rounds, ..."
    )
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"of {', '.join((*KINDS, *EXTRA_KINDS))}"
    )
    parser.add_argument("--time-limit", type=float, default=60.0, help="exact solver, s")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    wall0 = time.perf_counter()
    cases = []
    for threats, rounds in sizes:
        for kind in kinds:
            case = run_case(
                kind,
                threats,
                rounds,
                instances=args.instances,
                seed=args.seed,
                time_limit_s=args.time_limit,
            )
            report(case)
            cases.append(case)
    largest = [c for c in cases if c["size"] == "{}x{}".format(*max(sizes))]
    result = {
        "benchmark": "wta",
        "seed": args.seed,
        "instances": args.instances,
        "cases": cases,
        "targets": {"heuristic_gap_mean_pct": 1.0, "heuristic_ms": 50.0, "exact_s": 10.0},
        "largest_heuristic_gap_mean_pct": max(c["heuristic_gap_mean_pct"] for c in largest),
        "largest_heuristic_ms_max": max(c["heuristic_ms_max"] for c in largest),
        "largest_exact_s_max": max(c["exact_s_max"] for c in largest),
        "largest_exact_proven": sum(c["exact_proven"] for c in largest),
        "largest_instances": sum(c["instances"] for c in largest),
        "wall_s": round(time.perf_counter() - wall0, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
