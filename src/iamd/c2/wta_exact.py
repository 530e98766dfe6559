r"""Exact weapon-target assignment on HiGHS: engagement patterns, priced or listed.

The objective ``Σ_j V_j (1 − Π_i q_ij^x_ij)`` is not linear. :func:`solve_exact` proves the
optimum with one of three exact models, all solved by HiGHS ([4]_):

* when every threat has at most ``pattern_limit`` engagement patterns (few weapons in reach
  of each, as with batteries placed around defended areas), all patterns in one MILP;
* otherwise (dense problems: e.g. every one of 200 interceptors in reach of every threat)
  the same pattern program by column generation, :mod:`iamd.c2.wta_bound`: a Lagrangian
  bound, then the MILP over only the patterns that can still be part of an optimal plan;
* outer approximation of the threats beyond ``pattern_limit`` and patterns for the others,
  as a fallback when column generation's searches exceed their budgets, or on request
  (``column_generation=False``); far slower on dense problems.

Before any of them, identical weapons (equal rounds, kill probabilities and shot limits)
are merged into one weapon per class holding all their rounds, and the class plan is dealt
back out to the members (:class:`_WeaponClasses`): 200 single rounds of three types are
three weapons, whose patterns are shot counts per type.

**Engagement patterns** (threats that few weapons can reach). A *pattern* of threat ``j`` is
one vector of shots ``(x_ij)_i`` within the pair limits, e.g. "2 rounds from battery 3, 1
from battery 7". A threat reachable by three batteries with a salvo limit of 2 has
``3³ = 27`` patterns. Each pattern gets a binary variable with its exact value
``V_j (1 − Π_i q_ij^x_ij)`` as its objective coefficient; a threat takes at most one pattern,
and the magazines count the rounds of the chosen patterns. The model is exact, and its LP
relaxation is the concave envelope of each threat's value, the strongest such relaxation
([5]_), so branch and bound has little to do.

**Outer approximation** (the fallback for threats with more patterns than
``pattern_limit``). With ``a_ij = −ln q_ij ≥ 0`` the survival
of threat ``j`` is ``exp(−z_j)`` with ``z_j = Σ_i a_ij x_ij`` *linear* in the shots, and
``φ(z) = 1 − e^{−z}`` is concave and increasing, so the problem is::

    maximise  Σ_j V_j t_j
    subject to t_j ≤ φ(z_j),  z_j ≤ Σ_i a_ij x_ij,  Σ_j x_ij ≤ rounds_i,
               0 ≤ x_ij ≤ shot_limit_ij integer,

which has a convex feasible region in ``(z, t)`` ([1]_, [2]_). Every tangent of a concave
function lies above it, so replacing ``t_j ≤ φ(z_j)`` by a finite set of tangents
``t_j ≤ φ(ζ) + φ′(ζ)(z_j − ζ)`` gives a mixed-integer *linear* program whose optimum is an
upper bound on the true optimum (outer approximation, [3]_), and whose plan ``x̂`` has a
true value ``F(x̂)``, a lower bound. Where the model overestimates a threat
(``t̂_j > φ(ẑ_j)``), a tangent at ``ẑ_j`` is added and the program solved again, until
HiGHS's dual bound (a proven upper bound of the current model, hence of the problem) is
within ``mip_gap`` of the best true value found. A round whose plan the model values
exactly ends the loop at the latest (its bound is then the plan's true value, to HiGHS's
gap), and each other round adds a tangent that excludes that overvaluation, so the loop
ends. It takes few rounds because the heuristic's plan
(:func:`iamd.c2.wta_heuristic.solve_heuristic`) starts HiGHS as its incumbent and puts
tangents at its ``z_j``, and because the LP relaxation is refined first, tangents at the LP
optimum's ``z_j`` until it overestimates by less than ``_LP_CUT_TOLERANCE``. But each round
is a whole branch and bound (tangents are not added lazily inside one), on an LP relaxation
about 1 % above the optimum on dense problems: 100 threats × 200 single rounds took 489 s.
Column generation proves those in under a second.

A certain kill (``p = 1``) would give ``a = ∞``: outer approximation uses
``q ≥ MIN_SURVIVAL`` (:data:`iamd.c2.wta.MIN_SURVIVAL`, 1e-9) and adds
``MIN_SURVIVAL × V_j`` for each such threat to the bound, which keeps the bound valid for the
true ``q``; pattern values use the true ``q``.

References
----------
.. [1] R. K. Ahuja, A. Kumar, K. C. Jha and J. B. Orlin, "Exact and heuristic algorithms
   for the weapon-target assignment problem", *Operations Research* 55(6), 2007,
   pp. 1136–1146.
.. [2] Y. Lu and D. Z. Chen, "A new exact algorithm for the weapon-target assignment
   problem", *Omega* 98, 2021, 102138 (outer approximation with tangent cuts).
.. [3] M. A. Duran and I. E. Grossmann, "An outer-approximation algorithm for a class of
   mixed-integer nonlinear programs", *Mathematical Programming* 36, 1986, pp. 307–339.
.. [4] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
   *Mathematical Programming Computation* 10, 2018, pp. 119–142 (HiGHS).
.. [5] G. L. Nemhauser and L. A. Wolsey, *Integer and Combinatorial Optimization*, Wiley,
   1988, §II.3.6 (Dantzig–Wolfe reformulation: the LP relaxation of a pattern model is the
   convex hull of each block).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np

from iamd.c2.wta import MIN_SURVIVAL, WtaProblem, WtaSolution, objective
from iamd.c2.wta_bound import (
    PatternProgram,
    Patterns,
    lagrangian_bound,
    near_optimal_patterns,
    shortfall_of,
)
from iamd.c2.wta_heuristic import solve_heuristic
from iamd.core.errors import ConfigurationError
from iamd.core.typing import BoolArray, FloatArray, IntArray

PATTERN_LIMIT = 1024
"""Default most engagement patterns of a threat for the pattern model; a threat with more
goes to outer approximation."""

_INITIAL_KILL_LEVELS = (0.5, 0.75, 0.9, 0.97, 0.99, 0.999)
"""Kill probabilities ``φ(ζ)`` of the tangents every threat starts with, besides ``ζ = 0``
and the heuristic's ``z_j``: a coarse cover of the curve where its slope changes most."""

