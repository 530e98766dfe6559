"""A nation's node: its tracker, its air picture, and its two gates onto the bus.

One :class:`Node` per nation runs the pipeline of the design's data flow::

    detections ─► tracker ─► local tracks ─► air picture ◄─ accepted reports ◄─ inbound gate
                                                 │                               (verify,
                               reports due ◄─────┘                                decode,
                                   │  labels from each track's sensors             replay,
                                   ▼                                               guard)
                             outbound guard ─► encode ─► sign ─► bus

What leaves
-----------
Every ``report_period_s`` the node asks its picture which of its *own* local tracks it holds
reporting responsibility for (:meth:`~iamd.fusion.AirPicture.reports_due`) and reports those
that changed since they were last sent, or were last sent ``refresh_period_s`` ago (so that
receivers keep counting the node as the reporter), or ended. Each report carries the label
of the sensors that built the track: the highest classification, the intersection of their
REL TO lists and the union of their caveats (a track is as sensitive as its most sensitive
source); a track no sensor has updated yet is labelled for its own nation only. The sensor
id on the wire is the node's small number (1, 2, …) of the sensor that updated the track
last.

Each message goes to one next hop, chosen by the routes of the topology (computed once per
run, relaying only where the originator's agreements reach the relay and the destination),
and is decided item by item by the :class:`~iamd.network.OutboundGuard` for that next hop;
every decision is audited. Items whose agreement imposes a delay wait in the node and leave
with the first report cycle after their release time.

What enters
-----------
A message from the bus is verified against the sender's public key
(:meth:`~iamd.network.KeyRing.verify`), decoded strictly (:func:`~iamd.network.decode`),
refused when its sequence number is not above the last accepted from that sender (a
replay), and then checked item by item by the :class:`~iamd.network.InboundGuard`. A
rejected message is counted and recorded with its reason, and never raises. Accepted items
enter the picture, and those whose routes pass through this node go on to the next hops, by
the same outbound guard: a relay has no rights of its own over other nations' data.

The node holds no reference to another node (design rule 4): it sends through a ``transmit``
callable and receives through :meth:`Node.on_message`, so the same object runs on the
embedded bus or on a real transport.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode, SensorId
from iamd.core.typing import FloatArray, IntArray
from iamd.fusion import AirPicture
from iamd.messages import (
    Classification,
    Detections,
    EngagementStatuses,
    LocalTracks,
    MeasurementKind,
    MeasurementReports,
    MissileWarnings,
    ThreatCategory,
    TrackReports,
)
from iamd.messages.detections import FALSE_ALARM
from iamd.messages.picture import ReportsDue, SystemTracks
from iamd.messages.reports import (
    MAX_NATIONS,
    MaskArray,
    ReleasabilityLabel,
    rel_to_mask,
    remap_rel_to,
)
from iamd.messages.tracks import TrackStatus
from iamd.network import (
    AuditRecords,
    DeliveryRecords,
    InboundGuard,
    KeyRing,
    LabelledTracks,
    NodeKeys,
    OutboundGuard,
    RejectReason,
    ReleasePolicy,
    WireError,
    concatenate_reports,
    decode,
    encode,
    labelled_measurements,
    labelled_statuses,
    labelled_tracks,
    labelled_warnings,
    read_header,
    released_reports,
    take_reports,
)
from iamd.tracking.composite import CompositeTracker
from iamd.tracking.impact import estimate_launch
from iamd.tracking.tracker import Coverage, RadarTracker

_Unsanitised = TypeVar("_Unsanitised", MeasurementReports, EngagementStatuses, MissileWarnings)
"""Batches that travel without sanitisation: measurements, engagement statuses, warnings."""

Transmit = Callable[[NationCode, NationCode, bytes, int, float], None]
"""``transmit(sender, next_hop, signed_bytes, n_reports, now_s)``: hand a message to the bus."""


class NodeSink(Protocol):
    """Where a node's records go (the run's recording, or a test's lists)."""

    def audit(self, records: AuditRecords, kind: str) -> None:
        """Every outbound release decision; ``kind`` of item: track, measurement, engagement."""

    def delivered(self, records: DeliveryRecords, kind: str) -> None:
        """Every item that arrived, accepted or not (``kind`` as for :meth:`audit`)."""

    def rejected(
        self, time_s: float, node: NationCode, sender: str, reason: RejectReason, detail: str
    ) -> None:
        """A whole message refused by the inbound gate (``sender`` as claimed, or "")."""

    def sent(self, reports: TrackReports, recipient: NationCode) -> None:
        """A message of reports handed to the bus for ``recipient``."""

    def warned(self, warnings: MissileWarnings, node: NationCode, now_s: float) -> None:
        """Missile warnings that ``node`` accepted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSettings:
    """How often a node reports, and how it cuts its messages.

    Attributes
    ----------
    report_period_s : float
        Interval between report cycles, s (> 0).
    refresh_period_s : float
        A reported track that has not changed is sent again after this long, s (> 0); it
        must stay below the receivers' ``reporter_timeout_s`` so that they keep counting this
        node as the reporter.
    max_reports_per_message : int
        Largest message, in reports (≥ 1); a longer batch goes as several messages (a report
        is 432 bytes on the wire, so 500 make about 216 kB).
    """

    report_period_s: float = 2.0
    refresh_period_s: float = 8.0
    max_reports_per_message: int = 500

    def __post_init__(self) -> None:
        for name in ("report_period_s", "refresh_period_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ConfigurationError(f"NodeSettings: {name} must be > 0 (got {value!r})")
        if self.max_reports_per_message < 1:
            raise ConfigurationError(
                "NodeSettings: max_reports_per_message must be ≥ 1 "
                f"(got {self.max_reports_per_message!r})"
            )


@dataclass(frozen=True, slots=True)
class _SensorLabels:
    """Each own sensor's label as arrays over the run's nation table (bit i ↔ sensor i)."""

    index: Mapping[SensorId, int]
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray

    @classmethod
    def of(
        cls,
        labels: Mapping[SensorId, ReleasabilityLabel],
        nations: Sequence[NationCode],
    ) -> _SensorLabels:
        names = list(labels)
        if len(names) > MAX_NATIONS:
            raise ConfigurationError(
                f"a node tracks with at most {MAX_NATIONS} sensors (got {len(names)})"
            )
        return cls(
            index={name: i for i, name in enumerate(names)},
            classification=np.array([int(labels[n].classification) for n in names], dtype=np.int64),
            rel_to=np.array(
                [rel_to_mask(nations, labels[n].rel_to) for n in names], dtype=np.uint64
            ),
            caveats=np.array([int(labels[n].caveats) for n in names], dtype=np.int64),
        )


@dataclass(slots=True)
class _Held:
    """Released items waiting for the release time their agreement imposes."""

    reports: list[TrackReports] = field(default_factory=list)
    release_at: list[FloatArray] = field(default_factory=list)


class Node:
    """The software of one nation on the network (module notes).

    Parameters
    ----------
    nation : NationCode
        The node's nation.
    nations : sequence of NationCode
        The run's nation table, used as the nation table of every message the node builds.
    tracker : RadarTracker
        The node's tracker, fed by its own sensors.
    picture : AirPicture
        The node's air picture.
    policy : ReleasePolicy
        The run's agreements and clearances (the node's copy, for both gates).
    keys : NodeKeys
        The node's signing keys.
    keyring : KeyRing
        Public keys of the nodes it accepts messages from.
    sensor_labels : mapping of SensorId to ReleasabilityLabel
        Label of the tracks made from each of the node's sensors.
    next_hops : mapping of NationCode to sequence of NationCode
        For each originator (this node included), the neighbours its data goes on to from
        here.
    transmit : Transmit
        Hands a signed message to the bus.
    sink : NodeSink
        Where the node's records go.
    settings : NodeSettings
        Report cycle and message size.
    composite : CompositeTracker or None
        Given, the node runs the measurement-sharing architecture (module notes): it shares
        its radar scans, and its picture is this composite tracker's.
    sensor_directory : mapping of NationCode to sequence of SensorId, or None
        Every nation's sensors in the order of their small numbers (1, 2, …), to name the
        radar of a received measurement; required with ``composite``.
    on_statuses : callable or None
        ``on_statuses(statuses, now_s)``: where accepted engagement statuses from other
        nations go (the nation's battle manager).
    """

    def __init__(
        self,
        *,
        nation: NationCode,
        nations: Sequence[NationCode],
        tracker: RadarTracker,
        picture: AirPicture,
        policy: ReleasePolicy,
        keys: NodeKeys,
        keyring: KeyRing,
        sensor_labels: Mapping[SensorId, ReleasabilityLabel],
        next_hops: Mapping[NationCode, Sequence[NationCode]],
        transmit: Transmit,
        sink: NodeSink,
        settings: NodeSettings | None = None,
        composite: CompositeTracker | None = None,
        sensor_directory: Mapping[NationCode, Sequence[SensorId]] | None = None,
        on_statuses: Callable[[EngagementStatuses, float], None] | None = None,
    ) -> None:
        if keys.node != nation or picture.node != nation:
            raise ConfigurationError(f"node {nation}: keys and picture must be the node's own")
        self.nation = nation
        self.nations = tuple(nations)
        if nation not in self.nations:
            raise ConfigurationError(f"node {nation} is not in the run's nations {self.nations}")
        self.tracker = tracker
        self.picture = picture
        self.settings = settings or NodeSettings()
        self._own = self.nations.index(nation)
        self._outbound = OutboundGuard(node=nation, policy=policy)
        self._inbound = InboundGuard(node=nation, policy=policy)
        self._keys = keys
        self._keyring = keyring
        self._labels = _SensorLabels.of(sensor_labels, self.nations)
        self._next_hops = {o: tuple(hops) for o, hops in next_hops.items() if hops}
        self._transmit = transmit
        self._sink = sink
        self._sequence = 0
        self._last_sequence: dict[NationCode, int] = {}
        self._provenance: dict[int, int] = {}
        """Local track number → bit mask of the own sensors that updated it."""
        self._last_sensor: dict[int, int] = {}
        """Local track number → the node's number (1, 2, …) of the sensor that updated it last."""
        self._sent: dict[int, tuple[float, float]] = {}
        """Local track number → (valid time, send time) of its latest report."""
        self._held: dict[NationCode, _Held] = {}
        self.composite = composite
        self._on_statuses = on_statuses
        self._warned: dict[int, tuple[int, float]] = {}
        """Local track number → (warnings issued, time of the latest)."""
        self._directory = {o: tuple(names) for o, names in (sensor_directory or {}).items()}
        if composite is not None and composite.node != nation:
            raise ConfigurationError(f"node {nation}: the composite tracker must be the node's own")
        self.rejected: dict[RejectReason, int] = {}
        """Messages refused whole by the inbound gate, by reason."""

    # --- the node's own sensors ------------------------------------------------------------

    def on_scan(self, detections: Detections, coverage: Coverage) -> LocalTracks:
        """Track one scan or frame of an own sensor and put the result in the picture."""
        tracks = self.tracker.step(detections, coverage)
        radar = detections.kind == MeasurementKind.RADAR_RAE
        updated_by = detections.sensor if radar else None
        if self.composite is None:
            self.on_local_tracks(tracks, updated_by)
        elif radar:
            self._share_scan(detections, self.tracker.detection_tracks)
        return tracks

    def on_local_tracks(self, tracks: LocalTracks, sensor: SensorId | None) -> None:
        """Take in own local tracks of one step; those updated at it were updated by ``sensor``.

        Rows whose ``updated_at`` equals the step time add ``sensor`` to the sensors their
        label is made from (module notes); ``None`` (an infrared frame, which only cues)
        adds nothing.
        """
        if sensor is not None and len(tracks):
            index = self._labels.index.get(sensor)
            if index is not None:
                updated = tracks.updated_at == tracks.valid_at
                bit = 1 << index
                for number in tracks.track_number[updated].tolist():
                    self._provenance[number] = self._provenance.get(number, 0) | bit
                    self._last_sensor[number] = index + 1
        self.picture.ingest_local(tracks)

    def snapshot(self, now_s: float) -> SystemTracks:
        """The node's air picture at ``now_s`` (the composite one in measurement sharing)."""
        if self.composite is not None:
            return self.composite.snapshot(now_s)
        return self.picture.snapshot(now_s)

    @property
    def forwards(self) -> bool:
        """Whether the node sends anything at all (it has a next hop for some data)."""
        return bool(self._next_hops)

    # --- outbound ---------------------------------------------------------------------------

    def on_report_cycle(self, now_s: float) -> None:
        """Report the own tracks the node is responsible for, and flush held items.

        In measurement sharing, scans leave as they are made and nothing is held: the cycle
        has nothing to do.
        """
        if self.composite is not None:
            return
        due = self.picture.reports_due(now_s)
        hops = self._next_hops.get(self.nation, ())
        reports = self._own_reports(due, now_s) if hops else None
        for hop in sorted(set(hops) | set(self._held)):
            self._send(reports if hop in hops else None, hop, now_s)
        warnings = self._own_warnings(due, now_s) if hops else None
        if warnings is not None:
            for hop in hops:
                self._send_unsanitised(warnings, hop, now_s)

    def _own_warnings(self, due: ReportsDue, now_s: float) -> MissileWarnings | None:
        """Missile warnings for the own ballistic tracks with an impact prediction.

        A warning goes out for a missile first seen with a prediction, then again every
        ``refresh_period_s`` with its update number raised by one. The launch point and
        time are the track flown back to the ground (:func:`~iamd.tracking.estimate_launch`).
        """
        ballistic = (
            (due.category == ThreatCategory.BALLISTIC_MISSILE)
            & np.isfinite(due.impact_time_s)
            & (due.status != TrackStatus.DROPPED)
        )
        rows = []
        for i in np.flatnonzero(ballistic).tolist():
            number = int(due.local_track_number[i])
            last = self._warned.get(number)
            if last is None or now_s - last[1] >= self.settings.refresh_period_s - 1e-9:
                rows.append(i)
        if not rows:
            return None
        index = np.array(rows, np.int64)
        launch = estimate_launch(
            due.state[index], self.tracker.config.impact_model, time_s=due.valid_at[index]
        )
        found = np.isfinite(launch.launch_time_s)
        if not found.any():
            return None
        index = index[found]
        local = due.local_track_number[index]
        updates = []
        for number in local.tolist():
            count = self._warned.get(number, (0, 0.0))[0] + 1
            self._warned[number] = (count, now_s)
            updates.append(count)
        classification, rel_to, caveats = self._label_tracks(local)
        k = index.size
        return MissileWarnings(
            sender=self.nation,
            sent_at=float(now_s),
            sequence=0,
            nations=self.nations,
            network_track_number=due.network_track_number[index],
            valid_at=due.valid_at[index],
            launch_time_s=launch.launch_time_s[found],
            launch_lat_deg=launch.launch_lat_deg[found],
            launch_lon_deg=launch.launch_lon_deg[found],
            impact_time_s=due.impact_time_s[index],
            impact_lat_deg=due.impact_lat_deg[index],
            impact_lon_deg=due.impact_lon_deg[index],
            impact_semi_major_m=due.impact_semi_major_m[index],
            impact_semi_minor_m=due.impact_semi_minor_m[index],
            impact_orientation_deg=due.impact_orientation_deg[index],
            update_number=np.array(updates, np.int64),
            category=due.category[index],
            originator=np.full(k, self._own, dtype=np.int64),
            classification=classification,
            rel_to=rel_to,
            caveats=caveats,
        )

    def _own_reports(self, due: ReportsDue, now_s: float) -> TrackReports | None:
        """The due tracks that changed, are due a refresh or ended, as one labelled batch."""
        if not len(due):
            return None
        refresh = self.settings.refresh_period_s
        keep = np.zeros(len(due), dtype=bool)
        numbers = due.local_track_number.tolist()
        for i, (number, valid, status) in enumerate(
            zip(numbers, due.valid_at.tolist(), due.status.tolist(), strict=True)
        ):
            last = self._sent.get(number)
            keep[i] = (
                last is None
                or status == TrackStatus.DROPPED
                or valid > last[0]
                or now_s - last[1] >= refresh - 1e-9
            )
            if keep[i]:
                self._sent[number] = (valid, now_s)
        rows = np.flatnonzero(keep)
        if not rows.size:
            return None
        local = due.local_track_number[rows]
        classification, rel_to, caveats = self._label_tracks(local)
        k = rows.size
        return TrackReports(
            sender=self.nation,
            sent_at=float(now_s),
            sequence=0,
            nations=self.nations,
            network_track_number=due.network_track_number[rows],
            originator=np.full(k, self._own, dtype=np.int64),
            reporting_node=np.full(k, self._own, dtype=np.int64),
            local_track_number=local,
            valid_at=due.valid_at[rows],
            state=due.state[rows],
            covariance=due.covariance[rows],
            quality=due.quality[rows],
            status=due.status[rows],
            category=due.category[rows],
            impact_time_s=due.impact_time_s[rows],
            impact_lat_deg=due.impact_lat_deg[rows],
            impact_lon_deg=due.impact_lon_deg[rows],
            impact_semi_major_m=due.impact_semi_major_m[rows],
            impact_semi_minor_m=due.impact_semi_minor_m[rows],
            impact_orientation_deg=due.impact_orientation_deg[rows],
            sensor_id=np.array([self._last_sensor.get(n, 0) for n in local.tolist()], np.int64),
            classification=classification,
            rel_to=rel_to,
            caveats=caveats,
        )

    def _label_tracks(self, local: IntArray) -> tuple[IntArray, MaskArray, IntArray]:
        """Combined label of own local tracks, from the sensors that updated them."""
        masks = np.array([self._provenance.get(n, 0) for n in local.tolist()], dtype=np.int64)
        return self._label(masks)

    def _label(self, masks: IntArray) -> tuple[IntArray, MaskArray, IntArray]:
        """Combined label of tracks built from the sensors in ``masks`` (module notes)."""
        k = masks.size
        labels = self._labels
        classification = np.zeros(k, dtype=np.int64)
        rel_to = np.full(k, ~np.uint64(0), dtype=np.uint64)
        caveats = np.zeros(k, dtype=np.int64)
        for i in range(labels.classification.size):
            has = ((masks >> i) & 1).astype(bool)
            classification = np.where(
                has, np.maximum(classification, labels.classification[i]), classification
            )
            rel_to = np.where(has, rel_to & labels.rel_to[i], rel_to)
            caveats = np.where(has, caveats | labels.caveats[i], caveats)
        unknown = masks == 0
        own_only = np.uint64(1 << self._own)
        classification[unknown] = int(Classification.TOP_SECRET)
        rel_to = np.where(unknown, own_only, rel_to & np.uint64((1 << len(self.nations)) - 1))
        return classification, rel_to.astype(np.uint64), caveats

    def _send(self, reports: TrackReports | None, hop: NationCode, now_s: float) -> None:
        """Guard ``reports`` for ``hop``, hold what must wait, send the rest with held items."""
        parts: list[TrackReports] = []
        if reports is not None and len(reports):
            release = self._outbound.release(labelled_tracks(reports), recipient=hop, now_s=now_s)
            self._sink.audit(release.audit, "track")
            if release.index.size:
                out = released_reports(reports, release)
                later = release.release_at_s > now_s
                if later.any():
                    held = self._held.setdefault(hop, _Held())
                    held.reports.append(take_reports(out, later))
                    held.release_at.append(release.release_at_s[later])
                    out = take_reports(out, ~later)
                if len(out):
                    parts.append(out)
        waiting = self._held.get(hop)
        if waiting is not None:
            still: _Held = _Held()
            for batch, release_at in zip(waiting.reports, waiting.release_at, strict=True):
                ready = release_at <= now_s
                if ready.any():
                    parts.append(take_reports(batch, ready))
                if not ready.all():
                    still.reports.append(take_reports(batch, ~ready))
                    still.release_at.append(release_at[~ready])
            if still.reports:
                self._held[hop] = still
            else:
                del self._held[hop]
        if not parts:
            return
        parts = [_renation(part, parts[0].nations) for part in parts]
        message = concatenate_reports(parts)
        size = self.settings.max_reports_per_message
        for start in range(0, len(message), size):
            chunk = take_reports(message, np.arange(start, min(start + size, len(message))))
            chunk = replace(
                chunk, sender=self.nation, sent_at=float(now_s), sequence=self._sequence
            )
            self._sequence += 1
            signed = self._keys.sign(encode(chunk))
            self._sink.sent(chunk, hop)
            self._transmit(self.nation, hop, signed, len(chunk), now_s)

    def _share_scan(self, detections: Detections, local_track_number: IntArray) -> None:
        """Queue an own radar scan for the composite tracker and send it to the next hops."""
        assert self.composite is not None
        index = self._labels.index.get(detections.sensor)
        if index is None:
            raise ConfigurationError(
                f"node {self.nation}: sensor {detections.sensor} has no label in this node"
            )
        self.composite.add(
            detections,
            originator=self.nation,
            sensor_number=index + 1,
            local_track_number=local_track_number,
        )
        hops = self._next_hops.get(self.nation, ())
        if not hops:
            return
        batch = _measurement_batch(
            detections,
            local_track_number,
            nations=self.nations,
            originator=self._own,
            sensor_number=index + 1,
            classification=int(self._labels.classification[index]),
            rel_to=self._labels.rel_to[index] & np.uint64((1 << len(self.nations)) - 1),
            caveats=int(self._labels.caveats[index]),
        )
        for hop in hops:
            self._send_measurements(batch, hop, detections.valid_at)

    def share_statuses(self, statuses: EngagementStatuses, now_s: float) -> None:
        """Send the nation's engagement statuses to every next hop of its own data.

        Each hop's guard decides item by item under the agreements, like any other data;
        nothing is sanitised (there is nothing to coarsen).
        """
        for hop in self._next_hops.get(self.nation, ()):
            self._send_unsanitised(statuses, hop, now_s)

    def _send_measurements(self, batch: MeasurementReports, hop: NationCode, now_s: float) -> None:
        """Guard a measurement batch for ``hop`` (never sanitised) and send what it releases."""
        self._send_unsanitised(batch, hop, now_s)

    def _send_unsanitised(self, batch: _Unsanitised, hop: NationCode, now_s: float) -> None:
        """Guard a batch that cannot be sanitised for ``hop``, and send what it releases."""
        view, kind = _unsanitisable_view(batch)
        release = self._outbound.release(view, recipient=hop, now_s=now_s, sanitisable=False)
        self._sink.audit(release.audit, kind)
        if not release.index.size:
            return
        out = take_reports(batch, release.index)
        size = self.settings.max_reports_per_message
        for start in range(0, len(out), size):
            chunk = take_reports(out, np.arange(start, min(start + size, len(out))))
            chunk = replace(
                chunk, sender=self.nation, sent_at=float(now_s), sequence=self._sequence
            )
            self._sequence += 1
            self._transmit(self.nation, hop, self._keys.sign(encode(chunk)), len(chunk), now_s)

    # --- inbound ----------------------------------------------------------------------------

    def on_message(self, now_s: float, data: bytes) -> None:
        """Take in one signed message from the bus (never raises on bad input)."""
        try:
            message = decode(self._keyring.verify(data))
        except WireError as error:
            self._reject(now_s, _claimed_sender(data), error.reason, str(error))
            return
        sender = message.sender
        last = self._last_sequence.get(sender)
        if last is not None and message.sequence <= last:
            self._reject(
                now_s,
                sender,
                RejectReason.REPLAYED,
                f"sequence {message.sequence} from {sender} is not above {last}",
            )
            return
        self._last_sequence[sender] = message.sequence
        if isinstance(message, MeasurementReports):
            self._on_measurements(message, sender, now_s)
            return
        if isinstance(message, EngagementStatuses):
            self._on_statuses_message(message, sender, now_s)
            return
        if isinstance(message, MissileWarnings):
            self._on_warnings(message, sender, now_s)
            return
        if not isinstance(message, TrackReports):
            return  # missile warnings and engagement status have no consumer yet
        acceptance = self._inbound.accept(labelled_tracks(message), sender=sender, now_s=now_s)
        self._sink.delivered(acceptance.delivered, "track")
        accepted = take_reports(message, acceptance.accepted)
        if not len(accepted):
            return
        self.picture.ingest_remote(accepted)
        self._forward(accepted, now_s)

    def _on_measurements(
        self, message: MeasurementReports, sender: NationCode, now_s: float
    ) -> None:
        """Check received measurements, queue the accepted scans, relay them on."""
        accepted = self._accept_unsanitised(message, sender, now_s)
        if accepted is None:
            return
        if self.composite is not None:
            for detections, originator, number, local in self._scans_of(accepted):
                self.composite.add(
                    detections,
                    originator=originator,
                    sensor_number=number,
                    local_track_number=local,
                )
        self._relay_unsanitised(accepted, now_s)

    def _on_statuses_message(
        self, message: EngagementStatuses, sender: NationCode, now_s: float
    ) -> None:
        """Check received engagement statuses, hand the accepted ones on, relay them."""
        accepted = self._accept_unsanitised(message, sender, now_s)
        if accepted is None:
            return
        if self._on_statuses is not None:
            self._on_statuses(accepted, now_s)
        self._relay_unsanitised(accepted, now_s)

    def _on_warnings(self, message: MissileWarnings, sender: NationCode, now_s: float) -> None:
        """Check received missile warnings, record the accepted ones, relay them."""
        accepted = self._accept_unsanitised(message, sender, now_s)
        if accepted is None:
            return
        self._sink.warned(accepted, self.nation, now_s)
        self._relay_unsanitised(accepted, now_s)

    def _accept_unsanitised(
        self, message: _Unsanitised, sender: NationCode, now_s: float
    ) -> _Unsanitised | None:
        """The accepted items of a batch that is never sanitised, or None.

        The inbound guard's verdict on every item is recorded.
        """
        view, kind = _unsanitisable_view(message)
        acceptance = self._inbound.accept(view, sender=sender, now_s=now_s, sanitisable=False)
        self._sink.delivered(acceptance.delivered, kind)
        accepted = take_reports(message, acceptance.accepted)
        return accepted if len(accepted) else None

    def _relay_unsanitised(self, accepted: _Unsanitised, now_s: float) -> None:
        """Pass other nations' accepted items on along their originators' routes."""
        originators = [accepted.nations[i] for i in accepted.originator.tolist()]
        by_hop: dict[NationCode, list[int]] = {}
        for row, originator in enumerate(originators):
            if originator != self.nation:
                for hop in self._next_hops.get(originator, ()):
                    by_hop.setdefault(hop, []).append(row)
        for hop in sorted(by_hop):
            self._send_unsanitised(take_reports(accepted, np.array(by_hop[hop])), hop, now_s)

    def _scans_of(
        self, batch: MeasurementReports
    ) -> list[tuple[Detections, NationCode, int, IntArray]]:
        """The scans in an accepted batch, as detections of the named radars.

        A scan whose radar this node does not know is skipped: its coverage and position
        frame would be guesses.
        """
        scans = []
        keys = np.column_stack([batch.originator, batch.sensor_id, batch.valid_at.view(np.int64)])
        _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        for g in np.argsort(first):
            rows = np.flatnonzero(group.reshape(-1) == g)
            row = rows[0]
            originator = batch.nations[int(batch.originator[row])]
            number = int(batch.sensor_id[row])
            sensors = self._directory.get(originator, ())
            if not 1 <= number <= len(sensors):
                continue
            real = rows[batch.scan_size[rows] > 0]
            scans.append(
                (
                    Detections(
                        sensor=sensors[number - 1],
                        nation=originator,
                        kind=MeasurementKind.RADAR_RAE,
                        valid_at=float(batch.valid_at[row]),
                        sensor_position_ecef_m=batch.sensor_position[row].copy(),
                        sensor_lat_deg=float(batch.sensor_lat_deg[row]),
                        sensor_lon_deg=float(batch.sensor_lon_deg[row]),
                        measurements=batch.measurement[real],
                        covariances=batch.measurement_covariance[real],
                        truth_index=np.full(real.size, FALSE_ALARM, np.int64),
                        snr_db=np.full(real.size, np.nan),
                    ),
                    originator,
                    number,
                    batch.local_track_number[real],
                )
            )
        return scans

    def _forward(self, reports: TrackReports, now_s: float) -> None:
        originators = [reports.nations[i] for i in reports.originator.tolist()]
        by_hop: dict[NationCode, list[int]] = {}
        for row, originator in enumerate(originators):
            for hop in self._next_hops.get(originator, ()):
                if originator != self.nation:
                    by_hop.setdefault(hop, []).append(row)
        for hop in sorted(by_hop):
            self._send(take_reports(reports, np.array(by_hop[hop])), hop, now_s)

    def _reject(self, now_s: float, sender: str, reason: RejectReason, detail: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        self._sink.rejected(now_s, self.nation, sender, reason, detail)


def _renation(reports: TrackReports, nations: tuple[NationCode, ...]) -> TrackReports:
    """``reports`` re-expressed over another nation table holding all of its nations."""
    if reports.nations == nations:
        return reports
    index = np.array([nations.index(code) for code in reports.nations], dtype=np.int64)
    return replace(
        reports,
        nations=nations,
        originator=index[reports.originator],
        reporting_node=index[reports.reporting_node],
        rel_to=remap_rel_to(reports.rel_to, reports.nations, nations),
    )


def _unsanitisable_view(
    batch: MeasurementReports | EngagementStatuses | MissileWarnings,
) -> tuple[LabelledTracks, str]:
    """The guards' view of a batch that is never sanitised, and its kind for the records."""
    if isinstance(batch, MeasurementReports):
        return labelled_measurements(batch), "measurement"
    if isinstance(batch, MissileWarnings):
        return labelled_warnings(batch), "warning"
    return labelled_statuses(batch), "engagement"


def _measurement_batch(
    detections: Detections,
    local_track_number: IntArray,
    *,
    nations: tuple[NationCode, ...],
    originator: int,
    sensor_number: int,
    classification: int,
    rel_to: np.uint64,
    caveats: int,
) -> MeasurementReports:
    """One own radar scan as a measurement batch (a marker item when it detected nothing)."""
    k = len(detections)
    rows = max(k, 1)
    measurement = detections.measurements if k else np.zeros((1, 3))
    covariance = detections.covariances if k else np.eye(3)[None]
    return MeasurementReports(
        sender=nations[originator],
        sent_at=float(detections.valid_at),
        sequence=0,
        nations=nations,
        originator=np.full(rows, originator, np.int64),
        sensor_id=np.full(rows, sensor_number, np.int64),
        local_track_number=np.asarray(local_track_number, np.int64) if k else np.zeros(1, np.int64),
        valid_at=np.full(rows, float(detections.valid_at)),
        measurement=np.asarray(measurement, np.float64),
        measurement_covariance=np.asarray(covariance, np.float64),
        sensor_position=np.tile(detections.sensor_position_ecef_m, (rows, 1)),
        sensor_lat_deg=np.full(rows, float(detections.sensor_lat_deg)),
        sensor_lon_deg=np.full(rows, float(detections.sensor_lon_deg)),
        scan_size=np.full(rows, k, np.int64),
        classification=np.full(rows, classification, np.int64),
        rel_to=np.full(rows, rel_to, np.uint64),
        caveats=np.full(rows, caveats, np.int64),
    )


def _claimed_sender(data: bytes) -> str:
    """The sender a rejected message claims, or "" when its header cannot be read."""
    try:
        return str(read_header(data).sender)
    except WireError:
        return ""


__all__ = ["Node", "NodeSettings", "NodeSink", "Transmit"]
