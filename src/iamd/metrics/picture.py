"""The truth and one node's air picture sampled at common assessment times (time alignment).

Truth is recorded every ``Δ`` seconds (1 s by default) while a threat is in flight; a node's
tracks are recorded at their own update times. Set metrics (GOSPA, SIAP completeness,
ambiguity, …) compare the two *sets* at one instant, so both are brought to common
**assessment times**:

* the assessment times are the truth sampling instants ``t₀ + kΔ`` over the span covered by
  the truth and the node's track records, keeping the instants at which at least one threat or
  one track is present (a threat absent from the truth table at an instant is not in flight);
* the truth is taken exactly as recorded at those instants (no interpolation);
* a track is *in the picture* at ``t`` when its latest record at or before ``t`` is no older
  than ``max_age_s`` and has a counted status (confirmed or coasting; tentative on request);
  its state at ``t`` is that record propagated with constant velocity,
  ``p(t) = p(tᵣ) + v(tᵣ)(t − tᵣ)``, ``v(t) = v(tᵣ)``.

See ``docs/metrics.md`` ("Time alignment") for the reasons and the error this makes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iamd.core import ConfigurationError, RecordingError
from iamd.core.typing import BoolArray, FloatArray, IntArray

TENTATIVE = 1
"""``status`` of a tentative track in the ``local_tracks`` table."""
CONFIRMED = 2
"""``status`` of a confirmed track."""
COASTING = 3
"""``status`` of a confirmed track coasting without updates."""

TIME_TOLERANCE_S = 1e-9
"""Two times closer than this are the same instant, s (absorbs float rounding of sums)."""
GRID_TOLERANCE = 1e-6
"""A truth time within this fraction of a period of a grid instant is on the grid."""

STATE_COLUMNS = ("x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps")
"""ECEF position (m) and velocity (m/s) columns shared by ``truth`` and ``local_tracks``."""
TRUTH_COLUMNS = ("time_s", "threat", *STATE_COLUMNS)
TRACK_COLUMNS = ("time_s", "node", "track", "status", *STATE_COLUMNS)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeAlignment:
    """How a node's tracks are brought to the assessment times.

    Parameters
    ----------
    max_age_s : float
        Oldest track record still shown in the picture, s. A track whose latest record is
        older drops out (it is also how a track that stopped being recorded disappears).
        The default, 10 s, exceeds the longest radar revisit of the built-in scenarios (6 s).
    include_tentative : bool
        Count tentative tracks as part of the picture (default: only confirmed and coasting).
    period_s : float or None
        Truth sampling period Δ, s; ``None`` infers it as the smallest gap between distinct
        truth times (1 s when there are fewer than two).
    """

    max_age_s: float = 10.0
    include_tentative: bool = False
    period_s: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_age_s) and self.max_age_s >= 0.0):
            raise ConfigurationError(
                f"time alignment: max_age_s must be finite and >= 0 (got {self.max_age_s})"
            )
        if self.period_s is not None and not (math.isfinite(self.period_s) and self.period_s > 0):
            raise ConfigurationError(
                f"time alignment: period_s must be finite and > 0 (got {self.period_s})"
            )

    @property
    def statuses(self) -> tuple[int, ...]:
        """Track statuses counted as the picture."""
        if self.include_tentative:
            return (TENTATIVE, CONFIRMED, COASTING)
        return (CONFIRMED, COASTING)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlignedPicture:
    """Truth and one node's tracks at common assessment times, one row per object and time.

    Rows are re-ordered on construction so that both row sets are sorted by
    ``(step, index)``; every per-row result (e.g. an association) follows that order.

    Parameters
    ----------
    times_s : ndarray, shape (K,)
        Assessment times, s from the scenario epoch, strictly increasing.
    truth_ids : tuple of str, length J
        Truth object names (threats); ``truth_index`` points into it.
    truth_step, truth_index : ndarray of int, shape (R,)
        Assessment step (into ``times_s``) and truth object of each truth row.
    truth_states : ndarray, shape (R, 6)
        ECEF position (m) and velocity (m/s) of each truth row.
    track_ids : ndarray of int, shape (N,)
        The node's local track numbers; ``track_index`` points into it.
    track_step, track_index : ndarray of int, shape (Q,)
        Assessment step and track of each track row (a track in the picture at that time).
    track_states : ndarray, shape (Q, 6)
        ECEF position (m) and velocity (m/s) of each track row at its assessment time.
    """

    times_s: FloatArray
    truth_ids: tuple[str, ...]
    truth_step: IntArray
    truth_index: IntArray
    truth_states: FloatArray
    track_ids: IntArray
    track_step: IntArray
    track_index: IntArray
    track_states: FloatArray

    def __post_init__(self) -> None:
        times = np.asarray(self.times_s, np.float64).reshape(-1)
        if np.any(np.diff(times) <= 0.0):
            raise ValueError("aligned picture: times_s must be strictly increasing")
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "truth_ids", tuple(self.truth_ids))
        object.__setattr__(self, "track_ids", np.asarray(self.track_ids, np.int64).reshape(-1))
        for side, count in (("truth", len(self.truth_ids)), ("track", self.track_ids.size)):
            step = np.asarray(getattr(self, f"{side}_step"), np.int64).reshape(-1)
            index = np.asarray(getattr(self, f"{side}_index"), np.int64).reshape(-1)
            states = np.asarray(getattr(self, f"{side}_states"), np.float64).reshape(-1, 6)
            if not step.size == index.size == states.shape[0]:
                raise ValueError(f"aligned picture: {side} rows have different lengths")
            if step.size and (step.min() < 0 or step.max() >= times.size):
                raise ValueError(f"aligned picture: {side}_step out of range")
            if index.size and (index.min() < 0 or index.max() >= count):
                raise ValueError(f"aligned picture: {side}_index out of range")
            order = np.lexsort((index, step))
            keys = step[order] * max(count, 1) + index[order]
            if np.any(np.diff(keys) == 0):
                raise ValueError(f"aligned picture: a {side} object has two rows at one step")
            object.__setattr__(self, f"{side}_step", step[order])
            object.__setattr__(self, f"{side}_index", index[order])
            object.__setattr__(self, f"{side}_states", states[order])


def sample_tracks(
    times_s: FloatArray,
    record_time_s: FloatArray,
    record_track: IntArray,
    record_states: FloatArray,
    record_counted: BoolArray,
    *,
    max_age_s: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Track states at assessment times: latest record, if recent, propagated at constant velocity.

    Parameters
    ----------
    times_s : ndarray, shape (K,)
        Assessment times, s, increasing.
    record_time_s : ndarray, shape (M,)
        Time of each track record, s (any order; equal times keep their given order, the
        later one wins).
    record_track : ndarray of int, shape (M,)
        Track of each record (any integer label).
    record_states : ndarray, shape (M, 6)
        ECEF position (m) and velocity (m/s) of each record, valid at ``record_time_s``.
    record_counted : ndarray of bool, shape (M,)
        Whether the record's status puts the track in the picture (while it is the latest).
    max_age_s : float
        Oldest record still shown, s.

    Returns
    -------
    step : ndarray of int, shape (Q,)
        Index into ``times_s`` of each output row.
    track : ndarray of int, shape (Q,)
        Track label of each row (as in ``record_track``).
    states : ndarray, shape (Q, 6)
        ``[p + v·(t − tᵣ), v]`` with ``(p, v)`` the latest record at or before ``t``
        (ECEF, m and m/s).

    Examples
    --------
    A track recorded at 0 s (confirmed) and at 4 s (tentative), shown at 0, 1, …, 6 s with a
    2-s age limit: in the picture at 0, 1 and 2 s only.

    >>> states = np.array([[0.0, 0, 0, 10, 0, 0], [40, 0, 0, 10, 0, 0]])
    >>> step, track, state = sample_tracks(
    ...     np.arange(7.0), np.array([0.0, 4.0]), np.array([7, 7]), states,
    ...     np.array([True, False]), max_age_s=2.0)
    >>> step.tolist(), state[:, 0].tolist()
    ([0, 1, 2], [0.0, 10.0, 20.0])
    """
    times = np.asarray(times_s, np.float64)
    record_time = np.asarray(record_time_s, np.float64)
    labels = np.asarray(record_track, np.int64)
    states = np.asarray(record_states, np.float64).reshape(-1, 6)
    counted = np.asarray(record_counted, bool)
    if labels.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 6))
    order = np.lexsort((record_time, labels))
    record_time, labels, states, counted = (
        record_time[order],
        labels[order],
        states[order],
        counted[order],
    )
    bounds = np.flatnonzero(np.diff(labels)) + 1
    steps: list[IntArray] = []
    tracks: list[IntArray] = []
    rows: list[FloatArray] = []
    for begin, end in zip(
        np.concatenate(([0], bounds)), np.concatenate((bounds, [labels.size])), strict=True
    ):
        own_time = record_time[begin:end]
        first = np.searchsorted(times, own_time[0] - TIME_TOLERANCE_S, side="left")
        last = np.searchsorted(times, own_time[-1] + max_age_s + TIME_TOLERANCE_S, side="right")
        window = np.arange(first, last)
        latest = begin + np.searchsorted(own_time, times[window] + TIME_TOLERANCE_S, "right") - 1
        age = times[window] - record_time[latest]
        shown = counted[latest] & (age <= max_age_s + TIME_TOLERANCE_S)
        window, latest, age = window[shown], latest[shown], age[shown]
        position = states[latest, :3] + states[latest, 3:] * age[:, None]
        steps.append(window)
        tracks.append(np.full(window.size, labels[begin], np.int64))
        rows.append(np.hstack((position, states[latest, 3:])))
    return (
        np.concatenate(steps).astype(np.int64),
        np.concatenate(tracks),
        np.concatenate(rows),
    )


