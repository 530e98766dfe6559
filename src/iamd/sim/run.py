"""Run a scenario end to end and write its recording."""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

import iamd
from iamd.core.ids import NationCode
from iamd.core.random import RandomStreams
from iamd.geo import ecef_to_geodetic
from iamd.messages import EngagementStatuses, MissileWarnings, TrackReports, TruthState
from iamd.metrics import (
    defense_summary,
    detection_summary,
    kill_chains,
    network_summary,
    tracking_summaries,
    warning_receipts,
)
from iamd.network import AuditRecords, DeliveryRecords, RejectReason
from iamd.record import Recording, RecordingWriter
from iamd.record.columns import (
    audit_columns,
    delivery_columns,
    detection_columns,
    platform_columns,
    report_columns,
    system_track_columns,
    track_columns,
    truth_columns,
)
from iamd.scenario import apply_variant, schema
from iamd.sensors import RadarSensor
from iamd.sim.battle import Battles, Shot
from iamd.sim.build import Assembly, SensorSetup, build
from iamd.sim.bus import EmbeddedBus, LinkEvent
from iamd.sim.kernel import EventKernel
from iamd.sim.node import Node, NodeSettings
from iamd.sim.verify import check_engagements, check_recording

ProgressCallback = Callable[[float, float], None]
"""Called with (simulated time, duration), both s, as the run advances."""

# Order of events at one instant: the truth is recorded, interceptors arrive, sensors scan
# (and their nodes track), messages arrive, nodes report, pictures are recorded, battle
# managers plan from them.
_TRUTH_PRIORITY = 0
_INTERCEPT_PRIORITY = 1
_SENSOR_PRIORITY = 2
_ARRIVAL_PRIORITY = 3
_REPORT_PRIORITY = 4
_PICTURE_PRIORITY = 5
_BATTLE_PRIORITY = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """How to run a scenario.

    Attributes
    ----------
    seed : int or None
        Root seed; None uses the scenario's own ``seed``.
    truth_period_s : float
        Interval between recorded truth samples, s.
    duration_s : float or None
        Stop earlier than the scenario's duration, s (None: the scenario's duration).
    progress : callable or None
        Progress callback, called at most once per recorded truth sample.
    tracking : bool
        Run each nation's node: tracker, air picture and network (False: truth and
        detections only, e.g. to time the world and the sensors alone).
    node : NodeSettings
        Report cycle and message size of every node.
    variant : str or None
        One of the scenario's variants to run (None: the scenario as written).
    """

    seed: int | None = None
    truth_period_s: float = 1.0
    duration_s: float | None = None
    progress: ProgressCallback | None = None
    tracking: bool = True
    node: NodeSettings = field(default_factory=NodeSettings)
    variant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """Where the recording went and how the run went."""

    run_dir: Path
    seed: int
    duration_s: float
    wall_time_s: float
    recording_hash: str


def _versions() -> dict[str, str]:
    names = ["numpy", "scipy", "pyarrow", "pydantic", "pymap3d"]
    return {
        "iamd": iamd.__version__,
        "python": platform.python_version(),
        **{name: version(name) for name in names},
    }


class _TruthCache:
    """The truth at the latest time asked, so sensors scanning together share one lookup.

    A threat destroyed since (at the same instant) invalidates it.
    """

    def __init__(self, assembly: Assembly) -> None:
        self._truth = assembly.truth
        self._key: tuple[float, int] | None = None
        self._state: TruthState | None = None

    def at(self, time_s: float) -> TruthState:
        key = (time_s, int(np.count_nonzero(~np.isnan(self._truth.destroyed_at_s))))
        if self._state is None or self._key != key:
            self._state = self._truth.state_at(time_s)
            self._key = key
        return self._state


