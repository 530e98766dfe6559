r"""Weapon-target assignment (WTA): the problem, its objective, and a brute-force reference.

A *weapon* is a shooter with a magazine: a battery, a launcher or a single interceptor round,
holding ``rounds[i]`` shots. A *threat* ``j`` has a value ``V_j``: what killing it saves, e.g.
the value of the defended asset it aims at times the probability that it would hit it. One
shot of weapon ``i`` kills threat ``j`` with probability ``p_ij``, independently of every
other shot. Firing ``x_ij`` shots of weapon ``i`` at threat ``j`` destroys in expectation::

    F(x) = Σ_j V_j (1 − Π_i q_ij^x_ij),        q_ij = 1 − p_ij,

which is maximised over integer ``x ≥ 0`` with ``Σ_j x_ij ≤ rounds_i`` (the magazine),
``x_ij ≤ max_salvo_ij`` (doctrine: e.g. shoot–shoot at most) and ``x_ij = 0`` where the pair
is infeasible (out of reach, no authority, or ``p_ij = 0``) ([1]_, [2]_). This is the static
WTA problem of Manne; it is NP-hard in general ([3]_).

This module holds the problem (:class:`WtaProblem`), the solution record
(:class:`WtaSolution`), the objective and a brute-force enumeration for tiny instances that
the tests use as the reference. The solvers are :func:`iamd.c2.wta_exact.solve_exact`
(proven optimum on HiGHS) and :func:`iamd.c2.wta_heuristic.solve_heuristic` (real time).

The solvers work in log space with ``a_ij = −ln q_ij``; a certain kill (``p_ij = 1``) would
make that infinite, so they use ``q_ij ≥ MIN_SURVIVAL`` (:data:`MIN_SURVIVAL`, 1e-9). A plan's
objective is always reported with the true ``q``; the cap changes the value of a plan by at
most ``MIN_SURVIVAL × Σ V`` and the exact solver widens its bound by that much.

References
----------
.. [1] A. S. Manne, "A target-assignment problem", *Operations Research* 6(3), 1958,
   pp. 346–351.
.. [2] A. R. Kline, D. K. Ahner and R. R. Hill, "The weapon-target assignment problem",
   *Computers & Operations Research* 105, 2019, pp. 226–236 (a review).
.. [3] S. P. Lloyd and H. S. Witsenhausen, "Weapons allocation is NP-complete",
   *Proc. Summer Computer Simulation Conference*, 1986, pp. 1054–1058.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.typing import BoolArray, FloatArray, IntArray

MIN_SURVIVAL = 1e-9
"""Smallest single-shot survival probability ``q = 1 − p`` the solvers work with; a
certain kill (``p = 1``) counts as ``p = 1 − 1e-9`` inside them, so ``−ln q ≤ 20.7``."""

MAX_BRUTE_FORCE_PLANS = 2_000_000
"""Most plans :func:`brute_force` enumerates before refusing."""


def _integral(name: str, array: npt.ArrayLike, shape: tuple[int, ...]) -> IntArray:
    """``array`` broadcast to ``shape`` as read-only int64, checked integral and ≥ 0."""
    raw = np.asarray(array)
    try:
        raw = np.broadcast_to(raw, shape)
    except ValueError:
        raise ConfigurationError(
            f"weapon-target assignment: {name} must have shape {shape} (got {raw.shape})"
        ) from None
    if raw.dtype == np.bool_ or not (
        np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating)
    ):
        raise ConfigurationError(
            f"weapon-target assignment: {name} must be integers (got dtype {raw.dtype})"
        )
    if raw.size and not (np.isfinite(raw).all() and (raw == np.round(raw)).all()):
        raise ConfigurationError(f"weapon-target assignment: {name} must be whole numbers")
    if raw.size and raw.min() < 0:
        raise ConfigurationError(f"weapon-target assignment: {name} must be >= 0 (got {raw.min()})")
    result = np.array(raw, dtype=np.int64)
    result.flags.writeable = False
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class WtaProblem:
    """One weapon-target assignment problem.

    Arrays are copied, checked and made read-only on construction.

    Parameters
    ----------
    values : array_like of float, shape (T,)
        Value of killing each threat (any unit, e.g. asset value × probability of hitting
        it), finite and ≥ 0.
    kill_probability : array_like of float, shape (W, T)
        Single-shot kill probability ``p_ij`` of weapon ``i`` against threat ``j``, in
        [0, 1]. ``p_ij = 0`` makes the pair infeasible.
    rounds : array_like of int, shape (W,)
        Shots each weapon may fire in this plan (a battery's ready rounds; 1 for a single
        interceptor), ≥ 0.
    max_salvo : int or array_like of int, shape (W, T), optional
        Most shots weapon ``i`` may fire at threat ``j`` (doctrine, e.g. 2 for
        shoot–shoot); ``None`` means no limit beyond ``rounds``.
    feasible : array_like of bool, shape (W, T), optional
        Pairs that may be engaged at all (reach, time of flight, engagement authority);
        ``None`` means every pair with ``p_ij > 0``.

    Attributes
    ----------
    shot_limit : ndarray of int, shape (W, T)
        Most shots of weapon ``i`` at threat ``j``: ``min(rounds_i, max_salvo_ij)`` on
        feasible pairs with ``p_ij > 0`` and ``V_j > 0``, else 0 (a shot there cannot add
        value, so no solver spends one).
    log_survival : ndarray of float, shape (W, T)
        ``ln max(1 − p_ij, MIN_SURVIVAL)`` (≤ 0): what one shot adds to the log of the
        threat's survival probability.

    Raises
    ------
    iamd.core.ConfigurationError
        On a shape mismatch, a value that is negative or not finite, a probability outside
        [0, 1], or rounds or salvo limits that are not whole numbers ≥ 0.
    """

    values: FloatArray
    kill_probability: FloatArray
    rounds: IntArray
    max_salvo: IntArray | None = None
    feasible: BoolArray | None = None
    shot_limit: IntArray = field(init=False, repr=False)
    log_survival: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64)
        if values.ndim != 1:
            raise ConfigurationError(
                f"weapon-target assignment: values must have shape (n_threats,) "
                f"(got {values.shape})"
            )
        if not np.isfinite(values).all() or (values.size and values.min() < 0.0):
            raise ConfigurationError(
                "weapon-target assignment: values must be finite and >= 0"
                + (f" (got {values.min()})" if np.isfinite(values).all() else "")
            )
        n_threats = values.size
        p = np.array(self.kill_probability, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != n_threats:
            raise ConfigurationError(
                f"weapon-target assignment: kill_probability must have shape "
                f"(n_weapons, {n_threats}) to match values (got {p.shape})"
            )
        if p.size and not (np.isfinite(p).all() and p.min() >= 0.0 and p.max() <= 1.0):
            raise ConfigurationError(
                "weapon-target assignment: kill_probability must lie in [0, 1] "
                f"(got values in [{np.nanmin(p)}, {np.nanmax(p)}])"
            )
        shape = p.shape
        n_weapons = shape[0]
        raw_rounds = np.asarray(self.rounds)
        if raw_rounds.shape != (n_weapons,):
            raise ConfigurationError(
                f"weapon-target assignment: rounds must have shape ({n_weapons},), one per "
                f"weapon row of kill_probability (got {raw_rounds.shape})"
            )
        rounds = _integral("rounds", raw_rounds, (n_weapons,))
        salvo = None if self.max_salvo is None else _integral("max_salvo", self.max_salvo, shape)
        if self.feasible is None:
            feasible = None
        else:
            raw_feasible = np.asarray(self.feasible)
            if raw_feasible.dtype != np.bool_:
                raise ConfigurationError(
                    "weapon-target assignment: feasible must be booleans "
                    f"(got dtype {raw_feasible.dtype})"
                )
            try:
                feasible = np.array(np.broadcast_to(raw_feasible, shape))
            except ValueError:
                raise ConfigurationError(
                    f"weapon-target assignment: feasible must have shape {shape} "
                    f"(got {raw_feasible.shape})"
                ) from None
            feasible.flags.writeable = False

        limit = np.broadcast_to(rounds[:, None], shape).copy()
        if salvo is not None:
            np.minimum(limit, salvo, out=limit)
        useful = (p > 0.0) & (values[None, :] > 0.0)
        if feasible is not None:
            useful &= feasible
        limit[~useful] = 0
        log_survival = np.log(np.maximum(1.0 - p, MIN_SURVIVAL))
        for array in (values, p, limit, log_survival):
            array.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "kill_probability", p)
        object.__setattr__(self, "rounds", rounds)
        object.__setattr__(self, "max_salvo", salvo)
        object.__setattr__(self, "feasible", feasible)
        object.__setattr__(self, "shot_limit", limit)
        object.__setattr__(self, "log_survival", log_survival)

    @property
    def n_weapons(self) -> int:
        """Number of weapons ``W`` (rows)."""
        return int(self.kill_probability.shape[0])

    @property
    def n_threats(self) -> int:
        """Number of threats ``T`` (columns)."""
        return int(self.values.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class WtaSolution:
    """A weapon-target plan and what is known of its quality.

    Attributes
    ----------
    shots : ndarray of int, shape (W, T)
        Shots of weapon ``i`` at threat ``j``; within ``rounds`` and ``shot_limit``.
    objective : float
        Expected value destroyed, ``Σ_j V_j (1 − Π_i (1 − p_ij)^x_ij)``, with the true
        probabilities.
    bound : float or None
        Proven upper bound on the optimum of the problem, or ``None`` when the solver proves
        none (the heuristic).
    optimal : bool
        True when ``bound`` is within the requested relative gap of ``objective``.
    solve_time_s : float
        Wall-clock time of the solve, s.
    switches : int
        Shots of the previous plan that this plan no longer fires (0 without one).
    iterations : int
        Solver-specific: cut rounds of the exact solver, local-search passes of the
        heuristic.
    """

    shots: IntArray
    objective: float
    bound: float | None
    optimal: bool
    solve_time_s: float
    switches: int = 0
    iterations: int = 0

    @property
    def gap(self) -> float | None:
        """Relative gap ``(bound − objective) / bound`` (0 when both are 0), or ``None``."""
        if self.bound is None:
            return None
        if self.bound <= 0.0:
            return 0.0
        return max(self.bound - self.objective, 0.0) / self.bound


def check_shots(problem: WtaProblem, shots: npt.ArrayLike, *, name: str = "shots") -> IntArray:
    """Return ``shots`` as int64 ``(W, T)``, checked to be whole numbers ≥ 0.

    Parameters
    ----------
    problem : WtaProblem
    shots : array_like of int, shape (W, T)
        A plan: shots of each weapon at each threat.
    name : str, optional
        What to call the array in an error message.

    Returns
    -------
    ndarray of int64, shape (W, T)

    Raises
    ------
    iamd.core.ConfigurationError
        On a wrong shape, or entries that are not whole numbers ≥ 0.
    """
    shape = problem.kill_probability.shape
    raw = np.asarray(shots)
    if raw.shape != shape:
        raise ConfigurationError(
            f"weapon-target assignment: {name} must have shape {shape} (got {raw.shape})"
        )
    return np.array(_integral(name, raw, shape))


def is_feasible(problem: WtaProblem, shots: npt.ArrayLike) -> bool:
    """Whether a plan respects the magazines, the salvo limits and the feasible pairs.

    Parameters
    ----------
    problem : WtaProblem
    shots : array_like of int, shape (W, T)

    Returns
    -------
    bool
        True when ``Σ_j x_ij ≤ rounds_i``, ``x_ij ≤ max_salvo_ij`` and ``x_ij = 0`` on
        infeasible pairs (``feasible`` false or ``p_ij = 0``). Shots at a threat of value 0
        are allowed (useless, not forbidden).
    """
    x = check_shots(problem, shots)
    allowed = problem.kill_probability > 0.0
    if problem.feasible is not None:
        allowed &= problem.feasible
    if (x[~allowed] > 0).any() or (x.sum(axis=1) > problem.rounds).any():
        return False
    return problem.max_salvo is None or bool((x <= problem.max_salvo).all())


def objective(problem: WtaProblem, shots: npt.ArrayLike) -> float:
    """Expected value destroyed by a plan: ``Σ_j V_j (1 − Π_i (1 − p_ij)^x_ij)``.

    Parameters
    ----------
    problem : WtaProblem
    shots : array_like of int, shape (W, T)
        Shots of weapon ``i`` at threat ``j`` (feasibility is not checked here: see
        :func:`is_feasible`).

    Returns
    -------
    float
        In the unit of ``problem.values``.

    Raises
    ------
    iamd.core.ConfigurationError
        If ``shots`` has the wrong shape or is not whole numbers ≥ 0.

    Examples
    --------
    Two rounds of p = 0.5 at one threat of value 10 destroy 7.5 in expectation:

    >>> problem = WtaProblem(values=[10.0], kill_probability=[[0.5]], rounds=[2])
    >>> objective(problem, [[2]])
    7.5
    """
    x = check_shots(problem, shots)
    survival = np.prod((1.0 - problem.kill_probability) ** x, axis=0)
    return float(np.sum(problem.values * (1.0 - survival)))


def count_switches(previous: IntArray | None, shots: IntArray) -> int:
    """Shots of ``previous`` that ``shots`` no longer fires: ``Σ max(previous − shots, 0)``.

    A shot re-aimed from one threat to another counts once; a new shot from a spare round
    (e.g. at a threat that just appeared) counts zero, because it breaks no commitment.
    """
    if previous is None:
        return 0
    return int(np.maximum(previous - shots, 0).sum())


def brute_force(problem: WtaProblem) -> WtaSolution:
    """The optimal plan by enumerating every feasible plan (tiny problems only).

    Every weapon's ways of spreading at most ``rounds_i`` shots within ``shot_limit`` are
    listed, and all their combinations evaluated in one array operation.

    Parameters
    ----------
    problem : WtaProblem

    Returns
    -------
    WtaSolution
        With ``optimal=True`` and ``bound`` equal to the objective.

    Raises
    ------
    iamd.core.ConfigurationError
        If there are more than :data:`MAX_BRUTE_FORCE_PLANS` plans.
    """
    start = time.perf_counter()
    n_weapons, n_threats = problem.kill_probability.shape
    choices: list[IntArray] = []
    for i in range(n_weapons):
        limit = problem.shot_limit[i]
        grid = itertools.product(*(range(int(k) + 1) for k in limit))
        rows = [row for row in grid if sum(row) <= problem.rounds[i]]
        options = np.array(rows, dtype=np.int64).reshape(len(rows), n_threats)
        choices.append(options)
    plans = math.prod(len(options) for options in choices)
    if plans > MAX_BRUTE_FORCE_PLANS:
        raise ConfigurationError(
            f"weapon-target assignment: brute force would enumerate {plans} plans "
            f"(at most {MAX_BRUTE_FORCE_PLANS})"
        )
    log_q = np.log(
        1.0 - problem.kill_probability,
        where=problem.kill_probability < 1.0,
        out=np.full(problem.kill_probability.shape, -np.inf),
    )
    # Log survival of every threat under every plan, weapon by weapon (outer sums); a
    # certain kill is −inf, and 0 shots of it must stay 0, not NaN.
    log_survival = np.zeros((1, n_threats))
    for i, options in enumerate(choices):
        weapon = np.zeros(options.shape)
        np.multiply(options, log_q[i], out=weapon, where=options > 0)
        log_survival = (log_survival[:, None, :] + weapon[None, :, :]).reshape(
            log_survival.shape[0] * len(options), n_threats
        )
    values = (problem.values * (1.0 - np.exp(log_survival))).sum(axis=1)
    best = int(np.argmax(values))
    shots = np.zeros((n_weapons, n_threats), dtype=np.int64)
    for i in reversed(range(n_weapons)):
        best, k = divmod(best, len(choices[i]))
        shots[i] = choices[i][k]
    value = objective(problem, shots)
    return WtaSolution(
        shots=shots,
        objective=value,
        bound=value,
        optimal=True,
        solve_time_s=time.perf_counter() - start,
    )