def step_bounds(step: IntArray, count: int) -> tuple[IntArray, IntArray]:
    """First and one-past-last row of each step's group, in rows sorted by step.

    Parameters
    ----------
    step : ndarray of int, shape (R,)
        Step of each row, non-decreasing.
    count : int
        Number of steps K.

    Returns
    -------
    begin, end : ndarray of int, shape (K,)
        Rows ``begin[k]:end[k]`` are those of step ``k`` (empty when ``begin == end``).

    Examples
    --------
    >>> begin, end = step_bounds(np.array([0, 0, 2]), 3)
    >>> begin.tolist(), end.tolist()
    ([0, 2, 2], [2, 2, 3])
    """
    edges = np.searchsorted(np.asarray(step, np.int64), np.arange(count + 1))
    return edges[:-1], edges[1:]


def _require(table: pa.Table, name: str, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in table.column_names]
    if missing:
        raise RecordingError(f"table '{name}' lacks the columns {', '.join(missing)}")


def _states(table: pa.Table) -> FloatArray:
    return np.column_stack(
        [table[column].to_numpy().astype(np.float64) for column in STATE_COLUMNS]
    ).reshape(-1, 6)


def _period(truth_times: FloatArray, alignment: TimeAlignment) -> float:
    if alignment.period_s is not None:
        return alignment.period_s
    gaps = np.diff(np.unique(truth_times))
    return float(gaps.min()) if gaps.size else 1.0


