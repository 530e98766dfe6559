r"""Lagrangian bound of weapon-target assignment by column generation; near-optimal patterns.

The bound, and the engagement patterns that can still be part of an optimal plan.

Used by :func:`iamd.c2.wta_exact.solve_exact` on dense problems, where a threat has too many
engagement patterns to list them all (every one of 200 interceptors in reach of it).

**Pattern program.** A *pattern* of threat ``j`` is a shot vector ``x = (x_i)`` with
``0 ≤ x_i ≤ shot_limit_ij``; its value is ``c_j(x) = V_j (1 − Π_i q_ij^x_i)``. A plan is one
pattern per threat (the empty one allowed) within the magazines::

    maximise Σ_p c_p y_p   subject to   Σ_p x_ip y_p ≤ rounds_i,   Σ_(p of j) y_p ≤ 1,
                                         y_p ∈ {0, 1}.

Its LP relaxation is the Dantzig–Wolfe reformulation of the magazine constraints, the
convex hull of each threat's patterns ([1]_); on random dense instances it is within 1e-8
of the integer optimum, and its solution is usually integral.

**Column generation.** The LP has far too many columns to write down. It is solved with a
few of them (the heuristic's patterns to start with); its magazine duals ``λ ≥ 0`` price
every missing pattern by its *reduced value* ``c_j(x) − λ·x``, and the best pattern of each
threat is added while one has a positive reduced value. Whatever ``λ ≥ 0``, the
*Lagrangian bound*

    L(λ) = Σ_i λ_i rounds_i + Σ_j g_j(λ),     g_j(λ) = max(0, max_x c_j(x) − λ·x),

bounds the optimum from above (relax the magazines with multipliers ``λ``; the problem
splits into one pattern choice per threat), and so does ``L`` with any upper bounds
``u_j ≥ g_j`` in place of ``g_j``. So every pricing round gives a valid bound, equal to the
LP optimum when no pattern is left to add. The duals jump about from round to round (the
LP is very degenerate); pricing at ``α λ̄ + (1 − α) λ_LP``, where ``λ̄`` has the best bound
so far, steadies them (Wentges smoothing, [2]_), and a round that adds nothing moves ``λ̄``
or prices at ``λ_LP`` itself, so the loop converges. The LP is re-solved by the primal
simplex from the last basis, which the new columns leave feasible.

**Pricing** solves ``max_x V φ(Σ_i a_i x_i) − λ·x``, with ``a_i = −ln q_ij`` and
``φ(z) = 1 − e^{−z}`` concave, by depth-first search over the weapons in the order of their
price per unit of kill, ``λ_i / a_i``. A partial pattern at ``z`` with cost ``C`` cannot be
extended by the weapons from ``m`` on to more than ``V φ(z) − C`` plus the same problem
with fractional shots, which buys kill along that order while its marginal value
``V e^{−z−δ}`` exceeds the price (a few closed-form steps); whole subtrees fall to that
bound. A weapon whose first shot is worth less than its price is never useful, and a
pattern that skips a weapon with at least the kill and at most the price of one it fires is
never better than the pattern with a shot moved over (dominance). A quick search stops each
threat after :data:`QUICK_PRICING_NODES` nodes, with the best pattern found and, as
``u_j``, the bound of what it left unexplored; once the LP has converged at ``λ̄`` a
thorough search there makes ``u_j = g_j`` (on random dense problems nearly every search
finishes within the quick budget anyway).

**Reduced-value fixing.** Let ``d_j(x) = u_j − (c_j(x) − λ·x) ≥ 0`` be how far pattern ``x``
falls short of the bound on the best at ``λ``. For any plan with one pattern ``x_j`` per
threat,

    F(x) = Σ_i λ_i Σ_j x_ij + Σ_j (c_j(x_j) − λ·x_j) ≤ L(λ) − Σ_j d_j(x_j),

so a plan worth at least ``F̲`` (the best plan found) uses only patterns with
``d_j ≤ L(λ) − F̲``. Those are listed by the same search with the floor
``u_j − (L − F̲)`` (:func:`near_optimal_patterns`, no dominance); when the bound is tight
they are a few hundred, and the pattern program over them alone is a small MILP. Its
optimum, or ``F̲`` if larger, is the optimum of the whole problem ([3]_, [4]_).

Pricing uses ``q ≥ MIN_SURVIVAL`` like outer approximation (:mod:`iamd.c2.wta_exact`); the
bound adds ``MIN_SURVIVAL × V_j`` for each threat with a certain kill in reach, and so the
enumeration's slack, so both stay valid for the true ``q``. Column values are the true
``c_j``.

References
----------
.. [1] G. L. Nemhauser and L. A. Wolsey, *Integer and Combinatorial Optimization*, Wiley,
   1988, §II.3.6 (Dantzig–Wolfe reformulation and Lagrangian duality).
.. [2] P. Wentges, "Weighted Dantzig–Wolfe decomposition for linear mixed-integer
   programming", *International Transactions in Operational Research* 4(2), 1997,
   pp. 151–162; A. Pessoa, R. Sadykov, E. Uchoa and F. Vanderbeck, "Automation and
   combination of linear-programming based stabilization techniques in column generation",
   *INFORMS Journal on Computing* 30(2), 2018, pp. 339–360.
.. [3] R. K. Ahuja, A. Kumar, K. C. Jha and J. B. Orlin, "Exact and heuristic algorithms
   for the weapon-target assignment problem", *Operations Research* 55(6), 2007,
   pp. 1136–1146.
.. [4] R. Baldacci, N. Christofides and A. Mingozzi, "An exact algorithm for the vehicle
   routing problem based on the set partitioning formulation with additional cuts",
   *Mathematical Programming* 115, 2008, pp. 351–385 (solving a set-partitioning program
   over the columns whose reduced cost is within the duality gap).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import highspy
import numba
import numpy as np

from iamd.c2.wta import MIN_SURVIVAL, WtaProblem, objective
from iamd.core.typing import FloatArray, IntArray

MAX_SEARCH_NODES = 20_000_000
"""Most nodes one pricing or enumeration search visits over all threats (about 2 CPU-s);
beyond, column generation gives up and the exact solver falls back to outer approximation.
Reached when rounds far outnumber what the threats need (dozens of near-free rounds per
threat), where outer approximation is quick anyway."""

QUICK_PRICING_NODES = 5_000
"""Nodes per threat of the quick pricing searches of column generation; a threat's search
stops there with the best pattern found and a bound on what the rest could reach."""

MAX_PATTERNS = 20_000
"""Most near-optimal patterns :func:`near_optimal_patterns` lists before giving up."""

SMOOTHING = 0.5
"""Wentges smoothing ``α``: pricing happens at ``α λ̄ + (1 − α) λ_LP``."""

CONVERGENCE = 1e-9
"""Column generation stops once ``L(λ̄)`` is within this (relative) of the LP optimum."""

MAX_ROUNDS = 1000
"""Safeguard on the rounds of column generation (it converges in about 50)."""

_STALLED_ITERATIONS = 50
"""A column-generation LP taking more than this many simplex iterations per row has stalled
(a few per row is usual): it is finished with the dual simplex."""

_DOMINANCE_WINDOW = 32
"""How many weapons before it (in the search's order) a weapon's dominator is looked for."""

_TOLERANCE = 1e-12
"""Relative rounding allowance of the search (times ``Σ V``): nothing within it of the
floor is pruned, and the bound is widened by it per threat."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(function: _F) -> _F:
    """``numba.njit`` with the project's settings, keeping the Python signature for mypy."""
    return cast(
        _F, numba.njit(cache=True, fastmath=False, nogil=True, error_model="numpy")(function)
    )


@_compiled
def _extension_bound(at_stake: float, ratio: Any, width: Any, first: int) -> float:
    """Most that shots of the weapons from ``first`` on can add, fractional shots allowed.

    ``max_y E (1 − e^{−Σ a_m y_m}) − Σ λ_m y_m`` over ``0 ≤ y_m ≤ cap_m``, for
    ``E = at_stake``: kill ``δ = Σ a y`` costs least bought in the order of ``ratio``
    (``λ / a``, increasing) up to each weapon's ``width`` (``cap a``), so the optimum buys
    along that order while the marginal value ``E e^{−δ}`` exceeds the price.
    """
    gain = 0.0
    for m in range(first, ratio.size):
        price = ratio[m]
        if at_stake <= price:
            break
        step = width[m] if price <= 0.0 else min(width[m], math.log(at_stake / price))
        bought = -math.expm1(-step)
        gain += at_stake * bought - price * step
        at_stake -= at_stake * bought
        if step < width[m]:
            break
    return gain


@_compiled
def _grown(array: Any, size: int) -> Any:
    """``array`` if it holds ``size`` items, else a copy at least twice as long."""
    if size <= array.size:
        return array
    out = np.empty(max(size, 2 * array.size), array.dtype)
    out[: array.size] = array
    return out


@_compiled
def _trimmed(
    status: int,
    best: Any,
    upper: Any,
    threat: Any,
    start: Any,
    weapon: Any,
    shots: Any,
    reduced: Any,
    n_patterns: int,
    n_items: int,
) -> tuple[int, Any, Any, Any, Any, Any, Any, Any]:
    """The results of :func:`_search`, cut to the patterns found."""
    return (
        status,
        best,
        upper,
        threat[:n_patterns],
        start[: n_patterns + 1],
        weapon[:n_items],
        shots[:n_items],
        reduced[:n_patterns],
    )


@_compiled
def _search(
    values: Any,
    kill: Any,
    limit: Any,
    multipliers: Any,
    best_reduced: Any,
    slack: float,
    pricing: bool,
    tolerance: float,
    max_threat_nodes: int,
    max_nodes: int,
    max_patterns: int,
) -> tuple[int, Any, Any, Any, Any, Any, Any, Any]:
    """Depth-first search of every threat's patterns by reduced value (see the module notes).

    Parameters
    ----------
    values : (T,) threat values ``V_j``.
    kill : (W, T) ``a_ij = −ln q_ij`` (capped), > 0 where ``limit > 0``.
    limit : (W, T) int64 shot limits.
    multipliers : (W,) ``λ ≥ 0``.
    best_reduced, slack : (T,) and scalar, enumeration only: list every pattern whose
        reduced value is at least ``best_reduced[j] − slack`` (less ``tolerance``).
    pricing : True: find each threat's best pattern of positive reduced value instead.
    tolerance : rounding allowance: nothing within it of the floor is pruned.
    max_threat_nodes : pricing only: nodes per threat, after which its search stops with
        the best pattern found and an upper bound on the best.
    max_nodes, max_patterns : budgets of the whole search.

    Returns
    -------
    status : 0 done, 1 ``max_nodes`` exceeded, 2 ``max_patterns`` exceeded.
    best : (T,) pricing: best reduced value found (0 if none is positive).
    upper : (T,) pricing: upper bound on the best reduced value (``best`` where the search
        finished, else what its unexplored branches might still reach).
    threat, start, weapon, shots, reduced : the patterns, ``weapon[start[k]:start[k+1]]``
        firing ``shots[...]`` at ``threat[k]``, of reduced value ``reduced[k]``; pricing
        gives one per threat with a positive best, its best.
    """
    n_weapons, n_threats = kill.shape
    best = np.zeros(n_threats)
    upper = np.zeros(n_threats)
    out_threat = np.empty(64, np.int64)
    out_reduced = np.empty(64, np.float64)
    out_start = np.zeros(65, np.int64)
    out_weapon = np.empty(256, np.int64)
    out_shots = np.empty(256, np.int64)
    n_out = 0
    n_items = 0
    nodes = 0
    path_weapon = np.empty(n_weapons + 1, np.int64)
    path_shots = np.empty(n_weapons + 1, np.int64)
    best_weapon = np.empty(n_weapons + 1, np.int64)
    best_shots = np.empty(n_weapons + 1, np.int64)
    path_z = np.zeros(n_weapons + 2)
    path_cost = np.zeros(n_weapons + 2)
    candidate = np.empty(n_weapons, np.int64)
    dominator = np.empty(n_weapons, np.int64)
    for j in range(n_threats):
        value = values[j]
        if pricing:
            floor = tolerance
            cut = 0.0
        else:
            floor = best_reduced[j] - slack
            cut = -slack - tolerance
        # Candidates: a first shot worth more than ``cut`` after its price (k shots of a
        # weapon add at most k times its first shot's reduced value, and the rest of the
        # pattern at most ``best_reduced``).
        count = 0
        for i in range(n_weapons):
            if limit[i, j] > 0 and value * -math.expm1(-kill[i, j]) - multipliers[i] > cut:
                candidate[count] = i
                count += 1
        if count == 0:
            continue
        chosen = candidate[:count]
        a = kill[chosen, j]
        price = multipliers[chosen]
        order = np.argsort(price / a, kind="mergesort")
        chosen = chosen[order]
        a = a[order]
        price = price[order]
        cap = limit[chosen, j]
        ratio = price / a
        width = cap * a
        if pricing:
            # dominator[m]: the latest of the few weapons just before m (in this order) with
            # at least its kill and at most its price. A pattern that fires m but not its
            # dominator is worth no more than the one with a shot moved to the dominator,
            # which the search meets elsewhere, so pricing skips it.
            for m in range(count):
                dominator[m] = -1
                for d in range(m - 1, max(m - _DOMINANCE_WINDOW, 0) - 1, -1):
                    if a[d] >= a[m] and price[d] <= price[m]:
                        dominator[m] = d
                        break
        best_length = 0
        threat_nodes = 0
        depth = 0
        next_weapon = 0
        next_shots = 1
        while True:
            if next_weapon < count and next_shots == 1:
                z0 = path_z[depth]
                reach = (
                    value * -math.expm1(-z0)
                    - path_cost[depth]
                    + _extension_bound(value * math.exp(-z0), ratio, width, next_weapon)
                )
                if reach < floor - tolerance:
                    next_weapon = count
            if next_weapon >= count:
                if depth == 0:
                    break
                depth -= 1
                next_weapon = path_weapon[depth]
                next_shots = path_shots[depth] + 1
                if next_shots > cap[next_weapon]:
                    next_weapon += 1
                    next_shots = 1
                continue
            i = next_weapon
            k = next_shots
            if pricing and k == 1 and dominator[i] > (path_weapon[depth - 1] if depth else -1):
                next_weapon = i + 1
                continue
            nodes += 1
            threat_nodes += 1
            if nodes > max_nodes:
                return _trimmed(
                    1, best, upper, out_threat, out_start, out_weapon, out_shots, out_reduced,
                    n_out, n_items,
                )  # fmt: skip
            if pricing and threat_nodes > max_threat_nodes:
                # Stop this threat. What is left unexplored extends some node of the current
                # path by weapons from the one it is at on (this one included).
                for d in range(depth + 1):
                    z0 = path_z[d]
                    first = i if d == depth else path_weapon[d]
                    reach = (
                        value * -math.expm1(-z0)
                        - path_cost[d]
                        + _extension_bound(value * math.exp(-z0), ratio, width, first)
                    )
                    upper[j] = max(upper[j], reach)
                break
            z = path_z[depth] + k * a[i]
            cost = path_cost[depth] + k * price[i]
            at_stake = value * math.exp(-z)
            reduced = value * -math.expm1(-z) - cost
            if pricing:
                if reduced > floor:
                    floor = reduced
                    best[j] = reduced
                    for d in range(depth):
                        best_weapon[d] = chosen[path_weapon[d]]
                        best_shots[d] = path_shots[d]
                    best_weapon[depth] = chosen[i]
                    best_shots[depth] = k
                    best_length = depth + 1
            elif reduced >= floor - tolerance:
                if n_out >= max_patterns:
                    return _trimmed(
                        2, best, upper, out_threat, out_start, out_weapon, out_shots,
                        out_reduced, n_out, n_items,
                    )  # fmt: skip
                out_threat = _grown(out_threat, n_out + 1)
                out_reduced = _grown(out_reduced, n_out + 1)
                out_start = _grown(out_start, n_out + 2)
                out_weapon = _grown(out_weapon, n_items + depth + 1)
                out_shots = _grown(out_shots, n_items + depth + 1)
                for d in range(depth):
                    out_weapon[n_items] = chosen[path_weapon[d]]
                    out_shots[n_items] = path_shots[d]
                    n_items += 1
                out_weapon[n_items] = chosen[i]
                out_shots[n_items] = k
                n_items += 1
                out_threat[n_out] = j
                out_reduced[n_out] = reduced
                n_out += 1
                out_start[n_out] = n_items
            following = ratio[i + 1] if i + 1 < count else np.inf
            reach = reduced + _extension_bound(at_stake, ratio, width, i + 1)
            if i + 1 < count and reach >= floor - tolerance:
                path_weapon[depth] = i
                path_shots[depth] = k
                path_z[depth + 1] = z
                path_cost[depth + 1] = cost
                depth += 1
                next_weapon = i + 1
                next_shots = 1
            elif (
                reach < floor - tolerance
                and at_stake <= following
                and at_stake * -math.expm1(-a[i]) <= price[i]
            ):
                # The next weapons no longer pay (``E ≤ λ/a`` for all of them), so the reach
                # is the pattern's own value, concave in k and already falling: more shots
                # of weapon i cannot reach the floor either.
                next_weapon = i + 1
                next_shots = 1
            else:
                next_shots = k + 1
                if next_shots > cap[i]:
                    next_weapon = i + 1
                    next_shots = 1
        upper[j] = max(upper[j], best[j])
        if pricing and best_length > 0:
            out_threat = _grown(out_threat, n_out + 1)
            out_reduced = _grown(out_reduced, n_out + 1)
            out_start = _grown(out_start, n_out + 2)
            out_weapon = _grown(out_weapon, n_items + best_length)
            out_shots = _grown(out_shots, n_items + best_length)
            out_weapon[n_items : n_items + best_length] = best_weapon[:best_length]
            out_shots[n_items : n_items + best_length] = best_shots[:best_length]
            n_items += best_length
            out_threat[n_out] = j
            out_reduced[n_out] = best[j]
            n_out += 1
            out_start[n_out] = n_items
    return _trimmed(
        0, best, upper, out_threat, out_start, out_weapon, out_shots, out_reduced, n_out, n_items
    )


@dataclass(frozen=True, slots=True)
class Patterns:
    """Engagement patterns, stored flat.

    Pattern ``k`` fires ``shots[start[k]:start[k + 1]]`` rounds of the weapons
    ``weapon[start[k]:start[k + 1]]`` at threat ``threat[k]``.

    Attributes
    ----------
    threat : ndarray of int, shape (P,)
    start : ndarray of int, shape (P + 1,)
    weapon, shots : ndarray of int, shape (start[-1],)
        Weapons in increasing order within a pattern; every ``shots`` ≥ 1.
    """

    threat: IntArray
    start: IntArray
    weapon: IntArray
    shots: IntArray

    def __len__(self) -> int:
        return int(self.threat.size)

    @classmethod
    def of_plan(cls, shots: IntArray) -> Patterns:
        """The patterns of a plan ``(W, T)``: one per engaged threat."""
        threat, weapon = np.nonzero(shots.T)
        engaged, counts = np.unique(threat, return_counts=True)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(engaged.astype(np.int64), start, weapon.astype(np.int64), shots[weapon, threat])

    def __iter__(self) -> Iterator[tuple[int, IntArray, IntArray]]:
        """``(threat, weapons, shots)`` of each pattern."""
        for k in range(len(self)):
            first, last = self.start[k], self.start[k + 1]
            yield int(self.threat[k]), self.weapon[first:last], self.shots[first:last]

    def subset(self, chosen: IntArray) -> Patterns:
        """The patterns ``chosen`` (indices, increasing)."""
        lengths = np.diff(self.start)[chosen]
        first = self.start[chosen]
        items = np.repeat(first - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        items = items + np.arange(int(lengths.sum()))
        return Patterns(
            self.threat[chosen],
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            self.weapon[items],
            self.shots[items],
        )

    def log_survival(self, log_q: FloatArray) -> FloatArray:
        """``Σ x_i ln q_ij`` of each pattern, for ``log_q`` ``(W, T)`` (−inf allowed)."""
        owner = np.repeat(self.threat, np.diff(self.start))
        terms = self.shots * log_q[self.weapon, owner]
        sums = np.zeros(len(self))
        np.add.at(sums, np.repeat(np.arange(len(self)), np.diff(self.start)), terms)
        return sums


def kill_levels(problem: WtaProblem) -> tuple[FloatArray, FloatArray]:
    """``a_ij = −ln q_ij`` capped at ``−ln MIN_SURVIVAL``, and what the cap can hide.

    ``a`` is 0 where no shot is allowed. The second array gives, per threat, what the cap can
    understate a pattern's value by: ``MIN_SURVIVAL × V_j`` if a capped pair is in reach,
    else 0.
    """
    p = problem.kill_probability
    allowed = problem.shot_limit > 0
    with np.errstate(divide="ignore"):
        exact = -np.log1p(-p)  # accurate for tiny p, where 1 − p would round to 1
    ceiling = -math.log(MIN_SURVIVAL)
    capped = allowed & (exact > ceiling)
    kill = np.where(allowed, np.minimum(exact, ceiling), 0.0)
    understated = np.where(capped.any(axis=0), MIN_SURVIVAL * problem.values, 0.0)
    return kill, understated


class PatternProgram:
    """The pattern program in HiGHS (see the module notes).

    One column per pattern, one magazine row per weapon and one row per threat (at most one
    pattern).

    Patterns are added once each; the column values are their true values.
    """

    def __init__(self, problem: WtaProblem, threads: int, *, column_generation: bool = False):
        self.problem = problem
        n_weapons, n_threats = problem.n_weapons, problem.n_threats
        highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", int(threads))
        highs.setOptionValue("random_seed", 0)
        if column_generation:
            # Added columns leave the last basis primal feasible: primal simplex resumes
            # from it, where dual simplex would start over (3-4x slower measured).
            highs.setOptionValue("simplex_strategy", 4)
            highs.setOptionValue(
                "simplex_iteration_limit", _STALLED_ITERATIONS * (n_weapons + n_threats)
            )
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        empty_index = np.zeros(0, np.int32)
        highs.addRows(
            n_weapons + n_threats,
            np.full(n_weapons + n_threats, -highspy.kHighsInf),
            np.concatenate([problem.rounds.astype(np.float64), np.ones(n_threats)]),
            0,
            np.zeros(n_weapons + n_threats, np.int32),
            empty_index,
            np.zeros(0),
        )
        self.highs = highs
        # The threat rows bound every column by 1 already; the LP of column generation
        # leaves the bound out, a bound the primal simplex would keep flipping.
        self._column_upper = highspy.kHighsInf if column_generation else 1.0
        self._index: dict[tuple[int, bytes, bytes], int] = {}
        self._threat: list[int] = []
        self._weapon: list[IntArray] = []
        self._shots: list[IntArray] = []
        with np.errstate(divide="ignore"):
            self._log_q = np.log1p(-problem.kill_probability)

    @property
    def n_columns(self) -> int:
        """Patterns in the program."""
        return len(self._threat)

    def add(self, patterns: Patterns) -> int:
        """Add the patterns not already in; return how many were new."""
        n_weapons = self.problem.n_weapons
        new: list[int] = []
        for k, (j, weapon, shots) in enumerate(patterns):
            key = (j, weapon.tobytes(), shots.tobytes())
            if key in self._index:
                continue
            self._index[key] = len(self._threat)
            self._threat.append(j)
            self._weapon.append(weapon)
            self._shots.append(shots)
            new.append(k)
        if not new:
            return 0
        chosen = np.asarray(new)
        lengths = np.diff(patterns.start)[chosen]
        owner = patterns.threat[chosen]
        rows = [
            np.append(patterns.weapon[patterns.start[k] : patterns.start[k + 1]], n_weapons + j)
            for k, j in zip(new, owner.tolist(), strict=True)
        ]
        entries = [
            np.append(patterns.shots[patterns.start[k] : patterns.start[k + 1]], 1) for k in new
        ]
        starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int32)
        cost = self.problem.values[owner] * -np.expm1(patterns.log_survival(self._log_q)[chosen])
        count = len(new)
        self.highs.addCols(
            count,
            cost,
            np.zeros(count),
            np.full(count, self._column_upper),
            int(lengths.sum() + count),
            starts,
            np.concatenate(rows).astype(np.int32),
            np.concatenate(entries).astype(np.float64),
        )
        return count

    def patterns(self, columns: IntArray | None = None) -> Patterns:
        """The program's patterns (all, or those of ``columns``)."""
        chosen = range(self.n_columns) if columns is None else columns.tolist()
        weapon = [self._weapon[k] for k in chosen]
        lengths = np.array([w.size for w in weapon], dtype=np.int64)
        return Patterns(
            np.array([self._threat[k] for k in chosen], dtype=np.int64),
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            np.concatenate([np.zeros(0, np.int64), *weapon]),
            np.concatenate([np.zeros(0, np.int64), *(self._shots[k] for k in chosen)]),
        )

    def make_integer(self, mip_gap: float) -> None:
        """Make every column binary: the program becomes the MILP."""
        count = self.n_columns
        self.highs.changeColsIntegrality(
            count,
            np.arange(count, dtype=np.int32),
            np.full(count, highspy.HighsVarType.kInteger.value, dtype=np.uint8),
        )
        self.highs.setOptionValue("mip_rel_gap", mip_gap)
        self.highs.setOptionValue("mip_abs_gap", 0.0)

    def set_start(self, shots: IntArray) -> None:
        """Give HiGHS a feasible plan to start from (its patterns must be in)."""
        plan = Patterns.of_plan(shots)
        values = np.zeros(self.n_columns)
        for j, weapon, fired in plan:
            values[self._index[(j, weapon.tobytes(), fired.tobytes())]] = 1.0
        solution = highspy.HighsSolution()
        solution.col_value = values
        self.highs.setSolution(solution)

    def run(self, time_limit_s: float) -> bool:
        """Solve; True if HiGHS proved the optimum of the program."""
        self.highs.setOptionValue("time_limit", max(time_limit_s, 1e-3))
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kIterationLimit:
            # The primal simplex stalls now and then on this degenerate LP (hundreds of
            # thousands of iterations seen); the dual simplex does not.
            self.highs.setOptionValue("simplex_strategy", 1)
            self.highs.setOptionValue("simplex_iteration_limit", highspy.kHighsIInf)
            self.highs.run()
            status = self.highs.getModelStatus()
        return bool(status == highspy.HighsModelStatus.kOptimal)

    def column_values(self) -> FloatArray:
        """Values of the columns in HiGHS's solution (empty if it has none)."""
        return np.asarray(self.highs.getSolution().col_value, dtype=np.float64)

    def multipliers(self) -> FloatArray:
        """The LP's magazine duals ``λ ≥ 0`` ``(W,)``."""
        duals = np.asarray(self.highs.getSolution().row_dual, dtype=np.float64)
        return np.maximum(duals[: self.problem.n_weapons], 0.0)

    def plan(self, values: FloatArray) -> IntArray | None:
        """The plan of a 0/1 solution; None if it has none or is fractional."""
        if values.size != self.n_columns or values.size == 0:
            return None
        rounded = np.round(values)
        if np.abs(values - rounded).max() > 1e-6 or rounded.min() < 0.0:
            return None
        shots = np.zeros(self.problem.kill_probability.shape, dtype=np.int64)
        for k in np.flatnonzero(rounded > 0.0).tolist():
            shots[self._weapon[k], self._threat[k]] += self._shots[k]
        if (shots.sum(axis=1) > self.problem.rounds).any():
            return None
        if (shots > self.problem.shot_limit).any():
            return None
        return shots


@dataclass(frozen=True, slots=True, kw_only=True)
class LagrangianBound:
    """What column generation found.

    Attributes
    ----------
    bound : float
        Proven upper bound ``L(λ̄)`` on the optimum (widened for capped probabilities and
        rounding), or the sum of the reachable values if less.
    lagrangian : float
        ``L(λ̄)`` itself, ``λ̄·rounds + Σ_j u_j`` widened as ``bound`` (``≥ bound``): the
        reduced-value fixing works from it.
    multipliers : ndarray of float, shape (W,)
        ``λ̄``, the magazine prices of the best bound.
    best_reduced : ndarray of float, shape (T,)
        ``u_j ≥ g_j(λ̄)``, the bounds on each threat's best reduced value that ``bound``
        sums (equal to ``g_j`` when ``complete``; capped probabilities).
    program : PatternProgram
        The LP with the columns generated.
    shots : ndarray of int, shape (W, T)
        The best plan known: the one given, or an integral LP optimum if better.
    value : float
        Its objective.
    rounds : int
        LP solves.
    complete : bool
        False if a search exceeded :data:`MAX_SEARCH_NODES` (``bound`` is still valid, but
        may be weak).
    """

    bound: float
    lagrangian: float
    multipliers: FloatArray
    best_reduced: FloatArray
    program: PatternProgram
    shots: IntArray
    value: float
    rounds: int
    complete: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Priced:
    """One pricing round's results.

    At ``multipliers``: each threat's best reduced value ``found`` and an upper bound
    ``upper`` on it (equal where the search finished), the Lagrangian ``estimate`` from
    ``found`` and the proven ``bound`` from ``upper`` (both widened), and the best patterns.
    """

    multipliers: FloatArray
    found: FloatArray
    upper: FloatArray
    estimate: float
    bound: float
    patterns: Patterns

    @property
    def exact(self) -> bool:
        """Whether every threat's search finished (``bound`` is then ``L(λ)`` itself)."""
        return bool((self.upper <= self.found).all())


class _Search:
    """The pricing and enumeration searches of one problem (:func:`_search`)."""

    def __init__(self, problem: WtaProblem) -> None:
        self.problem = problem
        self.kill, understated = kill_levels(problem)
        # Writable copies: numba compiles read-only arrays as other types, and one set of
        # types keeps to one compiled kernel for pricing and enumeration alike.
        self.limit = np.array(problem.shot_limit, dtype=np.int64)
        self.values = np.array(problem.values, dtype=np.float64)
        self.tolerance = _TOLERANCE * max(float(problem.values.sum()), 1.0)
        # What the bound adds to Σ λ r + Σ g: the capped probabilities and the search's
        # rounding allowance, per threat and once more for the sums.
        self.allowance = float(understated.sum()) + self.tolerance * (problem.n_threats + 1)

    def price(self, multipliers: FloatArray, *, thorough: bool) -> _Priced | None:
        """Price every threat at ``λ``: best patterns found, with bounds on ``g_j(λ)``.

        One pattern per threat whose best reduced value found is positive.

        A quick search stops each threat after :data:`QUICK_PRICING_NODES` nodes, a
        thorough one only at :data:`MAX_SEARCH_NODES` in all (then None).
        """
        status, found, upper, threat, start, weapon, shots, _ = _search(
            self.values,
            self.kill,
            self.limit,
            np.ascontiguousarray(multipliers, dtype=np.float64),
            self.values,  # unused when pricing
            0.0,
            True,
            self.tolerance,
            MAX_SEARCH_NODES if thorough else QUICK_PRICING_NODES,
            MAX_SEARCH_NODES,
            MAX_PATTERNS,
        )
        if status != 0:
            return None
        return _Priced(
            multipliers=multipliers,
            found=np.asarray(found),
            upper=np.asarray(upper),
            estimate=self.bound(multipliers, np.asarray(found)),
            bound=self.bound(multipliers, np.asarray(upper)),
            patterns=_sorted(Patterns(threat, start, weapon, shots)),
        )

    def bound(self, multipliers: FloatArray, best_reduced: FloatArray) -> float:
        """``L(λ)``, widened by :attr:`allowance`."""
        return float(multipliers @ self.problem.rounds) + float(best_reduced.sum()) + self.allowance

    def enumerate(
        self, multipliers: FloatArray, best_reduced: FloatArray, slack: float
    ) -> Patterns | None:
        """Every pattern whose reduced value is within ``slack`` of ``best_reduced``.

        None past the node or pattern budget.
        """
        status, _, _, threat, start, weapon, shots, _ = _search(
            self.values,
            self.kill,
            self.limit,
            np.ascontiguousarray(multipliers, dtype=np.float64),
            np.array(best_reduced, dtype=np.float64),
            float(slack),
            False,
            self.tolerance,
            MAX_SEARCH_NODES,
            MAX_SEARCH_NODES,
            MAX_PATTERNS,
        )
        if status != 0:
            return None
        return _sorted(Patterns(threat, start, weapon, shots))

    def shortfall(
        self, patterns: Patterns, multipliers: FloatArray, best_reduced: FloatArray
    ) -> FloatArray:
        """``d_j(x)`` of each pattern at ``λ`` (capped probabilities)."""
        minus_z = patterns.log_survival(-self.kill)  # −Σ_i a_ij x_i
        price = np.zeros(len(patterns))
        np.add.at(
            price,
            np.repeat(np.arange(len(patterns)), np.diff(patterns.start)),
            patterns.shots * multipliers[patterns.weapon],
        )
        reduced = self.values[patterns.threat] * -np.expm1(minus_z) - price
        return np.asarray(best_reduced[patterns.threat] - reduced, dtype=np.float64)


def _sorted(patterns: Patterns) -> Patterns:
    """``patterns`` with the weapons of each pattern in increasing order (a canonical key)."""
    owner = np.repeat(np.arange(len(patterns)), np.diff(patterns.start))
    order = np.lexsort((patterns.weapon, owner))
    return Patterns(patterns.threat, patterns.start, patterns.weapon[order], patterns.shots[order])


def initial_multipliers(problem: WtaProblem, shots: IntArray) -> FloatArray:
    """Magazine prices ``λ`` read off a good plan, to start column generation from.

    For a weapon with no round to spare, the mean of what its cheapest shot is worth where it
    is and what its best extra shot would add elsewhere (a round is worth something in
    between); 0 for a weapon with rounds to spare.
    """
    kill, _ = kill_levels(problem)
    at_stake = problem.values * np.exp(-(kill * shots).sum(axis=0))
    loss = np.where(shots > 0, at_stake[None, :] * np.expm1(kill), np.inf).min(axis=1)
    room = shots < problem.shot_limit
    gain = np.where(room, at_stake[None, :] * -np.expm1(-kill), 0.0).max(axis=1, initial=0.0)
    spare = shots.sum(axis=1) < problem.rounds
    price = np.where(np.isfinite(loss), 0.5 * (loss + gain), gain)
    return np.asarray(np.where(spare, 0.0, price), dtype=np.float64)


def lagrangian_bound(
    problem: WtaProblem,
    shots: IntArray,
    *,
    deadline: float,
    mip_gap: float,
    threads: int,
) -> LagrangianBound:
    """The Lagrangian bound of the pattern program by stabilised column generation.

    Parameters
    ----------
    problem : WtaProblem
    shots : ndarray of int, shape (W, T)
        A feasible plan (the heuristic's): its patterns start the LP and its marginal
        values the multipliers.
    deadline : float
        ``time.perf_counter()`` value at which to stop.
    mip_gap : float
        Stop as soon as the bound is within this (relative) of the best plan known.
    threads : int
        HiGHS threads.

    Returns
    -------
    LagrangianBound
    """
    search = _Search(problem)
    program = PatternProgram(problem, threads, column_generation=True)
    program.add(Patterns.of_plan(shots))
    best_shots, best_value = shots, objective(problem, shots)
    trivial = float(problem.values[problem.shot_limit.any(axis=0)].sum())

    def result(center: _Priced | None, rounds: int, *, complete: bool) -> LagrangianBound:
        if center is None:  # λ = 0 and u_j = V_j: valid, if weak
            multipliers = np.zeros(problem.n_weapons)
            best_reduced = problem.values.copy()
            lagrangian = search.bound(multipliers, best_reduced)
        else:
            multipliers, best_reduced = center.multipliers, center.upper
            lagrangian = center.bound
        return LagrangianBound(
            bound=min(lagrangian, trivial),
            lagrangian=lagrangian,
            multipliers=multipliers,
            best_reduced=best_reduced,
            program=program,
            shots=best_shots,
            value=best_value,
            rounds=rounds,
            complete=complete,
        )

    center = search.price(initial_multipliers(problem, shots), thorough=False)
    if center is None:
        return result(None, 0, complete=False)
    program.add(center.patterns)
    smoothing = SMOOTHING
    rounds = 0
    while rounds < MAX_ROUNDS and time.perf_counter() < deadline:
        rounds += 1
        if not program.run(deadline - time.perf_counter()):
            break
        lp_value = float(program.highs.getInfo().objective_function_value)
        plan = program.plan(program.column_values())
        if plan is not None:
            value = objective(problem, plan)
            if value > best_value:
                best_shots, best_value = plan, value
        if center.bound - best_value <= 0.25 * mip_gap * center.bound:
            break
        if center.estimate - lp_value <= CONVERGENCE * center.estimate + search.allowance:
            if center.exact:
                break
            # Quick pricing left some threats' bounds loose: price the centre thoroughly.
            thorough = search.price(center.multipliers, thorough=True)
            if thorough is None:
                return result(center, rounds, complete=False)
            center = thorough
            program.add(center.patterns)
            continue
        multipliers = smoothing * center.multipliers + (1.0 - smoothing) * program.multipliers()
        priced = search.price(multipliers, thorough=False)
        if priced is None:
            return result(center, rounds, complete=False)
        improved = priced.estimate < center.estimate
        if improved:
            center = priced
        if program.add(priced.patterns) or improved:
            smoothing = SMOOTHING
        elif smoothing > 0.0:
            smoothing = 0.0  # price at the LP's own duals
        else:
            break  # nothing new even there: converged to the pricing's accuracy
    if not center.exact and time.perf_counter() < deadline:
        thorough = search.price(center.multipliers, thorough=True)
        if thorough is None:
            return result(center, rounds, complete=False)
        center = thorough
    return result(center, rounds, complete=True)


def shortfall_of(problem: WtaProblem, patterns: Patterns, found: LagrangianBound) -> FloatArray:
    """``d_j(x)``: how far each pattern's reduced value falls short of ``u_j`` at ``λ̄``.

    A plan worth ``F̲`` or more uses no pattern short by more than ``found.lagrangian − F̲``.
    """
    return _Search(problem).shortfall(patterns, found.multipliers, found.best_reduced)


def near_optimal_patterns(
    problem: WtaProblem, found: LagrangianBound, floor: float
) -> Patterns | None:
    """Every pattern that a plan worth at least ``floor`` can use.

    Those whose reduced value at ``λ̄`` is within ``found.lagrangian − floor`` of their
    threat's ``u_j`` (see the module notes). None if there are more than
    :data:`MAX_PATTERNS` or the search exceeds :data:`MAX_SEARCH_NODES`.
    """
    search = _Search(problem)
    slack = max(found.lagrangian - floor, 0.0)
    return search.enumerate(found.multipliers, found.best_reduced, slack)
