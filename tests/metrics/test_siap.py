import json
from collections.abc import Sequence

import numpy as np
import pytest

from iamd.metrics import AlignedPicture, AssociationRule, associate_truth, siap_figures
from iamd.metrics.association import TruthAssociation

# With confirm_steps = end_misses = 1 the association at each step is simply the candidate,
# which keeps these hand computations about the SIAP formulas alone.
EVERY_STEP = AssociationRule(threshold_m=100.0, confirm_steps=1, end_misses=1)


def _picture(
    times: np.ndarray,
    truths: dict[str, tuple[Sequence[int], np.ndarray]],
    tracks: dict[int, tuple[Sequence[int], np.ndarray]],
) -> AlignedPicture:
    """Each object: the steps it is present at and its (6,) state (constant)."""
    t_step, t_index, t_state, y_step, y_index, y_state = [], [], [], [], [], []
    for index, (steps, state) in enumerate(truths.values()):
        t_step += list(steps)
        t_index += [index] * len(steps)
        t_state += [state] * len(steps)
    for index, (steps, state) in enumerate(tracks.values()):
        y_step += list(steps)
        y_index += [index] * len(steps)
        y_state += [state] * len(steps)
    return AlignedPicture(
        times_s=times,
        truth_ids=tuple(truths),
        truth_step=np.array(t_step, int),
        truth_index=np.array(t_index, int),
        truth_states=np.array(t_state).reshape(-1, 6),
        track_ids=np.array(list(tracks), int),
        track_step=np.array(y_step, int),
        track_index=np.array(y_index, int),
        track_states=np.array(y_state).reshape(-1, 6),
    )


def _state(*values: float) -> np.ndarray:
    return np.array(values, float)


def test_every_attribute_by_hand() -> None:
    origin = _state(0, 0, 0, 0, 0, 0)
    far = _state(1e5, 0, 0, 0, 0, 0)
    picture = _picture(
        np.arange(6.0),
        {"T0": (range(6), origin), "T1": (range(4), far)},
        {
            1: (range(3), _state(30, 40, 0, 3, 4, 0)),  # on T0, 50 m and 5 m/s off
            2: (range(2, 6), _state(0, 0, 10, 0, 0, 0)),  # on T0, 10 m off, takes over
            3: (range(6), _state(5e5, 0, 0, 0, 0, 0)),  # false
            4: (range(1, 4), far),  # on T1, exact
        },
    )
    figures = siap_figures(picture, associate_truth(picture, EVERY_STEP))
    # ΣJ = 6 + 4; ΣJT = 6 (T0 at every step) + 3 (T1 at 1-3 s).
    assert figures.completeness == 9 / 10
    # ΣN = 3 + 4 + 6 + 3 = 16; ΣNA = 3 + 4 + 3 = 10.
    assert figures.ambiguity == 10 / 9
    assert figures.spuriousness == 6 / 16
    assert figures.position_accuracy_m == pytest.approx((3 * 50 + 4 * 10) / 10, rel=1e-15)
    assert figures.velocity_accuracy_mps == pytest.approx(3 * 5 / 10, rel=1e-15)
    # T0 needs tracks 1 then 2 (one change); tracked 5 s ([0, 2] ∪ [2, 5]); T1 tracked 2 s.
    assert figures.track_number_changes == 1
    assert figures.time_tracked_s == 7.0
    assert figures.rate_of_track_number_change_per_s == 1 / 7
    # Longest segments 3 s (T0, track 2) and 2 s (T1) over lifetimes 5 s and 3 s.
    assert figures.longest_track_segment == 5 / 8
    # T0 tracked from its first sample, T1 one second after its first.
    assert figures.timeliness_s == 0.5
    assert (figures.truths, figures.truths_tracked, figures.tracks) == (2, 2, 4)
    assert (figures.truth_steps, figures.tracked_truth_steps) == (10, 9)
    assert (figures.track_steps, figures.associated_track_steps) == (16, 10)
    assert json.loads(json.dumps(figures.to_dict()))["completeness"] == 0.9


def test_fewest_tracks_is_an_exact_cover() -> None:
    # T0 over 0-9 s: segments a [0, 5], b [4, 6] and, after a gap, c [8, 9]: three tracks
    # are needed (two changes). Stone Soup's loop stops after b and counts one change.
    origin = _state(0, 0, 0, 0, 0, 0)
    picture = _picture(
        np.arange(10.0),
        {"T0": (range(10), origin)},
        {1: (range(6), origin), 2: (range(4, 7), origin), 3: (range(8, 10), origin)},
    )
    figures = siap_figures(picture, associate_truth(picture, EVERY_STEP))
    assert figures.track_number_changes == 2
    assert figures.time_tracked_s == 6.0 + 1.0
    assert figures.rate_of_track_number_change_per_s == 2 / 7
    assert figures.longest_track_segment == 5 / 9
    assert figures.ambiguity == 11 / 9  # two tracks at 4 and 5 s
    assert figures.completeness == 9 / 10  # nothing at 7 s


def test_undefined_figures_are_none() -> None:
    only_tracks = _picture(np.arange(2.0), {}, {1: (range(2), _state(0, 0, 0, 0, 0, 0))})
    figures = siap_figures(only_tracks, associate_truth(only_tracks, EVERY_STEP))
    assert figures.completeness is None
    assert figures.ambiguity is None
    assert figures.spuriousness == 1.0
    assert figures.position_accuracy_m is None
    assert figures.rate_of_track_number_change_per_s is None
    assert figures.longest_track_segment is None
    assert figures.timeliness_s is None
    only_truth = _picture(np.arange(3.0), {"T": (range(3), _state(0, 0, 0, 0, 0, 0))}, {})
    figures = siap_figures(only_truth, associate_truth(only_truth, EVERY_STEP))
    assert figures.completeness == 0.0
    assert figures.spuriousness is None
    assert figures.longest_track_segment == 0.0
    assert figures.truths_tracked == 0


def test_association_with_an_absent_truth_is_refused() -> None:
    picture = _picture(
        np.arange(2.0),
        {"T": (range(1), _state(0, 0, 0, 0, 0, 0))},
        {1: (range(2), _state(0, 0, 0, 0, 0, 0))},
    )
    wrong = TruthAssociation(
        truth_of_row=np.array([0, 0]),
        segment_track=np.array([0]),
        segment_truth=np.array([0]),
        segment_start_s=np.array([0.0]),
        segment_end_s=np.array([1.0]),
    )
    with pytest.raises(ValueError, match=r"truth 'T', which has no sample at 1\.0 s"):
        siap_figures(picture, wrong)


def test_a_gap_in_the_picture_counts_only_where_the_track_is_present() -> None:
    # Track 1 on T0 at 0-2 s and 5-7 s (out of the picture at 3-4 s): one segment spanning
    # the gap (R, LS as Stone Soup), but no association at 3-4 s (C, A, PA per time).
    origin = _state(0, 0, 0, 0, 0, 0)
    picture = _picture(
        np.arange(8.0),
        {"T0": (range(8), origin)},
        {1: ([0, 1, 2, 5, 6, 7], _state(0, 0, 7, 0, 0, 0))},
    )
    figures = siap_figures(picture, associate_truth(picture, EVERY_STEP))
    assert figures.completeness == 6 / 8
    assert figures.ambiguity == 1.0
    assert figures.position_accuracy_m == 7.0
    assert figures.longest_track_segment == 1.0
    assert figures.time_tracked_s == 7.0
    assert figures.track_number_changes == 0
