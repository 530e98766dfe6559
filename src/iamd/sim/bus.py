"""The embedded bus: every nation's node in one process, messages as scheduled events.

Each message a node hands to the bus goes over the one link from the sender to the next hop
(:class:`~iamd.network.Link`: latency, jitter, loss, capacity or slot budget, outages), and
its arrival is an event of the run's kernel that calls the receiving node's handler with the
signed bytes, exactly what a real transport would deliver. What became of every message is
reported to ``on_event``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode
from iamd.network import Delivery, Link, Topology, WireError, read_header
from iamd.sim.kernel import EventKernel

Handler = Callable[[float, bytes], None]
"""``handler(arrival_s, signed_bytes)``: a node's entry point for messages."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkEvent:
    """What became of one message handed to a link.

    Attributes
    ----------
    link : str
        The link's label.
    sender, receiver : NationCode
        The two ends of the hop.
    sequence : int
        The sender's message counter, from the header (-1 if it cannot be read).
    reports : int
        Reports in the message.
    size_bytes : int
        Signed size, bytes.
    delivery : Delivery
        Send, departure and arrival times, or the drop reason.
    """

    link: str
    sender: NationCode
    receiver: NationCode
    sequence: int
    reports: int
    size_bytes: int
    delivery: Delivery


class EmbeddedBus:
    """Simulated links between the nodes of one process.

    Parameters
    ----------
    kernel : EventKernel
        The run's kernel; arrivals are scheduled on it.
    topology : Topology
        The links.
    links : mapping of int to Link
        The run-time link of each index of ``topology.links``.
    on_event : callable
        Receives a :class:`LinkEvent` for every message.
    priority : int
        Kernel priority of arrival events.
    """

    def __init__(
        self,
        kernel: EventKernel,
        topology: Topology,
        links: Mapping[int, Link],
        on_event: Callable[[LinkEvent], None],
        *,
        priority: int,
    ) -> None:
        self._kernel = kernel
        self._topology = topology
        self._links = dict(links)
        self._on_event = on_event
        self._priority = priority
        self._handlers: dict[NationCode, Handler] = {}

    def attach(self, nation: NationCode, handler: Handler) -> None:
        """Deliver messages for ``nation`` to ``handler``."""
        self._handlers[nation] = handler

    def transmit(
        self, sender: NationCode, receiver: NationCode, data: bytes, n_reports: int, now_s: float
    ) -> None:
        """Send ``data`` over the link from ``sender`` to ``receiver``.

        Raises
        ------
        ConfigurationError
            If no link carries that direction, or nothing is attached at ``receiver``: a
            node only sends to the next hops of the topology's routes, so either is a wiring
            mistake.
        """
        index = self._topology.link_index(sender, receiver)
        handler = self._handlers.get(receiver)
        if index is None or handler is None:
            raise ConfigurationError(f"no link or no node for {sender} -> {receiver}")
        link = self._links[index]
        delivery = link.send(now_s, n_reports, len(data), sender=sender)
        try:
            sequence = read_header(data).sequence
        except WireError:
            sequence = -1
        self._on_event(
            LinkEvent(
                link=link.config.label,
                sender=sender,
                receiver=receiver,
                sequence=sequence,
                reports=n_reports,
                size_bytes=len(data),
                delivery=delivery,
            )
        )
        if delivery.arrival_s is not None:
            self._kernel.schedule(
                delivery.arrival_s, lambda t: handler(t, data), priority=self._priority
            )


__all__ = ["EmbeddedBus", "Handler", "LinkEvent"]
