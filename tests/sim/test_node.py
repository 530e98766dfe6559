"""A nation's node on its own: what leaves it (labels, guard, sanitising, relaying) and what
it lets in (signature, wire format, replay, guard), with hand-made local tracks and a
hand-carried "bus" (a list of messages delivered by the test)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamd.core.ids import NationCode, SensorId
from iamd.fusion import AirPicture
from iamd.geo import geodetic_to_ecef
from iamd.messages import (
    Classification,
    Detections,
    EngagementState,
    EngagementStatuses,
    LocalTracks,
    MeasurementKind,
    MissileWarnings,
    ReleasabilityLabel,
    TrackReports,
)
from iamd.messages.tracks import TrackStatus
from iamd.network import (
    AuditRecords,
    Decision,
    DeliveryRecords,
    DenyReason,
    KeyRing,
    LinkConfig,
    NodeKeys,
    RejectReason,
    ReleasePolicy,
    Sanitisation,
    SharingAgreement,
    Topology,
    check_releases,
    decode,
)
from iamd.sim.build import next_hops, picture_config, tracker_config
from iamd.sim.node import Node, NodeSettings
from iamd.tracking.composite import CompositeTracker
from iamd.tracking.tracker import Coverage, RadarTracker

USA, JPN, AUS = NationCode("USA"), NationCode("JPN"), NationCode("AUS")
NATIONS = (USA, JPN, AUS)
SECRET = Classification.SECRET


@dataclass
class Sink:
    audits: list[AuditRecords] = field(default_factory=list)
    deliveries: list[DeliveryRecords] = field(default_factory=list)
    rejects: list[tuple[str, RejectReason]] = field(default_factory=list)
    sent_batches: list[tuple[TrackReports, NationCode]] = field(default_factory=list)
    warnings: list[MissileWarnings] = field(default_factory=list)

    def audit(self, records: AuditRecords, kind: str) -> None:
        self.audits.append(records)

    def delivered(self, records: DeliveryRecords, kind: str) -> None:
        self.deliveries.append(records)

    def rejected(
        self, time_s: float, node: NationCode, sender: str, reason: RejectReason, detail: str
    ) -> None:
        self.rejects.append((sender, reason))

    def sent(self, reports: TrackReports, recipient: NationCode) -> None:
        self.sent_batches.append((reports, recipient))

    def warned(self, warnings: MissileWarnings, node: NationCode, now_s: float) -> None:
        self.warnings.append(warnings)


@dataclass
class Wire:
    """Messages handed to the 'bus', delivered when the test says so."""

    queue: list[tuple[NationCode, NationCode, bytes]] = field(default_factory=list)

    def transmit(
        self, sender: NationCode, hop: NationCode, data: bytes, n: int, now_s: float
    ) -> None:
        self.queue.append((sender, hop, data))

    def deliver(self, nodes: dict[NationCode, Node], now_s: float) -> None:
        """Deliver what is queued now; messages sent in reaction wait for the next call."""
        batch, self.queue = self.queue, []
        for _sender, hop, data in batch:
            nodes[hop].on_message(now_s, data)


def sensor_label(owner: NationCode, rel_to: set[NationCode]) -> ReleasabilityLabel:
    return ReleasabilityLabel(
        classification=SECRET, rel_to=frozenset(rel_to | {owner}), originator=owner
    )


def network(
    agreements: list[SharingAgreement],
    labels: dict[NationCode, ReleasabilityLabel],
    *,
    links: list[tuple[NationCode, NationCode]] | None = None,
    settings: NodeSettings | None = None,
    measurements: bool = False,
) -> tuple[dict[NationCode, Node], Wire, dict[NationCode, Sink]]:
    """Three nodes on a hand-carried bus; with ``measurements``, sharing radar scans (each
    with a composite tracker that does not wait)."""
    policy = ReleasePolicy(
        agreements=tuple(agreements), clearances=dict.fromkeys(NATIONS, int(SECRET))
    )
    pairs = links if links is not None else [(USA, JPN), (USA, AUS), (JPN, AUS)]
    topology = Topology([LinkConfig(a=a, b=b) for a, b in pairs], nodes=NATIONS)
    hops = next_hops(topology, policy, NATIONS)
    keys = {n: NodeKeys.derive(1, n) for n in NATIONS}
    ring = KeyRing.of(keys.values())
    wire = Wire()
    sinks = {n: Sink() for n in NATIONS}
    plan = picture_config(NATIONS)
    nodes = {
        n: Node(
            nation=n,
            nations=NATIONS,
            tracker=RadarTracker(n, tracker_config()),
            picture=AirPicture(n, plan),
            policy=policy,
            keys=keys[n],
            keyring=ring,
            sensor_labels={SensorId(f"{n}-R"): labels[n]} if n in labels else {},
            next_hops=hops[n],
            transmit=wire.transmit,
            sink=sinks[n],
            settings=settings,
            composite=CompositeTracker(
                n, NATIONS, tracker_config(), coverage_of=everywhere, delay_s=0.0
            )
            if measurements
            else None,
            sensor_directory={o: (SensorId(f"{o}-R"),) for o in NATIONS},
        )
        for n in NATIONS
    }
    return nodes, wire, sinks


def everywhere(sensor: SensorId, time_s: float) -> Coverage:
    return lambda positions: np.ones(len(positions), bool)


def tracks(node: NationCode, t: float, count: int = 2, first_number: int = 1) -> LocalTracks:
    """Confirmed aircraft tracks east of Okinawa, updated at ``t``."""
    east = np.arange(count) * 20_000.0
    position = np.array([geodetic_to_ecef(26.0, 128.0 + e / 100_000.0, 9000.0) for e in east])
    state = np.hstack([position, np.tile([200.0, 0.0, 0.0], (count, 1))])
    nan = np.full(count, np.nan)
    return LocalTracks(
        node=node,
        valid_at=t,
        track_number=np.arange(first_number, first_number + count, dtype=np.int64),
        status=np.full(count, int(TrackStatus.CONFIRMED), np.int64),
        category=np.zeros(count, np.int64),
        state=state,
        covariance=np.tile(np.diag([100.0**2] * 3 + [10.0**2] * 3), (count, 1, 1)),
        quality=np.full(count, 12, np.int64),
        updated_at=np.full(count, t),
        impact_time_s=nan,
        impact_lat_deg=nan,
        impact_lon_deg=nan,
        impact_semi_major_m=nan,
        impact_semi_minor_m=nan,
        impact_orientation_deg=nan,
    )


def agreement(provider: NationCode, recipient: NationCode, **kw: object) -> SharingAgreement:
    return SharingAgreement(
        provider=provider,
        recipient=recipient,
        max_classification=int(SECRET),
        **kw,  # type: ignore[arg-type]
    )


def remote_sources(node: Node, now_s: float) -> set[NationCode]:
    picture = node.snapshot(now_s)
    out: set[NationCode] = set()
    for mask in picture.sources.tolist():
        out |= {picture.nations[j] for j in range(len(picture.nations)) if mask >> j & 1}
    return out - {node.nation}


# --- what leaves -------------------------------------------------------------------------------


def test_own_tracks_reach_an_entitled_partner_with_their_label() -> None:
    nodes, wire, sinks = network(
        [agreement(USA, JPN)], {USA: sensor_label(USA, {JPN})}, links=[(USA, JPN)]
    )
    nodes[USA].on_local_tracks(tracks(USA, 10.0), SensorId("USA-R"))
    nodes[USA].on_report_cycle(10.0)
    assert [hop for _, hop, _ in wire.queue] == [JPN]
    message = decode(nodes[JPN]._keyring.verify(wire.queue[0][2]))
    assert isinstance(message, TrackReports)
    assert len(message) == 2
    assert message.label(0).rel_to == {USA, JPN}
    assert message.sensor_id.tolist() == [1, 1]
    wire.deliver(nodes, 10.5)
    assert remote_sources(nodes[JPN], 10.5) == {USA}
    assert sinks[JPN].deliveries[0].accepted.all()
    assert not sinks[JPN].rejects


def test_nothing_leaves_for_a_nation_outside_rel_to_and_every_denial_is_audited() -> None:
    nodes, wire, sinks = network(
        [agreement(USA, JPN)], {USA: sensor_label(USA, set())}, links=[(USA, JPN)]
    )
    nodes[USA].on_local_tracks(tracks(USA, 10.0), SensorId("USA-R"))
    nodes[USA].on_report_cycle(10.0)
    assert wire.queue == []
    audit = AuditRecords.concatenate(sinks[USA].audits)
    assert audit.decision.tolist() == [Decision.DENY, Decision.DENY]
    assert set(audit.reason.tolist()) == {DenyReason.NOT_IN_REL_TO}


def test_a_track_is_labelled_by_its_most_restrictive_sensor() -> None:
    nodes, wire, _ = network([agreement(USA, JPN)], {}, links=[(USA, JPN)])
    node = nodes[USA]
    open_label = sensor_label(USA, {JPN})
    closed = sensor_label(USA, set())
    node._labels = type(node._labels).of(  # two sensors: one releasable, one not
        {SensorId("open"): open_label, SensorId("closed"): closed}, NATIONS
    )
    node.on_local_tracks(tracks(USA, 10.0, count=1, first_number=1), SensorId("open"))
    node.on_local_tracks(tracks(USA, 10.0, count=1, first_number=2), SensorId("open"))
    node.on_local_tracks(tracks(USA, 14.0, count=1, first_number=2), SensorId("closed"))
    node.on_report_cycle(14.0)
    (message,) = [decode(node._keyring.verify(data)) for _, _, data in wire.queue]
    assert message.local_track_number.tolist() == [1]


def test_an_untracked_label_stays_home() -> None:
    nodes, wire, _ = network([agreement(USA, JPN)], {USA: sensor_label(USA, {JPN})})
    nodes[USA].on_local_tracks(tracks(USA, 10.0), None)  # no sensor known to have built them
    nodes[USA].on_report_cycle(10.0)
    assert wire.queue == []


def test_sanitised_release_is_coarsened_stripped_and_delayed() -> None:
    sanitise = Sanitisation(position_quantum_m=10_000.0, strip_sensor_identity=True, delay_s=5.0)
    nodes, wire, sinks = network(
        [agreement(USA, JPN, sanitise=sanitise)],
        {USA: sensor_label(USA, {JPN})},
        links=[(USA, JPN)],
    )
    usa = nodes[USA]
    usa.on_local_tracks(tracks(USA, 10.0), SensorId("USA-R"))
    usa.on_report_cycle(10.0)
    assert wire.queue == []  # held for the agreement's delay
    usa.on_report_cycle(12.0)
    assert wire.queue == []
    usa.on_report_cycle(15.0)
    assert len(wire.queue) == 1
    message = decode(usa._keyring.verify(wire.queue[0][2]))
    assert isinstance(message, TrackReports)
    assert message.sensor_id.tolist() == [0, 0]
    assert np.all(np.round(message.state[:, :3] / 10_000.0) * 10_000.0 == message.state[:, :3])
    assert np.all(message.covariance[:, 0, 0] >= 10_000.0**2 / 12.0)
    wire.deliver(nodes, 15.2)
    assert sinks[JPN].deliveries[0].accepted.all()
    assert remote_sources(nodes[JPN], 15.2) == {USA}


def test_a_hub_relays_only_what_the_originator_agreed_to_release() -> None:
    agreements = [agreement(JPN, USA), agreement(JPN, AUS)]
    labels = {JPN: sensor_label(JPN, {USA, AUS})}
    nodes, wire, sinks = network(agreements, labels, links=[(USA, JPN), (USA, AUS)])
    nodes[JPN].on_local_tracks(tracks(JPN, 10.0), SensorId("JPN-R"))
    nodes[JPN].on_report_cycle(10.0)
    assert [hop for _, hop, _ in wire.queue] == [USA]
    wire.deliver(nodes, 10.5)  # USA takes them in and relays them to AUS at once
    assert [(sender, hop) for sender, hop, _ in wire.queue] == [(USA, AUS)]
    relayed = decode(nodes[AUS]._keyring.verify(wire.queue[0][2]))
    assert isinstance(relayed, TrackReports)
    assert relayed.sender == USA
    assert {relayed.originator_code(i) for i in range(len(relayed))} == {JPN}
    wire.deliver(nodes, 11.0)
    assert remote_sources(nodes[AUS], 11.0) == {JPN}
    assert sinks[AUS].deliveries[0].accepted.all()


def test_no_route_through_a_hub_without_the_originators_agreement() -> None:
    labels = {JPN: sensor_label(JPN, {USA, AUS})}
    nodes, wire, _ = network([agreement(JPN, USA)], labels, links=[(USA, JPN), (USA, AUS)])
    nodes[JPN].on_local_tracks(tracks(JPN, 10.0), SensorId("JPN-R"))
    nodes[JPN].on_report_cycle(10.0)
    wire.deliver(nodes, 10.5)
    assert wire.queue == []
    assert remote_sources(nodes[AUS], 10.5) == set()


def test_remote_tracks_are_never_reported_back() -> None:
    nodes, wire, _ = network(
        [agreement(USA, JPN), agreement(JPN, USA)],
        {USA: sensor_label(USA, {JPN}), JPN: sensor_label(JPN, {USA})},
        links=[(USA, JPN)],
    )
    nodes[USA].on_local_tracks(tracks(USA, 10.0), SensorId("USA-R"))
    nodes[USA].on_report_cycle(10.0)
    wire.deliver(nodes, 10.5)
    nodes[JPN].on_report_cycle(11.0)  # JPN holds only USA's tracks: nothing to say
    assert wire.queue == []


def test_unchanged_tracks_are_refreshed_not_repeated() -> None:
    nodes, wire, _ = network(
        [agreement(USA, JPN)],
        {USA: sensor_label(USA, {JPN})},
        links=[(USA, JPN)],
        settings=NodeSettings(report_period_s=2.0, refresh_period_s=6.0),
    )
    usa = nodes[USA]
    usa.on_local_tracks(tracks(USA, 10.0), SensorId("USA-R"))
    sent = []
    for now in (10.0, 12.0, 14.0, 16.0):
        usa.on_report_cycle(now)
        sent.append(len(wire.queue))
        wire.queue.clear()
    assert sent == [1, 0, 0, 1]


# --- what enters --------------------------------------------------------------------------------


@pytest.fixture
def one_message() -> tuple[dict[NationCode, Node], Wire, dict[NationCode, Sink], bytes]:
    nodes, wire, sinks = network(
        [agreement(USA, JPN)], {USA: sensor_label(USA, {JPN})}, links=[(USA, JPN)]
    )
    nodes[USA].on_local_tracks(tracks(USA, 10.0), SensorId("USA-R"))
    nodes[USA].on_report_cycle(10.0)
    (_, _, data) = wire.queue.pop()
    return nodes, wire, sinks, data


def test_a_tampered_message_is_rejected_and_counted(one_message) -> None:  # type: ignore[no-untyped-def]
    nodes, _, sinks, data = one_message
    tampered = bytearray(data)
    tampered[200] ^= 0x01
    nodes[JPN].on_message(10.5, bytes(tampered))
    assert sinks[JPN].rejects == [("USA", RejectReason.BAD_SIGNATURE)]
    assert nodes[JPN].rejected == {RejectReason.BAD_SIGNATURE: 1}
    assert len(nodes[JPN].picture) == 0


def test_a_message_signed_with_another_key_is_rejected(one_message) -> None:  # type: ignore[no-untyped-def]
    nodes, _, sinks, data = one_message
    unsigned = data[:-64]
    forged = NodeKeys.derive(99, USA).sign(unsigned)
    nodes[JPN].on_message(10.5, forged)
    assert sinks[JPN].rejects == [("USA", RejectReason.BAD_SIGNATURE)]


def test_a_replayed_message_is_rejected(one_message) -> None:  # type: ignore[no-untyped-def]
    nodes, _, sinks, data = one_message
    nodes[JPN].on_message(10.5, data)
    nodes[JPN].on_message(11.0, data)
    assert sinks[JPN].rejects == [("USA", RejectReason.REPLAYED)]
    assert len(sinks[JPN].deliveries) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", RejectReason.TRUNCATED),
        (b"\x00" * 200, RejectReason.BAD_MAGIC),
    ],
)
def test_garbage_is_rejected_without_raising(
    one_message,
    data: bytes,
    reason: RejectReason,  # type: ignore[no-untyped-def]
) -> None:
    nodes, _, sinks, _ = one_message
    nodes[JPN].on_message(10.5, data)
    assert sinks[JPN].rejects == [("", reason)]


def test_a_sender_outside_the_key_ring_is_rejected(one_message) -> None:  # type: ignore[no-untyped-def]
    nodes, _, sinks, data = one_message
    stranger = NodeKeys.derive(1, NationCode("XXX"))
    nodes[JPN]._keyring = KeyRing.of([stranger])  # the receiver no longer trusts USA
    nodes[JPN].on_message(10.5, data)
    assert sinks[JPN].rejects == [("USA", RejectReason.UNKNOWN_SENDER)]


def test_the_inbound_guard_refuses_what_a_faulty_sender_released(one_message) -> None:  # type: ignore[no-untyped-def]
    nodes, wire, sinks, _ = one_message
    # USA's node is misconfigured: its policy lets everything go to JPN, but JPN's copy of
    # the policy has no USA -> JPN agreement at all.
    strict = ReleasePolicy(agreements=(), clearances=dict.fromkeys(NATIONS, int(SECRET)))
    jpn = nodes[JPN]
    jpn._inbound = type(jpn._inbound)(node=JPN, policy=strict)
    nodes[USA].on_local_tracks(tracks(USA, 20.0, first_number=5), SensorId("USA-R"))
    nodes[USA].on_report_cycle(20.0)
    wire.deliver(nodes, 20.5)
    delivered = DeliveryRecords.concatenate(sinks[JPN].deliveries)
    assert not delivered.accepted.any()
    assert set(delivered.reason.tolist()) == {DenyReason.NO_AGREEMENT}
    assert remote_sources(jpn, 20.5) == set()


# --- property: nothing reaches a nation outside REL TO or without an agreement ------------------

_PAIRS = [(a, b) for a in NATIONS for b in NATIONS if a != b]


def assert_received_as_agreed(
    n: NationCode,
    received: set[NationCode],
    labels: dict[NationCode, ReleasabilityLabel],
    agreed: set[tuple[NationCode, NationCode]],
    *,
    hub: bool,
) -> None:
    """``n`` received data only from nations whose labels and agreements allow it, and from
    every such nation with a route (direct, or relayed by the USA hub)."""
    for originator in received:
        assert n in labels[originator].rel_to
        assert (originator, n) in agreed
    for originator in NATIONS:
        if originator == n or n not in labels[originator].rel_to:
            continue
        if (originator, n) not in agreed:
            continue
        direct = not hub or USA in (originator, n)
        relayed = (originator, USA) in agreed and USA in labels[originator].rel_to
        if direct or relayed:
            assert originator in received, (originator, n)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    agreed=st.sets(st.sampled_from(_PAIRS)),
    rel_to=st.fixed_dictionaries({n: st.sets(st.sampled_from(NATIONS)) for n in NATIONS}),
    hub=st.booleans(),
)
def test_no_item_reaches_a_nation_it_is_not_released_to(
    agreed: set[tuple[NationCode, NationCode]],
    rel_to: dict[NationCode, set[NationCode]],
    hub: bool,
) -> None:
    agreements = [agreement(a, b) for a, b in sorted(agreed)]
    labels = {n: sensor_label(n, rel_to[n]) for n in NATIONS}
    links = [(USA, JPN), (USA, AUS)] if hub else None
    nodes, wire, sinks = network(agreements, labels, links=links)
    for k, n in enumerate(NATIONS):
        nodes[n].on_local_tracks(tracks(n, 10.0, first_number=10 * k + 1), SensorId(f"{n}-R"))
    for now in (10.0, 10.5, 11.0, 11.5):  # report, then let relays pass it on
        for n in NATIONS:
            nodes[n].on_report_cycle(now)
        wire.deliver(nodes, now + 0.25)
    policy = ReleasePolicy(
        agreements=tuple(agreements), clearances=dict.fromkeys(NATIONS, int(SECRET))
    )
    audits = [a for s in sinks.values() for a in s.audits]
    deliveries = [d for s in sinks.values() for d in s.deliveries]
    if audits:
        delivered = DeliveryRecords.concatenate(deliveries) if deliveries else None
        assert check_releases(AuditRecords.concatenate(audits), policy, delivered=delivered) == []
    for n in NATIONS:
        received = remote_sources(nodes[n], 12.0)
        assert_received_as_agreed(n, received, labels, agreed, hub=hub)


# --- the same property when the nodes share measurements -------------------------------------


def scan(node: NationCode, t: float) -> Detections:
    """Two detections of aircraft east of Okinawa by ``node``'s radar on Okinawa."""
    site = geodetic_to_ecef(26.3, 127.8, 50.0)
    k = 2
    return Detections(
        sensor=SensorId(f"{node}-R"),
        nation=node,
        kind=MeasurementKind.RADAR_RAE,
        valid_at=t,
        sensor_position_ecef_m=site,
        sensor_lat_deg=26.3,
        sensor_lon_deg=127.8,
        measurements=np.array([[60_000.0, 1.5, 0.15], [80_000.0, 1.6, 0.11]]),
        covariances=np.tile(np.diag([30.0, 2e-3, 2e-3]) ** 2, (k, 1, 1)),
        truth_index=np.arange(k),
        snr_db=np.full(k, 20.0),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    agreed=st.sets(st.sampled_from(_PAIRS)),
    rel_to=st.fixed_dictionaries({n: st.sets(st.sampled_from(NATIONS)) for n in NATIONS}),
    hub=st.booleans(),
)
def test_no_measurement_reaches_a_nation_it_is_not_released_to(
    agreed: set[tuple[NationCode, NationCode]],
    rel_to: dict[NationCode, set[NationCode]],
    hub: bool,
) -> None:
    agreements = [agreement(a, b) for a, b in sorted(agreed)]
    labels = {n: sensor_label(n, rel_to[n]) for n in NATIONS}
    links = [(USA, JPN), (USA, AUS)] if hub else None
    nodes, wire, sinks = network(agreements, labels, links=links, measurements=True)
    for n in NATIONS:
        nodes[n].on_scan(scan(n, 10.0), lambda p: np.ones(len(p), bool))
    for now in (10.25, 10.5):  # arrive, then let relays pass it on
        wire.deliver(nodes, now)
    policy = ReleasePolicy(
        agreements=tuple(agreements), clearances=dict.fromkeys(NATIONS, int(SECRET))
    )
    audits = [a for s in sinks.values() for a in s.audits]
    deliveries = [d for s in sinks.values() for d in s.deliveries]
    delivered = DeliveryRecords.concatenate(deliveries) if deliveries else None
    if audits:
        assert check_releases(AuditRecords.concatenate(audits), policy, delivered=delivered) == []
    for n in NATIONS:
        received = {
            d.nations[o] for d in sinks[n].deliveries for o in d.originator[d.accepted].tolist()
        }
        composite = nodes[n].composite
        assert composite is not None
        assert composite.statistics.late_scans == 0
        assert_received_as_agreed(n, received, labels, agreed, hub=hub)


