"""Interceptor flyout, intercept resolution and kill assessment (the engagement stage).

The model, notional and kinematic:

- **Flyout.** An interceptor flies a straight line from its launcher to the predicted
  intercept point at the interceptor type's mean speed (:func:`flyout_positions`); its
  flight time is the distance over that speed.
- **Guidance.** In flight it is guided by the firing node's track of the threat. At the
  intercept time the track, predicted to that time, is the aim point; the interceptor's
  seeker and divert can close at most ``divert_radius_m`` on the real threat. If the track
  is lost, or the real threat is farther than that from the aim point, the shot misses
  whatever its kill probability (``OUTSIDE_BASKET``, ``TRACK_LOST``); a threat that has
  impacted or been destroyed before the interceptor arrives is not there to kill
  (``TARGET_GONE``).
- **Kill.** Otherwise the shot kills with the interceptor type's single-shot kill
  probability, one independent draw per shot (:func:`resolve_intercepts`).
- **Kill assessment.** A sensor judges the outcome after a delay and may be wrong both ways:
  a kill reported as a miss with ``missed_kill_probability`` (the shooter may fire again at
  a dead threat), a miss reported as a kill with ``false_kill_probability`` (a live threat
  is dropped from the plan) (:func:`assess_kills`).
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.typing import BoolArray, FloatArray, IntArray


class InterceptResult(enum.IntEnum):
    """How one shot ended (stored as its integer value)."""

    KILL = 1
    """Inside the divert basket, and the kill draw succeeded."""
    MISS = 2
    """Inside the divert basket, and the kill draw failed."""
    OUTSIDE_BASKET = 3
    """The real threat was farther from the aim point than the interceptor can divert."""
    TRACK_LOST = 4
    """The firing node no longer held a track to guide the interceptor."""
    TARGET_GONE = 5
    """The threat impacted or was destroyed before the interceptor arrived."""


def flyout_positions(
    launch_ecef_m: npt.ArrayLike,
    aim_ecef_m: npt.ArrayLike,
    launch_time_s: npt.ArrayLike,
    intercept_time_s: npt.ArrayLike,
    time_s: float,
) -> FloatArray:
    """Positions of interceptors flying straight from launch to aim point at constant speed.

    Parameters
    ----------
    launch_ecef_m, aim_ecef_m : array_like, shape (K, 3)
        Launcher position and aim point, ECEF, m.
    launch_time_s, intercept_time_s : array_like, shape (K,)
        Launch and planned intercept times, s (intercept after launch).
    time_s : float
        When, s.

    Returns
    -------
    ndarray, shape (K, 3)
        ECEF positions, m; NaN for interceptors not in the air at ``time_s``.
    """
    start = np.asarray(launch_ecef_m, float).reshape(-1, 3)
    end = np.asarray(aim_ecef_m, float).reshape(-1, 3)
    t0 = np.asarray(launch_time_s, float).reshape(-1)
    t1 = np.asarray(intercept_time_s, float).reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = (time_s - t0) / (t1 - t0)
    flying = (fraction >= 0.0) & (fraction <= 1.0)
    positions = start + np.clip(fraction, 0.0, 1.0)[:, None] * (end - start)
    positions[~flying] = np.nan
    return np.asarray(positions, float)


def resolve_intercepts(
    aim_ecef_m: npt.ArrayLike,
    threat_ecef_m: npt.ArrayLike,
    divert_radius_m: npt.ArrayLike,
    kill_probability: npt.ArrayLike,
    rng: np.random.Generator,
) -> tuple[IntArray, FloatArray]:
    """Resolve K shots at their intercept time.

    Parameters
    ----------
    aim_ecef_m : array_like, shape (K, 3)
        The guiding track's position at the intercept time, ECEF, m; NaN where the firing
        node holds no track any more.
    threat_ecef_m : array_like, shape (K, 3)
        The real threat's position then, ECEF, m; NaN where it is no longer in flight.
    divert_radius_m : array_like, shape (K,)
        Largest aim error the interceptor's seeker and divert can take out, m (≥ 0).
    kill_probability : array_like, shape (K,)
        Single-shot kill probability inside the basket, [0, 1].
    rng : numpy.random.Generator
        The engagement stream; one uniform draw per shot, whatever its outcome, so that one
        shot's fate never shifts another's draw.

    Returns
    -------
    result : ndarray of int, shape (K,)
        :class:`InterceptResult` values.
    miss_m : ndarray, shape (K,)
        Distance between the aim point and the real threat, m (NaN where either is gone).
    """
    aim = np.asarray(aim_ecef_m, float).reshape(-1, 3)
    threat = np.asarray(threat_ecef_m, float).reshape(-1, 3)
    k = aim.shape[0]
    divert = np.broadcast_to(np.asarray(divert_radius_m, float), (k,))
    pk = np.broadcast_to(np.asarray(kill_probability, float), (k,))
    if threat.shape[0] != k:
        raise ConfigurationError(
            f"resolve_intercepts: {k} aim points but {threat.shape[0]} threat positions"
        )
    if not ((pk >= 0.0) & (pk <= 1.0)).all():
        raise ConfigurationError("resolve_intercepts: kill_probability must be in [0, 1]")
    if not (divert >= 0.0).all():
        raise ConfigurationError("resolve_intercepts: divert_radius_m must be >= 0")
    draw = rng.random(k)
    miss = np.linalg.norm(aim - threat, axis=1)
    gone = np.isnan(threat).any(axis=1)
    lost = ~gone & np.isnan(aim).any(axis=1)
    outside = ~gone & ~lost & ~(miss <= divert)
    result = np.select(
        [gone, lost, outside, draw < pk],
        [
            int(InterceptResult.TARGET_GONE),
            int(InterceptResult.TRACK_LOST),
            int(InterceptResult.OUTSIDE_BASKET),
            int(InterceptResult.KILL),
        ],
        int(InterceptResult.MISS),
    )
    return np.asarray(result, np.int64), np.asarray(miss, float)


def assess_kills(
    killed: npt.ArrayLike,
    *,
    false_kill_probability: float,
    missed_kill_probability: float,
    rng: np.random.Generator,
) -> BoolArray:
    """What the kill-assessment sensor reports for K shots: True for "killed".

    A real kill is reported as one with probability ``1 − missed_kill_probability``; a
    miss is reported as a kill with ``false_kill_probability``. One draw per shot.
    """
    truth = np.asarray(killed, bool).reshape(-1)
    for name, value in (
        ("false_kill_probability", false_kill_probability),
        ("missed_kill_probability", missed_kill_probability),
    ):
        if not 0.0 <= value <= 1.0:
            raise ConfigurationError(f"assess_kills: {name} must be in [0, 1] (got {value!r})")
    draw = rng.random(truth.size)
    return np.asarray(
        np.where(truth, draw >= missed_kill_probability, draw < false_kill_probability), bool
    )


__all__ = ["InterceptResult", "assess_kills", "flyout_positions", "resolve_intercepts"]
