"""Track life cycle as arrays: confirmation by M-of-N, coasting, dropping, and track numbers.

Every track carries four numbers, one array each over all tracks of a node:

``status``
    A :class:`TrackStatus` code.
``history``
    Hit history of the last ``N`` scans that expected a detection, as a bit mask: bit 0 is
    the latest such scan, set on a hit. A track initiated from a detection starts at ``1``.
``misses``
    Consecutive scans that expected a detection and got none.
``last_update_s``
    Time of the last hit, s since the scenario epoch.

:func:`advance` moves them all one scan on::

                   M hits in the last N expected scans
    TENTATIVE ──────────────────────────────────────────► CONFIRMED ◄───┐
        │                                  expected, missed │          │ hit
        │ tentative_max_misses misses,                      ▼          │
        │ tentative_max_coast_s without a hit,           COASTING ─────┘
        │ or σ too large                                    │
        ▼                                                   │ max_misses misses, max_coast_s
     DROPPED ◄──────────────────────────────────────────────┘ without a hit, or σ too large
                     (confirmed tracks drop by the same rules)

A scan "expects" a detection of a track when the track was in the sensor's coverage (the
caller decides, e.g. from the predicted position and the sensor's field of regard and Pd);
scans that did not expect one leave ``history``, ``misses`` and the status untouched, but
the time since the last hit keeps growing, so an unobserved track still drops after
``max_coast_s``. This is the sliding-window M-of-N confirmation logic of [1]_ and [2]_,
with simple deletion rules (misses, time, covariance) instead of a track score.

References
----------
.. [1] S. S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
   Artech House, 1999 (track initiation, M-of-N confirmation, track deletion).
.. [2] Y. Bar-Shalom, P. K. Willett and X. Tian, *Tracking and Data Fusion: A Handbook of
   Algorithms*, YBS Publishing, 2011 (track formation logic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.typing import FloatArray, IntArray
from iamd.messages.tracks import TrackStatus

MAX_WINDOW = 62
"""Longest M-of-N window: the history must fit in a signed 64-bit integer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LifecyclePolicy:
    """When tracks are confirmed, coast and are dropped.

    Parameters
    ----------
    confirm_hits : int
        ``M``: hits needed in the window to confirm a tentative track (the initiating
        detection counts).
    confirm_window : int
        ``N``: number of latest scans that expected a detection making the window, at most
        62.
    max_misses : int
        Consecutive expected misses that drop a confirmed or coasting track.
    tentative_max_misses : int
        Consecutive expected misses that drop a tentative track (at most ``max_misses``).
    max_coast_s : float
        Time without a hit that drops a confirmed or coasting track, s.
    tentative_max_coast_s : float
        Time without a hit that drops a tentative track, s (at most ``max_coast_s``).
    max_position_sigma_m : float
        Position standard deviation above which any track is dropped, m (e.g. the square
        root of the largest eigenvalue of its position covariance).

    Raises
    ------
    ConfigurationError
        If the values cannot work together.
    """

    confirm_hits: int = 3
    confirm_window: int = 5
    max_misses: int = 5
    tentative_max_misses: int = 2
    max_coast_s: float = 60.0
    tentative_max_coast_s: float = 20.0
    max_position_sigma_m: float = 10_000.0

    def __post_init__(self) -> None:
        def fail(rule: str, value: object) -> ConfigurationError:
            return ConfigurationError(f"LifecyclePolicy: {rule} (got {value})")

        if not 1 <= self.confirm_window <= MAX_WINDOW:
            raise fail(f"confirm_window must be in 1…{MAX_WINDOW}", self.confirm_window)
        if not 1 <= self.confirm_hits <= self.confirm_window:
            raise fail("confirm_hits must be in 1…confirm_window", self.confirm_hits)
        if self.max_misses < 1:
            raise fail("max_misses must be at least 1", self.max_misses)
        if not 1 <= self.tentative_max_misses <= self.max_misses:
            raise fail("tentative_max_misses must be in 1…max_misses", self.tentative_max_misses)
        if not (self.max_coast_s > 0.0 and math.isfinite(self.max_coast_s)):
            raise fail("max_coast_s must be positive and finite", self.max_coast_s)
        if not 0.0 < self.tentative_max_coast_s <= self.max_coast_s:
            raise fail(
                "tentative_max_coast_s must be in (0, max_coast_s]", self.tentative_max_coast_s
            )
        if not self.max_position_sigma_m > 0.0:
            raise fail("max_position_sigma_m must be positive", self.max_position_sigma_m)


class LifecycleState(NamedTuple):
    """Life-cycle arrays of all tracks after :func:`advance` (see the module notes).

    Attributes
    ----------
    status : ndarray of int, shape (N,)
        :class:`TrackStatus` codes.
    history : ndarray of int, shape (N,)
        Hit-history bit masks (bit 0 = latest expected scan).
    misses : ndarray of int, shape (N,)
        Consecutive expected misses.
    last_update_s : ndarray, shape (N,)
        Time of the last hit, s since the scenario epoch.
    """

    status: IntArray
    history: IntArray
    misses: IntArray
    last_update_s: FloatArray


def initiate(count: int, now_s: float) -> LifecycleState:
    """Life-cycle arrays of ``count`` tracks just initiated from detections at ``now_s``.

    Examples
    --------
    >>> state = initiate(2, 10.0)
    >>> state.status.tolist(), state.history.tolist(), state.last_update_s.tolist()
    ([1, 1], [1, 1], [10.0, 10.0])
    """
    return LifecycleState(
        np.full(count, TrackStatus.TENTATIVE, dtype=np.int64),
        np.ones(count, dtype=np.int64),
        np.zeros(count, dtype=np.int64),
        np.full(count, float(now_s)),
    )


