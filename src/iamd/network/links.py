"""Simulated links between nations and the topology they form.

A :class:`LinkConfig` describes one notional data link: a fixed latency, a random extra delay
(jitter), a per-message loss probability, an optional capacity (reports per second, or a
TDMA-like slot budget) with a bounded queue, and a schedule of outages. A :class:`Link` is its
run-time state: it turns each message handed to it into a :class:`Delivery` (arrival time or
drop reason), drawing from the link's own random stream. A :class:`Topology` is the graph of
links, with the shortest route between two nations that relays only through nations the
caller's releasability policy allows.

Everything is in seconds since the scenario epoch; capacity is counted in reports, not bits.
Only public concepts are modelled (latency, loss, queueing, time slots in a 12 s frame); no
real message format or waveform enters the model. The model and its assumptions are described
in ``docs/network-links.md``.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
import heapq
import math
import numbers
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode


def _require(condition: bool, *, owner: str, field: str, rule: str, value: object) -> None:
    # The one error template of component configs: owner, field, rule and the offending value.
    if not condition:
        raise ConfigurationError(f"{owner}: {field} must be {rule} (got {value!r})")


def _is_count(value: object) -> bool:
    # bool is an int subclass, but True slots per frame is a mistake, not a count.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_finite_number(value: object) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


class DropReason(enum.IntEnum):
    """Why a link did not deliver a message (stored as its integer value)."""

    LOSS = 1
    """Transmitted but lost on the way (the per-message loss draw)."""

    OUTAGE = 2
    """The link was down while it held the message (see :attr:`LinkConfig.queue_during_outage`)."""

    OVERFLOW = 3
    """The queue was full, or the message would have waited longer than allowed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotBudget:
    """A TDMA-like transmit schedule: the sender owns a few time slots in each frame.

    Only the public concept is modelled: time is divided into frames of ``frame_s`` (12 s, as
    in Link 16), and the sending node owns ``slots_per_frame`` slots of each frame, evenly
    spaced ``frame_s / slots_per_frame`` apart (an evenly spread allocation keeps the wait to
    the next slot short). A report needs ``slots_per_report`` owned slots, and a message may
    be sent only in owned slots, so a message waits for the next free owned slot. No message
    format, slot numbering or waveform of any real system is modelled.

    Owned slot ``k`` (any integer) starts at ``offset_s + k · frame_s / slots_per_frame``. A
    message leaves at the start of the last slot it uses: the on-air time of one slot
    (milliseconds) is part of :attr:`LinkConfig.latency_s`.

    Attributes
    ----------
    slots_per_frame : int
        Slots the sender owns per frame, ≥ 1.
    slots_per_report : int
        Owned slots one report needs, ≥ 1.
    frame_s : float
        Frame duration, s (positive).
    offset_s : float
        Start of the sender's first owned slot within the frame, s, in ``[0, frame_s)``.

    Raises
    ------
    ConfigurationError
        If a value is out of its domain.

    Examples
    --------
    Four owned slots per 12 s frame: one every 3 s.

    >>> SlotBudget(slots_per_frame=4).slot_interval_s
    3.0
    """

    slots_per_frame: int
    slots_per_report: int = 1
    frame_s: float = 12.0
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        owner = "slot budget"
        for name in ("slots_per_frame", "slots_per_report"):
            count = getattr(self, name)
            _require(
                _is_count(count) and count >= 1,
                owner=owner,
                field=name,
                rule="an integer ≥ 1",
                value=count,
            )
        _require(
            _is_finite_number(self.frame_s) and self.frame_s > 0.0,
            owner=owner,
            field="frame_s",
            rule="a positive number",
            value=self.frame_s,
        )
        _require(
            _is_finite_number(self.offset_s) and 0.0 <= self.offset_s < self.frame_s,
            owner=owner,
            field="offset_s",
            rule="in [0, frame_s)",
            value=self.offset_s,
        )

    @property
    def slot_interval_s(self) -> float:
        """Time between two consecutive owned slots, s."""
        return self.frame_s / self.slots_per_frame


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkConfig:
    """Parameters of one simulated link between two nations (notional values only).

    The defaults make a perfect link: no delay, no loss, unlimited capacity, never down.

    Attributes
    ----------
    a, b : NationCode
        The endpoints. A directed link carries messages from ``a`` to ``b`` only.
    directed : bool
        Whether the link is one-way. An undirected link is full duplex: two independent
        channels (``a`` → ``b`` and ``b`` → ``a``), each with its own queue, FIFO order and
        counters, sharing this configuration and the link's random stream.
    latency_s : float
        Fixed delay from the end of transmission to arrival, s, ≥ 0 (propagation, processing
        and the on-air time of a slot).
    jitter_s : float
        Mean of the random extra delay, s, ≥ 0. The extra delay is exponentially distributed
        (mean and standard deviation both ``jitter_s``), so the total delay is never below
        ``latency_s`` and never negative. Arrivals are then held back to keep FIFO order (see
        :meth:`Link.send`), which lengthens delays of messages sent closer together than a
        few ``jitter_s``.
    loss_probability : float
        Probability that a transmitted message is lost, in [0, 1], drawn once per message
        (all the reports of a message are lost together).
    capacity_reports_per_s : float or None
        Reports the sender can transmit per second (a message of ``n`` reports occupies the
        transmitter for ``n / capacity_reports_per_s`` s); None for unlimited. Exclusive with
        ``slot_budget``.
    slot_budget : SlotBudget or None
        TDMA-like schedule of the sender's transmit slots; None for none. On an undirected
        link both endpoints get the same budget, ``b``'s slots shifted by half a slot
        interval so that the two never transmit in the same slot.
    max_queue_reports : int or None
        Most reports that may wait (handed to the link, transmission not yet started) on one
        channel; a message that would exceed it is dropped whole as
        :attr:`DropReason.OVERFLOW`. 0 drops every message that cannot start at once; None
        for no limit.
    max_queue_delay_s : float or None
        Longest a message may wait before its transmission starts, s, ≥ 0; a message that
        would wait longer is dropped as :attr:`DropReason.OVERFLOW`. None for no limit.
    outages : sequence of (float, float)
        Intervals ``[start_s, end_s)`` when the link is down, s since the epoch, sorted and
        not overlapping (they may touch).
    queue_during_outage : bool
        What an outage does to messages. False (the default): a link that fails loses what
        it holds, so a message is dropped as :attr:`DropReason.OUTAGE` if the link is down at
        any instant from its send to the end of its transmission, inclusive. True: the link
        holds messages while down and transmits them when it comes back (transmission pauses
        during an outage), subject to the queue limits.

    Raises
    ------
    ConfigurationError
        If a value is out of its domain or the values contradict each other; the message
        names the link, the field, the rule and the value.

    Examples
    --------
    >>> config = LinkConfig(a=NationCode("JPN"), b=NationCode("USA"), latency_s=0.25)
    >>> config.label, config.is_up(3.0)
    ('JPN-USA', True)
    """

    a: NationCode
    b: NationCode
    directed: bool = False
    latency_s: float = 0.0
    jitter_s: float = 0.0
    loss_probability: float = 0.0
    capacity_reports_per_s: float | None = None
    slot_budget: SlotBudget | None = None
    max_queue_reports: int | None = None
    max_queue_delay_s: float | None = None
    outages: Sequence[tuple[float, float]] = ()
    queue_during_outage: bool = False

    def __post_init__(self) -> None:
        owner = f"link {self.label!r}"
        for name in ("a", "b"):
            node = getattr(self, name)
            _require(
                isinstance(node, str) and bool(node),
                owner=owner,
                field=name,
                rule="a non-empty nation code",
                value=node,
            )
        _require(
            self.a != self.b, owner=owner, field="b", rule="a nation other than a", value=self.b
        )
        for name in ("latency_s", "jitter_s"):
            delay = getattr(self, name)
            _require(
                _is_finite_number(delay) and delay >= 0.0,
                owner=owner,
                field=name,
                rule="a non-negative number",
                value=delay,
            )
        loss = self.loss_probability
        _require(
            _is_finite_number(loss) and 0.0 <= loss <= 1.0,
            owner=owner,
            field="loss_probability",
            rule="in [0, 1]",
            value=loss,
        )
        capacity = self.capacity_reports_per_s
        _require(
            capacity is None or (_is_finite_number(capacity) and capacity > 0.0),
            owner=owner,
            field="capacity_reports_per_s",
            rule="a positive number or None",
            value=capacity,
        )
        _require(
            capacity is None or self.slot_budget is None,
            owner=owner,
            field="capacity_reports_per_s",
            rule="None when slot_budget is set (the slot budget is the capacity)",
            value=capacity,
        )
        _require(
            self.max_queue_reports is None
            or (_is_count(self.max_queue_reports) and self.max_queue_reports >= 0),
            owner=owner,
            field="max_queue_reports",
            rule="an integer ≥ 0 or None",
            value=self.max_queue_reports,
        )
        queue_delay = self.max_queue_delay_s
        _require(
            queue_delay is None or (_is_finite_number(queue_delay) and queue_delay >= 0.0),
            owner=owner,
            field="max_queue_delay_s",
            rule="a non-negative number or None",
            value=queue_delay,
        )
        outages = self._validated_outages(owner)
        # Normalised to a tuple so that the frozen config stays hashable and immutable.
        object.__setattr__(self, "outages", outages)
        queues = (
            capacity is not None
            or self.slot_budget is not None
            or (self.queue_during_outage and bool(outages))
        )
        for name in ("max_queue_reports", "max_queue_delay_s"):
            # A limit on a queue that can never form is a configuration mistake, not a no-op.
            _require(
                getattr(self, name) is None or queues,
                owner=owner,
                field=name,
                rule=(
                    "None on a link that never queues (set capacity_reports_per_s, slot_budget"
                    " or queue_during_outage with outages)"
                ),
                value=getattr(self, name),
            )

    def _validated_outages(self, owner: str) -> tuple[tuple[float, float], ...]:
        _require(
            not isinstance(self.outages, str | bytes) and isinstance(self.outages, Iterable),
            owner=owner,
            field="outages",
            rule="a sequence of (start_s, end_s) pairs",
            value=self.outages,
        )
        windows: list[tuple[float, float]] = []
        for i, window in enumerate(self.outages):
            path = f"outages[{i}]"
            _require(
                isinstance(window, Sequence)
                and len(window) == 2
                and all(_is_finite_number(t) for t in window),
                owner=owner,
                field=path,
                rule="a pair of finite times (start_s, end_s)",
                value=window,
            )
            start_s, end_s = float(window[0]), float(window[1])
            _require(
                start_s < end_s,
                owner=owner,
                field=path,
                rule="a window with start_s before end_s",
                value=window,
            )
            if windows:
                _require(
                    start_s >= windows[-1][1],
                    owner=owner,
                    field=path,
                    rule=f"sorted and not overlapping the previous window {windows[-1]}",
                    value=window,
                )
            windows.append((start_s, end_s))
        return tuple(windows)

    @property
    def label(self) -> str:
        """Name of the link: ``JPN-USA`` (undirected) or ``JPN->USA`` (directed).

        Unique within a :class:`Topology`, so ``f"link/{label}"`` suits a random stream name.
        """
        return f"{self.a}->{self.b}" if self.directed else f"{self.a}-{self.b}"

    @property
    def mean_delay_s(self) -> float:
        """Mean delay of an unqueued message, ``latency_s + jitter_s``, s (the route weight)."""
        return self.latency_s + self.jitter_s

    def carries(self, sender: NationCode, receiver: NationCode) -> bool:
        """Whether the link carries messages from ``sender`` to ``receiver``."""
        if (sender, receiver) == (self.a, self.b):
            return True
        return not self.directed and (sender, receiver) == (self.b, self.a)

    def is_up(self, time_s: float) -> bool:
        """Whether the link is up at ``time_s`` (s); outage windows are ``[start, end)``."""
        return _window_at(self.outages, time_s) is None