def align_picture(
    truth: pa.Table,
    tracks: pa.Table,
    node: str,
    *,
    alignment: TimeAlignment | None = None,
) -> AlignedPicture:
    """One node's picture and the truth at common assessment times, from recording tables.

    Parameters
    ----------
    truth : pyarrow.Table
        The recording's ``truth`` table (``time_s``, ``threat``, ECEF ``x_m`` … ``vz_mps``).
    tracks : pyarrow.Table
        The ``local_tracks`` table (``time_s``, ``node``, ``track``, ``status``, ECEF
        ``x_m`` … ``vz_mps``); rows of other nodes are ignored.
    node : str
        The node whose picture is assessed.
    alignment : TimeAlignment, optional
        Age limit, statuses and truth period (defaults: :class:`TimeAlignment()`).

    Returns
    -------
    AlignedPicture
        Assessment times are the truth sampling instants over the span of the truth and the
        node's track records at which at least one threat or track is present.

    Raises
    ------
    iamd.core.RecordingError
        A table lacks a required column.
    iamd.core.ConfigurationError
        A truth time is not on the sampling grid (wrong ``period_s``).
    """
    alignment = alignment or TimeAlignment()
    _require(truth, "truth", TRUTH_COLUMNS)
    _require(tracks, "local_tracks", TRACK_COLUMNS)
    own = tracks.filter(pc.equal(tracks["node"], node))
    truth_time = truth["time_s"].to_numpy().astype(np.float64)
    record_time = own["time_s"].to_numpy().astype(np.float64)
    status = own["status"].to_numpy().astype(np.int64)
    counted = np.isin(status, alignment.statuses)
    period = _period(truth_time, alignment)
    anchor = float(truth_time.min()) if truth_time.size else 0.0
    span = np.concatenate((truth_time, record_time[counted]))
    if span.size == 0:
        return AlignedPicture(
            times_s=np.empty(0),
            truth_ids=(),
            truth_step=np.empty(0, np.int64),
            truth_index=np.empty(0, np.int64),
            truth_states=np.empty((0, 6)),
            track_ids=np.empty(0, np.int64),
            track_step=np.empty(0, np.int64),
            track_index=np.empty(0, np.int64),
            track_states=np.empty((0, 6)),
        )
    first = math.ceil((span.min() - anchor) / period - GRID_TOLERANCE)
    last = math.floor((span.max() - anchor) / period + GRID_TOLERANCE)
    grid = anchor + np.arange(first, last + 1) * period
    position = (truth_time - anchor) / period
    truth_step = np.rint(position).astype(np.int64) - first
    off_grid = np.abs(position - np.rint(position)) > GRID_TOLERANCE
    if np.any(off_grid):
        raise ConfigurationError(
            f"time alignment: truth time {truth_time[off_grid][0]} s is not on the "
            f"{period} s sampling grid from {anchor} s (set period_s)"
        )
    truth_ids, truth_index = np.unique(
        np.asarray(truth["threat"].to_pylist(), dtype=object).astype(str), return_inverse=True
    )
    track_ids, record_track = np.unique(own["track"].to_numpy(), return_inverse=True)
    track_step, track_index, track_states = sample_tracks(
        grid,
        record_time,
        record_track.astype(np.int64),
        _states(own),
        counted,
        max_age_s=alignment.max_age_s,
    )
    present = np.zeros(grid.size, bool)
    present[truth_step] = True
    present[track_step] = True
    compact = np.cumsum(present) - 1
    return AlignedPicture(
        times_s=grid[present],
        truth_ids=tuple(str(name) for name in truth_ids),
        truth_step=compact[truth_step],
        truth_index=truth_index.astype(np.int64),
        truth_states=_states(truth),
        track_ids=track_ids.astype(np.int64),
        track_step=compact[track_step],
        track_index=track_index,
        track_states=track_states,
    )
