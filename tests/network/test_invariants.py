"""Invariant checker: clean records pass, every kind of forged release or delivery is caught."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
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
)
from iamd.network.invariants import RecordTable, Violation, ViolationKind, check_releases
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
EVERYONE = 0b1111

POLICY = ReleasePolicy(
    agreements=(
        SharingAgreement(provider=USA, recipient=JPN, max_classification=3, caveats_allowed=7),
        SharingAgreement(
            provider=USA,
            recipient=KOR,
            max_classification=2,
            categories=frozenset({1}),
            caveats_allowed=SENSOR_SOURCE,
            sanitise=Sanitisation(position_quantum_m=1000.0, delay_s=5.0),
        ),
        SharingAgreement(provider=JPN, recipient=AUS, max_classification=3, caveats_allowed=7),
        SharingAgreement(provider=JPN, recipient=USA, max_classification=4, caveats_allowed=7),
        SharingAgreement(provider=KOR, recipient=JPN, max_classification=3, caveats_allowed=7),
        SharingAgreement(provider=KOR, recipient=USA, max_classification=3, caveats_allowed=7),
    ),
    clearances={USA: 4, JPN: 3, KOR: 3, AUS: 2},
    caveat_rules=CaveatRules(
        relay_forbidden=ORIGINATOR_CONTROLLED,
        withhold_sensor=SENSOR_SOURCE,
        degrade_position=PRECISE_POSITION,
    ),
)

# Which rule the checker reports for a release the guard should have denied for a reason.
KIND_OF = {
    DenyReason.INVALID_LABEL: ViolationKind.MALFORMED_RECORD,
    DenyReason.NOT_IN_REL_TO: ViolationKind.NOT_IN_REL_TO,
    DenyReason.ABOVE_CLEARANCE: ViolationKind.ABOVE_CLEARANCE,
    DenyReason.NO_AGREEMENT: ViolationKind.NO_AGREEMENT,
    DenyReason.ABOVE_AGREEMENT: ViolationKind.ABOVE_AGREEMENT,
    DenyReason.CATEGORY_NOT_AGREED: ViolationKind.CATEGORY_NOT_AGREED,
    DenyReason.CAVEAT_NOT_AGREED: ViolationKind.CAVEAT_NOT_AGREED,
    DenyReason.RELAY_NOT_PERMITTED: ViolationKind.RELAY_NOT_PERMITTED,
}


def tracks(
    originator: list[int],
    *,
    classification: list[int] | None = None,
    rel_to: list[int] | None = None,
    caveats: list[int] | None = None,
    category: list[int] | None = None,
    first_number: int = 1,
) -> LabelledTracks:
    k = len(originator)
    return LabelledTracks(
        nations=NATIONS,
        track_number=np.arange(first_number, first_number + k),
        originator=np.array(originator),
        classification=np.array(classification or [1] * k),
        rel_to=np.array(rel_to or [EVERYONE] * k, np.uint64),
        caveats=np.array(caveats or [0] * k),
        category=np.array(category or [1] * k),
        sensor_id=np.full(k, 3),
        valid_at_s=np.zeros(k),
        state=np.tile([7e6, 1e5, 2e5, 100.0, 0.0, 0.0], (k, 1)),
        covariance=np.tile(np.eye(6) * 100.0, (k, 1, 1)),
    )


def send(
    sender: NationCode,
    recipient: NationCode,
    items: LabelledTracks,
    now_s: float,
) -> tuple[AuditRecords, DeliveryRecords, LabelledTracks]:
    """One hop through both guards; arrival 0.5 s after the item's release time."""
    out = OutboundGuard(node=sender, policy=POLICY).release(items, recipient=recipient, now_s=now_s)
    arrival = float(out.release_at_s.max(initial=now_s)) + 0.5
    got = InboundGuard(node=recipient, policy=POLICY).accept(
        out.released, sender=sender, now_s=arrival
    )
    return out.audit, got.delivered, out.released.take(got.accepted)