_LP_CUT_TOLERANCE = 1e-6
"""The LP phase stops once no threat's ``t_j`` exceeds ``φ(z_j)`` by more than this."""

_MAX_LP_ROUNDS = 30
"""Safeguard on the LP phase (it converges in far fewer)."""

_CUT_TOLERANCE = 1e-10
"""In the MILP phase a tangent is added where ``t_j`` exceeds ``φ(z_j)`` by more than this
(kill probability, i.e. relative to ``V_j``)."""


def _patterns(limits: IntArray) -> IntArray:
    """Every shot vector within ``limits`` (r,), as rows (n, r), the all-zero one first.

    Row ``k`` is ``k`` written in the mixed radix ``limits + 1`` (last digit fastest).
    """
    radix = limits + 1
    count = int(np.prod(radix))
    strides = _strides(radix)
    index = np.arange(count)[:, None]
    return np.asarray((index // strides[None, :]) % radix[None, :], dtype=np.int64)


def _strides(radix: IntArray) -> IntArray:
    """Place values of the mixed radix ``radix`` (last digit fastest)."""
    return np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)


class _Rows:
    """Rows ``Σ coefficient × column ≤ upper`` collected as triplets, added at once."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget the rows collected so far."""
        self.row: list[IntArray] = []
        self.column: list[IntArray] = []
        self.coefficient: list[FloatArray] = []
        self.upper: list[float] = []

    def add(self, columns: IntArray, coefficients: FloatArray, upper: float) -> None:
        self.row.append(np.full(columns.size, len(self.upper), dtype=np.int64))
        self.column.append(columns.astype(np.int64))
        self.coefficient.append(coefficients.astype(np.float64))
        self.upper.append(upper)

    def add_many(
        self, row: IntArray, column: IntArray, coefficient: FloatArray, upper: FloatArray
    ) -> None:
        """Add ``upper.size`` rows from triplets whose ``row`` counts from 0."""
        self.row.append(row.astype(np.int64) + len(self.upper))
        self.column.append(column.astype(np.int64))
        self.coefficient.append(coefficient.astype(np.float64))
        self.upper.extend(upper.tolist())

    def flush(self, highs: highspy.Highs) -> int:
        """Add the rows to ``highs``; return how many."""
        count = len(self.upper)
        if count == 0:
            return 0
        row = np.concatenate(self.row)
        order = np.argsort(row, kind="stable")
        column = np.concatenate(self.column)[order].astype(np.int32)
        coefficient = np.concatenate(self.coefficient)[order]
        starts = np.searchsorted(row[order], np.arange(count)).astype(np.int32)
        highs.addRows(
            count,
            np.full(count, -highspy.kHighsInf),
            np.asarray(self.upper, dtype=np.float64),
            column.size,
            starts,
            column,
            coefficient,
        )
        self.clear()
        return count


class _Model:
    """The MILP in HiGHS: pattern threats and outer-approximation (OA) threats.

    Columns: ``x`` (one per OA pair), ``z`` and ``t`` (one each per OA threat), then one
    binary per non-zero pattern of each pattern threat. ``t`` is the threat's kill
    probability, so tangent coefficients are of order 1 whatever the values.
    """

    def __init__(self, problem: WtaProblem, threads: int, pattern_limit: int) -> None:
        limit = problem.shot_limit
        n_weapons = problem.n_weapons
        reach = limit > 0
        counts = np.prod(np.where(reach, limit + 1, 1).astype(np.float64), axis=0)
        reached = reach.any(axis=0)
        by_pattern = reached & (counts <= pattern_limit)
        self.problem = problem

        # OA part.
        oa_mask = reach & ~by_pattern[None, :]
        weapon, threat = np.nonzero(oa_mask)
        self.weapon, self.threat = weapon, threat
        self.oa_threats, threat_index = np.unique(threat, return_inverse=True)
        self.threat_index = threat_index.astype(np.int64)
        n_pairs, n_oa = weapon.size, self.oa_threats.size
        self.n_pairs, self.n_oa = n_pairs, n_oa
        self.a = -problem.log_survival[weapon, threat]
        pair_limit = limit[weapon, threat].astype(np.float64)
        self.z_max = np.bincount(self.threat_index, self.a * pair_limit, minlength=n_oa)
        self.z_col = n_pairs + np.arange(n_oa)
        self.t_col = n_pairs + n_oa + np.arange(n_oa)
        self.tangents: list[set[float]] = [set() for _ in range(n_oa)]

        # Pattern part: per threat, its reachable weapons and its non-zero patterns.
        self.pattern_threats = np.flatnonzero(by_pattern)
        self.pattern_weapons: list[IntArray] = []
        self.pattern_shots: list[IntArray] = []
        self.pattern_first: list[int] = []
        column = n_pairs + 2 * n_oa
        pattern_values: list[FloatArray] = []
        q = 1.0 - problem.kill_probability
        for j in self.pattern_threats.tolist():
            weapons = np.flatnonzero(reach[:, j])
            shots = _patterns(limit[weapons, j])[1:]
            survival = np.prod(q[weapons, j][None, :] ** shots, axis=1)
            self.pattern_weapons.append(weapons)
            self.pattern_shots.append(shots)
            self.pattern_first.append(column)
            pattern_values.append(problem.values[j] * (1.0 - survival))
            column += shots.shape[0]
        self.n_cols = column

        highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", int(threads))
        highs.setOptionValue("random_seed", 0)
        # The heuristic's plan is a near-optimal incumbent from the start, so HiGHS's own
        # primal heuristics mostly cost time; presolve finds nothing to remove in these
        # models but spends a restart's worth of work. Measured on dense 100 × 100: 15 s
        # with the defaults, 2.7 s without both.
        highs.setOptionValue("presolve", "off")
        highs.setOptionValue("mip_heuristic_effort", 0.0)
        self.highs = highs
        upper = np.concatenate(
            [pair_limit, self.z_max, np.ones(n_oa), np.ones(column - n_pairs - 2 * n_oa)]
        )
        highs.addVars(self.n_cols, np.zeros(self.n_cols), upper)
        cost = np.concatenate(
            [np.zeros(n_pairs + n_oa), problem.values[self.oa_threats], *pattern_values]
        )
        highs.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), cost)
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)

        rows = _Rows()
        # Magazines, only where the pair limits do not already imply them. Triplets
        # (weapon, column, rounds) from OA pairs and from patterns.
        cap_weapon = [weapon]
        cap_column = [np.arange(n_pairs)]
        cap_rounds = [np.ones(n_pairs)]
        for weapons, shots, first in zip(
            self.pattern_weapons, self.pattern_shots, self.pattern_first, strict=True
        ):
            k, m = np.nonzero(shots)
            cap_weapon.append(weapons[m])
            cap_column.append(first + k)
            cap_rounds.append(shots[k, m].astype(np.float64))
        cap_w = np.concatenate(cap_weapon)
        binding = np.flatnonzero(limit.sum(axis=1) > problem.rounds)
        row_of = np.full(n_weapons, -1, dtype=np.int64)
        row_of[binding] = np.arange(binding.size)
        keep = row_of[cap_w] >= 0
        rows.add_many(
            row_of[cap_w][keep],
            np.concatenate(cap_column)[keep],
            np.concatenate(cap_rounds)[keep],
            problem.rounds[binding].astype(np.float64),
        )
        # z_j − Σ_i a_ij x_ij ≤ 0.
        rows.add_many(
            np.concatenate([self.threat_index, np.arange(n_oa)]),
            np.concatenate([np.arange(n_pairs), self.z_col]),
            np.concatenate([-self.a, np.ones(n_oa)]),
            np.zeros(n_oa),
        )
        # One pattern at most per pattern threat.
        for shots, first in zip(self.pattern_shots, self.pattern_first, strict=True):
            rows.add(first + np.arange(shots.shape[0]), np.ones(shots.shape[0]), 1.0)
        rows.flush(highs)

    def add_tangents(self, threat: IntArray, at: FloatArray) -> int:
        """Add ``t − e^{−ζ} z ≤ 1 − e^{−ζ}(1 + ζ)`` for each new (OA threat, ``ζ``).

        Returns how many were added (a tangent already there is not added again).
        """
        rows = _Rows()
        for k, zeta in zip(threat.tolist(), at.tolist(), strict=True):
            zeta = min(max(zeta, 0.0), float(self.z_max[k]))
            key = round(zeta, 12)
            if key in self.tangents[k]:
                continue
            self.tangents[k].add(key)
            slope = math.exp(-zeta)
            rows.add(
                np.array([self.t_col[k], self.z_col[k]]),
                np.array([1.0, -slope]),
                1.0 - slope * (1.0 + zeta),
            )
        return rows.flush(self.highs)

    def z_of(self, pair_shots: FloatArray) -> FloatArray:
        """``z_j = Σ_i a_ij x_ij`` of each OA threat."""
        z = np.bincount(self.threat_index, self.a * pair_shots, minlength=self.n_oa)
        return np.asarray(z, dtype=np.float64)

    def make_integer(self) -> None:
        """Turn the LP relaxation into the MILP."""
        integer = highspy.HighsVarType.kInteger.value
        columns = np.concatenate(
            [np.arange(self.n_pairs), np.arange(self.n_pairs + 2 * self.n_oa, self.n_cols)]
        ).astype(np.int32)
        self.highs.changeColsIntegrality(
            columns.size, columns, np.full(columns.size, integer, dtype=np.uint8)
        )

    def solve(self, time_limit_s: float) -> tuple[FloatArray, float, bool]:
        """Run HiGHS; return the column values, the proven bound and whether it finished."""
        self.highs.setOptionValue("time_limit", max(time_limit_s, 1e-3))
        self.highs.run()
        status = self.highs.getModelStatus()
        info = self.highs.getInfo()
        values = np.asarray(self.highs.getSolution().col_value, dtype=np.float64)
        finished = status == highspy.HighsModelStatus.kOptimal
        return values, float(info.mip_dual_bound), finished

    def shots_of(self, values: FloatArray) -> IntArray | None:
        """The plan of an integer solution, or None if HiGHS returned none."""
        if values.size != self.n_cols:
            return None
        rounded = np.round(values)
        shots = np.zeros(self.problem.kill_probability.shape, dtype=np.int64)
        shots[self.weapon, self.threat] = rounded[: self.n_pairs].astype(np.int64)
        for j, weapons, patterns, first in zip(
            self.pattern_threats.tolist(),
            self.pattern_weapons,
            self.pattern_shots,
            self.pattern_first,
            strict=True,
        ):
            chosen = np.flatnonzero(rounded[first : first + patterns.shape[0]] > 0)
            if chosen.size:
                shots[weapons, j] = patterns[chosen[0]]
        return shots

    def set_start(self, shots: IntArray) -> None:
        """Give HiGHS a feasible starting plan (with ``z``, ``t`` and patterns that fit it)."""
        values = np.zeros(self.n_cols)
        pair_shots = shots[self.weapon, self.threat].astype(np.float64)
        z = self.z_of(pair_shots)
        values[: self.n_pairs] = pair_shots
        values[self.z_col] = z
        values[self.t_col] = -np.expm1(-z)
        for j, weapons, first in zip(
            self.pattern_threats.tolist(), self.pattern_weapons, self.pattern_first, strict=True
        ):
            strides = _strides(self.problem.shot_limit[weapons, j] + 1)
            index = int(np.dot(shots[weapons, j], strides))
            if index > 0:
                values[first + index - 1] = 1.0
        solution = highspy.HighsSolution()
        solution.col_value = values
        self.highs.setSolution(solution)


