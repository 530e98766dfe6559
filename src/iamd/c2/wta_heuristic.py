r"""Real-time weapon-target assignment: greedy construction, then local search.

Meant to be re-planned every C2 cycle, in milliseconds, on a hundred threats and a few
hundred rounds. The plan maximises the penalised objective::

    F(x) − λ · Σ_ij max(x⁰_ij − x_ij, 0),

where ``F`` is the expected value destroyed (:func:`iamd.c2.wta.objective`), ``x⁰`` the
previous cycle's plan and ``λ`` the switch penalty: each shot of the previous plan that is
withdrawn or re-aimed costs ``λ``. A shot from a spare round costs nothing, so a new threat
is engaged freely but an existing engagement moves only for a gain above ``λ``. This keeps
the plan from flickering between near-equal alternatives from one cycle to the next, which
would confuse the operators and the fire units.

Two constructions, each followed by the same local search; the better result is returned:

* **Maximum marginal return** ([1]_, [2]_): repeatedly give one round to the pair of largest
  gain ``V_j P_j p_ij``, where ``P_j`` is the threat's current survival probability. Optimal
  when there is one weapon type, and usually within a few per cent otherwise.
* **Layered assignment**: each layer gives every weapon at most one round and every threat at
  most one shot. Within a layer the gains of different threats do not interact, so the best
  layer is a linear assignment problem (Jonker–Volgenant, :func:`scipy.optimize.
  linear_sum_assignment`) on the current gains. Layers repeat until the rounds run out. The
  first layer is the exact optimum whenever a one-to-one plan is optimal, which greedy
  misses (it takes the single best pair first, not the best set).

The **local search** repeats two neighbourhoods until neither improves the objective:

* *move*: one round of a weapon leaves threat ``j`` for threat ``j′`` (or, from a spare
  round, just joins ``j′``). The change is the gain at ``j′`` minus the loss at ``j``, and
  the two do not interact, so the best move of every weapon is found at once from two
  ``(W, T)`` arrays: gains ``V_j P_j p_ij`` and losses ``V_j P_j (1/q_ij − 1)``.
* *swap*: weapons ``i`` and ``k`` with rounds on threats ``j`` and ``j′`` exchange them. For
  ``S`` engaged pairs this is an ``(S, S)`` array whose entry is the sum of a change at
  ``j`` and a change at ``j′``.

Moves (and swaps) on disjoint threats do not change each other's value, so each pass applies
the best improving one and then every other improving one whose threats have not been
touched yet, instead of one per pass. That is what makes the search fast enough.

With a previous plan and a penalty, two more candidates are searched under the penalised
objective: the plan made without the previous one, and the previous plan itself (cut to the
current limits, its spare rounds spent). So the re-plan never scores worse than either
ignoring the previous plan or keeping it.

References
----------
.. [1] S. E. Kolitz, "Analysis of a maximum marginal return assignment algorithm",
   *Proc. 27th IEEE Conference on Decision and Control*, 1988, pp. 2431–2436.
.. [2] R. K. Ahuja, A. Kumar, K. C. Jha and J. B. Orlin, "Exact and heuristic algorithms
   for the weapon-target assignment problem", *Operations Research* 55(6), 2007,
   pp. 1136–1146.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from iamd.c2.wta import WtaProblem, WtaSolution, check_shots, count_switches, objective
from iamd.core.errors import ConfigurationError
from iamd.core.typing import FloatArray, IntArray

MAX_PASSES = 1000
"""Most local-search passes; a safeguard only (a pass strictly improves the objective)."""

SWAP_LIMIT = 2048
"""Most engaged pairs the swap neighbourhood considers in one pass (its arrays are
``SWAP_LIMIT²``); beyond, those whose round is worth least where it is."""

_TOLERANCE = 1e-12
"""A change counts as an improvement above this times ``Σ V`` (rounding noise below)."""


class _Plan:
    """A plan being improved: shots, spare rounds and each threat's log survival."""

    __slots__ = (
        "kill",
        "limit",
        "log_q",
        "log_survival",
        "no_penalty",
        "penalty",
        "previous",
        "shots",
        "spare",
        "values",
    )

    def __init__(
        self,
        problem: WtaProblem,
        shots: IntArray,
        previous: IntArray | None,
        penalty: float,
    ) -> None:
        self.values = problem.values
        self.log_q = problem.log_survival
        self.kill = -np.expm1(problem.log_survival)
        self.limit = problem.shot_limit
        self.previous = previous
        self.penalty = penalty
        self.shots = shots.copy()
        self.spare = problem.rounds - shots.sum(axis=1)
        self.log_survival = (shots * self.log_q).sum(axis=0)
        self.no_penalty = np.zeros(shots.shape)

    def copy(self) -> _Plan:
        """An independent copy (the arrays that change are copied)."""
        other = object.__new__(_Plan)
        for name in self.__slots__:
            setattr(other, name, getattr(self, name))
        other.shots = self.shots.copy()
        other.spare = self.spare.copy()
        other.log_survival = self.log_survival.copy()
        return other

    def at_stake(self) -> FloatArray:
        """``V_j P_j`` (T,): expected value of each threat that still survives."""
        return np.asarray(self.values * np.exp(self.log_survival))

    def add_credit(self) -> FloatArray:
        """Penalty refunded by adding one shot to each pair (W, T).

        ``λ`` where the previous plan had more shots there, else 0.
        """
        if self.previous is None or self.penalty == 0.0:
            return self.no_penalty
        return np.where(self.shots < self.previous, self.penalty, 0.0)

    def remove_charge(self) -> FloatArray:
        """Penalty charged for removing one shot from each pair (W, T)."""
        if self.previous is None or self.penalty == 0.0:
            return self.no_penalty
        return np.where(self.shots <= self.previous, self.penalty, 0.0)

    def apply(self, weapon: IntArray, source: IntArray, target: IntArray) -> None:
        """Move one round of each ``weapon`` from ``source`` to ``target`` (−1: spare)."""
        real_source = source >= 0
        np.add.at(self.shots, (weapon[real_source], source[real_source]), -1)
        np.add.at(self.shots, (weapon, target), 1)
        np.add.at(self.spare, weapon[~real_source], -1)
        touched = np.unique(np.concatenate([source[real_source], target]))
        self.log_survival[touched] = (self.shots[:, touched] * self.log_q[:, touched]).sum(axis=0)

    def score(self) -> float:
        """Penalised objective with the capped probabilities (the search's own measure)."""
        value = float(np.sum(self.values * -np.expm1(self.log_survival)))
        if self.previous is None:
            return value
        return value - self.penalty * count_switches(self.previous, self.shots)