def test_engagement_statuses_go_only_where_agreements_allow() -> None:
    nodes, wire, sinks = network([agreement(USA, JPN)], {})
    heard: list[tuple[NationCode, list[int]]] = []
    for n, node in nodes.items():
        node._on_statuses = lambda s, t, n=n: heard.append((n, s.network_track_number.tolist()))
    k = 2
    statuses = EngagementStatuses(
        sender=USA,
        sent_at=10.0,
        sequence=0,
        nations=NATIONS,
        network_track_number=np.array([7, 8]),
        valid_at=np.full(k, 10.0),
        predicted_intercept_time_s=np.full(k, 60.0),
        engaging_nation=np.zeros(k, np.int64),
        shooter_id=np.ones(k, np.int64),
        state=np.full(k, int(EngagementState.ENGAGING)),
        interceptors_in_flight=np.full(k, 2),
        originator=np.zeros(k, np.int64),
        classification=np.full(k, int(Classification.CONFIDENTIAL)),
        rel_to=np.full(k, 0b111, np.uint64),
        caveats=np.zeros(k, np.int64),
    )
    nodes[USA].share_statuses(statuses, 10.0)
    assert {hop for _, hop, _ in wire.queue} == {JPN}  # no agreement USA -> AUS: no route
    wire.deliver(nodes, 10.5)
    assert heard == [(JPN, [7, 8])]
    audit = AuditRecords.concatenate(sinks[USA].audits)
    assert audit.decision.tolist() == [Decision.RELEASE, Decision.RELEASE]
    # A partner without clearance for the level is refused by the guard, and it is audited.
    low = SharingAgreement(provider=USA, recipient=JPN, max_classification=1)
    nodes, wire, sinks = network([low], {})
    nodes[USA].share_statuses(statuses, 10.0)
    assert wire.queue == []
    audit = AuditRecords.concatenate(sinks[USA].audits)
    assert set(audit.decision.tolist()) == {Decision.DENY}
