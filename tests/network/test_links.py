"""Simulated links: delay, loss, FIFO order, capacity, slot budget, outages, validation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from iamd.core import ConfigurationError, NationCode, RandomStreams
from iamd.network.links import Delivery, DropReason, Link, LinkConfig, SlotBudget

JPN = NationCode("JPN")
USA = NationCode("USA")


def one_way(**overrides: object) -> LinkConfig:
    fields: dict[str, object] = {"a": JPN, "b": USA, "directed": True, **overrides}
    return LinkConfig(**fields)  # type: ignore[arg-type]


def make_link(config: LinkConfig, seed: int = 0) -> Link:
    return Link(config, np.random.default_rng(seed))


def outcomes(deliveries: list[Delivery]) -> list[tuple[float | None, DropReason | None]]:
    return [(d.arrival_s, d.drop_reason) for d in deliveries]


# --- determinism -------------------------------------------------------------------------------


def run_noisy(seed: int, config: LinkConfig | None = None) -> list[Delivery]:
    config = config or one_way(latency_s=0.1, jitter_s=0.05, loss_probability=0.3)
    link = Link(config, RandomStreams(seed).stream(f"link/{config.label}"))
    return [link.send(0.5 * k, 1, 100) for k in range(200)]


def test_one_seed_gives_the_same_deliveries() -> None:
    assert outcomes(run_noisy(42)) == outcomes(run_noisy(42))
    assert outcomes(run_noisy(42)) != outcomes(run_noisy(43))


def test_every_send_draws_the_same_numbers_whatever_happens_to_it() -> None:
    # An outage in the middle must not shift the loss and jitter draws of later messages.
    base = one_way(latency_s=0.1, jitter_s=0.05, loss_probability=0.3)
    with_outage = dataclasses.replace(base, outages=[(20.0, 40.0)])
    plain, interrupted = run_noisy(7, base), run_noisy(7, with_outage)
    for before, after in zip(plain, interrupted, strict=True):
        if not 20.0 <= after.sent_at_s < 40.0:
            assert (before.arrival_s, before.drop_reason) == (after.arrival_s, after.drop_reason)
    assert all(
        d.drop_reason is DropReason.OUTAGE for d in interrupted if 20.0 <= d.sent_at_s < 40.0
    )


# --- statistics ---------------------------------------------------------------------------------


def test_loss_rate_is_within_binomial_bounds() -> None:
    n, p = 20_000, 0.1
    link = make_link(one_way(loss_probability=p), seed=3)
    lost = sum(link.send(float(k), 1, 50).drop_reason is DropReason.LOSS for k in range(n))
    low, high = stats.binom.interval(0.999, n, p)
    assert low <= lost <= high
    assert link.statistics().dropped_messages[DropReason.LOSS] == lost


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_loss_probability_at_its_limits(p: float) -> None:
    link = make_link(one_way(loss_probability=p))
    delivered = [link.send(float(k), 1, 50).delivered for k in range(100)]
    assert delivered == [p == 0.0] * 100


def test_delay_is_latency_plus_exponential_jitter() -> None:
    latency_s, jitter_s = 0.2, 0.05
    link = make_link(one_way(latency_s=latency_s, jitter_s=jitter_s), seed=11)
    # Sends far apart compared with the jitter, so that the FIFO clamp never acts.
    extra = np.array([link.send(10.0 * k, 1, 50).delay_s for k in range(4000)]) - latency_s
    assert extra.min() >= 0.0
    half_width = 4.0 * jitter_s / math.sqrt(extra.size)  # the exponential's sd is its mean
    assert abs(extra.mean() - jitter_s) < half_width
    assert abs(extra.std() - jitter_s) < 0.1 * jitter_s
    assert stats.kstest(extra, stats.expon(scale=jitter_s).cdf).pvalue > 0.01


def test_no_jitter_gives_exactly_the_latency() -> None:
    link = make_link(one_way(latency_s=0.25))
    assert [link.send(t, 1, 10).arrival_s for t in (0.0, 1.0, 1.0)] == [0.25, 1.25, 1.25]


def test_arrivals_keep_fifo_order_on_a_channel() -> None:
    link = make_link(one_way(latency_s=0.1, jitter_s=0.05), seed=5)
    arrivals = np.array([link.send(0.001 * k, 1, 10).arrival_s for k in range(2000)], dtype=float)
    assert np.all(np.diff(arrivals) >= 0.0)
    # The clamp did act: some messages arrive together with the one before them.
    assert np.any(np.diff(arrivals) == 0.0)
    assert np.all(arrivals >= 0.001 * np.arange(2000) + 0.1)


# --- capacity and queue limits ------------------------------------------------------------------


def test_a_burst_above_capacity_queues_then_overflows() -> None:
    # 10 reports/s: each report holds the transmitter 0.1 s. Six at once with room for three
    # waiting: the first goes at once, three wait, the last two overflow.
    link = make_link(one_way(latency_s=0.5, capacity_reports_per_s=10.0, max_queue_reports=3))
    burst = [link.send(0.0, 1, 100) for _ in range(6)]
    assert [d.drop_reason for d in burst] == [None] * 4 + [DropReason.OVERFLOW] * 2
    assert [d.departure_s for d in burst[:4]] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert [d.arrival_s for d in burst[:4]] == pytest.approx([0.6, 0.7, 0.8, 0.9])
    assert [d.departure_s for d in burst[4:]] == [None, None]

    # At 0.15 s the second message is on the air and two still wait: room for one report.
    later = [link.send(0.15, 1, 100) for _ in range(2)]
    assert [d.drop_reason for d in later] == [None, DropReason.OVERFLOW]
    assert later[0].departure_s == pytest.approx(0.5)

    figures = link.statistics()
    assert figures.messages_offered == 8
    assert figures.messages_delivered == 5
    assert figures.reports_transmitted == 5
    assert figures.bytes_transmitted == 500
    assert figures.dropped_messages == {
        DropReason.LOSS: 0,
        DropReason.OUTAGE: 0,
        DropReason.OVERFLOW: 3,
    }
    assert figures.busy_s == pytest.approx(0.5)
    assert figures.busy_fraction(1.0) == pytest.approx(0.5)
    assert figures.reports_per_s(1.0) == pytest.approx(5.0)


def test_a_multi_report_message_holds_the_transmitter_longer() -> None:
    link = make_link(one_way(capacity_reports_per_s=2.0))
    first, second = link.send(0.0, 3, 300), link.send(0.5, 1, 100)
    assert first.departure_s == pytest.approx(1.5)
    assert second.departure_s == pytest.approx(2.0)


def test_messages_waiting_too_long_overflow() -> None:
    # 2 reports/s: starts at 0, 0.5, 1.0, 1.5 s; a 1 s limit refuses the fourth and fifth.
    link = make_link(one_way(capacity_reports_per_s=2.0, max_queue_delay_s=1.0))
    burst = [link.send(0.0, 1, 10) for _ in range(5)]
    assert [d.drop_reason for d in burst] == [None] * 3 + [DropReason.OVERFLOW] * 2
    assert [d.departure_s for d in burst[:3]] == pytest.approx([0.5, 1.0, 1.5])
    assert link.statistics().dropped_reports[DropReason.OVERFLOW] == 2


def test_a_zero_length_queue_refuses_whatever_must_wait() -> None:
    link = make_link(one_way(capacity_reports_per_s=1.0, max_queue_reports=0))
    assert [link.send(t, 1, 10).drop_reason for t in (0.0, 0.5, 1.0)] == [
        None,
        DropReason.OVERFLOW,
        None,
    ]


def test_a_lost_message_still_used_the_link() -> None:
    link = make_link(one_way(capacity_reports_per_s=1.0, loss_probability=1.0))
    first, second = link.send(0.0, 1, 10), link.send(0.0, 1, 10)
    assert first.drop_reason is DropReason.LOSS
    assert (first.departure_s, second.departure_s) == (1.0, 2.0)
    assert link.statistics().reports_transmitted == 2


def test_an_undirected_link_has_two_independent_channels() -> None:
    link = make_link(LinkConfig(a=JPN, b=USA, latency_s=0.1, capacity_reports_per_s=1.0))
    from_jpn = link.send(0.0, 1, 10, sender=JPN)
    from_usa = link.send(0.0, 1, 10, sender=USA)
    assert from_jpn.arrival_s == from_usa.arrival_s == pytest.approx(1.1)
    assert link.statistics(JPN).messages_offered == 1
    both = link.statistics()
    assert (both.channels, both.messages_offered, both.busy_s) == (2, 2, 2.0)
    assert both.busy_fraction(2.0) == pytest.approx(0.5)


# --- slot budget --------------------------------------------------------------------------------


def test_reports_wait_for_the_next_owned_slot() -> None:
    # Four owned slots per 12 s frame, the first at 1 s: slots at 1, 4, 7, 10, 13, ... s.
    budget = SlotBudget(slots_per_frame=4, offset_s=1.0)
    link = make_link(one_way(latency_s=0.5, slot_budget=budget))
    sends = [(0.0, 1), (2.0, 1), (4.5, 2), (20.0, 1), (25.0, 1), (25.0, 1)]
    deliveries = [link.send(t, n, 10) for t, n in sends]
    # 4.5 s: two reports take slots 7 and 10; 25 s is a slot start, so it goes at once.
    assert [d.departure_s for d in deliveries] == [1.0, 4.0, 10.0, 22.0, 25.0, 28.0]
    assert [d.arrival_s for d in deliveries] == [1.5, 4.5, 10.5, 22.5, 25.5, 28.5]
    figures = link.statistics()
    assert figures.busy_s == pytest.approx(7 * 3.0)
    assert figures.busy_fraction(36.0) == pytest.approx(7 / 12)


def test_a_report_may_need_several_slots() -> None:
    budget = SlotBudget(slots_per_frame=12, slots_per_report=3)  # slots every 1 s, at 0, 1, ...
    link = make_link(one_way(slot_budget=budget))
    assert [link.send(t, 1, 10).departure_s for t in (0.5, 0.5)] == [3.0, 6.0]


def test_the_two_ends_of_an_undirected_link_own_interleaved_slots() -> None:
    link = make_link(LinkConfig(a=JPN, b=USA, slot_budget=SlotBudget(slots_per_frame=4)))
    assert link.send(0.1, 1, 10, sender=JPN).departure_s == 3.0
    assert link.send(0.1, 1, 10, sender=USA).departure_s == 1.5


def test_a_link16_like_frame_with_many_slots() -> None:
    # 48 slots per 12 s frame: one every 0.25 s. Every report of a burst between slots waits,
    # the first one included, so room for six waiting reports keeps six of ten.
    link = make_link(one_way(slot_budget=SlotBudget(slots_per_frame=48), max_queue_reports=6))
    burst = [link.send(0.1, 1, 10) for _ in range(10)]
    assert [d.departure_s for d in burst[:6]] == pytest.approx([0.25 * k for k in range(1, 7)])
    assert [d.drop_reason for d in burst[6:]] == [DropReason.OVERFLOW] * 4


# --- outages ------------------------------------------------------------------------------------


def test_outages_drop_exactly_the_messages_sent_inside_the_windows() -> None:
    link = make_link(one_way(latency_s=0.1, outages=[(10.0, 20.0), (30.0, 30.5)]))
    times = [0.5 * k for k in range(90)]
    dropped = [link.send(t, 1, 10).drop_reason is DropReason.OUTAGE for t in times]
    expected = [10.0 <= t < 20.0 or 30.0 <= t < 30.5 for t in times]
    assert dropped == expected
    assert link.statistics().dropped_messages[DropReason.OUTAGE] == sum(expected) == 21


def test_a_failing_link_loses_what_it_holds() -> None:
    # 1 report/s, down from 10 s: the message on the air at 10 s and the one waiting are lost,
    # and the dropped messages do not hold the transmitter.
    link = make_link(one_way(capacity_reports_per_s=1.0, outages=[(10.0, 12.0)]))
    deliveries = [link.send(t, 1, 10) for t in (8.0, 8.5, 9.6, 12.0)]
    assert [d.drop_reason for d in deliveries] == [None, DropReason.OUTAGE, DropReason.OUTAGE, None]
    assert deliveries[0].departure_s == 9.0
    assert deliveries[3].departure_s == 13.0


def test_a_queueing_link_holds_messages_through_an_outage() -> None:
    config = one_way(capacity_reports_per_s=1.0, outages=[(10.0, 12.0)], queue_during_outage=True)
    link = make_link(config)
    # Two reports from 9 s: one second before the outage, one after it (transmission pauses).
    assert link.send(9.0, 2, 10).departure_s == 13.0
    held = [link.send(11.0, 1, 10) for _ in range(2)]
    assert [d.departure_s for d in held] == [14.0, 15.0]
    assert link.statistics().dropped_messages[DropReason.OUTAGE] == 0


def test_an_unlimited_link_queues_only_during_outages() -> None:
    config = one_way(
        latency_s=0.1, outages=[(5.0, 6.0)], queue_during_outage=True, max_queue_reports=2
    )
    link = make_link(config)
    held = [link.send(5.5, 1, 10) for _ in range(3)]
    assert [d.arrival_s for d in held[:2]] == [6.1, 6.1]
    assert held[2].drop_reason is DropReason.OVERFLOW
    assert link.send(6.0, 1, 10).arrival_s == 6.1


def test_slots_inside_an_outage_are_skipped_when_holding() -> None:
    # Slots every 3 s from 0; the slots at 6 and 9 s fall in the outage.
    budget = SlotBudget(slots_per_frame=4)
    config = one_way(slot_budget=budget, outages=[(5.0, 10.0)], queue_during_outage=True)
    link = make_link(config)
    assert link.send(2.0, 3, 10).departure_s == 15.0  # slots 3, 12, 15
    assert link.send(7.0, 1, 10).departure_s == 18.0


def test_is_up_treats_windows_as_half_open() -> None:
    config = one_way(outages=[(1.0, 2.0), (2.0, 3.0)])
    assert [config.is_up(t) for t in (0.99, 1.0, 2.0, 2.99, 3.0)] == [
        True,
        False,
        False,
        False,
        True,
    ]
    assert config.outages == ((1.0, 2.0), (2.0, 3.0))


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"b": JPN}, r"link 'JPN->JPN': b must be a nation other than a \(got 'JPN'\)"),
        ({"a": NationCode("")}, r"a must be a non-empty nation code"),
        ({"latency_s": -0.1}, r"latency_s must be a non-negative number \(got -0.1\)"),
        ({"jitter_s": math.nan}, r"jitter_s must be a non-negative number"),
        ({"loss_probability": 1.5}, r"loss_probability must be in \[0, 1\] \(got 1.5\)"),
        ({"capacity_reports_per_s": 0.0}, r"capacity_reports_per_s must be a positive number"),
        (
            {"capacity_reports_per_s": 5.0, "slot_budget": SlotBudget(slots_per_frame=4)},
            r"None when slot_budget is set",
        ),
        ({"max_queue_reports": 5}, r"max_queue_reports must be None on a link that never queues"),
        (
            {"max_queue_delay_s": 1.0, "outages": [(1.0, 2.0)]},
            r"max_queue_delay_s must be None on a link that never queues",
        ),
        (
            {"capacity_reports_per_s": 1.0, "max_queue_reports": -1},
            r"max_queue_reports must be an integer ≥ 0 or None",
        ),
        (
            {"capacity_reports_per_s": 1.0, "max_queue_delay_s": -1.0},
            r"max_queue_delay_s must be a non-negative number or None",
        ),
        ({"outages": [(2.0, 1.0)]}, r"outages\[0\] must be a window with start_s before end_s"),
        ({"outages": [(1.0,)]}, r"outages\[0\] must be a pair of finite times"),
        (
            {"outages": [(5.0, 8.0), (1.0, 2.0)]},
            r"outages\[1\] must be sorted and not overlapping the previous window \(5.0, 8.0\)",
        ),
        ({"outages": [(1.0, 3.0), (2.0, 4.0)]}, r"outages\[1\] must be sorted and not overlapping"),
        ({"outages": [(0.0, math.inf)]}, r"outages\[0\] must be a pair of finite times"),
    ],
)
def test_link_config_errors_name_the_link_field_rule_and_value(
    overrides: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        one_way(**overrides)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"slots_per_frame": 0}, r"slot budget: slots_per_frame must be an integer ≥ 1 \(got 0\)"),
        ({"slots_per_frame": 2.5}, r"slots_per_frame must be an integer ≥ 1"),
        ({"slots_per_frame": True}, r"slots_per_frame must be an integer ≥ 1"),
        ({"slots_per_frame": 4, "slots_per_report": 0}, r"slots_per_report must be an integer"),
        ({"slots_per_frame": 4, "frame_s": -12.0}, r"frame_s must be a positive number"),
        ({"slots_per_frame": 4, "offset_s": 12.0}, r"offset_s must be in \[0, frame_s\)"),
    ],
)
def test_slot_budget_errors(arguments: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        SlotBudget(**arguments)  # type: ignore[arg-type]


def test_send_refuses_impossible_calls() -> None:
    undirected = make_link(LinkConfig(a=JPN, b=USA))
    with pytest.raises(ValueError, match=r"'JPN-USA' is undirected: name the sender"):
        undirected.send(0.0, 1, 10)
    directed = make_link(one_way())
    with pytest.raises(ValueError, match=r"carries nothing from 'USA' \(senders: JPN\)"):
        directed.send(0.0, 1, 10, sender=USA)
    with pytest.raises(ValueError, match=r"n_reports must be an integer ≥ 1 \(got 0\)"):
        directed.send(0.0, 0, 10)
    with pytest.raises(ValueError, match=r"size_bytes must be an integer ≥ 0"):
        directed.send(0.0, 1, -1)
    directed.send(5.0, 1, 10)
    with pytest.raises(ValueError, match=r"send at 4.0 s is before the previous send \(5.0 s\)"):
        directed.send(4.0, 1, 10)


def test_configs_are_frozen_and_hashable() -> None:
    config = one_way(outages=[(1.0, 2.0)])
    assert hash(config) == hash(one_way(outages=((1.0, 2.0),)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.latency_s = 1.0  # type: ignore[misc]
