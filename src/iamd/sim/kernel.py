"""A small deterministic discrete-event kernel.

Events are ordered by ``(time, priority, sequence)`` as in SimPy: equal times run in priority
order (lower first), and equal priorities in the order they were scheduled. SimPy itself is
not used because the simulation needs no processes or resources, only ordered callbacks, and a
heap of tuples is both faster and simpler to reason about for bit-exact reproducibility.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

Action = Callable[[float], None]
"""An event's action; it receives the event time (s since epoch) and may schedule more."""


@dataclass(order=True, slots=True)
class _Event:
    time_s: float
    priority: int
    sequence: int
    action: Action = field(compare=False)


class EventKernel:
    """Runs scheduled actions in ``(time, priority, sequence)`` order.

    Parameters
    ----------
    start_s : float
        Simulation time at which the clock starts, s since the scenario epoch.
    """

    def __init__(self, start_s: float = 0.0) -> None:
        self.now_s = float(start_s)
        self._queue: list[_Event] = []
        self._sequence = itertools.count()

    def schedule(self, time_s: float, action: Action, *, priority: int = 0) -> None:
        """Schedule ``action`` at ``time_s``; scheduling into the past is an error."""
        if time_s < self.now_s:
            raise ValueError(f"cannot schedule at {time_s} s, before now ({self.now_s} s)")
        heapq.heappush(self._queue, _Event(float(time_s), priority, next(self._sequence), action))

    def every(
        self, period_s: float, action: Action, *, start_s: float, until_s: float, priority: int = 0
    ) -> None:
        """Schedule ``action`` at ``start_s + k·period_s`` for every ``k`` up to ``until_s``.

        Times are computed by multiplication, not accumulation, so long runs do not drift.
        """
        if period_s <= 0:
            raise ValueError(f"period must be positive (got {period_s})")

        def schedule_occurrence(k: int) -> None:
            time_s = start_s + k * period_s
            if time_s > until_s:
                return

            def fire(now_s: float) -> None:
                action(now_s)
                schedule_occurrence(k + 1)

            self.schedule(time_s, fire, priority=priority)

        schedule_occurrence(0)

    def run(self, until_s: float) -> None:
        """Run every event with time ≤ ``until_s``; the clock then stands at ``until_s``."""
        while self._queue and self._queue[0].time_s <= until_s:
            event = heapq.heappop(self._queue)
            self.now_s = event.time_s
            event.action(event.time_s)
        self.now_s = max(self.now_s, float(until_s))

    @property
    def pending(self) -> int:
        """Number of scheduled events not yet run."""
        return len(self._queue)
