"""The releasability invariant, checked on a recording after the fact.

Every run ends with :func:`check_recording`: it rebuilds the sharing agreements and
clearances from the scenario kept in the run directory (with the run's variant applied), reads
back the ``audit`` and ``deliveries`` tables, and gives them to the independent checker
:func:`~iamd.network.check_releases`. The count of violations goes into ``meta.json``
(``release_violations``); anything but zero is a defect of the guards.
"""

from __future__ import annotations

from pathlib import Path

from iamd.network import Violation, check_releases
from iamd.record import Recording
from iamd.record.columns import audit_records, delivery_records
from iamd.scenario import apply_variant, load_scenario_text
from iamd.sim.build import release_policy


def check_recording(run_dir: Path | str) -> list[Violation]:
    """Every release or arrival in a recording that broke the run's agreements.

    Parameters
    ----------
    run_dir : path
        A run directory.

    Returns
    -------
    list of Violation
        Empty when the run was clean.

    Raises
    ------
    iamd.core.errors.RecordingError
        If the directory is not a readable recording.
    iamd.core.errors.ScenarioError
        If its scenario no longer validates (written by an incompatible version).
    """
    recording = Recording(run_dir)
    scenario = load_scenario_text(recording.scenario_text, str(Path(run_dir) / "scenario.yaml"))
    variant = recording.meta.get("variant")
    if variant:
        scenario = apply_variant(scenario, str(variant))
    nations = [str(n) for n in recording.meta.get("nations") or [n.code for n in scenario.nations]]
    audit = audit_records(recording.table("audit").to_pydict(), nations)
    delivered = delivery_records(recording.table("deliveries").to_pydict(), nations)
    return check_releases(audit, release_policy(scenario), delivered=delivered)


__all__ = ["check_recording"]
