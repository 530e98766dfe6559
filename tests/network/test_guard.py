"""Outbound and inbound guards: audit of every decision, sanitisation, defence in depth, relays."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import NationCode
from iamd.network.guard import (
    AuditRecords,
    DeliveryRecords,
    InboundGuard,
    LabelledTracks,
    OutboundGuard,
    coarsen_positions,
    coarsening_variance_m2,
)
from iamd.network.invariants import check_releases
from iamd.network.releasability import (
    CaveatRules,
    Decision,
    DenyReason,
    ReleasePolicy,
    Sanitisation,
    SharingAgreement,
)

USA, JPN, KOR, AUS = (NationCode(code) for code in ("USA", "JPN", "KOR", "AUS"))
NATIONS = (USA, JPN, KOR, AUS)
SENSOR_SOURCE, PRECISE_POSITION, ORIGINATOR_CONTROLLED = 1, 2, 4
RULES = CaveatRules(
    relay_forbidden=ORIGINATOR_CONTROLLED,
    withhold_sensor=SENSOR_SOURCE,
    degrade_position=PRECISE_POSITION,
    degradation=Sanitisation(
        position_quantum_m=2000.0, min_position_sigma_m=300.0, strip_sensor_identity=False
    ),
)
COARSE = Sanitisation(position_quantum_m=1000.0, min_position_sigma_m=500.0, delay_s=5.0)
EVERYONE = 0b1111


def make_policy() -> ReleasePolicy:
    return ReleasePolicy(
        agreements=(
            SharingAgreement(
                provider=USA, recipient=JPN, max_classification=3, caveats_allowed=0b111
            ),
            SharingAgreement(
                provider=USA,
                recipient=KOR,
                max_classification=2,
                caveats_allowed=SENSOR_SOURCE | PRECISE_POSITION,
                sanitise=COARSE,
            ),
            SharingAgreement(provider=JPN, recipient=USA, max_classification=4),
            SharingAgreement(
                provider=JPN, recipient=KOR, max_classification=3, caveats_allowed=0b111
            ),
        ),
        clearances={USA: 4, JPN: 3, KOR: 3, AUS: 3},
        caveat_rules=RULES,
    )


def batch(
    *,
    originator: list[int],
    classification: list[int] | None = None,
    rel_to: list[int] | None = None,
    caveats: list[int] | None = None,
    category: list[int] | None = None,
    valid_at_s: float = 10.0,
    nations: tuple[NationCode, ...] = NATIONS,
    seed: int = 0,
) -> LabelledTracks:
    k = len(originator)
    rng = np.random.default_rng(seed)
    position = rng.normal(0.0, 3e6, (k, 3))
    velocity = rng.normal(0.0, 300.0, (k, 3))
    root = rng.normal(0.0, 1.0, (k, 6, 6))
    covariance = root @ root.transpose(0, 2, 1) * 100.0 + np.eye(6)
    return LabelledTracks(
        nations=nations,
        track_number=np.arange(1, k + 1),
        originator=np.array(originator),
        classification=np.array(classification or [1] * k),
        rel_to=np.array(rel_to or [EVERYONE] * k, np.uint64),
        caveats=np.array(caveats or [0] * k),
        category=np.array(category or [1] * k),
        sensor_id=np.full(k, 17),
        valid_at_s=np.full(k, valid_at_s),
        state=np.hstack([position, velocity]),
        covariance=covariance,
    )


# --- outbound -----------------------------------------------------------------------------------


def test_every_decision_is_audited_and_only_released_items_leave() -> None:
    items = batch(
        originator=[0, 0, 0, 1, 2, 0],
        classification=[1, 4, 1, 1, 1, 1],
        rel_to=[EVERYONE, EVERYONE, 0b0001, EVERYONE, EVERYONE, EVERYONE],
        caveats=[0, 0, 0, 0, 0, 8],
    )
    out = OutboundGuard(node=USA, policy=make_policy()).release(items, recipient=JPN, now_s=12.0)
    audit = out.audit
    assert len(audit) == len(items)
    assert audit.reason.tolist() == [
        DenyReason.NONE,
        DenyReason.ABOVE_CLEARANCE,
        DenyReason.NOT_IN_REL_TO,
        DenyReason.NONE,  # JPN's own data, relayed back by USA
        DenyReason.NO_AGREEMENT,  # KOR→JPN
        DenyReason.CAVEAT_NOT_AGREED,
    ]
    assert out.index.tolist() == [0, 3]
    assert out.released.track_number.tolist() == [1, 4]
    np.testing.assert_array_equal(out.released.state, items.state[[0, 3]])
    assert out.release_at_s.tolist() == [12.0, 12.0]
    assert audit.nations == NATIONS
    assert set(audit.node.tolist()) == {0}
    assert set(audit.recipient.tolist()) == {1}
    assert audit.time_s.tolist() == [12.0] * 6
    np.testing.assert_array_equal(audit.track_number, items.track_number)
    np.testing.assert_array_equal(audit.rel_to, items.rel_to)
    released = np.isin(audit.decision, [Decision.RELEASE, Decision.SANITISE])
    assert released.sum() == len(out.released)


def test_sanitised_release_is_coarsened_stripped_and_delayed() -> None:
    items = batch(originator=[0, 0, 1], caveats=[0, PRECISE_POSITION, 0], valid_at_s=10.0)
    before = dataclasses.replace(items)
    out = OutboundGuard(node=USA, policy=make_policy()).release(items, recipient=KOR, now_s=12.0)
    # Rows 0 and 1 are USA's, sanitised under USA→KOR (row 1 on the coarser 2 km grid of its
    # caveat); row 2 is JPN's, relayed under JPN→KOR, which does not sanitise.
    assert out.audit.decision.tolist() == [Decision.SANITISE, Decision.SANITISE, Decision.RELEASE]
    released = out.released
    for row, quantum in ((0, 1000.0), (1, 2000.0)):
        position = released.state[row, :3]
        np.testing.assert_allclose(position / quantum, np.round(position / quantum), atol=1e-9)
        assert np.all(np.abs(position - items.state[row, :3]) <= quantum / 2)
        grown = released.covariance[row] - items.covariance[row]
        grown[:3, :3] -= coarsening_variance_m2(quantum) * np.eye(3)
        assert np.linalg.eigvalsh(grown).min() >= -1e-6
        assert np.linalg.eigvalsh(released.covariance[row, :3, :3]).min() >= 500.0**2 - 1e-6
        np.testing.assert_array_equal(released.state[row, 3:], items.state[row, 3:])
        np.testing.assert_array_equal(
            released.covariance[row, 3:, 3:], items.covariance[row, 3:, 3:]
        )
    assert released.sensor_id.tolist() == [0, 0, 17]
    # Delay: the data must be 5 s old; it is 2 s old at decision time.
    assert out.release_at_s.tolist() == [15.0, 15.0, 12.0]
    np.testing.assert_array_equal(released.state[2], items.state[2])
    np.testing.assert_array_equal(released.covariance[2], items.covariance[2])
    # The offered batch is never changed in place.
    np.testing.assert_array_equal(items.state, before.state)
    np.testing.assert_array_equal(items.covariance, before.covariance)
    assert items.sensor_id.tolist() == [17, 17, 17]


def test_recipient_outside_the_batch_is_audited_with_its_code() -> None:
    items = batch(originator=[0, 1], rel_to=[0xFFFF, 0xFFFF], nations=(USA, JPN))
    gbr = NationCode("GBR")
    out = OutboundGuard(node=KOR, policy=make_policy()).release(items, recipient=gbr, now_s=1.0)
    assert len(out.released) == 0
    assert out.audit.nations == (USA, JPN, KOR, gbr)
    assert out.audit.node.tolist() == [2, 2]
    assert out.audit.recipient.tolist() == [3, 3]
    assert (out.audit.reason == DenyReason.NOT_IN_REL_TO).all()
    # Stray bits above the batch's nations must not come to name KOR or GBR in the audit.
    assert out.audit.rel_to.tolist() == [0b11, 0b11]


def test_malformed_originator_never_names_a_nation_in_the_records() -> None:
    # Index 2 is outside (USA, JPN); the audit appends KOR and AUS after them, and the
    # malformed index must not come to mean KOR (which would make the item KOR's own).
    items = batch(originator=[2, 0], nations=(USA, JPN))
    out = OutboundGuard(node=AUS, policy=make_policy()).release(items, recipient=KOR, now_s=1.0)
    assert out.audit.nations == (USA, JPN, AUS, KOR)
    assert out.audit.originator.tolist() == [-1, 0]
    assert out.audit.reason[0] == DenyReason.INVALID_LABEL
    got = InboundGuard(node=KOR, policy=make_policy()).accept(items, sender=AUS, now_s=1.0)
    assert got.delivered.originator.tolist() == [-1, 0]
    assert got.reason[0] == DenyReason.INVALID_LABEL


def test_empty_batch() -> None:
    items = batch(originator=[])
    out = OutboundGuard(node=USA, policy=make_policy()).release(items, recipient=KOR, now_s=1.0)
    assert len(out.released) == len(out.audit) == 0
    got = InboundGuard(node=KOR, policy=make_policy()).accept(items, sender=USA, now_s=2.0)
    assert got.accepted.shape == (0,)
    assert len(got.delivered) == 0


# --- inbound ------------------------------------------------------------------------------------


def test_inbound_accepts_what_a_correct_guard_released() -> None:
    items = batch(originator=[0, 0, 1, 0], caveats=[0, SENSOR_SOURCE, 0, PRECISE_POSITION])
    out = OutboundGuard(node=USA, policy=make_policy()).release(items, recipient=KOR, now_s=12.0)
    inbound = InboundGuard(node=KOR, policy=make_policy())
    got = inbound.accept(out.released, sender=USA, now_s=float(out.release_at_s.max()))
    assert got.accepted.all()
    assert inbound.reject_counts == {}
    delivered = got.delivered
    assert delivered.nations == NATIONS
    assert delivered.node.tolist() == [2] * 4
    assert delivered.sender.tolist() == [0] * 4
    assert delivered.accepted.all()


def test_inbound_rejects_what_a_broken_sender_pushed() -> None:
    # A sender with no guard at all: everything it holds goes to KOR.
    items = batch(
        originator=[0, 0, 0, 3, 1, 1],
        classification=[1, 3, 4, 1, 1, 1],
        rel_to=[0b0001, EVERYONE, EVERYONE, EVERYONE, EVERYONE, EVERYONE],
        caveats=[0, 0, 0, 0, 0, ORIGINATOR_CONTROLLED],
    )
    inbound = InboundGuard(node=KOR, policy=make_policy())
    got = inbound.accept(items, sender=USA, now_s=100.0)
    assert got.reason.tolist() == [
        DenyReason.NOT_IN_REL_TO,
        DenyReason.ABOVE_AGREEMENT,
        DenyReason.ABOVE_CLEARANCE,
        DenyReason.NO_AGREEMENT,  # AUS→KOR
        DenyReason.NONE,  # JPN's data relayed by USA: JPN→KOR allows it
        DenyReason.RELAY_NOT_PERMITTED,
    ]
    assert got.accepted.tolist() == [False] * 4 + [True, False]
    assert got.delivered.accepted.tolist() == got.accepted.tolist()
    # Row 1 and 2 are USA's and would need sanitising anyway; the entitlement reason wins.
    inbound.accept(items.take([0]), sender=USA, now_s=101.0)
    assert inbound.reject_counts == {
        DenyReason.NOT_IN_REL_TO: 2,
        DenyReason.ABOVE_AGREEMENT: 1,
        DenyReason.ABOVE_CLEARANCE: 1,
        DenyReason.NO_AGREEMENT: 1,
        DenyReason.RELAY_NOT_PERMITTED: 1,
    }


def test_inbound_rejects_missing_sanitisation() -> None:
    items = batch(originator=[0, 0, 0, 0], valid_at_s=10.0)
    out = OutboundGuard(node=USA, policy=make_policy()).release(items, recipient=KOR, now_s=12.0)
    good = out.released
    sensor = good.sensor_id.copy()
    sensor[0] = 17  # identity not stripped
    cov = good.covariance.copy()
    cov[1, :3, :3] = np.eye(3)  # tighter than the 500 m floor
    cov[2] = np.nan  # cannot be verified
    forged = dataclasses.replace(good, sensor_id=sensor, covariance=cov)
    inbound = InboundGuard(node=KOR, policy=make_policy())
    got = inbound.accept(forged, sender=USA, now_s=15.0)
    assert got.reason.tolist() == [DenyReason.NOT_SANITISED] * 3 + [DenyReason.NONE]
    # Arriving before valid time + delay (10 s + 5 s).
    early = inbound.accept(good, sender=USA, now_s=14.9)
    assert (early.reason == DenyReason.RELEASED_EARLY).all()
    assert inbound.reject_counts == {DenyReason.NOT_SANITISED: 3, DenyReason.RELEASED_EARLY: 4}


# --- coarsening ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(0, 8),
    quantum=st.sampled_from([0.0, 1.0, 37.5, 1000.0, 25_000.0]),
    floor=st.sampled_from([0.0, 10.0, 500.0, 40_000.0]),
    scale=st.sampled_from([1e-2, 1.0, 1e4, 1e8]),
)
def test_coarsened_covariance_covers_the_original_plus_the_rounding(
    seed: int, k: int, quantum: float, floor: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    position = rng.uniform(-7e6, 7e6, (k, 3))
    root = rng.normal(0.0, 1.0, (k, 6, 4))  # rank 4: singular covariances too
    covariance = root @ root.transpose(0, 2, 1) * scale
    snapped, grown = coarsen_positions(position, covariance, quantum_m=quantum, min_sigma_m=floor)

    assert np.all(np.abs(snapped - position) <= quantum / 2 + 1e-9 * np.abs(position))
    if quantum > 0:
        np.testing.assert_allclose(snapped / quantum, np.round(snapped / quantum), atol=1e-6)
    coarsening = np.zeros((6, 6))
    coarsening[:3, :3] = coarsening_variance_m2(quantum) * np.eye(3)
    difference = grown - covariance - coarsening
    tolerance = 1e-9 * max(scale, floor**2, float(coarsening_variance_m2(quantum)), 1.0)
    if k:
        assert np.linalg.eigvalsh(difference).min() >= -tolerance
        assert np.linalg.eigvalsh(grown[:, :3, :3]).min() >= floor**2 - tolerance
        np.testing.assert_array_equal(grown[:, 3:, 3:], covariance[:, 3:, 3:])
        np.testing.assert_array_equal(grown[:, :3, 3:], covariance[:, :3, 3:])


def test_coarsening_leaves_non_finite_covariances_unusable() -> None:
    covariance = np.tile(np.eye(6), (2, 1, 1))
    covariance[1, 0, 0] = np.nan
    _, grown = coarsen_positions(np.zeros((2, 3)), covariance, quantum_m=10.0, min_sigma_m=5.0)
    assert np.isfinite(grown[0]).all()
    assert np.isnan(grown[1, :3, :3]).all()


# --- records ------------------------------------------------------------------------------------


def test_records_concatenate_over_the_union_of_their_nations() -> None:
    policy = make_policy()
    first = OutboundGuard(node=USA, policy=policy).release(
        batch(originator=[0, 1], rel_to=[0b0110, 0b0011], nations=(USA, JPN, KOR)),
        recipient=JPN,
        now_s=1.0,
    )
    second = OutboundGuard(node=KOR, policy=policy).release(
        batch(originator=[0], rel_to=[0b11], nations=(KOR, USA)), recipient=USA, now_s=2.0
    )
    joined = AuditRecords.concatenate([first.audit, second.audit])
    assert joined.nations == (USA, JPN, KOR)
    assert len(joined) == 3
    names = [joined.nations[i] for i in joined.originator.tolist()]
    assert names == [USA, JPN, KOR]
    assert [joined.nations[i] for i in joined.node.tolist()] == [USA, USA, KOR]
    # KOR's batch had KOR at bit 0 and USA at bit 1; over (USA, JPN, KOR) that is 0b101.
    assert joined.rel_to.tolist() == [0b110, 0b011, 0b101]
    assert len(AuditRecords.concatenate([])) == 0
    assert len(DeliveryRecords.concatenate([])) == 0


def test_records_take_columns_as_read_back_and_check_shapes() -> None:
    audit = AuditRecords(
        nations=(USA, JPN),
        time_s=np.array([1.0]),
        node=np.array([0], np.int8),
        recipient=np.array([1], np.int8),
        track_number=np.array([5], np.int32),
        originator=np.array([0], np.int8),
        decision=np.array([1], np.int8),
        reason=np.array([0], np.int8),
        classification=np.array([2], np.int8),
        rel_to=np.array([-1], np.int64),
        caveats=np.array([0], np.int8),
        category=np.array([1], np.int8),
    )
    assert audit.node.dtype == np.int64
    assert audit.rel_to.dtype == np.uint64
    assert audit.rel_to.tolist() == [2**64 - 1]
    with pytest.raises(ValueError, match=r"AuditRecords: reason must have shape \(1,\)"):
        dataclasses.replace(audit, reason=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="LabelledTracks: covariance must have shape"):
        dataclasses.replace(batch(originator=[0]), covariance=np.eye(6))


# --- relays: nothing reaches a node that is not entitled to it ----------------------------------

CODES = ("USA", "JPN", "KOR", "AUS", "GBR", "CAN")


def concat(a: LabelledTracks, b: LabelledTracks) -> LabelledTracks:
    """Items of ``a`` then those of ``b`` not already in ``a`` (same originator and number)."""
    fields = [f.name for f in dataclasses.fields(LabelledTracks) if f.name != "nations"]
    joined = {name: np.concatenate([getattr(a, name), getattr(b, name)]) for name in fields}
    key = joined["originator"] * 1_000_000 + joined["track_number"]
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    return LabelledTracks(nations=a.nations, **{name: joined[name][keep] for name in fields})


def entitled(policy: ReleasePolicy, nations: tuple[NationCode, ...], item: dict[str, int]) -> bool:
    """Whether nation ``item['to']`` may hold the item, by the originator's rights alone."""
    source, holder = nations[item["originator"]], nations[item["to"]]
    if source == holder:
        return True
    agreement = policy.agreement(source, holder)
    return bool(
        item["rel_to"] >> item["to"] & 1
        and item["classification"] <= policy.clearances.get(holder, -1)
        and agreement is not None
        and item["classification"] <= agreement.max_classification
        and (not agreement.categories or item["category"] in agreement.categories)
        and not item["caveats"] & ~agreement.caveats_allowed
    )


