"""Track-number blocks, the lower-number rule and the reporting-responsibility decision."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode
from iamd.fusion.numbers import (
    MAX_TRACK_NUMBER,
    TrackNumberBlock,
    TrackNumberPlan,
    hold_reporting_responsibility,
    surviving_number,
)

USA, JPN, KOR = NationCode("USA"), NationCode("JPN"), NationCode("KOR")


# --- blocks -----------------------------------------------------------------------------------


def test_block_hands_out_increasing_numbers_and_never_reuses_them() -> None:
    block = TrackNumberBlock(nation=USA, first=100, size=5)
    assert block.allocate(2).tolist() == [100, 101]
    assert block.allocate(0).tolist() == []
    assert block.allocate(3).tolist() == [102, 103, 104]
    assert (block.issued, block.remaining, block.last) == (5, 0, 104)
    assert block.contains([99, 100, 104, 105]).tolist() == [False, True, True, False]


def test_exhausted_block_says_which_nation_and_what_to_change() -> None:
    block = TrackNumberBlock(nation=JPN, first=1, size=2)
    block.allocate(2)
    with pytest.raises(ConfigurationError, match=r"block of JPN \[1, 2\] is exhausted.*larger"):
        block.allocate(1)
    with pytest.raises(ValueError, match="count must be"):
        block.allocate(-1)


@pytest.mark.parametrize(("first", "size"), [(0, 10), (1, 0), (MAX_TRACK_NUMBER, 2), (-5, 10)])
def test_invalid_blocks_are_refused(first: int, size: int) -> None:
    with pytest.raises(ConfigurationError, match="first ≥ 1, size ≥ 1"):
        TrackNumberBlock(nation=USA, first=first, size=size)


def test_plan_blocks_are_consecutive_and_disjoint() -> None:
    plan = TrackNumberPlan.consecutive([USA, JPN, KOR], size=1000, first=1)
    assert dict(plan.blocks) == {USA: (1, 1000), JPN: (1001, 1000), KOR: (2001, 1000)}
    assert plan.nations == (USA, JPN, KOR)
    assert plan.owner_index([0, 1, 1000, 1001, 3000, 3001]).tolist() == [-1, 0, 0, 1, 2, -1]
    assert plan.owner(2500) == KOR
    assert plan.owner(0) is None
    assert plan.block(JPN).allocate(1).tolist() == [1001]


def test_plan_orders_nations_by_block_whatever_the_mapping_order() -> None:
    plan = TrackNumberPlan(blocks={KOR: (500, 100), USA: (1, 100)})
    assert plan.nations == (USA, KOR)
    assert plan.owner_index([50, 550, 150]).tolist() == [0, 1, -1]


def test_overlapping_blocks_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"blocks of USA .* and JPN .* overlap"):
        TrackNumberPlan(blocks={USA: (1, 100), JPN: (100, 100)})
    with pytest.raises(ConfigurationError, match="repeat"):
        TrackNumberPlan.consecutive([USA, USA])
    with pytest.raises(ConfigurationError, match="at least one nation"):
        TrackNumberPlan(blocks={})


def test_a_nation_without_a_block_gets_no_allocator() -> None:
    plan = TrackNumberPlan.consecutive([USA])
    with pytest.raises(ConfigurationError, match="'JPN' has no track-number block"):
        plan.block(JPN)


# --- the lower number survives ----------------------------------------------------------------


def test_surviving_number_is_the_lower_real_number() -> None:
    assert surviving_number([5, 0, 9, 0], [3, 4, 0, 0]).tolist() == [3, 4, 9, 0]


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_surviving_number_is_symmetric(a: int, b: int) -> None:
    assert surviving_number([a], [b]).tolist() == surviving_number([b], [a]).tolist()


# --- reporting responsibility -----------------------------------------------------------------


def decide(
    *,
    held: bool,
    own: int | None,
    reporter: int | None,
    reporter_wins_tie: bool = False,
    margin: int = 2,
) -> bool:
    return bool(
        hold_reporting_responsibility(
            held=[held],
            own_present=[own is not None],
            own_quality=[own or 0],
            reporter_present=[reporter is not None],
            reporter_quality=[reporter or 0],
            reporter_wins_tie=[reporter_wins_tie],
            margin=margin,
        )[0]
    )


def test_no_own_track_never_reports() -> None:
    assert not decide(held=True, own=None, reporter=None)
    assert not decide(held=False, own=None, reporter=3)


def test_first_come_takes_an_unreported_track() -> None:
    assert decide(held=False, own=2, reporter=None)
    assert decide(held=True, own=2, reporter=None)


def test_take_over_needs_the_margin() -> None:
    assert not decide(held=False, own=13, reporter=12)
    assert decide(held=False, own=14, reporter=12)
    assert decide(held=False, own=13, reporter=12, margin=1)


def test_holder_gives_up_to_a_better_or_tie_winning_reporter() -> None:
    assert decide(held=True, own=12, reporter=11)
    assert not decide(held=True, own=12, reporter=13)
    assert decide(held=True, own=12, reporter=12, reporter_wins_tie=False)
    assert not decide(held=True, own=12, reporter=12, reporter_wins_tie=True)


def test_bad_margin_and_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="margin"):
        decide(held=True, own=1, reporter=None, margin=-1)
    with pytest.raises(ValueError, match="one shape"):
        hold_reporting_responsibility(
            held=[True, False],
            own_present=[True],
            own_quality=[1],
            reporter_present=[False],
            reporter_quality=[0],
            reporter_wins_tie=[False],
        )


qualities = st.integers(0, 15)


@given(qualities, qualities, st.booleans(), st.booleans(), st.integers(0, 4))
def test_two_claimants_resolve_to_exactly_one(
    q_a: int, q_b: int, a_first: bool, b_held: bool, margin: int
) -> None:
    """Both nodes report the same track and see each other's quality: one keeps it."""
    a_keeps = decide(held=True, own=q_a, reporter=q_b, reporter_wins_tie=not a_first, margin=margin)
    b_keeps = decide(held=True, own=q_b, reporter=q_a, reporter_wins_tie=a_first, margin=margin)
    assert a_keeps != b_keeps


@given(qualities, qualities, st.booleans(), st.booleans(), st.integers(0, 4))
def test_the_decision_is_idempotent(
    q_own: int, q_reporter: int, held: bool, wins_tie: bool, margin: int
) -> None:
    once = decide(
        held=held, own=q_own, reporter=q_reporter, reporter_wins_tie=wins_tie, margin=margin
    )
    twice = decide(
        held=once, own=q_own, reporter=q_reporter, reporter_wins_tie=wins_tie, margin=margin
    )
    assert once == twice


@given(st.lists(st.integers(-1, 1), min_size=1, max_size=30), st.integers(8, 12))
def test_no_take_over_inside_the_band(steps: list[int], start: int) -> None:
    """Own quality wandering inside (reporter − margin, reporter + margin) never takes over."""
    reporter, margin = 10, 2
    own, held = start, False
    for step in steps:
        own = int(np.clip(own + step, reporter - margin + 1, reporter + margin - 1))
        held = decide(held=held, own=own, reporter=reporter, margin=margin)
        assert not held