def clean_run() -> tuple[AuditRecords, DeliveryRecords]:
    """USA and KOR report to JPN; JPN, the hub, passes on to AUS, KOR and USA."""
    usa = tracks(
        [0] * 6,
        classification=[1, 3, 4, 1, 1, 2],
        rel_to=[EVERYONE, EVERYONE, EVERYONE, 0b0011, EVERYONE, EVERYONE],
        caveats=[0, 0, 0, 0, ORIGINATOR_CONTROLLED, SENSOR_SOURCE],
        category=[1, 1, 1, 1, 1, 2],
    )
    kor = tracks(
        [2, 2, 2], classification=[1, 2, 1], caveats=[0, 0, ORIGINATOR_CONTROLLED], first_number=100
    )
    audits, deliveries = [], []
    held = []
    for sender, items, now in ((USA, usa, 1.0), (KOR, kor, 2.0)):
        audit, delivered, arrived = send(sender, JPN, items, now)
        audits.append(audit)
        deliveries.append(delivered)
        held.append(arrived)
    relayed = LabelledTracks(
        nations=NATIONS,
        **{
            f.name: np.concatenate([getattr(h, f.name) for h in held])
            for f in dataclasses.fields(LabelledTracks)
            if f.name != "nations"
        },
    )
    for recipient, now in ((AUS, 3.0), (KOR, 4.0), (USA, 5.0)):
        audit, delivered, _ = send(JPN, recipient, relayed, now)
        audits.append(audit)
        deliveries.append(delivered)
    return AuditRecords.concatenate(audits), DeliveryRecords.concatenate(deliveries)


def kinds(violations: list[Violation], table: RecordTable, row: int) -> set[ViolationKind]:
    return {v.kind for v in violations if v.table is table and v.row == row}


def forge(records: AuditRecords, row: int, **values: int) -> AuditRecords:
    """``records`` with some columns of one row overwritten."""
    changes = {}
    for name, value in values.items():
        column = getattr(records, name).copy()
        column[row] = value
        changes[name] = column
    return dataclasses.replace(records, **changes)


def release(records: AuditRecords, row: int) -> AuditRecords:
    """A forged audit in which a denied row was released."""
    return forge(records, row, decision=Decision.RELEASE, reason=DenyReason.NONE)


def denied_row(audit: AuditRecords, reason: DenyReason) -> int:
    rows = np.flatnonzero(audit.reason == reason)
    assert rows.size, f"the clean run has no {reason.name} denial"
    return int(rows[0])


# --- clean records ------------------------------------------------------------------------------


def test_clean_run_passes_and_exercises_every_outcome() -> None:
    audit, delivered = clean_run()
    assert check_releases(audit, POLICY, delivered=delivered) == []
    assert check_releases(audit, POLICY) == []
    # The run is worth checking: releases, sanitised releases, relays and denials of many kinds.
    assert set(audit.decision.tolist()) == {Decision.RELEASE, Decision.SANITISE, Decision.DENY}
    assert {
        DenyReason.NOT_IN_REL_TO,
        DenyReason.ABOVE_CLEARANCE,
        DenyReason.NO_AGREEMENT,
        DenyReason.ABOVE_AGREEMENT,
        DenyReason.CATEGORY_NOT_AGREED,
        DenyReason.CAVEAT_NOT_AGREED,
        DenyReason.RELAY_NOT_PERMITTED,
    } <= set(audit.reason.tolist())
    relayed = (delivered.sender != delivered.originator) & (delivered.node != delivered.originator)
    assert relayed.any()
    assert delivered.accepted.all()


# --- forged audit rows --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [r for r in KIND_OF if r is not DenyReason.INVALID_LABEL])
def test_forged_release_of_a_denied_item_is_caught(reason: DenyReason) -> None:
    audit, delivered = clean_run()
    row = denied_row(audit, reason)
    violations = check_releases(release(audit, row), POLICY, delivered=delivered)
    assert KIND_OF[reason] in kinds(violations, RecordTable.AUDIT, row)
    assert all(v.table is RecordTable.AUDIT and v.row == row for v in violations)


