import numpy as np
import pytest

from iamd.core import ConfigurationError
from iamd.metrics import (
    AlignedPicture,
    AssociationRule,
    associate_truth,
    hold_associations,
    nearest_truth,
)

_ = -1  # no candidate


def _hold(candidates: list[int], confirm: int = 3, end: int = 2) -> list[int]:
    track = np.zeros(len(candidates), int)
    return hold_associations(
        track, np.array(candidates), confirm_steps=confirm, end_misses=end
    ).tolist()


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        # Three consecutive steps start an association that covers them.
        ([0, 0, 0, 0], [0, 0, 0, 0]),
        ([0, 0, _, 0, 0], [_, _, _, _, _]),
        ([0, 0, 1, 1, 1], [_, _, 1, 1, 1]),
        # One miss is bridged; two misses end the association at its last hit.
        ([0, 0, 0, _, 0], [0, 0, 0, 0, 0]),
        ([0, 0, 0, 1, 0], [0, 0, 0, 0, 0]),
        ([0, 0, 0, _, _, 0], [0, 0, 0, _, _, _]),
        ([0, 0, 0, _, _, 0, 0, 0], [0, 0, 0, _, _, 0, 0, 0]),
        # A handover: the new truth's run counts from the first miss.
        ([0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]),
        # Misses at the end of a track are not associated.
        ([0, 0, 0, 1], [0, 0, 0, _]),
    ],
)
def test_start_hold_end(candidates: list[int], expected: list[int]) -> None:
    assert _hold(candidates) == expected


def test_switch_when_the_challenger_is_confirmed_by_the_time_the_association_ends() -> None:
    # confirm 2, end after 3 misses: truth 1 has 3 steps when 0 ends, so it starts at once.
    assert _hold([0, 0, 1, 1, 1, 1], confirm=2, end=3) == [0, 0, 1, 1, 1, 1]


def test_a_hit_breaks_the_challengers_run() -> None:
    # Deliberate difference from Stone Soup (which keeps counting truth 1 across the hit on
    # row 4 and then associates rows 3-4 with both truths): runs are consecutive steps.
    assert _hold([0, 0, 0, 1, 0, 1, 1, 1]) == [0, 0, 0, 0, 0, 1, 1, 1]


def test_misses_count_from_the_start_of_each_association() -> None:
    # Deliberate difference from Stone Soup (whose miss counter is not reset when a new
    # association starts, so one miss would end the new association on row 3).
    assert _hold([0, 1, 1, 2, 1, 1], confirm=1, end=2) == [0, 1, 1, 1, 1, 1]
    assert _hold([0, 0, 0, _, _, 1, 1, 1, 2, 1], end=2) == [0, 0, 0, _, _, 1, 1, 1, 1, 1]


def test_tracks_are_held_independently() -> None:
    track = np.array([0, 1, 0, 1, 0, 1])
    candidate = np.array([2, 5, 2, 5, 2, _])
    labels = hold_associations(track, candidate, confirm_steps=2, end_misses=1)
    assert labels.tolist() == [2, 5, 2, 5, 2, _]


def test_nearest_truth_is_strictly_within_threshold_and_ties_go_to_the_first() -> None:
    truth_step = np.array([0, 0, 1])
    truth_index = np.array([0, 1, 0])
    truth = np.array([[0.0, 0, 0], [20.0, 0, 0], [0.0, 0, 0]])
    track_step = np.array([0, 0, 1])
    tracks = np.array([[10.0, 0, 0], [29.0, 0, 0], [10.0, 0, 0]])
    candidates = nearest_truth(truth_step, truth_index, truth, track_step, tracks, threshold_m=10.0)
    # Row 0 is 10 m from both truths: not strictly within 10 m. Row 1 is 9 m from truth 1.
    assert candidates.tolist() == [_, 1, _]
    candidates = nearest_truth(truth_step, truth_index, truth, track_step, tracks, threshold_m=10.5)
    assert candidates.tolist() == [0, 1, 0]


def test_associate_truth_segments() -> None:
    times = np.arange(8.0)
    # Truth 0 at the origin throughout; track 4 follows it from 1 s to 6 s with a 2-s gap in
    # the picture at 3-4 s (segments span gaps, as a track's own steps are consecutive).
    track_steps = np.array([1, 2, 5, 6])
    picture = AlignedPicture(
        times_s=times,
        truth_ids=("T",),
        truth_step=np.arange(8),
        truth_index=np.zeros(8, int),
        truth_states=np.zeros((8, 6)),
        track_ids=np.array([4]),
        track_step=track_steps,
        track_index=np.zeros(4, int),
        track_states=np.zeros((4, 6)),
    )
    association = associate_truth(picture, AssociationRule(threshold_m=1.0))
    assert association.truth_of_row.tolist() == [0, 0, 0, 0]
    assert association.segment_track.tolist() == [0]
    assert association.segment_truth.tolist() == [0]
    assert (association.segment_start_s.tolist(), association.segment_end_s.tolist()) == (
        [1.0],
        [6.0],
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold_m": 0.0}, "threshold_m must be finite and > 0"),
        ({"confirm_steps": 0}, "confirm_steps must be >= 1"),
        ({"end_misses": 0}, "end_misses must be >= 1"),
    ],
)
def test_rule_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AssociationRule(**kwargs)  # type: ignore[arg-type]