def _popcount(bits: IntArray) -> IntArray:
    """Number of set bits of non-negative 64-bit integers."""
    as_bytes = np.ascontiguousarray(bits, dtype=np.int64).view(np.uint8).reshape(-1, 8)
    return np.asarray(np.unpackbits(as_bytes, axis=1).sum(axis=1), dtype=np.int64)


def advance(
    status: npt.ArrayLike,
    history: npt.ArrayLike,
    misses: npt.ArrayLike,
    last_update_s: npt.ArrayLike,
    *,
    now_s: float,
    hit_mask: npt.ArrayLike,
    expected_mask: npt.ArrayLike,
    position_sigma_m: npt.ArrayLike,
    policy: LifecyclePolicy,
) -> LifecycleState:
    """Advance the life cycle of every track by one scan.

    Parameters
    ----------
    status : array_like of int, shape (N,)
        :class:`TrackStatus` codes before the scan.
    history : array_like of int, shape (N,)
        Hit-history bit masks before the scan.
    misses : array_like of int, shape (N,)
        Consecutive expected misses before the scan.
    last_update_s : array_like, shape (N,)
        Time of each track's last hit, s since the scenario epoch.
    now_s : float
        Time of this scan, s since the scenario epoch.
    hit_mask : array_like of bool, shape (N,)
        Tracks that a measurement updated in this scan. A hit always counts as expected.
    expected_mask : array_like of bool, shape (N,)
        Tracks that this scan should have detected (in coverage).
    position_sigma_m : array_like, shape (N,)
        Position standard deviation of each track after this scan, m (NaN drops the track).
    policy : LifecyclePolicy
        The rules.

    Returns
    -------
    LifecycleState
        New arrays (the inputs are not modified). A dropped track stays dropped.

    Examples
    --------
    Three hits in a row confirm a track under the default 3-of-5 rule:

    >>> policy = LifecyclePolicy()
    >>> state = initiate(1, 0.0)
    >>> for now in (1.0, 2.0):
    ...     state = advance(*state, now_s=now, hit_mask=[True], expected_mask=[True],
    ...                     position_sigma_m=[50.0], policy=policy)
    >>> TrackStatus(int(state.status[0])).name, bin(int(state.history[0]))
    ('CONFIRMED', '0b111')
    """
    old_status = np.asarray(status, dtype=np.int64)
    hit = np.asarray(hit_mask, dtype=bool)
    expected = np.asarray(expected_mask, dtype=bool) | hit
    sigma = np.asarray(position_sigma_m, dtype=float)
    alive = old_status != TrackStatus.DROPPED
    shape = old_status.shape
    for name, array in (
        ("hit_mask", hit),
        ("expected_mask", expected),
        ("position_sigma_m", sigma),
    ):
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (got {array.shape})")

    window = (1 << policy.confirm_window) - 1
    old_history = np.asarray(history, dtype=np.int64)
    shifted = ((old_history << 1) | hit.astype(np.int64)) & window
    new_history = np.where(expected & alive, shifted, old_history)
    old_misses = np.asarray(misses, dtype=np.int64)
    new_misses = np.where(hit, 0, np.where(expected, old_misses + 1, old_misses))
    new_misses = np.where(alive, new_misses, old_misses)
    new_last = np.where(hit & alive, float(now_s), np.asarray(last_update_s, dtype=float))

    new_status = old_status.copy()
    tentative = old_status == TrackStatus.TENTATIVE
    confirmed = (old_status == TrackStatus.CONFIRMED) | (old_status == TrackStatus.COASTING)
    new_status[tentative & (_popcount(new_history) >= policy.confirm_hits)] = TrackStatus.CONFIRMED
    new_status[confirmed & hit] = TrackStatus.CONFIRMED
    new_status[confirmed & expected & ~hit] = TrackStatus.COASTING

    coast_s = float(now_s) - new_last
    too_vague = ~(sigma <= policy.max_position_sigma_m)
    drop_tentative = tentative & (
        (new_misses >= policy.tentative_max_misses) | (coast_s > policy.tentative_max_coast_s)
    )
    drop_confirmed = confirmed & (
        (new_misses >= policy.max_misses) | (coast_s > policy.max_coast_s)
    )
    new_status[alive & (drop_tentative | drop_confirmed | too_vague)] = TrackStatus.DROPPED
    return LifecycleState(new_status, new_history, new_misses, new_last)


class TrackNumberAllocator:
    """Stable local track numbers for one node: increasing, never reused within a run.

    A dropped track's number is retired, not recycled, so a number seen in a recording or
    on the bus always means the same track of that node.

    Parameters
    ----------
    first : int, optional
        The first number handed out (1 by default).

    Examples
    --------
    >>> numbers = TrackNumberAllocator()
    >>> numbers.allocate(3).tolist(), numbers.allocate(1).tolist(), numbers.next_number
    ([1, 2, 3], [4], 5)
    """

    __slots__ = ("_next",)

    def __init__(self, *, first: int = 1) -> None:
        if first < 0:
            raise ConfigurationError(f"TrackNumberAllocator: first must be ≥ 0 (got {first})")
        self._next = int(first)

    @property
    def next_number(self) -> int:
        """The number the next allocated track will get."""
        return self._next

    def allocate(self, count: int = 1) -> IntArray:
        """Hand out ``count`` new numbers, in increasing order.

        Parameters
        ----------
        count : int, optional
            How many tracks need a number (≥ 0).

        Returns
        -------
        ndarray of int, shape (count,)
            The numbers.
        """
        if count < 0:
            raise ValueError(f"count must be ≥ 0 (got {count})")
        numbers = np.arange(self._next, self._next + count, dtype=np.int64)
        self._next += count
        return numbers
