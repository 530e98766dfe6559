"""Report records and their releasability labels: enums, bitmasks, label conversion."""

from __future__ import annotations

import dataclasses
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamd.core import NationCode
from iamd.messages.reports import (
    ALL_CAVEATS,
    MAX_NATIONS,
    NO_CAVEATS,
    Caveat,
    Classification,
    EngagementState,
    EngagementStatuses,
    ReleasabilityLabel,
    label_arrays,
    rel_to_codes,
    rel_to_mask,
    remap_rel_to,
)

USA, JPN, KOR, AUS = (NationCode(code) for code in ("USA", "JPN", "KOR", "AUS"))
NATIONS = (USA, JPN, KOR, AUS)


def codes(count: int) -> tuple[NationCode, ...]:
    """``count`` distinct three-letter codes, deterministic."""
    letters = string.ascii_uppercase
    return tuple(NationCode("A" + letters[i // 26] + letters[i % 26]) for i in range(count))


def test_vocabularies_have_their_documented_values() -> None:
    assert [int(c) for c in Classification] == [0, 1, 2, 3, 4]
    assert Classification.SECRET > Classification.CONFIDENTIAL
    assert [int(c) for c in Caveat] == [1, 2, 4]
    assert ALL_CAVEATS == 7
    assert NO_CAVEATS == 0
    assert [s.name for s in EngagementState] == [
        "PLANNED",
        "REQUESTED",
        "ACCEPTED",
        "DECLINED",
        "ENGAGING",
        "KILL",
        "MISS",
        "CEASED",
    ]
    assert [int(s) for s in EngagementState] == list(range(1, 9))


def test_rel_to_mask_and_codes() -> None:
    assert rel_to_mask(NATIONS, [KOR, USA]) == 0b0101
    assert rel_to_mask(NATIONS, []) == 0
    assert rel_to_codes(NATIONS, 0b1010) == {JPN, AUS}
    # Bits beyond the table name nobody.
    assert rel_to_codes(NATIONS, 0b1_0000) == frozenset()
    with pytest.raises(ValueError, match="nation 'FRA' is not in the nation table"):
        rel_to_mask(NATIONS, [NationCode("FRA")])


@given(st.sets(st.integers(0, MAX_NATIONS - 1)))
def test_rel_to_round_trips_over_a_full_table(members: set[int]) -> None:
    table = codes(MAX_NATIONS)
    chosen = frozenset(table[i] for i in members)
    mask = rel_to_mask(table, chosen)
    assert 0 <= mask < 1 << 64
    assert rel_to_codes(table, mask) == chosen
    # Signed columns (e.g. read back from Parquet) hold bit 63 as a negative number.
    signed = int(np.array([mask], np.uint64).view(np.int64)[0])
    assert rel_to_codes(table, signed) == chosen


def test_label_text() -> None:
    label = ReleasabilityLabel(
        classification=Classification.CONFIDENTIAL,
        rel_to=frozenset({USA, KOR, JPN}),
        originator=USA,
        caveats=Caveat.ORIGINATOR_CONTROLLED | Caveat.SENSOR_SOURCE,
    )
    assert str(label) == (
        "CONFIDENTIAL REL TO JPN, KOR, USA (originator USA; SENSOR_SOURCE; ORIGINATOR_CONTROLLED)"
    )
    bare = ReleasabilityLabel(
        classification=Classification.UNCLASSIFIED, rel_to=frozenset(), originator=JPN
    )
    assert str(bare) == "UNCLASSIFIED REL TO NOBODY (originator JPN)"


LABELS = [
    ReleasabilityLabel(
        classification=Classification.SECRET,
        rel_to=frozenset({USA, JPN}),
        originator=USA,
        caveats=Caveat.SENSOR_SOURCE,
    ),
    ReleasabilityLabel(
        classification=Classification.RESTRICTED,
        rel_to=frozenset(NATIONS),
        originator=KOR,
    ),
    ReleasabilityLabel(
        classification=Classification.TOP_SECRET,
        rel_to=frozenset({AUS}),
        originator=AUS,
        caveats=ALL_CAVEATS,
    ),
]


def statuses(labels: list[ReleasabilityLabel]) -> EngagementStatuses:
    k = len(labels)
    arrays = label_arrays(labels, NATIONS)
    return EngagementStatuses(
        sender=USA,
        sent_at=10.0,
        sequence=1,
        nations=NATIONS,
        network_track_number=np.arange(1, k + 1),
        valid_at=np.full(k, 9.5),
        predicted_intercept_time_s=np.full(k, np.nan),
        engaging_nation=np.zeros(k, np.int64),
        shooter_id=np.ones(k, np.int64),
        state=np.full(k, EngagementState.ENGAGING, np.int64),
        interceptors_in_flight=np.ones(k, np.int64),
        originator=arrays.originator,
        classification=arrays.classification,
        rel_to=arrays.rel_to,
        caveats=arrays.caveats,
    )


def test_label_arrays_round_trip_through_a_batch() -> None:
    batch = statuses(LABELS)
    assert len(batch) == 3
    assert batch.rel_to.dtype == np.uint64
    assert [batch.label(i) for i in range(3)] == LABELS
    assert batch.rel_to_codes(1) == frozenset(NATIONS)
    assert batch.originator_code(2) == AUS
    np.testing.assert_array_equal(batch.releasable_to(JPN), [True, True, False])
    np.testing.assert_array_equal(batch.releasable_to(AUS), [False, True, True])
    # A nation outside the table can be released nothing.
    np.testing.assert_array_equal(batch.releasable_to(NationCode("FRA")), [False] * 3)
    signed = dataclasses.replace(batch, rel_to=batch.rel_to.astype(np.int64))
    np.testing.assert_array_equal(signed.releasable_to(AUS), [False, True, True])


def test_label_arrays_reject_an_originator_outside_the_table() -> None:
    stranger = dataclasses.replace(LABELS[0], originator=NationCode("FRA"))
    with pytest.raises(ValueError, match="originator 'FRA' is not in the nation table"):
        label_arrays([stranger], NATIONS)


def test_label_arrays_of_no_items() -> None:
    arrays = label_arrays([], NATIONS)
    assert all(array.shape == (0,) for array in arrays)
    assert len(statuses([])) == 0


def test_batches_are_immutable_and_compared_by_identity() -> None:
    batch = statuses(LABELS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.sequence = 2  # type: ignore[misc]
    # Arrays have no single truth value, so batches compare by identity, never by raising.
    assert batch == batch
    assert batch != statuses(LABELS)


def test_remap_rel_to_moves_bits_drops_absent_nations_and_clears_stray_bits() -> None:
    usa, jpn, aus = NationCode("USA"), NationCode("JPN"), NationCode("AUS")
    # Appended table: bits stay, a stray bit above the old table is cleared.
    assert remap_rel_to(np.array([0b111], np.uint64), (usa, jpn), (usa, jpn, aus)).tolist() == [3]
    # Reordered table with a nation missing: JPN moves, AUS is dropped.
    assert remap_rel_to([0b110], (usa, jpn, aus), (jpn, usa)).tolist() == [1]
    # Signed masks are read by their bits.
    assert remap_rel_to(np.array([-1], np.int64), (usa,), (jpn, usa)).tolist() == [2]