def _static_tables(writer: RecordingWriter, assembly: Assembly) -> None:
    truth = assembly.truth
    count = len(truth.threat_ids)
    end_lat, end_lon, _ = ecef_to_geodetic(truth.end_ecef_m.reshape(-1, 3))
    writer.table("threats").append(
        {
            "threat": list(truth.threat_ids),
            "threat_index": np.arange(count, dtype=np.int32),
            "category": truth.categories.astype(np.int8),
            "launch_time_s": truth.launch_time_s,
            "burnout_time_s": truth.burnout_time_s,
            "end_time_s": truth.end_time_s,
            "end_lat_deg": end_lat,
            "end_lon_deg": end_lon,
            "rcs_m2": truth.rcs_m2,
        }
    )
    writer.table("sensors").append(
        {
            "sensor": [str(s.sensor.sensor_id) for s in assembly.sensors],
            "nation": [str(s.sensor.nation) for s in assembly.sensors],
            "kind": [s.kind for s in assembly.sensors],
            "site": [s.site for s in assembly.sensors],
            "period_s": [s.sensor.period_s for s in assembly.sensors],
        }
    )


def run_scenario(
    scenario: schema.Scenario,
    scenario_text: str,
    run_dir: Path,
    *,
    options: RunOptions | None = None,
) -> RunResult:
    """Simulate ``scenario`` and write its recording into ``run_dir``.

    The run is deterministic: the same scenario text and seed give the same recording
    (see :meth:`iamd.record.Recording.content_hash`). On ``KeyboardInterrupt`` or any error
    the rows recorded so far are flushed and ``meta.json`` says ``interrupted`` or
    ``failed`` before the exception propagates.
    """
    options = options or RunOptions()
    if options.variant is not None:
        scenario = apply_variant(scenario, options.variant)
    seed = scenario.seed if options.seed is None else options.seed
    duration = (
        scenario.duration_s
        if options.duration_s is None
        else min(options.duration_s, scenario.duration_s)
    )
    writer = RecordingWriter(
        run_dir,
        scenario_text=scenario_text,
        meta={
            "scenario": scenario.name,
            "seed": seed,
            "duration_s": duration,
            "epoch": scenario.epoch.isoformat(),
            "nations": [nation.code for nation in scenario.nations],
            "variant": options.variant,
            "versions": _versions(),
            "command": " ".join(sys.argv),
        },
    )
    started = time.perf_counter()
    try:
        streams = RandomStreams(seed)
        assembly = build(scenario, streams, seed=seed)
        _static_tables(writer, assembly)
        kernel = EventKernel()
        battles = None
        if options.tracking and scenario.rules_of_engagement:
            battles = _schedule_battle(kernel, writer, scenario, assembly, streams, duration)
        _schedule(kernel, writer, assembly, streams, duration, options, battles)
        kernel.run(duration)
        writer.update_meta(
            exchange=scenario.exchange.mode.value,
            composite={
                str(nation): asdict(composite.statistics)
                for nation, composite in assembly.composites.items()
            },
        )
    except KeyboardInterrupt:
        writer.close("interrupted", wall_time_s=time.perf_counter() - started)
        raise
    except BaseException as error:
        writer.close(
            "failed",
            error=f"{type(error).__name__}: {error}",
            wall_time_s=time.perf_counter() - started,
        )
        raise
    wall = time.perf_counter() - started
    writer.close("complete", wall_time_s=wall)
    digest = Recording(run_dir).content_hash()
    violations = check_recording(run_dir)
    authority = check_engagements(run_dir)
    writer.update_meta(
        recording_hash=digest,
        release_violations=len(violations),
        release_violation_examples=[str(v) for v in violations[:5]],
        authority_violations=len(authority),
        authority_violation_examples=authority[:5],
    )
    return RunResult(
        run_dir=run_dir, seed=seed, duration_s=duration, wall_time_s=wall, recording_hash=digest
    )