def _greedy(plan: _Plan, tolerance: float) -> None:
    """Maximum marginal return: spend the spare rounds one by one on the best gain."""
    gain = plan.at_stake() * plan.kill + plan.add_credit()
    blocked = (plan.shots >= plan.limit) | (plan.spare[:, None] <= 0)
    gain[blocked] = -np.inf
    penalised = plan.previous is not None and plan.penalty != 0.0
    # The best weapon of each threat, kept up to date column by column: a step changes one
    # column, and an emptied weapon only the columns whose best it was.
    best_weapon = np.argmax(gain, axis=0)
    best_gain = gain[best_weapon, np.arange(gain.shape[1])]
    for _ in range(int(plan.spare.sum())):
        j = int(np.argmax(best_gain))
        i = int(best_weapon[j])
        if not best_gain[j] > tolerance:
            break
        plan.shots[i, j] += 1
        plan.spare[i] -= 1
        plan.log_survival[j] += plan.log_q[i, j]
        column = plan.values[j] * np.exp(plan.log_survival[j]) * plan.kill[:, j]
        if penalised:
            assert plan.previous is not None
            column += np.where(plan.shots[:, j] < plan.previous[:, j], plan.penalty, 0.0)
        column[(plan.shots[:, j] >= plan.limit[:, j]) | (plan.spare <= 0)] = -np.inf
        gain[:, j] = column
        stale = [j]
        if plan.spare[i] <= 0:
            gain[i] = -np.inf
            stale = np.flatnonzero(best_weapon == i).tolist() + stale
        best_weapon[stale] = np.argmax(gain[:, stale], axis=0)
        best_gain[stale] = gain[best_weapon[stale], stale]


def _layered(plan: _Plan, tolerance: float) -> None:
    """Spend the spare rounds in layers of optimal linear assignments.

    Each layer gives every weapon at most one round and every threat at most one shot,
    maximising the sum of the current gains.
    """
    while True:
        weapons = np.flatnonzero(plan.spare > 0)
        if weapons.size == 0:
            return
        gain = (plan.at_stake() * plan.kill + plan.add_credit())[weapons]
        gain[plan.shots[weapons] >= plan.limit[weapons]] = 0.0
        rows, cols = linear_sum_assignment(gain, maximize=True)
        take = gain[rows, cols] > tolerance
        if not take.any():
            return
        chosen = weapons[rows[take]]
        plan.apply(chosen, np.full(chosen.size, -1, np.int64), cols[take].astype(np.int64))