def _window_at(windows: Sequence[tuple[float, float]], time_s: float) -> tuple[float, float] | None:
    # The last window starting at or before time_s is the only candidate: windows are sorted
    # and do not overlap.
    index = bisect.bisect_right(windows, (time_s, math.inf)) - 1
    if index >= 0 and time_s < windows[index][1]:
        return windows[index]
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What became of one message handed to a link.

    Attributes
    ----------
    sent_at_s : float
        When the message was handed to the link, s since the epoch.
    departure_s : float or None
        When its transmission ended, s since the epoch; None if it was never transmitted
        (dropped by an outage or overflow).
    arrival_s : float or None
        When it reached the receiver, s since the epoch; None if it was not delivered.
    drop_reason : DropReason or None
        Why it was not delivered; None if it was.
    """

    sent_at_s: float
    departure_s: float | None
    arrival_s: float | None
    drop_reason: DropReason | None

    @property
    def delivered(self) -> bool:
        """Whether the message reached the receiver."""
        return self.drop_reason is None

    @property
    def delay_s(self) -> float | None:
        """End-to-end delay ``arrival_s − sent_at_s``, s; None if not delivered."""
        return None if self.arrival_s is None else self.arrival_s - self.sent_at_s


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkStatistics:
    """Counters of one link channel, or of both channels of an undirected link.

    Attributes
    ----------
    channels : int
        How many channels the counters add up (1 or 2).
    messages_offered, reports_offered : int
        Messages and reports handed to the link.
    messages_delivered, reports_delivered : int
        Messages and reports that reached the receiver.
    reports_transmitted : int
        Reports that went on the air (delivered or lost).
    bytes_transmitted : int
        Bytes that went on the air, from the ``size_bytes`` given to :meth:`Link.send`.
    busy_s : float
        Time the transmitter was in use, s: ``reports / capacity`` with a capacity, slots
        used × slot interval with a slot budget, 0 on an unlimited link.
    dropped_messages, dropped_reports : mapping of DropReason to int
        Messages and reports dropped, by reason (every reason present, zeros included).
    """

    channels: int
    messages_offered: int
    reports_offered: int
    messages_delivered: int
    reports_delivered: int
    reports_transmitted: int
    bytes_transmitted: int
    busy_s: float
    dropped_messages: Mapping[DropReason, int]
    dropped_reports: Mapping[DropReason, int]

    def reports_per_s(self, duration_s: float) -> float:
        """Reports transmitted per second over ``duration_s`` (s, positive)."""
        return self.reports_transmitted / duration_s

    def busy_fraction(self, duration_s: float) -> float:
        """Share of transmitter time in use over ``duration_s`` (s), averaged over channels.

        With a slot budget it is the share of the sender's owned slots that carried reports.
        """
        return self.busy_s / (self.channels * duration_s)


@dataclass(slots=True)
class _Channel:
    """The mutable state of one direction of a link."""

    sender: NationCode
    slot_offset_s: float
    last_send_s: float = -math.inf
    free_at_s: float = -math.inf
    next_slot: int | None = None
    last_arrival_s: float = -math.inf
    waiting: deque[tuple[float, int]] = field(default_factory=deque)
    waiting_reports: int = 0
    messages_offered: int = 0
    reports_offered: int = 0
    messages_delivered: int = 0
    reports_delivered: int = 0
    reports_transmitted: int = 0
    bytes_transmitted: int = 0
    busy_s: float = 0.0
    dropped_messages: dict[DropReason, int] = field(
        default_factory=lambda: dict.fromkeys(DropReason, 0)
    )
    dropped_reports: dict[DropReason, int] = field(
        default_factory=lambda: dict.fromkeys(DropReason, 0)
    )


class Link:
    """The run-time state of one link: queues, FIFO order, counters.

    Parameters
    ----------
    config : LinkConfig
        The link's parameters.
    rng : numpy.random.Generator
        The link's own random stream (e.g. ``streams.stream(f"link/{config.label}")``); every
        draw of the link comes from it.

    Notes
    -----
    Each call to :meth:`send` draws exactly two numbers (a uniform for the loss and a
    standard exponential for the jitter), whatever becomes of the message, so changing an
    outage or a queue limit does not shift the draws of later messages.

    Examples
    --------
    >>> import numpy as np
    >>> link = Link(
    ...     LinkConfig(a=NationCode("JPN"), b=NationCode("USA"), directed=True, latency_s=0.5),
    ...     np.random.default_rng(1),
    ... )
    >>> link.send(10.0, 4, 400).arrival_s
    10.5
    """

    def __init__(self, config: LinkConfig, rng: np.random.Generator) -> None:
        self.config = config
        self._rng = rng
        budget = config.slot_budget
        half_slot = 0.0 if budget is None else budget.slot_interval_s / 2.0
        offset = 0.0 if budget is None else budget.offset_s
        self._channels = {config.a: _Channel(sender=config.a, slot_offset_s=offset)}
        if not config.directed:
            self._channels[config.b] = _Channel(sender=config.b, slot_offset_s=offset + half_slot)

    def send(
        self,
        time_s: float,
        n_reports: int,
        size_bytes: int,
        *,
        sender: NationCode | None = None,
    ) -> Delivery:
        """Hand a message to the link and return what becomes of it.

        The message waits behind earlier messages of the same channel (and for the next
        owned slot, or for the link to come back, when configured), is transmitted, may be
        lost, and arrives ``latency_s`` plus an exponential jitter after its transmission
        ends. Arrival times on a channel never decrease: like a serial link, a message that
        drew a short jitter cannot overtake the one before it, so its arrival is held back to
        that message's arrival (the jitter is applied, then clamped to keep FIFO order).

        Drops are decided in this order: :attr:`DropReason.OUTAGE` (without
        ``queue_during_outage``), :attr:`DropReason.OVERFLOW` (queue limits), then
        :attr:`DropReason.LOSS`. Only a lost message uses link capacity.

        Parameters
        ----------
        time_s : float
            When the message is handed to the link, s since the epoch; non-decreasing from
            one call to the next on the same channel.
        n_reports : int
            Track reports in the message, ≥ 1 (the unit of capacity).
        size_bytes : int
            Size of the message, bytes, ≥ 0 (counted, not used for timing).
        sender : NationCode or None
            The sending endpoint: ``a`` or, on an undirected link, ``b``. Required on an
            undirected link; defaults to ``a`` on a directed one.

        Returns
        -------
        Delivery
            Arrival time, or the reason the message was dropped.

        Raises
        ------
        ValueError
            If the sender is not an endpoint that can send, the time goes backwards, or the
            counts are out of their domain.
        """
        channel = self._channel(sender)
        if not math.isfinite(time_s):
            raise ValueError(f"link {self.config.label!r}: time_s must be finite (got {time_s})")
        if time_s < channel.last_send_s:
            raise ValueError(
                f"link {self.config.label!r}: send at {time_s} s is before the previous send"
                f" ({channel.last_send_s} s) from {channel.sender}"
            )
        if not _is_count(n_reports) or n_reports < 1:
            raise ValueError(
                f"link {self.config.label!r}: n_reports must be an integer ≥ 1 (got {n_reports})"
            )
        if not _is_count(size_bytes) or size_bytes < 0:
            raise ValueError(
                f"link {self.config.label!r}: size_bytes must be an integer ≥ 0 (got {size_bytes})"
            )
        time_s = float(time_s)
        channel.last_send_s = time_s
        loss_draw = float(self._rng.random())
        jitter_s = self.config.jitter_s * float(self._rng.standard_exponential())

        channel.messages_offered += 1
        channel.reports_offered += n_reports
        self._forget_started(channel, time_s)

        start_s, departure_s, busy_s, next_slot = self._schedule(channel, time_s, n_reports)
        config = self.config
        reason: DropReason | None = None
        if not config.queue_during_outage and self._down_between(time_s, departure_s):
            reason = DropReason.OUTAGE
        elif start_s > time_s and (
            (
                config.max_queue_reports is not None
                and channel.waiting_reports + n_reports > config.max_queue_reports
            )
            or (
                config.max_queue_delay_s is not None and start_s - time_s > config.max_queue_delay_s
            )
        ):
            reason = DropReason.OVERFLOW
        if reason is not None:
            return self._drop(channel, time_s, n_reports, reason, departure_s=None)

        # Accepted: the message now holds the transmitter (or its slots).
        if next_slot is None:
            channel.free_at_s = departure_s
        else:
            channel.next_slot = next_slot
        if start_s > time_s:
            channel.waiting.append((start_s, n_reports))
            channel.waiting_reports += n_reports
        channel.reports_transmitted += n_reports
        channel.bytes_transmitted += size_bytes
        channel.busy_s += busy_s

        if loss_draw < config.loss_probability:
            return self._drop(channel, time_s, n_reports, DropReason.LOSS, departure_s=departure_s)
        arrival_s = max(departure_s + config.latency_s + jitter_s, channel.last_arrival_s)
        channel.last_arrival_s = arrival_s
        channel.messages_delivered += 1
        channel.reports_delivered += n_reports
        return Delivery(
            sent_at_s=time_s, departure_s=departure_s, arrival_s=arrival_s, drop_reason=None
        )

    def statistics(self, sender: NationCode | None = None) -> LinkStatistics:
        """Counters of the channel from ``sender``, or of every channel when None.

        Parameters
        ----------
        sender : NationCode or None
            The sending endpoint of the channel; None adds up both channels of an undirected
            link (the one channel of a directed link).

        Returns
        -------
        LinkStatistics
            A snapshot; later sends do not change it.
        """
        channels = list(self._channels.values()) if sender is None else [self._channel(sender)]

        def total(name: str) -> int:
            return sum(getattr(channel, name) for channel in channels)

        def by_reason(name: str) -> Mapping[DropReason, int]:
            counts = {
                reason: sum(getattr(channel, name)[reason] for channel in channels)
                for reason in DropReason
            }
            return MappingProxyType(counts)

        return LinkStatistics(
            channels=len(channels),
            messages_offered=total("messages_offered"),
            reports_offered=total("reports_offered"),
            messages_delivered=total("messages_delivered"),
            reports_delivered=total("reports_delivered"),
            reports_transmitted=total("reports_transmitted"),
            bytes_transmitted=total("bytes_transmitted"),
            busy_s=math.fsum(channel.busy_s for channel in channels),
            dropped_messages=by_reason("dropped_messages"),
            dropped_reports=by_reason("dropped_reports"),
        )

    def _channel(self, sender: NationCode | None) -> _Channel:
        if sender is None:
            if not self.config.directed:
                raise ValueError(
                    f"link {self.config.label!r} is undirected: name the sender"
                    f" ({self.config.a} or {self.config.b})"
                )
            sender = self.config.a
        try:
            return self._channels[sender]
        except KeyError:
            raise ValueError(
                f"link {self.config.label!r} carries nothing from {sender!r}"
                f" (senders: {', '.join(self._channels)})"
            ) from None

    @staticmethod
    def _forget_started(channel: _Channel, time_s: float) -> None:
        # Starts are non-decreasing (FIFO), so the messages that left the queue are at its head.
        while channel.waiting and channel.waiting[0][0] <= time_s:
            _, reports = channel.waiting.popleft()
            channel.waiting_reports -= reports

    def _schedule(
        self, channel: _Channel, time_s: float, n_reports: int
    ) -> tuple[float, float, float, int | None]:
        """Return (transmission start, departure, busy time, next free slot or None)."""
        config = self.config
        budget = config.slot_budget
        if budget is None:
            ready_s = max(time_s, channel.free_at_s)
            service_s = (
                0.0
                if config.capacity_reports_per_s is None
                else n_reports / config.capacity_reports_per_s
            )
            if not config.queue_during_outage:
                # Without holding, an outage drops the message, so no pause needs modelling.
                return ready_s, ready_s + service_s, service_s, None
            start_s = self._first_up(ready_s)
            return start_s, self._after_uptime(start_s, service_s), service_s, None

        interval_s = budget.slot_interval_s
        offset_s = channel.slot_offset_s
        slots = n_reports * budget.slots_per_report
        first = _first_slot_at_or_after(time_s, offset_s, interval_s)
        if channel.next_slot is not None:
            first = max(first, channel.next_slot)
        last = first + slots - 1
        if config.queue_during_outage:
            first, last = self._usable_slots(first, slots, offset_s, interval_s)
        return (
            offset_s + first * interval_s,
            offset_s + last * interval_s,
            slots * interval_s,
            last + 1,
        )

    def _down_between(self, start_s: float, end_s: float) -> bool:
        # Any window meeting the closed interval [start_s, end_s]; only the last window that
        # starts by end_s can, since the windows are sorted and disjoint.
        windows = self.config.outages
        index = bisect.bisect_right(windows, (end_s, math.inf)) - 1
        return index >= 0 and windows[index][1] > start_s

    def _first_up(self, time_s: float) -> float:
        # Loops because windows may touch: the end of one can be the start of the next.
        window = _window_at(self.config.outages, time_s)
        while window is not None:
            time_s = window[1]
            window = _window_at(self.config.outages, time_s)
        return time_s

    def _after_uptime(self, start_s: float, duration_s: float) -> float:
        """When ``duration_s`` of up-time has passed since ``start_s`` (which is up)."""
        time_s, remaining_s = start_s, duration_s
        windows = self.config.outages
        for window_start_s, window_end_s in windows[
            bisect.bisect_right(windows, (time_s, math.inf)) :
        ]:
            if time_s + remaining_s <= window_start_s:
                break
            remaining_s -= window_start_s - time_s
            time_s = window_end_s
        return time_s + remaining_s

    def _usable_slots(
        self, first: int, count: int, offset_s: float, interval_s: float
    ) -> tuple[int, int]:
        """First and last of ``count`` owned slots from ``first`` on, skipping outage slots."""
        start: int | None = None
        slot, remaining = first, count
        for window_start_s, window_end_s in self.config.outages:
            low = _first_slot_at_or_after(window_start_s, offset_s, interval_s)
            high = _first_slot_at_or_after(window_end_s, offset_s, interval_s)
            if high <= slot:
                continue
            usable = low - slot
            if usable > 0:
                if start is None:
                    start = slot
                if remaining <= usable:
                    return start, slot + remaining - 1
                remaining -= usable
            slot = high
        return (slot if start is None else start), slot + remaining - 1

    @staticmethod
    def _drop(
        channel: _Channel,
        time_s: float,
        n_reports: int,
        reason: DropReason,
        *,
        departure_s: float | None,
    ) -> Delivery:
        channel.dropped_messages[reason] += 1
        channel.dropped_reports[reason] += n_reports
        return Delivery(
            sent_at_s=time_s, departure_s=departure_s, arrival_s=None, drop_reason=reason
        )


def _first_slot_at_or_after(time_s: float, offset_s: float, interval_s: float) -> int:
    # The division can land one slot off in floating point; the slot times themselves, computed
    # the same way everywhere, are the reference.
    slot = math.ceil((time_s - offset_s) / interval_s)
    while offset_s + (slot - 1) * interval_s >= time_s:
        slot -= 1
    while offset_s + slot * interval_s < time_s:
        slot += 1
    return slot


RelayPolicy = Callable[[NationCode, NationCode, NationCode], bool]
"""``may_relay(relay, originator, destination)``: whether ``relay`` may forward the data that
``originator`` sends to ``destination`` (the releasability policy, supplied by the caller)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A path through a :class:`Topology`.

    Attributes
    ----------
    nodes : tuple of NationCode
        The nations on the path, originator first, destination last.
    links : tuple of int
        Index in :attr:`Topology.links` of the link of each hop (one fewer than ``nodes``).
    delay_s : float
        Sum of the hops' :attr:`LinkConfig.mean_delay_s`, s (queueing and slot waits are not
        included).
    """

    nodes: tuple[NationCode, ...]
    links: tuple[int, ...]
    delay_s: float

    @property
    def relays(self) -> tuple[NationCode, ...]:
        """The nations between the originator and the destination."""
        return self.nodes[1:-1]


_NANOSECONDS_PER_S = 1_000_000_000


class Topology:
    """The graph of links between nations, and routes through it.

    Parameters
    ----------
    links : iterable of LinkConfig
        The links. Two links may not carry the same direction between the same two nations,
        so each hop of a route names one link.
    nodes : iterable of NationCode
        Extra nations with no link (isolated); every endpoint is a node anyway.

    Raises
    ------
    ConfigurationError
        If two links carry the same direction between the same nations.

    Examples
    --------
    >>> jpn, usa, aus = NationCode("JPN"), NationCode("USA"), NationCode("AUS")
    >>> topology = Topology.hub_and_spoke(usa, [jpn, aus], LinkConfig(a=jpn, b=usa, latency_s=0.1))
    >>> topology.route(jpn, aus, may_relay=lambda relay, src, dst: True).nodes
    ('JPN', 'USA', 'AUS')
    >>> print(topology.route(jpn, aus, may_relay=lambda relay, src, dst: False))
    None
    """

    def __init__(self, links: Iterable[LinkConfig], *, nodes: Iterable[NationCode] = ()) -> None:
        self.links: tuple[LinkConfig, ...] = tuple(links)
        names = set(nodes)
        self._edges: dict[tuple[NationCode, NationCode], int] = {}
        for index, link in enumerate(self.links):
            names.update((link.a, link.b))
            directions = (
                [(link.a, link.b)] if link.directed else [(link.a, link.b), (link.b, link.a)]
            )
            for direction in directions:
                previous = self._edges.setdefault(direction, index)
                if previous != index:
                    raise ConfigurationError(
                        f"topology: links[{index}] ({link.label}) and links[{previous}]"
                        f" ({self.links[previous].label}) both carry {direction[0]} -> "
                        f"{direction[1]}; keep one link per direction"
                    )
        self.nodes: tuple[NationCode, ...] = tuple(sorted(names))

    @classmethod
    def full_mesh(cls, nations: Iterable[NationCode], cfg: LinkConfig) -> Topology:
        """A link between every two nations.

        Parameters
        ----------
        nations : iterable of NationCode
            Distinct nations.
        cfg : LinkConfig
            Template of every link; its endpoints are replaced. A directed template gives two
            one-way links per pair.

        Returns
        -------
        Topology
        """
        members = _distinct(nations, preset="full_mesh")
        pairs = [(x, y) for i, x in enumerate(members) for y in members[i + 1 :]]
        return cls(_links_for(pairs, cfg), nodes=members)

    @classmethod
    def hub_and_spoke(
        cls, hub: NationCode, spokes: Iterable[NationCode], cfg: LinkConfig
    ) -> Topology:
        """A link between the hub and each spoke, and none between spokes.

        Parameters
        ----------
        hub : NationCode
            The central nation.
        spokes : iterable of NationCode
            Distinct nations other than the hub.
        cfg : LinkConfig
            Template of every link; its endpoints are replaced (``a`` = hub). A directed
            template gives two one-way links per spoke.

        Returns
        -------
        Topology
        """
        members = _distinct([hub, *spokes], preset="hub_and_spoke")
        return cls(_links_for([(hub, spoke) for spoke in members[1:]], cfg), nodes=members)

    @classmethod
    def hierarchical(
        cls, children: Mapping[NationCode, Sequence[NationCode]], cfg: LinkConfig
    ) -> Topology:
        """A tree: each parent linked to each of its children, and nothing else.

        Parameters
        ----------
        children : mapping of NationCode to sequence of NationCode
            The children of each parent, e.g. ``{USA: [JPN, AUS], JPN: [KOR]}``. Every nation
            has at most one parent and the tree has no cycle.
        cfg : LinkConfig
            Template of every link; its endpoints are replaced (``a`` = parent). A directed
            template gives two one-way links per parent-child pair.

        Returns
        -------
        Topology

        Raises
        ------
        ConfigurationError
            If a nation has two parents or the hierarchy has a cycle.
        """
        parent_of: dict[NationCode, NationCode] = {}
        pairs: list[tuple[NationCode, NationCode]] = []
        for parent, kids in children.items():
            for child in kids:
                if child == parent:
                    raise ConfigurationError(f"topology hierarchical: {child} is its own child")
                if child in parent_of:
                    raise ConfigurationError(
                        f"topology hierarchical: {child} has two parents"
                        f" ({parent_of[child]} and {parent})"
                    )
                parent_of[child] = parent
                pairs.append((parent, child))
        for start in parent_of:
            seen = {start}
            node = start
            while node in parent_of:
                node = parent_of[node]
                if node in seen:
                    raise ConfigurationError(f"topology hierarchical: cycle through {node}")
                seen.add(node)
        return cls(_links_for(pairs, cfg), nodes=list(children))

    def link_index(self, sender: NationCode, receiver: NationCode) -> int | None:
        """Index in :attr:`links` of the link from ``sender`` to ``receiver``, or None."""
        return self._edges.get((sender, receiver))

    def route(
        self,
        source: NationCode,
        destination: NationCode,
        *,
        may_relay: RelayPolicy,
        at_s: float | None = None,
    ) -> Route | None:
        """The shortest route by mean delay, relaying only where the policy allows.

        Dijkstra's algorithm over :attr:`LinkConfig.mean_delay_s`, with directed links
        respected. Ties go to fewer hops, then to the alphabetically first list of nations,
        so that zero-latency links (which tie every path) still give the direct route. Delays
        are compared in whole nanoseconds so that rounding cannot break a tie.

        Parameters
        ----------
        source, destination : NationCode
            The originator and the final receiver of the data.
        may_relay : callable
            ``may_relay(relay, originator, destination) -> bool``, asked once for every other
            nation; a route passes only through nations for which it is True.
        at_s : float or None
            If given, links down at this time (s since the epoch) are left out.

        Returns
        -------
        Route or None
            The route, or None when the destination cannot be reached. A route from a nation
            to itself has no hop.

        Raises
        ------
        ValueError
            If ``source`` or ``destination`` is not a node of the topology.
        """
        for name in (source, destination):
            if name not in self.nodes:
                raise ValueError(f"topology has no node {name!r} (nodes: {', '.join(self.nodes)})")
        if source == destination:
            return Route(nodes=(source,), links=(), delay_s=0.0)
        relays = {
            node
            for node in self.nodes
            if node not in (source, destination) and may_relay(node, source, destination)
        }

        def usable(node: NationCode) -> bool:
            return node in (source, destination) or node in relays

        outgoing: dict[NationCode, list[tuple[NationCode, int]]] = {}
        for (sender, receiver), index in self._edges.items():
            if not (usable(sender) and usable(receiver)):
                continue
            if at_s is not None and not self.links[index].is_up(at_s):
                continue
            outgoing.setdefault(sender, []).append((receiver, index))

        # A small Dijkstra rather than scipy.sparse.csgraph: csgraph has no tie-breaking rule,
        # and with zero-latency links every path ties. Keys (delay in ns, hops, nodes) order
        # paths completely, so the result does not depend on the order links were given in;
        # graphs of a few dozen nations make the pure-Python loop cheap.
        heap: list[tuple[int, int, tuple[NationCode, ...], tuple[int, ...]]] = [
            (0, 0, (source,), ())
        ]
        settled: set[NationCode] = set()
        while heap:
            delay_ns, hops, path, via = heapq.heappop(heap)
            node = path[-1]
            if node in settled:
                continue
            if node == destination:
                delay_s = math.fsum(self.links[index].mean_delay_s for index in via)
                return Route(nodes=path, links=via, delay_s=delay_s)
            settled.add(node)
            for receiver, index in outgoing.get(node, ()):
                if receiver not in settled:
                    step_ns = round(self.links[index].mean_delay_s * _NANOSECONDS_PER_S)
                    entry = (delay_ns + step_ns, hops + 1, (*path, receiver), (*via, index))
                    heapq.heappush(heap, entry)
        return None


def _distinct(nations: Iterable[NationCode], *, preset: str) -> list[NationCode]:
    members = list(nations)
    duplicates = sorted({n for n in members if members.count(n) > 1})
    if duplicates:
        raise ConfigurationError(
            f"topology {preset}: nations must be distinct (got {', '.join(duplicates)} twice)"
        )
    return members


def _links_for(pairs: Sequence[tuple[NationCode, NationCode]], cfg: LinkConfig) -> list[LinkConfig]:
    links: list[LinkConfig] = []
    for first, second in pairs:
        links.append(dataclasses.replace(cfg, a=first, b=second))
        if cfg.directed:
            links.append(dataclasses.replace(cfg, a=second, b=first))
    return links