@st.composite
def networks(
    draw: st.DrawFn,
) -> tuple[ReleasePolicy, tuple[NationCode, ...], list[tuple[int, int]], str]:
    count = draw(st.integers(2, 6))
    nations = tuple(NationCode(code) for code in CODES[:count])
    # Biased towards permissive policies, so that many items flow and are relayed.
    clearances = {n: draw(st.sampled_from([0, 2, 3, 4, 4])) for n in nations}
    sanitisations = st.none() | st.builds(
        Sanitisation,
        position_quantum_m=st.sampled_from([0.0, 100.0, 1000.0]),
        min_position_sigma_m=st.sampled_from([0.0, 50.0, 800.0]),
        strip_sensor_identity=st.booleans(),
        delay_s=st.sampled_from([0.0, 5.0]),
    )
    pairs = [(p, r) for p, r in itertools.permutations(nations, 2) if draw(st.integers(0, 3)) > 0]
    agreements = tuple(
        SharingAgreement(
            provider=p,
            recipient=r,
            max_classification=draw(st.integers(1, 4)),
            categories=draw(st.just(frozenset()) | st.frozensets(st.integers(0, 3), max_size=3)),
            caveats_allowed=draw(st.just(7) | st.integers(0, 7)),
            sanitise=draw(sanitisations),
        )
        for p, r in pairs
    )
    policy = ReleasePolicy(agreements=agreements, clearances=clearances, caveat_rules=RULES)
    shape = draw(st.sampled_from(["hub", "mesh", "full"]))
    if shape == "hub":
        hub = draw(st.integers(0, count - 1))
        links = [link for s in range(count) if s != hub for link in ((hub, s), (s, hub))]
    elif shape == "full":
        links = list(itertools.permutations(range(count), 2))
    else:
        every = list(itertools.permutations(range(count), 2))
        links = draw(st.lists(st.sampled_from(every), unique=True, max_size=len(every)))
    return policy, nations, links, shape