def _disjoint(delta: FloatArray, first: IntArray, second: IntArray, n_threats: int) -> IntArray:
    """Indices of candidates to apply together, best first, no two touching one threat.

    ``first`` and ``second`` are the two threats each candidate changes (``first`` may be −1
    for none).
    """
    used = np.zeros(n_threats + 1, dtype=np.bool_)  # slot −1 absorbs "no threat"
    chosen: list[int] = []
    for k in np.argsort(-delta, kind="stable"):
        a, b = int(first[k]), int(second[k])
        if used[a] or used[b]:
            continue
        used[a] = used[b] = True
        used[-1] = False
        chosen.append(int(k))
    return np.asarray(chosen, dtype=np.int64)


def _move_pass(plan: _Plan, tolerance: float) -> bool:
    """Apply the best improving one-round moves on disjoint threats; False if none."""
    at_stake = plan.at_stake()
    gain = at_stake * plan.kill + plan.add_credit()
    gain[plan.shots >= plan.limit] = -np.inf
    loss = at_stake * np.expm1(-plan.log_q) + plan.remove_charge()
    loss[plan.shots <= 0] = np.inf
    target = np.argmax(gain, axis=1)
    source = np.argmin(loss, axis=1)
    rows = np.arange(gain.shape[0])
    best_gain = gain[rows, target]
    # A spare round moves from nowhere: no loss.
    from_spare = plan.spare > 0
    delta = best_gain - np.where(from_spare, 0.0, loss[rows, source])
    source = np.where(from_spare, -1, source)
    # Moving within one threat is never an improvement (loss > gain), so no special case.
    weapons = np.flatnonzero(delta > tolerance)
    if weapons.size == 0:
        return False
    pick = _disjoint(delta[weapons], source[weapons], target[weapons], gain.shape[1])
    weapons = weapons[pick]
    plan.apply(weapons, source[weapons], target[weapons])
    return True


def _swap_pass(plan: _Plan, tolerance: float) -> bool:
    """Apply the best improving two-weapon swaps on disjoint threats; False if none."""
    weapon, threat = np.nonzero(plan.shots)
    if weapon.size < 2:
        return False
    at_stake = plan.at_stake()
    if weapon.size > SWAP_LIMIT:
        # Only the engaged pairs whose round is worth least where it is: a swap must
        # free at least one of them.
        worth = at_stake[threat] * np.expm1(-plan.log_q[weapon, threat])
        keep = np.sort(np.argpartition(worth, SWAP_LIMIT)[:SWAP_LIMIT])
        weapon, threat = weapon[keep], threat[keep]
    # change[b, a]: what threat j_a gains when a round of weapon i_b replaces one of i_a's.
    # The swap of engaged pairs a and b changes j_a by change[b, a] and j_b by change[a, b].
    own = plan.log_q[weapon, threat]
    change = at_stake[threat][None, :] * -np.expm1(plan.log_q[weapon][:, threat] - own[None, :])
    if plan.previous is not None and plan.penalty != 0.0:
        charge = plan.remove_charge()[weapon, threat]
        change += plan.add_credit()[weapon][:, threat] - charge[None, :]
    room = (plan.limit - plan.shots)[weapon][:, threat] > 0
    delta = change + change.T
    valid = (
        room
        & room.T
        & (weapon[:, None] != weapon[None, :])
        & (threat[:, None] != threat[None, :])
        & (delta > tolerance)
    )
    b, a = np.nonzero(valid)
    once = b < a  # valid and delta are symmetric: each swap appears twice
    b, a = b[once], a[once]
    if a.size == 0:
        return False
    gain = delta[b, a]
    most = 4 * plan.values.size
    if gain.size > most:
        keep = np.argpartition(-gain, most)[:most]
        gain, a, b = gain[keep], a[keep], b[keep]
    pick = _disjoint(gain, threat[a], threat[b], plan.values.size)
    a, b = a[pick], b[pick]
    plan.apply(
        np.concatenate([weapon[a], weapon[b]]),
        np.concatenate([threat[a], threat[b]]),
        np.concatenate([threat[b], threat[a]]),
    )
    return True


def _local_search(plan: _Plan, tolerance: float) -> int:
    """Moves until none improves, then swaps; repeat until neither does. Returns passes."""
    passes = 0
    while passes < MAX_PASSES:
        passes += 1
        if _move_pass(plan, tolerance):
            continue
        if not _swap_pass(plan, tolerance):
            break
    return passes