def test_relay_without_the_originators_agreement_is_caught() -> None:
    # JPN gives its own data to AUS; KOR's data relayed by JPN to AUS has no KOR→AUS right.
    audit, _ = clean_run()
    relays = np.flatnonzero(
        (audit.reason == DenyReason.NO_AGREEMENT)
        & (audit.node == NATIONS.index(JPN))
        & (audit.originator == NATIONS.index(KOR))
        & (audit.recipient == NATIONS.index(AUS))
    )
    assert relays.size
    violations = check_releases(release(audit, int(relays[0])), POLICY)
    assert [v.kind for v in violations] == [ViolationKind.NO_AGREEMENT]
    assert (violations[0].sender, violations[0].originator, violations[0].recipient) == (
        JPN,
        KOR,
        AUS,
    )
    assert "NO_AGREEMENT: track 100 of KOR sent by JPN to AUS" in str(violations[0])


def test_release_skipping_required_sanitisation_is_caught() -> None:
    audit, _ = clean_run()
    row = int(np.flatnonzero(audit.decision == Decision.SANITISE)[0])
    violations = check_releases(forge(audit, row, decision=Decision.RELEASE), POLICY)
    assert [v.kind for v in violations] == [ViolationKind.NOT_SANITISED]


def test_malformed_audit_rows_are_caught() -> None:
    audit, _ = clean_run()
    released = int(np.flatnonzero(audit.decision == Decision.RELEASE)[0])
    denied = int(np.flatnonzero(audit.decision == Decision.DENY)[0])
    for forged, row in (
        (forge(audit, released, decision=0), released),
        (forge(audit, released, reason=DenyReason.NO_AGREEMENT), released),
        (forge(audit, denied, reason=DenyReason.NONE), denied),
        (forge(audit, released, originator=9), released),
        (forge(audit, released, classification=-1), released),
    ):
        assert kinds(check_releases(forged, POLICY), RecordTable.AUDIT, row) == {
            ViolationKind.MALFORMED_RECORD
        }


# --- forged deliveries --------------------------------------------------------------------------


def test_delivery_without_an_audited_release_is_caught() -> None:
    audit, delivered = clean_run()
    # Drop the audit rows of the first hop: its deliveries have nothing to match.
    first_hop = audit.node == NATIONS.index(USA)
    trimmed = AuditRecords(
        nations=audit.nations,
        **{name: getattr(audit, name)[~first_hop] for name in AuditRecords._COLUMNS},
    )
    violations = check_releases(trimmed, POLICY, delivered=delivered)
    from_usa = np.flatnonzero(delivered.sender == NATIONS.index(USA))
    assert {v.row for v in violations} == set(from_usa.tolist())
    assert {v.kind for v in violations} == {ViolationKind.UNAUDITED_DELIVERY}


def test_delivery_before_its_release_or_with_another_label_is_caught() -> None:
    audit, delivered = clean_run()
    time_s = delivered.time_s.copy()
    time_s[0] = -1.0  # before any decision
    classification = delivered.classification.copy()
    classification[1] += 1  # not the label that was released
    forged = dataclasses.replace(delivered, time_s=time_s, classification=classification)
    violations = check_releases(audit, POLICY, delivered=forged)
    assert ViolationKind.UNAUDITED_DELIVERY in kinds(violations, RecordTable.DELIVERY, 0)
    assert ViolationKind.UNAUDITED_DELIVERY in kinds(violations, RecordTable.DELIVERY, 1)


def test_early_delivery_of_delayed_data_is_caught() -> None:
    audit, delivered = clean_run()
    # USA→KOR sanitises with a 5 s delay; JPN relays USA data to KOR.
    rows = np.flatnonzero(
        (delivered.node == NATIONS.index(KOR)) & (delivered.originator == NATIONS.index(USA))
    )
    assert rows.size
    time_s = delivered.time_s.copy()
    time_s[rows] = 4.0  # after the relay decision at 4 s, before valid time (0 s) + 5 s
    violations = check_releases(
        audit, POLICY, delivered=dataclasses.replace(delivered, time_s=time_s)
    )
    assert {v.kind for v in violations} == {ViolationKind.RELEASED_EARLY}
    assert {v.row for v in violations} == set(rows.tolist())


