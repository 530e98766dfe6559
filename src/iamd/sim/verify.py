"""The releasability and engagement-authority invariants, checked on a recording after the fact.

Every run ends with :func:`check_recording`: it rebuilds the sharing agreements and
clearances from the scenario kept in the run directory (with the run's variant applied), reads
back the ``audit`` and ``deliveries`` tables, and gives them to the independent checker
:func:`~iamd.network.check_releases`. The count of violations goes into ``meta.json``
(``release_violations``); anything but zero is a defect of the guards.

:func:`check_engagements` does the same for engagement authority: from the scenario's rules
of engagement and forces, every recorded shot must come from a nation with rules of
engagement, from one of that nation's own shooters, at a threat to an asset of a nation it
defends, or at the request of a nation it accepts requests from, for an asset that nation
defends; no shooter may fire more rounds than it could ever hold (launchers, depot, and the
production of its type it could have received) nor guide more interceptors at once than it
has fire channels; and every shot is on a track that an own sensor or a partner whose
agreement allows fire control (with ``engage_on_remote``) contributes to
(``authority_violations`` in ``meta.json``).
"""

from __future__ import annotations

import math
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


def check_engagements(run_dir: Path | str) -> list[str]:
    """Every recorded shot that broke the run's engagement authority (module notes).

    Returns
    -------
    list of str
        One sentence per violation; empty when the run was clean.
    """
    recording = Recording(run_dir)
    scenario = load_scenario_text(recording.scenario_text, str(Path(run_dir) / "scenario.yaml"))
    variant = recording.meta.get("variant")
    if variant:
        scenario = apply_variant(scenario, str(variant))
    rules = {r.nation: r for r in scenario.rules_of_engagement}
    site_nation = {site.name: site.nation for site in scenario.sites}
    shooters = {s.name: s for s in scenario.shooters}
    shots = recording.table("engagements").to_pylist()
    problems: list[str] = []
    fired: dict[str, int] = {}
    for shot in shots:
        where = f"shot {shot['shot']} ({shot['nation']}, {shot['shooter']})"
        rule = rules.get(shot["nation"])
        spec = shooters.get(shot["shooter"])
        if rule is None:
            problems.append(f"{where}: the nation has no rules of engagement")
        if spec is None or site_nation.get(spec.site) != shot["nation"]:
            problems.append(f"{where}: the shooter is not the nation's own")
        requester = shot.get("requested_by") or ""
        if requester:
            asked = rules.get(requester)
            if rule is None or requester not in set(rule.accepts_from):
                problems.append(f"{where}: answered a request from {requester}, not accepted")
            elif asked is None or shot["asset_nation"] not in {
                requester,
                *(asked.defends or ()),
            }:
                problems.append(
                    f"{where}: fired for {shot['asset']} of {shot['asset_nation']} at the "
                    f"request of {requester}, which does not defend it"
                )
        elif rule is not None and shot["asset_nation"] not in {rule.nation, *(rule.defends or ())}:
            problems.append(
                f"{where}: fired for {shot['asset']} of {shot['asset_nation']}, "
                "a nation it does not defend"
            )
        sources = set(filter(None, str(shot.get("track_sources") or "").split(",")))
        usable = {shot["nation"]}
        if rule is not None and rule.engage_on_remote:
            usable |= {
                a.provider
                for a in scenario.sharing_agreements
                if a.recipient == shot["nation"] and a.fire_control
            }
        if not sources & usable:
            problems.append(
                f"{where}: fired on a track from {', '.join(sorted(sources)) or 'nobody'}, "
                "which its agreements and rules do not let it engage on"
            )
        if not shot["value_at_risk"] > 0.0:
            problems.append(f"{where}: the track threatened nothing it defends")
        fired[shot["shooter"]] = fired.get(shot["shooter"], 0) + 1
    duration = float(recording.meta.get("duration_s") or scenario.duration_s)
    for name, count in sorted(fired.items()):
        spec = shooters.get(name)
        if spec is None:
            continue
        # What it could ever have held: its launchers, its depot, and at most all of the
        # production of its type it could have been given during the run.
        produced = sum(
            math.floor(line.rounds_per_day * max(duration - line.start_s, 0.0) / 86_400.0)
            for line in scenario.production
            if line.interceptor == spec.interceptor
            and site_nation.get(spec.site) in set(line.nations)
        )
        most = spec.inventory + spec.depot + produced
        if count > most:
            problems.append(f"{name}: fired {count} rounds of at most {most}")
    for name, spec in sorted(shooters.items()):
        events = sorted(
            [(s["decided_at_s"], 1) for s in shots if s["shooter"] == name]
            + [(s["intercept_at_s"], -1) for s in shots if s["shooter"] == name],
            key=lambda e: (e[0], e[1]),
        )
        busy = 0
        for _, step in events:
            busy += step
            if busy > spec.fire_channels:
                problems.append(
                    f"{name}: guided {busy} interceptors on {spec.fire_channels} channels"
                )
                break
    return problems


__all__ = ["check_engagements", "check_recording"]
