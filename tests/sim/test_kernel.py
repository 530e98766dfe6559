import pytest

from iamd.sim import EventKernel


def test_events_run_in_time_priority_sequence_order() -> None:
    kernel = EventKernel()
    seen: list[str] = []
    kernel.schedule(2.0, lambda t: seen.append("c"))
    kernel.schedule(1.0, lambda t: seen.append("b2"), priority=1)
    kernel.schedule(1.0, lambda t: seen.append("a"), priority=0)
    kernel.schedule(1.0, lambda t: seen.append("b3"), priority=1)
    kernel.run(10.0)
    assert seen == ["a", "b2", "b3", "c"]
    assert kernel.now_s == 10.0


def test_every_does_not_drift_and_stops_at_until() -> None:
    kernel = EventKernel()
    times: list[float] = []
    kernel.every(0.1, times.append, start_s=0.05, until_s=100.0)
    kernel.run(100.0)
    assert len(times) == 1000
    assert times[-1] == 0.05 + 999 * 0.1
    assert kernel.pending == 0


def test_run_stops_at_until_and_resumes() -> None:
    kernel = EventKernel()
    times: list[float] = []
    kernel.every(1.0, times.append, start_s=0.0, until_s=5.0)
    kernel.run(2.5)
    assert times == [0.0, 1.0, 2.0]
    kernel.run(5.0)
    assert times == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_scheduling_into_the_past_is_refused() -> None:
    kernel = EventKernel()
    kernel.run(3.0)
    with pytest.raises(ValueError, match="before now"):
        kernel.schedule(1.0, lambda t: None)