@dataclass(frozen=True, slots=True)
class _WeaponClasses:
    """Identical weapons merged into classes.

    One weapon per class of equal rounds, kill probabilities and shot limits, holding the
    rounds and ``n`` times the shot limits of its ``n`` members.

    A class plan splits back into a plan of its members, shots dealt out in turn (see
    :meth:`split`), so the merged problem has the same optimum and far fewer weapons (200
    single rounds of three types become three weapons).
    """

    problem: WtaProblem
    member_class: IntArray
    members: tuple[IntArray, ...]

    @classmethod
    def of(cls, problem: WtaProblem) -> _WeaponClasses | None:
        """The classes of ``problem``'s weapons; None if no two weapons are alike."""
        limit = problem.shot_limit
        p = np.where(limit > 0, problem.kill_probability, 0.0)
        key = np.column_stack([problem.rounds.astype(np.float64), p, limit.astype(np.float64)])
        _, first, inverse, size = np.unique(
            key, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        if first.size == problem.n_weapons:
            return None
        inverse = inverse.reshape(-1).astype(np.int64)
        merged = WtaProblem(
            values=problem.values,
            kill_probability=p[first],
            rounds=size * problem.rounds[first],
            max_salvo=size[:, None] * limit[first],
        )
        members = tuple(np.flatnonzero(inverse == c) for c in range(first.size))
        return cls(merged, inverse, members)

    def merge(self, shots: IntArray) -> IntArray:
        """A plan of the weapons as a plan of their classes."""
        merged = np.zeros(self.problem.kill_probability.shape, dtype=np.int64)
        np.add.at(merged, self.member_class, shots)
        return merged

    def split(self, shots: IntArray) -> IntArray:
        """A plan of the classes as a plan of their members.

        Each class's shots, listed threat by threat, go to its ``n`` members in turn. A
        member then fires ``⌈Σ_j X_j / n⌉ ≤ rounds`` at most, and at one threat
        ``⌈X_j / n⌉ ≤ shot limit`` at most, because the class's rounds and limits are ``n``
        times its members'.
        """
        n_threats = shots.shape[1]
        split = np.zeros((self.member_class.size, n_threats), dtype=np.int64)
        for c, members in enumerate(self.members):
            threat = np.repeat(np.arange(n_threats), shots[c])
            np.add.at(split, (members[np.arange(threat.size) % members.size], threat), 1)
        return split


@dataclass(slots=True)
class _Incumbent:
    """The best plan so far, its value, the best proven bound, and the solver's rounds."""

    shots: IntArray
    value: float
    bound: float
    rounds: int = 0

    def offer(self, problem: WtaProblem, shots: IntArray | None) -> None:
        """Keep ``shots`` if it is a plan better than the incumbent."""
        if shots is None or (shots.sum(axis=1) > problem.rounds).any():
            return
        if (shots > problem.shot_limit).any():
            return
        value = objective(problem, shots)
        if value > self.value:
            self.shots, self.value = shots, value

    def proven(self, mip_gap: float) -> bool:
        """Whether the bound is within ``mip_gap`` (relative) of the incumbent."""
        return self.bound - self.value <= mip_gap * self.bound


def _by_column_generation(
    problem: WtaProblem, best: _Incumbent, *, deadline: float, mip_gap: float, threads: int
) -> bool:
    """Prove the optimum on the pattern program (:mod:`iamd.c2.wta_bound`); update ``best``.

    Column generation gives the Lagrangian bound ``L``; if its LP optimum is not already a
    plan within ``mip_gap``, the LP's own columns that can still matter are solved as a
    MILP (a better plan shrinks the slack), and then every pattern within ``L − F̲`` of its
    threat's best reduced value, whose MILP settles the optimum.

    Returns False when a search ran out of its budget (the caller falls back to outer
    approximation), else True (proven, or out of time).
    """
    found = lagrangian_bound(
        problem, best.shots, deadline=deadline, mip_gap=mip_gap, threads=threads
    )
    best.offer(problem, found.shots)
    best.bound = min(best.bound, found.bound)
    best.rounds += found.rounds
    if not found.complete:
        return False
    if best.proven(mip_gap) or time.perf_counter() >= deadline:
        return True

    def solve(patterns: Patterns) -> PatternProgram:
        program = PatternProgram(problem, threads)
        program.add(patterns)
        program.add(Patterns.of_plan(best.shots))
        program.make_integer(mip_gap / 4.0)
        program.set_start(best.shots)
        program.run(deadline - time.perf_counter())
        best.rounds += 1
        best.offer(problem, program.plan(program.column_values()))
        return program

    # The LP's columns that can still matter: the LP optimum was fractional, and this
    # small MILP usually finds the optimum, which shrinks the slack of the enumeration.
    columns = found.program.patterns()
    shortfall = shortfall_of(problem, columns, found)
    solve(columns.subset(np.flatnonzero(shortfall <= found.lagrangian - best.value)))
    if best.proven(mip_gap) or time.perf_counter() >= deadline:
        return True
    floor = best.value
    patterns = near_optimal_patterns(problem, found, floor)
    if patterns is None:
        return False
    final = solve(patterns)
    dual_bound = float(final.highs.getInfo().mip_dual_bound)
    if math.isfinite(dual_bound):
        # A plan outside these patterns is worth less than ``floor``.
        best.bound = min(best.bound, max(dual_bound, floor))
    return True


def _by_outer_approximation(
    problem: WtaProblem,
    best: _Incumbent,
    *,
    deadline: float,
    mip_gap: float,
    threads: int,
    pattern_limit: int,
) -> None:
    """Prove the optimum on the pattern and outer-approximation MILP; update ``best``."""
    model = _Model(problem, threads, pattern_limit)
    capped: BoolArray = problem.kill_probability[model.weapon, model.threat] >= 1.0 - MIN_SURVIVAL
    widen = MIN_SURVIVAL * float(problem.values[np.unique(model.threat[capped])].sum())

    def remaining() -> float:
        return deadline - time.perf_counter()

    if model.n_oa:
        # Tangents at 0, at a coarse set of kill levels and at the best plan's.
        all_oa = np.arange(model.n_oa)
        model.add_tangents(all_oa, np.zeros(model.n_oa))
        for zeta in -np.log1p(-np.asarray(_INITIAL_KILL_LEVELS)):
            model.add_tangents(all_oa, np.full(model.n_oa, zeta))
        model.add_tangents(
            all_oa, model.z_of(best.shots[model.weapon, model.threat].astype(np.float64))
        )
        # LP phase: tangents at the relaxation's optimum until it is nearly exact there.
        for _ in range(_MAX_LP_ROUNDS):
            values, _, finished = model.solve(remaining())
            if not finished:
                break
            # Every LP of this phase relaxes the problem, so its optimum bounds it.
            lp_bound = model.highs.getInfo().objective_function_value + widen
            best.bound = min(best.bound, lp_bound)
            z, t = values[model.z_col], values[model.t_col]
            over = np.flatnonzero(t + np.expm1(-z) > _LP_CUT_TOLERANCE)
            if over.size == 0 or model.add_tangents(over, z[over]) == 0:
                break

    model.make_integer()
    model.highs.setOptionValue("mip_rel_gap", mip_gap / 4.0)
    model.highs.setOptionValue("mip_abs_gap", 0.0)
    while remaining() > 0.0:
        best.rounds += 1
        model.set_start(best.shots)
        values, dual_bound, finished = model.solve(remaining())
        # HiGHS reports +inf before its root bound; a bound below the incumbent's true
        # value could only be a tolerance artefact, and max() in solve_exact absorbs it.
        if math.isfinite(dual_bound):
            best.bound = min(best.bound, dual_bound + widen)
        shots = model.shots_of(values)
        best.offer(problem, shots)
        if best.proven(mip_gap) or shots is None or model.n_oa == 0:
            break
        z = model.z_of(shots[model.weapon, model.threat].astype(np.float64))
        over = np.flatnonzero(values[model.t_col] + np.expm1(-z) > _CUT_TOLERANCE)
        if (over.size == 0 or model.add_tangents(over, z[over]) == 0) and finished:
            # The model is exact at its optimum yet the gap stays open: only HiGHS's own
            # tolerances can cause this; nothing more to learn from another round.
            break


def solve_exact(
    problem: WtaProblem,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 1e-6,
    threads: int = 1,
    pattern_limit: int = PATTERN_LIMIT,
    column_generation: bool = True,
) -> WtaSolution:
    """The optimal weapon-target plan, proven on HiGHS to a relative gap.

    Parameters
    ----------
    problem : WtaProblem
    time_limit_s : float, optional
        Wall-clock budget, s, for the whole solve (heuristic start, LPs and MILPs). On
        expiry the best plan found is returned with ``optimal=False`` and its bound.
    mip_gap : float, optional
        Relative gap ``(bound − objective) / bound`` at which the plan counts as optimal
        (default 1e-6).
    threads : int, optional
        Threads HiGHS may use (default 1).
    pattern_limit : int, optional
        When every threat has at most this many engagement patterns, all of them go into
        one MILP (see the module notes); otherwise the solver prices them or approximates
        the objective (``column_generation``).
    column_generation : bool, optional
        For a problem with a threat beyond ``pattern_limit``: True (default) proves the
        optimum by column generation on the pattern program (:mod:`iamd.c2.wta_bound`),
        falling back to outer approximation if its searches exceed their budgets; False
        uses outer approximation for those threats (and patterns for the others) at once.
        All are exact; outer approximation is far slower on dense problems.

    Returns
    -------
    WtaSolution
        ``bound`` is a proven upper bound on the optimum (widened for probabilities capped
        at 1 − ``MIN_SURVIVAL``); ``optimal`` is True when the gap to it is at most
        ``mip_gap``; ``iterations`` counts the LP and MILP solves of column generation
        and the MILP rounds of the other models.

    Raises
    ------
    iamd.core.ConfigurationError
        If ``time_limit_s`` is not positive, ``mip_gap`` not in [0, 1), ``threads`` < 1 or
        ``pattern_limit`` < 0.

    Examples
    --------
    >>> problem = WtaProblem(
    ...     values=[10.0, 4.0], kill_probability=[[0.8, 0.5], [0.7, 0.9]], rounds=[2, 1]
    ... )
    >>> solution = solve_exact(problem)
    >>> solution.shots.tolist(), round(solution.objective, 4), solution.optimal
    ([[2, 0], [0, 1]], 13.2, True)
    """
    start = time.perf_counter()
    if not (math.isfinite(time_limit_s) and time_limit_s > 0.0):
        raise ConfigurationError(
            f"weapon-target assignment: time_limit_s must be finite and > 0 (got {time_limit_s})"
        )
    if not (0.0 <= mip_gap < 1.0):
        raise ConfigurationError(
            f"weapon-target assignment: mip_gap must be in [0, 1) (got {mip_gap})"
        )
    if threads < 1:
        raise ConfigurationError(f"weapon-target assignment: threads must be >= 1 (got {threads})")
    if pattern_limit < 0:
        raise ConfigurationError(
            f"weapon-target assignment: pattern_limit must be >= 0 (got {pattern_limit})"
        )
    deadline = start + time_limit_s

    heuristic = solve_heuristic(problem)
    if not problem.shot_limit.any():
        return WtaSolution(
            shots=heuristic.shots,
            objective=heuristic.objective,
            bound=heuristic.objective,
            optimal=True,
            solve_time_s=time.perf_counter() - start,
        )
    classes = _WeaponClasses.of(problem)
    inner = problem if classes is None else classes.problem
    shots = heuristic.shots if classes is None else classes.merge(heuristic.shots)
    # Trivial bound: every threat that some weapon can reach is killed.
    trivial = float(problem.values[problem.shot_limit.any(axis=0)].sum())
    best = _Incumbent(shots, objective(inner, shots), trivial)

    limit = inner.shot_limit
    reach = limit > 0
    counts = np.prod(np.where(reach, limit + 1, 1).astype(np.float64), axis=0)
    dense = bool((reach.any(axis=0) & (counts > pattern_limit)).any())
    settled = False
    if dense and column_generation and not best.proven(mip_gap):
        settled = _by_column_generation(
            inner, best, deadline=deadline, mip_gap=mip_gap, threads=threads
        )
    if not settled and not best.proven(mip_gap) and time.perf_counter() < deadline:
        _by_outer_approximation(
            inner,
            best,
            deadline=deadline,
            mip_gap=mip_gap,
            threads=threads,
            pattern_limit=pattern_limit,
        )

    shots = best.shots if classes is None else classes.split(best.shots)
    value = objective(problem, shots)
    bound = max(best.bound, value)
    return WtaSolution(
        shots=shots,
        objective=value,
        bound=bound,
        optimal=bool(bound - value <= mip_gap * bound),
        solve_time_s=time.perf_counter() - start,
        iterations=best.rounds,
    )