class _RecordingSink:
    """Writes the nodes' and the bus's records into the recording's tables."""

    def __init__(self, writer: RecordingWriter, nations: tuple[NationCode, ...]) -> None:
        self._nations = [str(n) for n in nations]
        self._audit = writer.table("audit")
        self._deliveries = writer.table("deliveries")
        self._rejects = writer.table("rejects")
        self._reports = writer.table("track_reports")
        self._links = writer.table("link_events")
        self._warnings = writer.table("warnings")

    def audit(self, records: AuditRecords, kind: str) -> None:
        self._audit.append(audit_columns(records, self._nations, kind))

    def delivered(self, records: DeliveryRecords, kind: str) -> None:
        self._deliveries.append(delivery_columns(records, self._nations, kind))

    def rejected(
        self, time_s: float, node: NationCode, sender: str, reason: RejectReason, detail: str
    ) -> None:
        self._rejects.append(
            {
                "time_s": [time_s],
                "node": [str(node)],
                "link_sender": [sender],
                "reason": [reason.name],
                "detail": [detail],
            }
        )

    def sent(self, reports: TrackReports, recipient: NationCode) -> None:
        self._reports.append(report_columns(reports, str(recipient), self._nations))

    def warned(self, warnings: MissileWarnings, node: NationCode, now_s: float) -> None:
        k = len(warnings)
        self._warnings.append(
            {
                "time_s": np.full(k, float(now_s)),
                "node": [str(node)] * k,
                "originator": [str(warnings.nations[i]) for i in warnings.originator.tolist()],
                "network_track_number": warnings.network_track_number,
                "update_number": warnings.update_number,
                "valid_at_s": warnings.valid_at,
                "launch_time_s": warnings.launch_time_s,
                "launch_lat_deg": warnings.launch_lat_deg,
                "launch_lon_deg": warnings.launch_lon_deg,
                "impact_time_s": warnings.impact_time_s,
                "impact_lat_deg": warnings.impact_lat_deg,
                "impact_lon_deg": warnings.impact_lon_deg,
                "impact_semi_major_m": warnings.impact_semi_major_m,
                "impact_semi_minor_m": warnings.impact_semi_minor_m,
                "impact_orientation_deg": warnings.impact_orientation_deg,
            }
        )

    def link_event(self, event: LinkEvent) -> None:
        d = event.delivery
        self._links.append(
            {
                "time_s": [d.sent_at_s],
                "link": [event.link],
                "sender": [str(event.sender)],
                "receiver": [str(event.receiver)],
                "sequence": [event.sequence],
                "reports": [event.reports],
                "size_bytes": [event.size_bytes],
                "departure_s": [np.nan if d.departure_s is None else d.departure_s],
                "arrival_s": [np.nan if d.arrival_s is None else d.arrival_s],
                "drop_reason": ["" if d.drop_reason is None else d.drop_reason.name],
            }
        )


def _status_listener(
    battles: Battles, nation: NationCode
) -> Callable[[EngagementStatuses, float], None]:
    """Hands the engagement statuses that reach ``nation``'s node to its battle manager."""

    def listen(statuses: EngagementStatuses, now_s: float) -> None:
        battles.on_statuses(nation, statuses, now_s)

    return listen


def _nodes(
    kernel: EventKernel,
    writer: RecordingWriter,
    assembly: Assembly,
    settings: NodeSettings,
    battles: Battles | None = None,
) -> dict[NationCode, Node]:
    """One node per nation, attached to an embedded bus over the run's links."""
    network = assembly.network
    sink = _RecordingSink(writer, network.nations)
    bus = EmbeddedBus(
        kernel,
        network.topology,
        network.links,
        sink.link_event,
        priority=_ARRIVAL_PRIORITY,
    )
    nodes = {}
    for nation in network.nations:
        node = Node(
            nation=nation,
            nations=network.nations,
            tracker=assembly.trackers[nation],
            picture=assembly.pictures[nation],
            policy=network.policy,
            keys=network.keys[nation],
            keyring=network.keyring,
            sensor_labels=network.sensor_labels[nation],
            next_hops=network.next_hops[nation],
            transmit=bus.transmit,
            sink=sink,
            settings=settings,
            composite=assembly.composites.get(nation),
            sensor_directory={o: tuple(labels) for o, labels in network.sensor_labels.items()},
            on_statuses=None if battles is None else _status_listener(battles, nation),
        )
        bus.attach(nation, node.on_message)
        nodes[nation] = node
    return nodes


