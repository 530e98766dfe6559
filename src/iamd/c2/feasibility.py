r"""Engagement feasibility: can each shooter intercept each threat, when, where, and if not, why.

The caller gives each threat's *predicted trajectory*: ECEF positions on a common time grid
(NaN once the threat has impacted or ended). This stage cannot predict it itself: the
motion models belong to the tracker, a sibling stage; the simulation predicts and passes the
points in. :func:`engagement_feasibility` then checks every (shooter, threat) pair against the
interceptor's notional kinematics, all pairs and grid times at once.

Model
    The interceptor flies a straight line from its launcher at its mean speed ``v``: launched
    at ``t_L``, it reaches distance ``v (t − t_L)`` at time ``t``. A threat at distance
    ``d(t)`` from the launcher can therefore be met at ``t`` by a launch at
    ``t_L(t) = t − d(t)/v``. An intercept at ``t`` is possible when

    * the launch is not too early: ``t_L(t) ≥ now + reaction_time`` (the decision-to-launch
      delay);
    * the point is in range: ``min_range ≤ d(t) ≤ max_range`` (slant range from the
      launcher);
    * the threat's geodetic altitude at ``t`` lies in
      ``[min_intercept_altitude, max_intercept_altitude]``;
    * ``t ≥ now`` and the trajectory still goes on at ``t`` (a finite sample: before impact).

    The conditions are checked at the grid times. The earliest intercept is then refined
    between the first feasible grid time and the one before: each condition that failed
    there is taken as linear between the two samples (``g(t) = t − d(t)/v −
    (now + reaction_time)`` for the launch time, ``d − min_range`` and so on) and its
    crossing solved; the latest crossing is the start of feasibility. The latest intercept
    is refined the same way toward the next sample. For a threat on a straight line toward
    or away from the launcher ``d`` is linear and the refinement exact; otherwise its error
    is second order in the grid step.

Launch window
    ``earliest_launch_time_s`` and ``latest_launch_time_s`` are the least and greatest
    launch times ``t_L`` over the feasible intercepts (the grid samples and the two refined
    ends), the earliest never before ``now + reaction_time``. For a threat that closes on the
    launcher ``t_L`` grows with ``t``, so these are the launches for the earliest and the
    latest intercept. If the feasible intercepts are not one interval (a trajectory that
    leaves and re-enters the altitude band), the window may hold launch times that meet
    nothing.

Reasons
    ``reason`` gives the first of these that applies, in this order (the order of
    :class:`FeasibilityReason`): the shooter's own state first, then the track, then the
    threat's trajectory, then the geometry from the most to the least fundamental.

    1. ``NO_ROUNDS`` — the shooter has no rounds;
    2. ``NO_CHANNEL`` — it has no free fire channel;
    3. ``NO_FIRE_CONTROL_TRACK`` — the caller says it has no fire-control-quality track of
       the threat, own or remote;
    4. ``ENDED`` — the trajectory has no sample at or after ``now``;
    5. ``OUT_OF_RANGE`` — no remaining sample lies within the range band;
    6. ``ALTITUDE`` — samples lie in range, but none of them in the altitude band;
    7. ``TOO_LATE`` — samples lie in range and altitude, but each of them would need a launch
       before ``now + reaction_time``: the threat comes too close, or impacts, before an
       interceptor launched in time can get there;
    0. ``FEASIBLE`` otherwise.

    The intercept fields (times, point, altitude, range, launch window) are given wherever
    the geometry allows an intercept (``in_reach``), even when rounds, channels or a track
    are missing: a magazine refill or a new track makes the pair feasible as it stands.
    They are NaN where it does not.

Limits: a straight fly-out at a constant mean speed (no boost, no gravity turn, no
fly-out table); no kinematic kill zone beyond the range and altitude bands; the trajectory
is trusted as given.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iamd.c2.threat_evaluation import _floats, _read_only, _whole
from iamd.core.errors import ConfigurationError
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo import ecef_to_geodetic

_CHUNK_ELEMENTS = 1 << 20
"""Shooter × threat × time elements evaluated at once; larger problems are cut into groups
of threats so that the working arrays stay near 8 MB each."""


class FeasibilityReason(enum.IntEnum):
    """Why a (shooter, threat) pair can or cannot be engaged (module notes: precedence)."""

    FEASIBLE = 0
    """Every condition holds."""
    NO_ROUNDS = 1
    """The shooter has no rounds left."""
    NO_CHANNEL = 2
    """The shooter has no free fire channel."""
    NO_FIRE_CONTROL_TRACK = 3
    """The shooter has no fire-control-quality track of the threat, own or remote."""
    ENDED = 4
    """The threat's trajectory has no sample at or after now."""
    OUT_OF_RANGE = 5
    """No remaining trajectory sample lies between the minimum and maximum range."""
    ALTITUDE = 6
    """Samples lie in range, but none in the intercept altitude band."""
    TOO_LATE = 7
    """Every geometric opportunity needs a launch before now plus the reaction time."""


