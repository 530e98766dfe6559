"""Wiring: scenario → components → event-driven run → recording."""

from iamd.sim.build import Assembly, SensorSetup, build, build_truth
from iamd.sim.kernel import EventKernel
from iamd.sim.run import RunOptions, RunResult, run_scenario, summarise

__all__ = [
    "Assembly",
    "EventKernel",
    "RunOptions",
    "RunResult",
    "SensorSetup",
    "build",
    "build_truth",
    "run_scenario",
    "summarise",
]
