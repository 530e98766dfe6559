"""Track life cycle: M-of-N confirmation, coasting, dropping, and track numbers never reused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import ConfigurationError
from iamd.messages import TrackStatus
from iamd.tracking import (
    LifecyclePolicy,
    LifecycleState,
    TrackNumberAllocator,
    advance,
    initiate,
)

T, C, K, D = (
    TrackStatus.TENTATIVE,
    TrackStatus.CONFIRMED,
    TrackStatus.COASTING,
    TrackStatus.DROPPED,
)


def run(
    pattern: str,
    policy: LifecyclePolicy,
    *,
    period_s: float = 1.0,
    sigma_m: float = 50.0,
) -> list[TrackStatus]:
    """Statuses of one track after each scan of ``pattern``: H hit, M expected miss, - unseen."""
    state = initiate(1, 0.0)
    statuses = []
    for scan, symbol in enumerate(pattern, start=1):
        state = advance(
            *state,
            now_s=scan * period_s,
            hit_mask=[symbol == "H"],
            expected_mask=[symbol != "-"],
            position_sigma_m=[sigma_m],
            policy=policy,
        )
        statuses.append(TrackStatus(int(state.status[0])))
    return statuses


def test_three_of_five_confirms() -> None:
    policy = LifecyclePolicy(confirm_hits=3, confirm_window=5, tentative_max_misses=3)
    # The initiating detection counts: H + H H confirms on the second scan after it.
    assert run("HH", policy) == [T, C]
    # H (initial) M H M H: three hits in five expected scans.
    assert run("MHMH", policy) == [T, T, T, C]
    # Unseen scans do not count against the window.
    assert run("M--H-M-H", policy)[-1] == C
    # Hits that slid out of the window do not count: H M M H M M H never has 3 in 5.
    assert run("MMHMMHMMH", policy) == [T] * 9


def test_m_of_n_window_slides() -> None:
    policy = LifecyclePolicy(confirm_hits=2, confirm_window=3, tentative_max_misses=5)
    # Two misses push the initiating hit out of the 3-scan window; hits three scans apart
    # never make 2 of 3, two in a row do.
    assert run("MMHMMH", policy) == [T, T, T, T, T, T]
    assert run("MMHH", policy) == [T, T, T, C]


def test_confirmed_coasts_on_an_expected_miss_and_recovers_on_a_hit() -> None:
    policy = LifecyclePolicy()
    assert run("HHM-MH", policy) == [T, C, K, K, K, C]


def test_drop_after_consecutive_misses_and_tentative_drops_faster() -> None:
    policy = LifecyclePolicy(max_misses=4, tentative_max_misses=2)
    assert run("HHMMMM", policy) == [T, C, K, K, K, D]
    assert run("MM", policy) == [T, D]
    # A hit resets the count.
    assert run("HHMMMHMMM", policy)[-1] == K


def test_drop_after_coasting_time_even_unseen() -> None:
    policy = LifecyclePolicy(max_coast_s=10.0, tentative_max_coast_s=3.0)
    # Unseen scans keep the track (no misses) until the time without a hit runs out.
    assert run("HH" + "-" * 9, policy)[-1] == C
    assert run("HH" + "-" * 10, policy)[-1] == C
    assert run("HH" + "-" * 11, policy)[-1] == D
    assert run("---", policy) == [T, T, T]
    assert run("----", policy)[-1] == D


def test_drop_when_the_covariance_grows_too_large() -> None:
    policy = LifecyclePolicy(max_position_sigma_m=1000.0)
    assert run("HH", policy, sigma_m=999.0) == [T, C]
    assert run("HH", policy, sigma_m=1001.0) == [D, D]
    assert run("H", policy, sigma_m=float("nan")) == [D]


def test_dropped_stays_dropped() -> None:
    policy = LifecyclePolicy(tentative_max_misses=1)
    state = initiate(1, 0.0)
    state = advance(
        *state,
        now_s=1.0,
        hit_mask=[False],
        expected_mask=[True],
        position_sigma_m=[1.0],
        policy=policy,
    )
    assert state.status[0] == D
    after = advance(
        *state,
        now_s=2.0,
        hit_mask=[True],
        expected_mask=[True],
        position_sigma_m=[1.0],
        policy=policy,
    )
    assert after.status[0] == D
    assert after.history[0] == state.history[0]
    assert after.last_update_s[0] == state.last_update_s[0]


def test_inputs_are_not_modified_and_shapes_checked() -> None:
    state = initiate(3, 0.0)
    copies = [a.copy() for a in state]
    advance(
        *state,
        now_s=1.0,
        hit_mask=[True, False, True],
        expected_mask=[True] * 3,
        position_sigma_m=[1.0] * 3,
        policy=LifecyclePolicy(),
    )
    for before, after in zip(copies, state, strict=True):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="hit_mask must have shape"):
        advance(
            *state,
            now_s=1.0,
            hit_mask=[True],
            expected_mask=[True] * 3,
            position_sigma_m=[1.0] * 3,
            policy=LifecyclePolicy(),
        )


# --- the arrays against a plain one-track state machine ------------------------------------


@dataclass
class ReferenceTrack:
    """The life cycle of one track written the obvious way, as the test oracle."""

    policy: LifecyclePolicy
    status: TrackStatus = TrackStatus.TENTATIVE
    window: tuple[bool, ...] = (True,)
    misses: int = 0
    last_update_s: float = 0.0

    def step(self, now_s: float, hit: bool, expected: bool, sigma_m: float) -> None:
        if self.status == TrackStatus.DROPPED:
            return
        expected = expected or hit
        if expected:
            self.window = ((hit, *self.window))[: self.policy.confirm_window]
            self.misses = 0 if hit else self.misses + 1
        if hit:
            self.last_update_s = now_s
        coast_s = now_s - self.last_update_s
        if self.status == TrackStatus.TENTATIVE:
            if sum(self.window) >= self.policy.confirm_hits:
                self.status = TrackStatus.CONFIRMED
            if (
                self.misses >= self.policy.tentative_max_misses
                or coast_s > self.policy.tentative_max_coast_s
            ):
                self.status = TrackStatus.DROPPED
        else:
            if hit:
                self.status = TrackStatus.CONFIRMED
            elif expected:
                self.status = TrackStatus.COASTING
            if self.misses >= self.policy.max_misses or coast_s > self.policy.max_coast_s:
                self.status = TrackStatus.DROPPED
        if not sigma_m <= self.policy.max_position_sigma_m:
            self.status = TrackStatus.DROPPED


policies = st.builds(
    lambda n, m, misses, tentative, coast, tentative_coast: LifecyclePolicy(
        confirm_window=n,
        confirm_hits=min(m, n),
        max_misses=misses,
        tentative_max_misses=min(tentative, misses),
        max_coast_s=coast,
        tentative_max_coast_s=min(tentative_coast, coast),
        max_position_sigma_m=500.0,
    ),
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(1, 6),
    st.integers(1, 6),
    st.floats(1.0, 20.0),
    st.floats(1.0, 20.0),
)


@settings(max_examples=150, deadline=None)
@given(policy=policies, seed=st.integers(0, 2**32 - 1))
def test_arrays_follow_the_one_track_state_machine(policy: LifecyclePolicy, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_tracks, n_scans = 40, 25
    references = [ReferenceTrack(policy) for _ in range(n_tracks)]
    state: LifecycleState = initiate(n_tracks, 0.0)
    now = 0.0
    for _ in range(n_scans):
        now += float(rng.uniform(0.2, 3.0))
        expected = rng.random(n_tracks) < 0.8
        hit = expected & (rng.random(n_tracks) < rng.uniform(0.3, 1.0))
        sigma = rng.uniform(0.0, 520.0, n_tracks)
        state = advance(
            *state,
            now_s=now,
            hit_mask=hit,
            expected_mask=expected,
            position_sigma_m=sigma,
            policy=policy,
        )
        for i, reference in enumerate(references):
            reference.step(now, bool(hit[i]), bool(expected[i]), float(sigma[i]))
        assert state.status.tolist() == [int(r.status) for r in references]
        alive = state.status != TrackStatus.DROPPED
        assert state.misses[alive].tolist() == [r.misses for r in references if r.status != D]
        bits = [sum(1 << k for k, h in enumerate(r.window) if h) for r in references]
        assert state.history[alive].tolist() == [
            b for b, r in zip(bits, references, strict=True) if r.status != D
        ]


# --- policy and track numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confirm_window": 63}, "confirm_window must be in 1…62"),
        ({"confirm_hits": 6}, "confirm_hits must be in 1…confirm_window"),
        ({"max_misses": 0}, "max_misses must be at least 1"),
        ({"tentative_max_misses": 6}, "tentative_max_misses must be in 1…max_misses"),
        ({"max_coast_s": float("inf")}, "max_coast_s must be positive and finite"),
        ({"tentative_max_coast_s": 100.0}, r"tentative_max_coast_s must be in \(0, max_coast_s\]"),
        ({"max_position_sigma_m": 0.0}, "max_position_sigma_m must be positive"),
    ],
)
def test_policy_rejects_inconsistent_values(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"LifecyclePolicy: {message}"):
        LifecyclePolicy(**kwargs)  # type: ignore[arg-type]


def test_track_numbers_increase_and_are_never_reused() -> None:
    numbers = TrackNumberAllocator()
    issued: list[int] = []
    policy = LifecyclePolicy(tentative_max_misses=1)
    state = initiate(0, 0.0)
    rng = np.random.default_rng(0)
    track_numbers = np.zeros(0, dtype=np.int64)
    for scan in range(1, 30):
        # Drop some tracks, remove their rows, and start new ones.
        hits = rng.random(state.status.size) < 0.5
        state = advance(
            *state,
            now_s=float(scan),
            hit_mask=hits,
            expected_mask=np.ones(hits.size, bool),
            position_sigma_m=np.ones(hits.size),
            policy=policy,
        )
        keep = state.status != TrackStatus.DROPPED
        state = LifecycleState(*(a[keep] for a in state))
        track_numbers = track_numbers[keep]
        new = int(rng.integers(0, 4))
        fresh = numbers.allocate(new)
        issued.extend(fresh.tolist())
        born = initiate(new, float(scan))
        state = LifecycleState(*(np.concatenate([a, b]) for a, b in zip(state, born, strict=True)))
        track_numbers = np.concatenate([track_numbers, fresh])
    assert issued == list(range(1, len(issued) + 1))
    assert len(set(issued)) == len(issued)
    assert numbers.next_number == len(issued) + 1
    assert numbers.allocate(0).tolist() == []


def test_track_numbers_start_where_asked() -> None:
    numbers = TrackNumberAllocator(first=1000)
    assert numbers.allocate(2).tolist() == [1000, 1001]
    with pytest.raises(ConfigurationError, match="first must be ≥ 0"):
        TrackNumberAllocator(first=-1)
    with pytest.raises(ValueError, match="count must be ≥ 0"):
        numbers.allocate(-1)