def solve_heuristic(
    problem: WtaProblem,
    *,
    previous: npt.ArrayLike | None = None,
    switch_penalty: float = 0.0,
) -> WtaSolution:
    """A good weapon-target plan in milliseconds, optionally sticky to the previous plan.

    Parameters
    ----------
    problem : WtaProblem
    previous : array_like of int, shape (W, T), optional
        The plan of the previous C2 cycle, in this problem's weapon and threat order (a
        threat that is gone is a dropped column; a weapon's fired rounds are no longer in
        it). Shots it has beyond the current limits are dropped before planning.
    switch_penalty : float, optional
        ``λ`` ≥ 0, in the unit of ``problem.values``: what withdrawing or re-aiming one shot
        of ``previous`` costs (see the module notes). Ignored without ``previous``.

    Returns
    -------
    WtaSolution
        ``bound`` None and ``optimal`` False (nothing is proven); ``switches`` counts the
        shots of ``previous`` that the plan no longer fires; ``iterations`` the local-search
        passes of the chosen construction.

    Raises
    ------
    iamd.core.ConfigurationError
        If ``previous`` has the wrong shape or is not whole numbers ≥ 0, or
        ``switch_penalty`` is negative or not finite.

    Examples
    --------
    Two single-round weapons, two threats: each weapon takes the threat it is better at.

    >>> problem = WtaProblem(
    ...     values=[1.0, 1.0], kill_probability=[[0.9, 0.5], [0.6, 0.5]], rounds=[1, 1]
    ... )
    >>> solve_heuristic(problem).shots.tolist()
    [[1, 0], [0, 1]]
    """
    start = time.perf_counter()
    if not (np.isfinite(switch_penalty) and switch_penalty >= 0.0):
        raise ConfigurationError(
            f"weapon-target assignment: switch_penalty must be finite and >= 0 "
            f"(got {switch_penalty})"
        )
    prior = None if previous is None else check_shots(problem, previous, name="previous")
    tolerance = _TOLERANCE * max(float(problem.values.sum()), 1.0)
    empty = np.zeros(problem.kill_probability.shape, dtype=np.int64)
    if not problem.shot_limit.any():  # nothing can usefully fire (also: empty problems)
        return WtaSolution(
            shots=empty,
            objective=0.0,
            bound=None,
            optimal=False,
            solve_time_s=time.perf_counter() - start,
            switches=count_switches(prior, empty),
        )
    best, best_passes = _best_of_constructions(_Plan(problem, empty, None, 0.0), tolerance)
    if prior is not None and switch_penalty > 0.0:
        # Candidates for the penalised objective: the free plan improved under the penalty
        # (so the re-plan never scores worse than ignoring the previous plan would), and
        # the previous plan cut to the current limits, its spare rounds spent and improved
        # (so it never scores worse than keeping the previous plan would).
        free = _Plan(problem, best.shots, prior, float(switch_penalty))
        passes = _local_search(free, tolerance)
        kept, kept_passes = _best_of_constructions(
            _Plan(problem, _within_limits(problem, prior), prior, float(switch_penalty)),
            tolerance,
        )
        best, best_passes = (
            (kept, kept_passes) if kept.score() > free.score() + tolerance else (free, passes)
        )
    return WtaSolution(
        shots=best.shots,
        objective=objective(problem, best.shots),
        bound=None,
        optimal=False,
        solve_time_s=time.perf_counter() - start,
        switches=count_switches(prior, best.shots),
        iterations=best_passes,
    )


def _best_of_constructions(base: _Plan, tolerance: float) -> tuple[_Plan, int]:
    """Both constructions from ``base``, each then improved; the better plan and its passes.

    Greedy wins ties, as it is the first.
    """
    plans = []
    for construct in (_greedy, _layered):
        plan = base.copy()
        construct(plan, tolerance)
        plans.append((plan, _local_search(plan, tolerance)))
    (greedy, greedy_passes), (layered, layered_passes) = plans
    if layered.score() > greedy.score() + tolerance:
        return layered, layered_passes
    return greedy, greedy_passes


def _within_limits(problem: WtaProblem, shots: IntArray) -> IntArray:
    """``shots`` cut to the pair limits and then, per weapon, to its rounds.

    The shots at the lowest-index threats are kept: which ones is immaterial to the search
    that follows.
    """
    kept = np.minimum(shots, problem.shot_limit)
    before = np.cumsum(kept, axis=1) - kept
    room = np.maximum(problem.rounds[:, None] - before, 0)
    return np.asarray(np.minimum(kept, room), dtype=np.int64)