def originate(data: st.DataObject, nations: tuple[NationCode, ...], node: int) -> LabelledTracks:
    k = data.draw(st.integers(0, 6))
    label = st.fixed_dictionaries(
        {
            "classification": st.sampled_from([0, 1, 2, 2, 3, 4]),
            # Often everyone; otherwise any mask, with one stray bit above the nations.
            "rel_to": st.just(2 ** len(nations) - 1) | st.integers(0, 2 ** (len(nations) + 1) - 1),
            "caveats": st.sampled_from([0, 0, 0, 1, 2, 3, 4, 7]),
            "category": st.integers(0, 3),
        }
    )
    labels = data.draw(st.lists(label, min_size=k, max_size=k))
    items = batch(originator=[node] * k, nations=nations, seed=node)
    return dataclasses.replace(
        items,
        classification=np.array([x["classification"] for x in labels], np.int64),
        rel_to=np.array([x["rel_to"] for x in labels], np.uint64),
        caveats=np.array([x["caveats"] for x in labels], np.int64),
        category=np.array([x["category"] for x in labels], np.int64),
        valid_at_s=np.zeros(k),
    )


@settings(max_examples=50, deadline=None)
@given(network=networks(), data=st.data())
def test_no_item_reaches_a_node_outside_its_originators_rights(
    network: tuple[ReleasePolicy, tuple[NationCode, ...], list[tuple[int, int]], str],
    data: st.DataObject,
) -> None:
    policy, nations, links, shape = network
    held = {n: originate(data, nations, i) for i, n in enumerate(nations)}
    originated = dict(held)
    outbound = {n: OutboundGuard(node=n, policy=policy) for n in nations}
    inbound = {n: InboundGuard(node=n, policy=policy) for n in nations}
    audits, deliveries, offered = [], [], 0
    now = 0.0
    # Enough rounds for data to cross any path of the topology, relayed hop by hop.
    for _ in range(len(nations) if shape == "mesh" else 2):
        for a, b in links:
            sender, recipient = nations[a], nations[b]
            now += 1.0
            out = outbound[sender].release(held[sender], recipient=recipient, now_s=now)
            offered += len(held[sender])
            audits.append(out.audit)
            arrival = max(now, float(out.release_at_s.max(initial=now))) + 0.1
            got = inbound[recipient].accept(out.released, sender=sender, now_s=arrival)
            deliveries.append(got.delivered)
            held[recipient] = concat(held[recipient], out.released.take(got.accepted))

    # Every decision audited; a correct sender never trips a receiver's guard.
    audit = AuditRecords.concatenate(audits)
    assert len(audit) == offered
    assert all(guard.reject_counts == {} for guard in inbound.values())

    for holder, items in held.items():
        to = nations.index(holder)
        for row in range(len(items)):
            item = {
                "originator": int(items.originator[row]),
                "to": to,
                "rel_to": int(items.rel_to[row]),
                "classification": int(items.classification[row]),
                "caveats": int(items.caveats[row]),
                "category": int(items.category[row]),
            }
            assert entitled(policy, nations, item), (holder, item)

    if shape == "full":
        # Direct links everywhere: each node holds exactly what it is entitled to.
        for holder, items in held.items():
            to = nations.index(holder)
            for i, source in enumerate(nations):
                mine = originated[source]
                expected = {
                    int(mine.track_number[row])
                    for row in range(len(mine))
                    if entitled(
                        policy,
                        nations,
                        {
                            "originator": i,
                            "to": to,
                            "rel_to": int(mine.rel_to[row]),
                            "classification": int(mine.classification[row]),
                            "caveats": int(mine.caveats[row]),
                            "category": int(mine.category[row]),
                        },
                    )
                }
                holds = set(items.track_number[items.originator == i].tolist())
                assert holds == expected

    # And the recording alone proves it.
    delivered = DeliveryRecords.concatenate(deliveries)
    assert check_releases(audit, policy, delivered=delivered) == []
