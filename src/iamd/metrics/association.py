"""Truth-to-track association for assessment: which threat each track is following, and when.

The rule (after Stone Soup's ``TrackToTruth``, with the differences listed in
``docs/metrics.md``), applied to each track over the assessment times at which it is in the
picture, in time order ("steps of the track"):

1. **Candidate.** At each step the track's candidate is the nearest truth present at that time
   whose position is closer than ``threshold_m`` (strictly; ties go to the truth that sorts
   first by name); there may be none.
2. **Start.** A track without an association becomes associated with truth ``j`` once ``j``
   has been its candidate at ``confirm_steps`` consecutive steps; the association covers
   those steps (it starts at the first of them).
3. **Hold.** While associated with ``j``, a step whose candidate is ``j`` is a *hit*, any other
   step a *miss*. Misses followed by a hit before the association ends stay associated
   (the association bridges them).
4. **End.** After ``end_misses`` consecutive misses the association ends at its last hit; those
   misses are not associated. If by then another truth ``k`` has been the candidate at the
   last ``confirm_steps`` (or more) consecutive steps, the association with ``k`` starts at
   the first of them; otherwise the track looks for a new candidate as in 2 (the run of
   consecutive candidate steps carries over).

A track is associated with at most one truth at a time; a truth may have several tracks
(ambiguity). An *association segment* is a maximal run of steps of one track associated
with one truth; it lasts from its first to its last step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from iamd.core import ConfigurationError
from iamd.core.typing import FloatArray, IntArray
from iamd.metrics.picture import AlignedPicture, step_bounds

NO_TRUTH = -1
"""Truth index of a track row that is not associated with any truth."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociationRule:
    """Parameters of the truth-to-track association rule (see the module docstring).

    Parameters
    ----------
    threshold_m : float
        A truth can be a track's candidate only when closer than this, m (ECEF Euclidean
        distance between positions). Default 5 km: several times the cross-range error of a
        filtered track at 1,000 km from a 1.5 mrad radar, well under the spacing of salvo
        members.
    confirm_steps : int
        Consecutive candidate steps needed to start an association (default 3, as Stone
        Soup's ``consec_pairs_confirm``).
    end_misses : int
        Consecutive misses that end an association (default 2, as Stone Soup's
        ``consec_misses_end``).
    """

    threshold_m: float = 5000.0
    confirm_steps: int = 3
    end_misses: int = 2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold_m) and self.threshold_m > 0.0):
            raise ConfigurationError(
                f"association rule: threshold_m must be finite and > 0 (got {self.threshold_m})"
            )
        for name in ("confirm_steps", "end_misses"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigurationError(f"association rule: {name} must be >= 1 (got {value})")


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthAssociation:
    """Which truth each track row of an :class:`AlignedPicture` follows, and the segments.

    Attributes
    ----------
    truth_of_row : ndarray of int, shape (Q,)
        Truth index (into ``picture.truth_ids``) of each track row, or ``NO_TRUTH`` (-1).
    segment_track, segment_truth : ndarray of int, shape (S,)
        Track index and truth index of each association segment.
    segment_start_s, segment_end_s : ndarray, shape (S,)
        Time of the first and last step of each segment, s.
    """

    truth_of_row: IntArray
    segment_track: IntArray
    segment_truth: IntArray
    segment_start_s: FloatArray
    segment_end_s: FloatArray


def nearest_truth(
    truth_step: IntArray,
    truth_index: IntArray,
    truth_positions: FloatArray,
    track_step: IntArray,
    track_positions: FloatArray,
    *,
    threshold_m: float,
) -> IntArray:
    """Each track row's candidate: the nearest truth at the same step closer than the threshold.

    Parameters
    ----------
    truth_step, truth_index : ndarray of int, shape (R,)
        Step and truth of each truth row, sorted by (step, truth).
    truth_positions : ndarray, shape (R, 3)
        True positions, ECEF, m.
    track_step : ndarray of int, shape (Q,)
        Step of each track row, non-decreasing.
    track_positions : ndarray, shape (Q, 3)
        Track positions, ECEF, m.
    threshold_m : float
        Only truths strictly closer than this are candidates, m.

    Returns
    -------
    ndarray of int, shape (Q,)
        Truth index of the candidate, or ``NO_TRUTH``; ties go to the lower truth index.

    Examples
    --------
    >>> nearest_truth(np.array([0, 0]), np.array([0, 1]),
    ...               np.array([[0.0, 0, 0], [100, 0, 0]]),
    ...               np.array([0, 0]), np.array([[90.0, 0, 0], [400, 0, 0]]),
    ...               threshold_m=200.0).tolist()
    [1, -1]
    """
    t_step = np.asarray(truth_step, np.int64)
    y_step = np.asarray(track_step, np.int64)
    truths = np.asarray(truth_positions, np.float64).reshape(-1, 3)
    tracks = np.asarray(track_positions, np.float64).reshape(-1, 3)
    index = np.asarray(truth_index, np.int64)
    candidate = np.full(y_step.size, NO_TRUTH, np.int64)
    if y_step.size == 0 or t_step.size == 0:
        return candidate
    count = int(max(t_step.max(), y_step.max())) + 1
    truth_begin, truth_end = step_bounds(t_step, count)
    track_begin, track_end = step_bounds(y_step, count)
    both = np.flatnonzero((truth_end > truth_begin) & (track_end > track_begin))
    for step in both:
        rows = slice(track_begin[step], track_end[step])
        difference = tracks[rows, None, :] - truths[None, truth_begin[step] : truth_end[step], :]
        distance = np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
        nearest = np.argmin(distance, axis=1)
        close = distance[np.arange(nearest.size), nearest] < threshold_m
        candidate[rows] = np.where(close, index[truth_begin[step] + nearest], NO_TRUTH)
    return candidate


def _hold_one(candidate: list[int], confirm_steps: int, end_misses: int) -> list[int]:
    """The association state machine over one track's steps (see the module docstring)."""
    label = [NO_TRUTH] * len(candidate)
    current = NO_TRUTH
    challenger, run, run_start = NO_TRUTH, 0, 0
    misses, last_hit = 0, 0
    for row, truth in enumerate(candidate):
        if current == NO_TRUTH:
            if truth == NO_TRUTH:
                challenger, run = NO_TRUTH, 0
            elif truth != challenger:
                challenger, run, run_start = truth, 1, row
            else:
                run += 1
            if run >= confirm_steps:
                current, last_hit, misses = challenger, row, 0
                label[run_start : row + 1] = [current] * (row + 1 - run_start)
                challenger, run = NO_TRUTH, 0
            continue
        if truth == current:
            label[last_hit + 1 : row + 1] = [current] * (row - last_hit)
            last_hit, misses = row, 0
            # A hit breaks any challenger's run: runs count consecutive steps.
            challenger, run = NO_TRUTH, 0
            continue
        misses += 1
        if truth != NO_TRUTH and truth == challenger:
            run += 1
        elif truth != NO_TRUTH:
            challenger, run, run_start = truth, 1, row
        else:
            challenger, run = NO_TRUTH, 0
        if misses >= end_misses:
            current, misses = NO_TRUTH, 0
            if run >= confirm_steps:
                current, last_hit = challenger, row
                label[run_start : row + 1] = [current] * (row + 1 - run_start)
                challenger, run = NO_TRUTH, 0
    return label


def hold_associations(
    track_index: IntArray,
    candidate: IntArray,
    *,
    confirm_steps: int = 3,
    end_misses: int = 2,
) -> IntArray:
    """Apply the start / hold / end rule to every track's candidates.

    Parameters
    ----------
    track_index : ndarray of int, shape (Q,)
        Track of each row; rows of one track must be in time order.
    candidate : ndarray of int, shape (Q,)
        Candidate truth of each row (:func:`nearest_truth`), or ``NO_TRUTH``.
    confirm_steps, end_misses : int
        As in :class:`AssociationRule`.

    Returns
    -------
    ndarray of int, shape (Q,)
        Associated truth of each row, or ``NO_TRUTH``.

    Examples
    --------
    Confirmation after 3 steps (covering them), one miss bridged, two misses end it:

    >>> hold_associations(np.zeros(9, int), np.array([0, 0, 0, -1, 0, -1, -1, 0, 0])).tolist()
    [0, 0, 0, 0, 0, -1, -1, -1, -1]
    """
    tracks = np.asarray(track_index, np.int64)
    candidates = np.asarray(candidate, np.int64)
    label = np.full(tracks.size, NO_TRUTH, np.int64)
    order = np.argsort(tracks, kind="stable")
    sorted_tracks = tracks[order]
    bounds = np.flatnonzero(np.diff(sorted_tracks)) + 1
    for rows in np.split(order, bounds):
        own = candidates[rows]
        if rows.size == 0 or not np.any(own != NO_TRUTH):
            continue
        label[rows] = _hold_one(own.tolist(), confirm_steps, end_misses)
    return label


def association_segments(
    times_s: FloatArray, track_step: IntArray, track_index: IntArray, truth_of_row: IntArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Maximal runs of one track's consecutive steps associated with one truth.

    Parameters
    ----------
    times_s : ndarray, shape (K,)
        Assessment times, s.
    track_step, track_index, truth_of_row : ndarray of int, shape (Q,)
        Step, track and associated truth (or ``NO_TRUTH``) of each track row.

    Returns
    -------
    track, truth : ndarray of int, shape (S,)
        Track and truth of each segment, ordered by track then time.
    start_s, end_s : ndarray, shape (S,)
        Times of the segment's first and last step, s.
    """
    times = np.asarray(times_s, np.float64)
    step = np.asarray(track_step, np.int64)
    tracks = np.asarray(track_index, np.int64)
    truth = np.asarray(truth_of_row, np.int64)
    order = np.lexsort((step, tracks))
    step, tracks, truth = step[order], tracks[order], truth[order]
    new = np.ones(truth.size, bool)
    new[1:] = (tracks[1:] != tracks[:-1]) | (truth[1:] != truth[:-1])
    begin = np.flatnonzero(new)
    end = np.append(begin[1:], truth.size) - 1
    keep = truth[begin] != NO_TRUTH
    begin, end = begin[keep], end[keep]
    return tracks[begin], truth[begin], times[step[begin]], times[step[end]]


def associate_truth(
    picture: AlignedPicture, rule: AssociationRule | None = None
) -> TruthAssociation:
    """Associate every track of an aligned picture with the truth it follows.

    Parameters
    ----------
    picture : AlignedPicture
        Truth and one node's tracks at common assessment times.
    rule : AssociationRule, optional
        Threshold and step counts (defaults: :class:`AssociationRule()`).

    Returns
    -------
    TruthAssociation
        Per-row associated truth and the association segments.
    """
    rule = rule or AssociationRule()
    candidate = nearest_truth(
        picture.truth_step,
        picture.truth_index,
        picture.truth_states[:, :3],
        picture.track_step,
        picture.track_states[:, :3],
        threshold_m=rule.threshold_m,
    )
    truth_of_row = hold_associations(
        picture.track_index,
        candidate,
        confirm_steps=rule.confirm_steps,
        end_misses=rule.end_misses,
    )
    track, truth, start, end = association_segments(
        picture.times_s, picture.track_step, picture.track_index, truth_of_row
    )
    return TruthAssociation(
        truth_of_row=truth_of_row,
        segment_track=track,
        segment_truth=truth,
        segment_start_s=start,
        segment_end_s=end,
    )