def _schedule(
    kernel: EventKernel,
    writer: RecordingWriter,
    assembly: Assembly,
    streams: RandomStreams,
    duration_s: float,
    options: RunOptions,
    battles: Battles | None = None,
) -> None:
    truth = assembly.truth
    ids = [str(t) for t in truth.threat_ids]
    cache = _TruthCache(assembly)
    truth_table = writer.table("truth")
    platform_table = writer.table("platforms")
    detection_table = writer.table("detections")
    site_names = [str(site) for site in assembly.sites]
    site_tracks = list(assembly.sites.values())

    def record_truth(time_s: float) -> None:
        truth_table.append(truth_columns(cache.at(time_s), ids, truth.categories))
        platform_table.append(platform_columns(site_names, [t(time_s) for t in site_tracks]))
        if options.progress is not None:
            options.progress(time_s, duration_s)

    track_table = writer.table("local_tracks")
    nodes = _nodes(kernel, writer, assembly, options.node, battles) if options.tracking else {}
    if battles is not None:
        battles.attach_network(
            lambda nation, statuses, now_s: nodes[nation].share_statuses(statuses, now_s)
        )

    def scanner(setup: SensorSetup) -> Callable[[float], None]:
        sensor = setup.sensor
        node = nodes.get(sensor.nation)

        def scan(time_s: float) -> None:
            platform = setup.platform(time_s)
            detections = sensor.observe(cache.at(time_s), platform, setup.rng)
            detection_table.append(detection_columns(detections, ids))
            if node is None:
                return
            if isinstance(sensor, RadarSensor):
                tracks = node.on_scan(detections, lambda p: sensor.covers(p, platform))
                track_table.append(track_columns(tracks))
            else:
                node.on_scan(detections, lambda p: np.zeros(len(p), bool))

        return scan

    kernel.every(
        options.truth_period_s,
        record_truth,
        start_s=0.0,
        until_s=duration_s,
        priority=_TRUTH_PRIORITY,
    )
    for setup in assembly.sensors:
        kernel.every(
            setup.sensor.period_s,
            scanner(setup),
            start_s=setup.phase_s,
            until_s=duration_s,
            priority=_SENSOR_PRIORITY,
        )
    picture_table = writer.table("system_tracks")
    nations = [str(n) for n in assembly.network.nations]
    for nation, node in nodes.items():

        def record_picture(time_s: float, node: Node = node) -> None:
            picture = node.snapshot(time_s)
            picture_table.append(system_track_columns(picture, nations))
            if battles is not None:
                battles.on_picture(node.nation, picture)

        kernel.every(
            options.truth_period_s,
            record_picture,
            start_s=0.0,
            until_s=duration_s,
            priority=_PICTURE_PRIORITY,
        )
        if node.forwards:
            period = options.node.report_period_s
            phase = float(streams.stream(f"report-phase/{nation}").uniform(0.0, period))
            kernel.every(
                period,
                node.on_report_cycle,
                start_s=phase,
                until_s=duration_s,
                priority=_REPORT_PRIORITY,
            )


def _schedule_battle(
    kernel: EventKernel,
    writer: RecordingWriter,
    scenario: schema.Scenario,
    assembly: Assembly,
    streams: RandomStreams,
    duration_s: float,
) -> Battles:
    """Battle managers plan after each picture they need; shots resolve at intercept time."""
    writer.table("defended_assets").append(
        {
            "asset": [a.name for a in scenario.defended_assets],
            "nation": [a.nation for a in scenario.defended_assets],
            "lat_deg": [float(a.lat_deg) for a in scenario.defended_assets],
            "lon_deg": [float(a.lon_deg) for a in scenario.defended_assets],
            "radius_m": [float(a.radius_m) for a in scenario.defended_assets],
            "value": [float(a.value) for a in scenario.defended_assets],
        }
    )

    def record(table: str, row: dict[str, object]) -> None:
        writer.table(table).append({key: [value] for key, value in row.items()})

    battles = Battles(
        scenario,
        assembly.truth,
        assembly.sites,
        assembly.network.nations,
        streams.stream("engagement"),
        record,
    )

    def launch(shot: Shot) -> None:
        def arrive(now_s: float) -> None:
            battles.intercept(shot, now_s)
            delay = float(battles.assessment[shot.nation].delay_s)
            kernel.schedule(
                now_s + delay, lambda t: battles.assess(shot, t), priority=_BATTLE_PRIORITY
            )

        kernel.schedule(shot.intercept_at_s, arrive, priority=_INTERCEPT_PRIORITY)

    def later(time_s: float, action: Callable[[float], None]) -> None:
        kernel.schedule(time_s, action, priority=_BATTLE_PRIORITY)

    battles.attach_world(later, launch)
    battles.record_inventory(0.0)
    for index, line in enumerate(scenario.production):
        interval = 86_400.0 / float(line.rounds_per_day)

        def deliver(now_s: float, index: int = index) -> None:
            battles.deliver(index, now_s)

        kernel.every(
            interval,
            deliver,
            start_s=float(line.start_s) + interval,
            until_s=duration_s,
            priority=_BATTLE_PRIORITY,
        )

    for rules in scenario.rules_of_engagement:
        nation = NationCode(rules.nation)

        def cycle(now_s: float, nation: NationCode = nation) -> None:
            for shot in battles.plan(nation, now_s):
                launch(shot)

        period = float(rules.c2_period_s)
        phase = float(streams.stream(f"c2-phase/{nation}").uniform(0.0, period))
        kernel.every(period, cycle, start_s=phase, until_s=duration_s, priority=_BATTLE_PRIORITY)
    return battles