def test_a_sender_without_a_guard_is_caught_even_if_the_receiver_rejects() -> None:
    audit, delivered = clean_run()
    # KOR bypasses its guard and pushes USA's, its own and JPN's data to AUS, unaudited.
    pushed = tracks([0, 2, 1], first_number=500)
    got = InboundGuard(node=AUS, policy=POLICY).accept(pushed, sender=KOR, now_s=9.0)
    # AUS is entitled to JPN's item (JPN→AUS), so only that one gets in.
    assert got.accepted.tolist() == [False, False, True]
    everything = DeliveryRecords.concatenate([delivered, got.delivered])
    violations = check_releases(audit, POLICY, delivered=everything)
    first = len(delivered)
    assert {v.row for v in violations} == {first, first + 1, first + 2}
    for row in (first, first + 1):
        assert kinds(violations, RecordTable.DELIVERY, row) == {
            ViolationKind.NO_AGREEMENT,
            ViolationKind.UNAUDITED_DELIVERY,
        }
    # Accepted or not, an arrival nobody audited is a violation.
    assert kinds(violations, RecordTable.DELIVERY, first + 2) == {ViolationKind.UNAUDITED_DELIVERY}


# --- recordings ---------------------------------------------------------------------------------


def test_checks_columns_read_back_from_parquet(tmp_path: Path) -> None:
    audit, delivered = clean_run()
    row = denied_row(audit, DenyReason.NOT_IN_REL_TO)
    forged = release(audit, row)
    narrow = {"node", "recipient", "originator", "decision", "reason", "classification"}

    def write(records: AuditRecords | DeliveryRecords, name: str) -> Path:
        columns = {
            column: pa.array(
                getattr(records, column).astype(np.int8)
                if column in narrow
                else getattr(records, column)
            )
            for column in type(records)._COLUMNS
        }
        path = tmp_path / f"{name}.parquet"
        table = pa.table(columns).replace_schema_metadata({"nations": ",".join(records.nations)})
        pq.write_table(table, path)
        return path

    def read(path: Path) -> tuple[tuple[NationCode, ...], dict[str, np.ndarray]]:
        table = pq.read_table(path)
        nations = tuple(
            NationCode(code) for code in table.schema.metadata[b"nations"].decode().split(",")
        )
        return nations, {name: table.column(name).to_numpy() for name in table.column_names}

    nations, columns = read(write(forged, "audit"))
    audit_back = AuditRecords(nations=nations, **columns)
    nations, columns = read(write(delivered, "delivered"))
    delivered_back = DeliveryRecords(nations=nations, **columns)
    violations = check_releases(audit_back, POLICY, delivered=delivered_back)
    assert violations == check_releases(forged, POLICY, delivered=delivered)
    assert violations
    assert {(v.table, v.row) for v in violations} == {(RecordTable.AUDIT, row)}
    assert ViolationKind.NOT_IN_REL_TO in {v.kind for v in violations}


# --- against the guard, over random labels ------------------------------------------------------

labels = st.tuples(
    st.integers(-1, 3),  # originator (-1: malformed)
    st.integers(0, 4),  # classification
    st.integers(0, EVERYONE),  # REL TO
    st.sampled_from([0, 1, 2, 4, 7, 8]),  # caveats
    st.integers(0, 3),  # category
)


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(labels, min_size=1, max_size=12),
    sender=st.sampled_from(NATIONS),
    recipient=st.sampled_from(NATIONS),
    forged=st.data(),
)
def test_checker_agrees_with_the_guard_on_every_release_and_denial(
    items: list[tuple[int, int, int, int, int]],
    sender: NationCode,
    recipient: NationCode,
    forged: st.DataObject,
) -> None:
    originator, classification, rel_to, caveats, category = (
        list(c) for c in zip(*items, strict=True)
    )
    batch = dataclasses.replace(
        tracks([0] * len(items)),
        originator=np.array(originator),
        classification=np.array(classification),
        rel_to=np.array(rel_to, np.uint64),
        caveats=np.array(caveats),
        category=np.array(category),
    )
    audit = (
        OutboundGuard(node=sender, policy=POLICY)
        .release(batch, recipient=recipient, now_s=1.0)
        .audit
    )
    assert len(audit) == len(items)
    assert check_releases(audit, POLICY) == []

    denied = np.flatnonzero(audit.decision == Decision.DENY)
    if denied.size:
        row = int(forged.draw(st.sampled_from(denied.tolist())))
        reason = DenyReason(int(audit.reason[row]))
        found = kinds(check_releases(release(audit, row), POLICY), RecordTable.AUDIT, row)
        # The guard's first broken rule is among those the second implementation finds.
        assert KIND_OF[reason] in found
