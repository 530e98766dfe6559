"""Single Integrated Air Picture (SIAP) attributes of one node's picture.

Over the assessment times ``t`` of an :class:`~iamd.metrics.picture.AlignedPicture`, with
``J(t)`` truths present, ``JT(t)`` of them with at least one associated track, ``N(t)`` tracks
in the picture and ``NA(t)`` of them associated (:mod:`iamd.metrics.association`):

=========================  =====================================================  ==========
attribute                  definition (sums over assessment times / truths)        ideal
=========================  =====================================================  ==========
completeness               ΣJT / ΣJ                                                1
ambiguity                  ΣNA / ΣJT                                               1
spuriousness               Σ(N − NA) / ΣN                                          0
position accuracy (m)      Σ‖p̂ − p‖ / ΣNA over associated track rows              0
velocity accuracy (m/s)    Σ‖v̂ − v‖ / ΣNA over associated track rows              0
rate of track number       Σⱼ (NUⱼ − 1)⁺ / Σⱼ TTⱼ  (changes per second)             0
change (1/s)
longest track segment      Σⱼ TLⱼ / Σⱼ Tⱼ                                          1
timeliness (s)             mean over tracked truths of (first association − first  0
                           truth sample)
=========================  =====================================================  ==========

``Tⱼ`` is truth ``j``'s lifetime (last minus first sample), ``TTⱼ`` the time it is covered by
association segments, ``TLⱼ`` its longest segment and ``NUⱼ`` the fewest segments that cover
every sample at which it is tracked. These follow the SIAP attribute definitions as
implemented by Stone Soup's ``SIAPMetrics`` [1]_ [2]_ [3]_; ``docs/metrics.md`` lists where and
why iamd differs.

References
----------
.. [1] P. Votruba, R. Nisley, R. Rothrock, B. Zombro, "Single Integrated Air Picture (SIAP)
   Metrics Implementation", SIAP System Engineering Task Force, 29 October 2001.
.. [2] SIAP System Engineering Task Force, "Single Integrated Air Picture (SIAP) Attributes
   Version 2.0".
.. [3] Stone Soup, ``stonesoup.metricgenerator.tracktotruthmetrics.SIAPMetrics``
   (completeness C, ambiguity A, spuriousness S, PA, VA, R, LS formulas in its docstring).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from iamd.core.typing import FloatArray
from iamd.metrics.association import NO_TRUTH, TruthAssociation
from iamd.metrics.picture import AlignedPicture


@dataclass(frozen=True, slots=True, kw_only=True)
class SiapFigures:
    """SIAP attributes of one node's picture over a run (``None`` where undefined)."""

    completeness: float | None
    """Share of truth-times with at least one associated track (None: no truth)."""
    ambiguity: float | None
    """Associated tracks per tracked truth, time-averaged (None: nothing tracked)."""
    spuriousness: float | None
    """Share of track-times not associated with any truth (None: no track)."""
    position_accuracy_m: float | None
    """Mean position error of associated track rows, m (None: none associated)."""
    velocity_accuracy_mps: float | None
    """Mean velocity error of associated track rows, m/s (None: none associated)."""
    rate_of_track_number_change_per_s: float | None
    """Track number changes per second of tracked time (None: no time tracked)."""
    longest_track_segment: float | None
    """Longest segment per truth over truth lifetime, summed over truths (None: Σ T = 0)."""
    timeliness_s: float | None
    """Mean delay from a truth's first sample to its first association, s (None: none)."""
    truths: int
    """Truth objects present at some assessment time."""
    truths_tracked: int
    """Truth objects associated at some time."""
    tracks: int
    """Tracks in the picture at some assessment time."""
    truth_steps: int
    """ΣJ: truth rows (truth × time)."""
    tracked_truth_steps: int
    """ΣJT."""
    track_steps: int
    """ΣN: track rows (track × time)."""
    associated_track_steps: int
    """ΣNA."""
    track_number_changes: int
    """Σⱼ (NUⱼ − 1)⁺."""
    time_tracked_s: float
    """Σⱼ TTⱼ, s."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def _union_length(start: FloatArray, end: FloatArray) -> float:
    """Total length of a union of closed intervals, s."""
    order = np.argsort(start, kind="stable")
    total, reach = 0.0, -np.inf
    for begin, finish in zip(start[order].tolist(), end[order].tolist(), strict=True):
        if finish <= reach:
            continue
        total += finish - max(begin, reach)
        reach = finish
    return total


def _fewest_segments(samples: FloatArray, start: FloatArray, end: FloatArray) -> int:
    """Fewest segments covering every sample time that any segment covers (greedy, optimal)."""
    covered = ((samples[:, None] >= start[None, :]) & (samples[:, None] <= end[None, :])).any(1)
    points = samples[covered]
    count, index = 0, 0
    while index < points.size:
        point = points[index]
        reach = end[(start <= point) & (end >= point)].max()
        count += 1
        index = int(np.searchsorted(points, reach, side="right"))
    return count


def siap_figures(picture: AlignedPicture, association: TruthAssociation) -> SiapFigures:
    """SIAP attributes of an aligned picture under a truth-to-track association.

    Parameters
    ----------
    picture : AlignedPicture
        Truth and one node's tracks at common assessment times (ECEF, m and m/s).
    association : TruthAssociation
        The associated truth of each track row and the association segments
        (:func:`~iamd.metrics.association.associate_truth`).

    Returns
    -------
    SiapFigures
        Completeness, ambiguity, spuriousness, position and velocity accuracy, rate of track
        number change, longest track segment, timeliness, and the sums behind them.

    Raises
    ------
    ValueError
        An associated track row's truth has no sample at that row's time.

    References
    ----------
    .. [1] P. Votruba et al., "Single Integrated Air Picture (SIAP) Metrics Implementation",
       SIAP SE Task Force, 2001; SIAP SE Task Force, "SIAP Attributes Version 2.0"; the
       formulas as in Stone Soup's ``SIAPMetrics.compute_metric``.

    Examples
    --------
    One truth over 0–4 s; one track follows it from 2 s, a second track is false:

    >>> from iamd.metrics.association import associate_truth, AssociationRule
    >>> times = np.arange(5.0)
    >>> truth = np.zeros((5, 6))
    >>> tracks = np.vstack([np.zeros((3, 6)), np.full((5, 6), 9e3)])
    >>> picture = AlignedPicture(
    ...     times_s=times, truth_ids=("T1",), truth_step=np.arange(5),
    ...     truth_index=np.zeros(5, int), truth_states=truth, track_ids=np.array([1, 2]),
    ...     track_step=np.r_[2:5, 0:5], track_index=np.r_[[0] * 3, [1] * 5],
    ...     track_states=tracks)
    >>> figures = siap_figures(
    ...     picture, associate_truth(picture, AssociationRule(threshold_m=100.0)))
    >>> figures.completeness, figures.spuriousness, figures.longest_track_segment
    (0.6, 0.625, 0.5)
    """
    truth_count = len(picture.truth_ids)
    truth_of_row = np.asarray(association.truth_of_row, np.int64)
    associated = truth_of_row != NO_TRUTH
    rows = np.flatnonzero(associated)
    # Truth rows are sorted by (step, truth), so (step, truth) keys are sorted too.
    width = max(truth_count, 1)
    truth_keys = picture.truth_step * width + picture.truth_index
    row_keys = picture.track_step[rows] * width + truth_of_row[rows]
    where = np.searchsorted(truth_keys, row_keys)
    found = where < truth_keys.size
    found[found] = truth_keys[where[found]] == row_keys[found]
    if not np.all(found):
        bad = rows[~found][0]
        raise ValueError(
            f"track row {bad} is associated with truth "
            f"'{picture.truth_ids[truth_of_row[bad]]}', which has no sample at "
            f"{picture.times_s[picture.track_step[bad]]} s"
        )
    error = picture.track_states[rows] - picture.truth_states[where]
    position_error = np.linalg.norm(error[:, :3], axis=1)
    velocity_error = np.linalg.norm(error[:, 3:], axis=1)

    truth_steps = int(picture.truth_step.size)
    track_steps = int(picture.track_step.size)
    associated_steps = int(rows.size)
    tracked_truth_steps = int(np.unique(row_keys).size)

    changes, time_tracked, longest, lifetime = 0, 0.0, 0.0, 0.0
    delays: list[float] = []
    tracked = 0
    for truth in range(truth_count):
        samples = picture.times_s[picture.truth_step[picture.truth_index == truth]]
        if samples.size == 0:
            continue
        lifetime += float(samples[-1] - samples[0])
        mine = association.segment_truth == truth
        if not np.any(mine):
            continue
        start = association.segment_start_s[mine]
        end = association.segment_end_s[mine]
        tracked += 1
        changes += max(_fewest_segments(samples, start, end) - 1, 0)
        time_tracked += _union_length(start, end)
        longest += float(np.max(end - start))
        delays.append(float(start.min() - samples[0]))

    present_tracks = int(np.unique(picture.track_index).size)
    present_truths = int(np.unique(picture.truth_index).size)
    return SiapFigures(
        completeness=_ratio(tracked_truth_steps, truth_steps),
        ambiguity=_ratio(associated_steps, tracked_truth_steps),
        spuriousness=_ratio(track_steps - associated_steps, track_steps),
        position_accuracy_m=_ratio(float(position_error.sum()), associated_steps),
        velocity_accuracy_mps=_ratio(float(velocity_error.sum()), associated_steps),
        rate_of_track_number_change_per_s=_ratio(changes, time_tracked),
        longest_track_segment=_ratio(longest, lifetime),
        timeliness_s=float(np.mean(delays)) if delays else None,
        truths=present_truths,
        truths_tracked=tracked,
        tracks=present_tracks,
        truth_steps=truth_steps,
        tracked_truth_steps=tracked_truth_steps,
        track_steps=track_steps,
        associated_track_steps=associated_steps,
        track_number_changes=changes,
        time_tracked_s=time_tracked,
    )