# eq=False: arrays have no single truth value, so field-wise == would raise.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Shooters:
    """Shooters (batteries, launchers, ships) and their interceptors, as arrays over ``S``.

    Arrays are copied, checked and made read-only on construction; a scalar is repeated for
    every shooter.

    Parameters
    ----------
    position_ecef_m : array_like, shape (S, 3)
        Launcher position, ECEF, m.
    mean_speed_mps : array_like, shape (S,)
        Mean speed of the interceptor over its fly-out, m/s (> 0).
    min_range_m, max_range_m : array_like, shape (S,)
        Range band of an intercept, slant range from the launcher, m
        (``0 ≤ min ≤ max``).
    min_intercept_altitude_m, max_intercept_altitude_m : array_like, shape (S,)
        Altitude band of an intercept, geodetic height above the ellipsoid, m
        (``min ≤ max``).
    single_shot_pk : array_like, shape (S,)
        Kill probability of one interceptor within the envelope, in [0, 1].
    reaction_time_s : array_like, shape (S,)
        Delay from the decision to the launch, s (≥ 0).
    rounds : array_like of int, shape (S,)
        Rounds ready to fire (≥ 0).
    free_channels : array_like of int, shape (S,)
        Fire channels free to guide one more interceptor (≥ 0).

    Raises
    ------
    iamd.core.ConfigurationError
        Naming the field, on a wrong shape, a value that is not finite, or one outside its
        range.
    """

    position_ecef_m: FloatArray
    mean_speed_mps: FloatArray
    min_range_m: FloatArray
    max_range_m: FloatArray
    min_intercept_altitude_m: FloatArray
    max_intercept_altitude_m: FloatArray
    single_shot_pk: FloatArray
    reaction_time_s: FloatArray
    rounds: IntArray
    free_channels: IntArray

    def __post_init__(self) -> None:
        owner = "shooters"
        position = np.asarray(self.position_ecef_m)
        if position.ndim != 2 or position.shape[1] != 3:
            raise ConfigurationError(
                f"{owner}: position_ecef_m must have shape (S, 3) (got {position.shape})"
            )
        shape = (position.shape[0],)
        position = _floats(owner, "position_ecef_m", position, position.shape)
        floats = {
            name: _floats(owner, name, getattr(self, name), shape)
            for name in (
                "mean_speed_mps",
                "min_range_m",
                "max_range_m",
                "min_intercept_altitude_m",
                "max_intercept_altitude_m",
                "single_shot_pk",
                "reaction_time_s",
            )
        }
        rounds = _whole(owner, "rounds", self.rounds, shape)
        channels = _whole(owner, "free_channels", self.free_channels, shape)

        def broken(name: str, bad: BoolArray, rule: str) -> None:
            if bad.any():
                value = floats[name][np.flatnonzero(bad)[0]]
                raise ConfigurationError(f"{owner}: {name} must be {rule} (got {value})")

        broken("mean_speed_mps", floats["mean_speed_mps"] <= 0.0, "> 0")
        broken("min_range_m", floats["min_range_m"] < 0.0, ">= 0")
        broken("max_range_m", floats["max_range_m"] < floats["min_range_m"], ">= min_range_m")
        broken(
            "max_intercept_altitude_m",
            floats["max_intercept_altitude_m"] < floats["min_intercept_altitude_m"],
            ">= min_intercept_altitude_m",
        )
        pk = floats["single_shot_pk"]
        broken("single_shot_pk", (pk < 0.0) | (pk > 1.0), "in [0, 1]")
        broken("reaction_time_s", floats["reaction_time_s"] < 0.0, ">= 0")
        _read_only(position)
        object.__setattr__(self, "position_ecef_m", position)
        for name, array in floats.items():
            _read_only(array)
            object.__setattr__(self, name, array)
        for name, counts in (("rounds", rounds), ("free_channels", channels)):
            _read_only(counts)
            object.__setattr__(self, name, counts)

    def __len__(self) -> int:
        return int(self.position_ecef_m.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Feasibility:
    """Engagement feasibility of ``S`` shooters against ``N`` threats (module notes).

    Attributes
    ----------
    feasible : ndarray of bool, shape (S, N)
        Whether the shooter can engage the threat now: ``reason == FEASIBLE``.
    in_reach : ndarray of bool, shape (S, N)
        Whether the geometry and timing allow an intercept, whatever the rounds, channels and
        track.
    reason : ndarray of int, shape (S, N)
        :class:`FeasibilityReason` values.
    intercept_time_s : ndarray, shape (S, N)
        Earliest intercept time, s since the epoch (NaN out of reach).
    intercept_ecef_m : ndarray, shape (S, N, 3)
        Threat position at that time, ECEF, m.
    intercept_altitude_m : ndarray, shape (S, N)
        Its geodetic height, m.
    intercept_range_m : ndarray, shape (S, N)
        Its slant range from the launcher, m; the fly-out lasts ``range / mean_speed``.
    latest_intercept_time_s : ndarray, shape (S, N)
        Latest intercept time, s since the epoch.
    earliest_launch_time_s, latest_launch_time_s : ndarray, shape (S, N)
        The launch window, s since the epoch (module notes).
    kill_probability : ndarray, shape (S, N)
        The interceptor's single-shot kill probability where feasible, else 0.
    """

    feasible: BoolArray
    in_reach: BoolArray
    reason: IntArray
    intercept_time_s: FloatArray
    intercept_ecef_m: FloatArray
    intercept_altitude_m: FloatArray
    intercept_range_m: FloatArray
    latest_intercept_time_s: FloatArray
    earliest_launch_time_s: FloatArray
    latest_launch_time_s: FloatArray
    kill_probability: FloatArray


def _margins(
    distance: FloatArray,
    altitude: FloatArray,
    time: FloatArray,
    ready: FloatArray,
    shooters: Shooters,
    rows: IntArray,
) -> FloatArray:
    """Slack of each intercept condition of ``K`` (shooter, sample) pairs: ≥ 0 where it holds.

    ``distance``, ``altitude``, ``time`` and ``ready`` (earliest launch) have shape (K,);
    ``rows`` (K,) picks each pair's shooter. The columns of the (K, 5) result are the launch
    time after the earliest possible launch (s), the range above the minimum and below the
    maximum (m), and the altitude above the minimum and below the maximum (m).
    """
    return np.stack(
        [
            time - distance / shooters.mean_speed_mps[rows] - ready,
            distance - shooters.min_range_m[rows],
            shooters.max_range_m[rows] - distance,
            altitude - shooters.min_intercept_altitude_m[rows],
            shooters.max_intercept_altitude_m[rows] - altitude,
        ],
        axis=-1,
    )


def engagement_feasibility(
    shooters: Shooters,
    *,
    times_s: npt.ArrayLike,
    trajectory_ecef_m: npt.ArrayLike,
    now_s: float,
    fire_control_track: npt.ArrayLike | None = None,
) -> Feasibility:
    """Engagement feasibility of every (shooter, threat) pair (module notes give the model).

    Parameters
    ----------
    shooters : Shooters
        The ``S`` shooters.
    times_s : array_like, shape (T,)
        Time grid of the predicted trajectories, s since the epoch, strictly increasing.
    trajectory_ecef_m : array_like, shape (N, T, 3)
        Predicted ECEF position of each threat at each grid time, m; NaN where the threat
        does not exist (after its impact or end).
    now_s : float
        Current time, s since the epoch.
    fire_control_track : array_like of bool, shape (S, N) or broadcastable, optional
        Whether each shooter holds a fire-control-quality track of each threat, its own or a
        remote one that its fire control accepts; ``None`` means all do.

    Returns
    -------
    Feasibility

    Raises
    ------
    iamd.core.ConfigurationError
        Naming the field, on a wrong shape, a time grid that is not finite and strictly
        increasing, an infinite trajectory coordinate, or a non-finite ``now_s``.

    Examples
    --------
    A threat closing head-on from 60 km at 1000 m/s along a straight line through a
    launcher whose interceptors fly 2000 m/s after a 5 s reaction: they meet when
    ``60000 − 1000 t = 2000 (t − 5)``, at ``t = 70000 / 3000 ≈ 23.33 s``.

    >>> site = np.array([6378137.0, 0.0, 0.0])
    >>> shooters = Shooters(
    ...     position_ecef_m=site[None], mean_speed_mps=2000.0, min_range_m=1000.0,
    ...     max_range_m=100e3, min_intercept_altitude_m=-1e5, max_intercept_altitude_m=1e6,
    ...     single_shot_pk=0.8, reaction_time_s=5.0, rounds=4, free_channels=2,
    ... )
    >>> times = np.arange(0.0, 61.0)
    >>> path = site + (60000.0 - 1000.0 * times)[:, None] * np.array([0.6, 0.8, 0.0])
    >>> result = engagement_feasibility(
    ...     shooters, times_s=times, trajectory_ecef_m=path[None], now_s=0.0
    ... )
    >>> bool(result.feasible[0, 0]), round(float(result.intercept_time_s[0, 0]), 6)
    (True, 23.333333)
    >>> float(result.earliest_launch_time_s[0, 0]), float(result.kill_probability[0, 0])
    (5.0, 0.8)
    """
    owner = "engagement feasibility"
    raw_times = np.asarray(times_s)
    if raw_times.ndim != 1:
        raise ConfigurationError(f"{owner}: times_s must have shape (T,) (got {raw_times.shape})")
    times = _floats(owner, "times_s", raw_times, raw_times.shape)
    if times.size > 1 and not (np.diff(times) > 0.0).all():
        raise ConfigurationError(f"{owner}: times_s must be strictly increasing")
    raw_path = np.asarray(trajectory_ecef_m)
    if raw_path.ndim != 3 or raw_path.shape[1:] != (times.size, 3):
        raise ConfigurationError(
            f"{owner}: trajectory_ecef_m must have shape (N, {times.size}, 3) "
            f"(got {raw_path.shape})"
        )
    path = _floats(owner, "trajectory_ecef_m", raw_path, raw_path.shape, finite=False)
    if np.isinf(path).any():
        raise ConfigurationError(f"{owner}: trajectory_ecef_m must be finite or NaN")
    if not math.isfinite(now_s):
        raise ConfigurationError(f"{owner}: now_s must be finite (got {now_s})")
    s, n, t = len(shooters), path.shape[0], times.size
    if fire_control_track is None:
        tracked = np.ones((s, n), dtype=bool)
    else:
        raw_tracked = np.asarray(fire_control_track)
        if raw_tracked.dtype != np.bool_:
            raise ConfigurationError(
                f"{owner}: fire_control_track must be booleans (got dtype {raw_tracked.dtype})"
            )
        try:
            tracked = np.broadcast_to(raw_tracked, (s, n))
        except ValueError:
            raise ConfigurationError(
                f"{owner}: fire_control_track must have shape ({s}, {n}) (got {raw_tracked.shape})"
            ) from None

    # A point is either a whole position or none: one NaN coordinate voids the sample.
    exists = np.asarray(np.isfinite(path).all(axis=-1), dtype=np.bool_)
    alive = np.asarray(exists & (times >= now_s)[None, :], dtype=np.bool_)
    altitude = np.full((n, t), np.nan)
    if exists.any():
        altitude[exists] = ecef_to_geodetic(path[exists])[2]
    ready = now_s + shooters.reaction_time_s

    in_reach = np.zeros((s, n), dtype=bool)
    any_alive = np.asarray(alive.any(axis=1), dtype=np.bool_)
    any_range = np.zeros((s, n), dtype=bool)
    any_altitude = np.zeros((s, n), dtype=bool)
    first_time = np.full((s, n), np.nan)
    first_point = np.full((s, n, 3), np.nan)
    last_time = np.full((s, n), np.nan)
    earliest_launch = np.full((s, n), np.nan)
    latest_launch = np.full((s, n), np.nan)

    if s and n and t:
        # Differences of ECEF vectors near one region lose less to rounding around its centre.
        origin = shooters.position_ecef_m.mean(axis=0)
        launcher = shooters.position_ecef_m - origin
        step = max(1, _CHUNK_ELEMENTS // (s * t))
        for start in range(0, n, step):
            chunk = slice(start, min(start + step, n))
            _feasibility_chunk(
                shooters=shooters,
                launcher=launcher,
                path=path[chunk] - origin,
                altitude=altitude[chunk],
                exists=exists[chunk],
                alive=alive[chunk],
                times=times,
                ready=ready,
                in_reach=in_reach[:, chunk],
                any_range=any_range[:, chunk],
                any_altitude=any_altitude[:, chunk],
                first_time=first_time[:, chunk],
                first_point=first_point[:, chunk],
                last_time=last_time[:, chunk],
                earliest_launch=earliest_launch[:, chunk],
                latest_launch=latest_launch[:, chunk],
            )
        first_point[in_reach] += origin

    intercept_altitude = np.full((s, n), np.nan)
    intercept_range = np.full((s, n), np.nan)
    if in_reach.any():
        shooter_index = np.nonzero(in_reach)[0]
        intercept_altitude[in_reach] = ecef_to_geodetic(first_point[in_reach])[2]
        intercept_range[in_reach] = np.linalg.norm(
            first_point[in_reach] - shooters.position_ecef_m[shooter_index], axis=-1
        )

    # Lowest precedence first, so that each later rule overrides (module notes: precedence).
    reason = np.where(in_reach, FeasibilityReason.FEASIBLE, FeasibilityReason.TOO_LATE)
    reason = np.where(any_altitude, reason, FeasibilityReason.ALTITUDE)
    reason = np.where(any_range, reason, FeasibilityReason.OUT_OF_RANGE)
    reason = np.where(any_alive[None, :], reason, FeasibilityReason.ENDED)
    reason = np.where(tracked, reason, FeasibilityReason.NO_FIRE_CONTROL_TRACK)
    reason = np.where(shooters.free_channels[:, None] > 0, reason, FeasibilityReason.NO_CHANNEL)
    reason = np.where(shooters.rounds[:, None] > 0, reason, FeasibilityReason.NO_ROUNDS)
    reason = reason.astype(np.int64)
    feasible = reason == FeasibilityReason.FEASIBLE
    kill_probability = np.where(feasible, shooters.single_shot_pk[:, None], 0.0)

    result = Feasibility(
        feasible=feasible,
        in_reach=in_reach,
        reason=reason,
        intercept_time_s=first_time,
        intercept_ecef_m=first_point,
        intercept_altitude_m=intercept_altitude,
        intercept_range_m=intercept_range,
        latest_intercept_time_s=last_time,
        earliest_launch_time_s=earliest_launch,
        latest_launch_time_s=latest_launch,
        kill_probability=np.asarray(kill_probability, dtype=np.float64),
    )
    outputs: tuple[npt.NDArray[np.generic], ...] = (
        result.feasible,
        result.in_reach,
        result.reason,
        result.intercept_time_s,
        result.intercept_ecef_m,
        result.intercept_altitude_m,
        result.intercept_range_m,
        result.latest_intercept_time_s,
        result.earliest_launch_time_s,
        result.latest_launch_time_s,
        result.kill_probability,
    )
    for output in outputs:
        _read_only(output)
    return result


def _feasibility_chunk(
    *,
    shooters: Shooters,
    launcher: FloatArray,
    path: FloatArray,
    altitude: FloatArray,
    exists: BoolArray,
    alive: BoolArray,
    times: FloatArray,
    ready: FloatArray,
    in_reach: BoolArray,
    any_range: BoolArray,
    any_altitude: BoolArray,
    first_time: FloatArray,
    first_point: FloatArray,
    last_time: FloatArray,
    earliest_launch: FloatArray,
    latest_launch: FloatArray,
) -> None:
    """Fill the output views (S, n) for one group of ``n`` threats (positions about a centre).

    ``launcher`` (S, 3) and ``path`` (n, T, 3) are relative to the same centre; ``altitude``,
    ``exists`` and ``alive`` are (n, T).
    """
    s, n, t = launcher.shape[0], path.shape[0], times.size
    flat = path.reshape(-1, 3)
    # ‖p − q‖² expanded: one matrix product instead of an (S, n, T, 3) difference array, and
    # in place, because these (S, n, T) passes over memory are the whole cost.
    distance = launcher @ flat.T
    distance *= -2.0
    distance += np.einsum("ij,ij->i", flat, flat)[None, :]
    distance += np.einsum("ij,ij->i", launcher, launcher)[:, None]
    np.maximum(distance, 0.0, out=distance)
    np.sqrt(distance, out=distance)
    distance = distance.reshape(s, n, t)

    # Shooters share a few interceptor types: the altitude band is tested once per band on
    # the (n, T) samples, not once per shooter.
    bands, band_of = np.unique(
        np.stack([shooters.min_intercept_altitude_m, shooters.max_intercept_altitude_m], axis=1),
        axis=0,
        return_inverse=True,
    )
    in_band = alive[None] & (altitude[None] >= bands[:, 0, None, None])
    in_band &= altitude[None] <= bands[:, 1, None, None]
    # t − d/v ≥ ready  ⇔  d ≤ v (t − ready): a bound per (shooter, time), no launch array.
    reachable = shooters.mean_speed_mps[:, None] * (times[None, :] - ready[:, None])
    ranged = distance >= shooters.min_range_m[:, None, None]
    ranged &= distance <= shooters.max_range_m[:, None, None]
    ranged &= alive[None]
    any_range[...] = ranged.any(axis=-1)
    ranged &= in_band[band_of.reshape(-1)]
    any_altitude[...] = ranged.any(axis=-1)
    ok = ranged
    ok &= distance <= reachable[:, None, :]
    reach = ok.any(axis=-1)
    in_reach[...] = reach
    if not reach.any():
        return

    shooter_rows, threat_rows = np.nonzero(reach)
    pair_ok = ok[shooter_rows, threat_rows]
    first = np.argmax(pair_ok, axis=-1)
    last = t - 1 - np.argmax(pair_ok[:, ::-1], axis=-1)

    def refine(index: IntArray, toward: IntArray) -> tuple[FloatArray, FloatArray]:
        """Time and point where feasibility begins (or ends) between two samples.

        ``index`` is a feasible sample, ``toward`` its neighbour (before or after). Each
        condition that fails at the neighbour is taken as linear between the two and its
        crossing found; the crossing nearest the sample bounds the feasible part. Without a
        usable neighbour (grid edge, no trajectory there) the sample itself is the bound.
        """
        usable = (toward >= 0) & (toward < t)
        neighbour = np.clip(toward, 0, t - 1)
        usable &= exists[threat_rows, neighbour]
        rows = shooter_rows
        here = _margins(
            distance[rows, threat_rows, index],
            altitude[threat_rows, index],
            times[index],
            ready[rows],
            shooters,
            rows,
        )
        there = _margins(
            distance[rows, threat_rows, neighbour],
            altitude[threat_rows, neighbour],
            times[neighbour],
            ready[rows],
            shooters,
            rows,
        )
        failing = usable[:, None] & (there < 0.0)
        # Slack falls from ≥ 0 here to < 0 there: the crossing lies at here / (here − there)
        # of the way; the crossing nearest this sample is where feasibility stops.
        denominator = np.where(failing, here - there, 1.0)
        crossing = np.where(failing, here / denominator, np.inf).min(axis=-1)
        fraction = np.where(np.isfinite(crossing), np.clip(crossing, 0.0, 1.0), 0.0)
        time = times[index] + fraction * (times[neighbour] - times[index])
        here_point = path[threat_rows, index]
        # A void neighbour (NaN) must not leak into the point even with a zero fraction.
        there_point = np.where(usable[:, None], path[threat_rows, neighbour], here_point)
        point = here_point + fraction[:, None] * (there_point - here_point)
        return time, point

    start_time, start_point = refine(first, first - 1)
    end_time, end_point = refine(last, last + 1)
    speed = shooters.mean_speed_mps[shooter_rows]
    start_launch = (
        start_time - np.linalg.norm(start_point - launcher[shooter_rows], axis=-1) / speed
    )
    end_launch = end_time - np.linalg.norm(end_point - launcher[shooter_rows], axis=-1) / speed
    grid_launch = times - distance[shooter_rows, threat_rows] / speed[:, None]
    lowest = np.minimum(np.where(pair_ok, grid_launch, np.inf).min(axis=-1), start_launch)
    highest = np.maximum(np.where(pair_ok, grid_launch, -np.inf).max(axis=-1), end_launch)
    lowest = np.minimum(lowest, end_launch)
    highest = np.maximum(highest, start_launch)

    first_time[shooter_rows, threat_rows] = start_time
    first_point[shooter_rows, threat_rows] = start_point
    last_time[shooter_rows, threat_rows] = end_time
    # The refined ends are linear estimates; no launch can come before the reaction time.
    earliest_launch[shooter_rows, threat_rows] = np.maximum(lowest, ready[shooter_rows])
    latest_launch[shooter_rows, threat_rows] = np.maximum(highest, ready[shooter_rows])


__all__ = ["Feasibility", "FeasibilityReason", "Shooters", "engagement_feasibility"]