def summarise(run_dir: Path) -> dict[str, Any]:
    """The summary of a recording as a JSON-ready dictionary (what ``iamd show`` prints).

    ``tracking`` assesses each node's own local tracks, ``picture`` its air picture (system
    tracks, fused from every source it receives), and ``network`` the figures of the
    exchange: commonality, release coverage, warning time, staleness, links, releases and
    rejected messages (``docs/metrics.md``).
    """
    recording = Recording(run_dir)
    figures = detection_summary(
        recording.table("threats"), recording.table("sensors"), recording.table("detections")
    )
    meta = recording.meta
    wall = meta.get("wall_time_s")
    duration = meta.get("duration_s")
    truth = recording.table("truth")
    local_tracks = recording.table("local_tracks")
    system_tracks = recording.table("system_tracks")
    network: dict[str, Any] | None = None
    picture: list[dict[str, Any]] = []
    if system_tracks.num_rows and duration:
        nations = meta.get("nations") or sorted(set(system_tracks["node"].to_pylist()))
        network = network_summary(
            truth=truth,
            threats=recording.table("threats"),
            local_tracks=local_tracks,
            system_tracks=system_tracks,
            audit=recording.table("audit"),
            deliveries=recording.table("deliveries"),
            link_events=recording.table("link_events"),
            rejects=recording.table("rejects"),
            duration_s=float(duration),
            nations=nations,
        ).to_dict()
        picture = network.pop("picture")
        network["warnings"] = [
            asdict(w)
            for w in warning_receipts(recording.table("warnings"), recording.table("threats"))
        ]
    defense = None
    assets = recording.table("defended_assets")
    if assets.num_rows and duration:
        defense = defense_summary(
            recording.table("threats"),
            recording.table("engagements"),
            assets,
            duration_s=float(duration),
            requests=recording.table("requests"),
            inventory=recording.table("inventory"),
        ).to_dict()
        chains = kill_chains(
            threats=recording.table("threats"),
            detections=recording.table("detections"),
            system_tracks=system_tracks,
            truth=truth,
            engagements=recording.table("engagements"),
            assessments=recording.table("assessments"),
            nations=meta.get("nations") or sorted(set(system_tracks["node"].to_pylist())),
            duration_s=float(duration),
            requests=recording.table("requests"),
        ).to_dict()
        defense["kill_chain"] = {"intervals": chains["intervals"], "outcomes": chains["outcomes"]}
        defense["kill_chains"] = chains["threats"]
    return {
        "run_dir": str(run_dir),
        "scenario": meta.get("scenario"),
        "variant": meta.get("variant"),
        "status": recording.status,
        "seed": meta.get("seed"),
        "duration_s": duration,
        "wall_time_s": wall,
        "speedup": (duration / wall) if wall and duration else None,
        "recording_hash": meta.get("recording_hash"),
        "release_violations": meta.get("release_violations"),
        "authority_violations": meta.get("authority_violations"),
        "rows": meta.get("rows"),
        "detection": figures.to_dict(),
        "tracking": [node.to_dict() for node in tracking_summaries(truth, local_tracks)],
        "picture": picture,
        "network": network,
        "defense": defense,
    }
