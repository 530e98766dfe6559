"""Proof from a recording that no released item broke the sharing agreements.

:func:`check_releases` reads only the guards' records —
:class:`~iamd.network.guard.AuditRecords` (every outbound decision) and, when given,
:class:`~iamd.network.guard.DeliveryRecords` (every arrival) — and the
:class:`~iamd.network.releasability.ReleasePolicy`. It works on plain arrays, so it runs
unchanged on columns read back from Parquet.

It is deliberately a second implementation of the rules, written as direct predicates per
(originator, recipient) pair rather than through :func:`~iamd.network.releasability.decide`
and its compiled tables, so that a fault in the guard's code path is not repeated here.

What counts as a violation
--------------------------
For every audit row whose decision released the item (``RELEASE`` or ``SANITISE``) and for
every arrival, unless the originator is the recipient (own data always flows):

- the recipient is not on the item's REL TO list (``NOT_IN_REL_TO``);
- the item's classification is above the recipient's clearance (``ABOVE_CLEARANCE``);
- no originator → recipient agreement exists, *whoever sent the item* — a relaying hub has
  no rights of its own (``NO_AGREEMENT``);
- the item is above the agreement's classification, outside its categories, or carries a
  caveat it does not allow (``ABOVE_AGREEMENT``, ``CATEGORY_NOT_AGREED``,
  ``CAVEAT_NOT_AGREED``);
- the sender is not the originator and the item carries a caveat that forbids relaying
  (``RELAY_NOT_PERMITTED``).

Audit rows only: released without sanitising although the agreement or the item's
caveats require it (``NOT_SANITISED``); an unknown decision code, a released row with a deny
reason or a denied row without one (``MALFORMED_RECORD``).

Arrivals only: no audited release by that sender to that recipient of that item with the
same label at or before the arrival (``UNAUDITED_DELIVERY``); arrived before its valid time
plus the delay its agreement or caveats demand (``RELEASED_EARLY``). Arrivals are checked
whether or not the receiver's inbound guard accepted them: the leak, if any, happened on
the link. Rows whose nation indices or labels are out of range are ``MALFORMED_RECORD``
and are not checked further.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.messages.reports import MAX_NATIONS, MaskArray
from iamd.network.guard import AuditRecords, DeliveryRecords
from iamd.network.releasability import (
    MAX_CATEGORY,
    Decision,
    DenyReason,
    ReleasePolicy,
)


class ViolationKind(enum.IntEnum):
    """Which rule a recorded release or arrival broke (see the module notes)."""

    NOT_IN_REL_TO = 1
    ABOVE_CLEARANCE = 2
    NO_AGREEMENT = 3
    ABOVE_AGREEMENT = 4
    CATEGORY_NOT_AGREED = 5
    CAVEAT_NOT_AGREED = 6
    RELAY_NOT_PERMITTED = 7
    NOT_SANITISED = 8
    UNAUDITED_DELIVERY = 9
    RELEASED_EARLY = 10
    MALFORMED_RECORD = 11


class RecordTable(enum.Enum):
    """The record batch a violation was found in."""

    AUDIT = "audit"
    DELIVERY = "delivery"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One broken rule in one record row.

    Attributes
    ----------
    kind : ViolationKind
        The rule.
    table : RecordTable
        Audit or delivery records.
    row : int
        Row in that batch, as given to :func:`check_releases`.
    time_s : float
        Decision or arrival time, s since the scenario epoch.
    sender, recipient, originator : NationCode
        Who sent the item, to whom, and whose data it is ("?" where the index is invalid).
    track_number : int
        The item's track number.
    """

    kind: ViolationKind
    table: RecordTable
    row: int
    time_s: float
    sender: NationCode
    recipient: NationCode
    originator: NationCode
    track_number: int

    def __str__(self) -> str:
        return (
            f"{self.table.value} row {self.row}: {self.kind.name}: track {self.track_number} "
            f"of {self.originator} sent by {self.sender} to {self.recipient} "
            f"at {self.time_s:.3f} s"
        )


@dataclass(frozen=True, slots=True)
class _Rows:
    """The columns the rules need, over one nations tuple, for one record batch."""

    time_s: FloatArray
    sender: IntArray
    recipient: IntArray
    originator: IntArray
    track_number: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray
    category: IntArray


def _rule_breaches(
    rows: _Rows, nations: tuple[NationCode, ...], policy: ReleasePolicy
) -> tuple[dict[ViolationKind, BoolArray], BoolArray]:
    """Rows breaking each entitlement rule, and rows too malformed to check."""
    n = len(nations)
    k = rows.sender.shape[0]
    malformed = np.zeros(k, dtype=np.bool_)
    for column in (rows.sender, rows.recipient, rows.originator):
        malformed |= (column < 0) | (column >= n)
    malformed |= (rows.classification < 0) | (rows.caveats < 0)
    malformed |= (rows.category < 0) | (rows.category > MAX_CATEGORY)
    checked = ~malformed & (rows.originator != rows.recipient)

    recipient = np.where(malformed, 0, rows.recipient)
    in_rel_to = ((rows.rel_to >> recipient.astype(np.uint64)) & np.uint64(1)) == 1
    clearance = np.array([policy.clearances.get(nation, -1) for nation in nations], np.int64)
    breaches = {kind: np.zeros(k, dtype=np.bool_) for kind in ViolationKind}
    breaches[ViolationKind.NOT_IN_REL_TO] = checked & ~in_rel_to
    if n:
        breaches[ViolationKind.ABOVE_CLEARANCE] = checked & (
            rows.classification > clearance[recipient]
        )
    breaches[ViolationKind.RELAY_NOT_PERMITTED] = (
        checked
        & (rows.sender != rows.originator)
        & ((rows.caveats & policy.caveat_rules.relay_forbidden) != 0)
    )

    # One pass per (originator, recipient) pair present, each vectorised over its rows.
    pair = np.where(checked, rows.originator * MAX_NATIONS + rows.recipient, -1)
    for key in np.unique(pair[pair >= 0]).tolist():
        mine = pair == key
        provider, receiver = nations[key // MAX_NATIONS], nations[key % MAX_NATIONS]
        agreement = policy.agreement(provider, receiver)
        if agreement is None:
            breaches[ViolationKind.NO_AGREEMENT] |= mine
            continue
        breaches[ViolationKind.ABOVE_AGREEMENT] |= mine & (
            rows.classification > agreement.max_classification
        )
        if agreement.categories:
            agreed = np.isin(rows.category, sorted(agreement.categories))
            breaches[ViolationKind.CATEGORY_NOT_AGREED] |= mine & ~agreed
        breaches[ViolationKind.CAVEAT_NOT_AGREED] |= mine & (
            (rows.caveats & ~int(agreement.caveats_allowed)) != 0
        )
    return breaches, malformed


def _required_sanitisation(
    rows: _Rows, nations: tuple[NationCode, ...], policy: ReleasePolicy, usable: BoolArray
) -> tuple[BoolArray, FloatArray]:
    """Rows that had to be sanitised (by agreement or caveat), and the delay owed (s)."""
    k = rows.sender.shape[0]
    outside = usable & (rows.originator != rows.recipient)
    rules = policy.caveat_rules
    degrade = outside & ((rows.caveats & rules.degrade_position) != 0)
    required = degrade | (outside & ((rows.caveats & rules.withhold_sensor) != 0))
    delay = np.where(degrade, rules.degradation.delay_s, 0.0)
    pair = np.where(outside, rows.originator * MAX_NATIONS + rows.recipient, -1)
    for key in np.unique(pair[pair >= 0]).tolist():
        agreement = policy.agreement(nations[key // MAX_NATIONS], nations[key % MAX_NATIONS])
        if agreement is not None and agreement.sanitise is not None:
            mine = pair == key
            required |= mine
            delay[mine] = np.maximum(delay[mine], agreement.sanitise.delay_s)
    return required, np.asarray(delay, dtype=np.float64).reshape(k)


def _first_release_time(audit: _Rows, released: BoolArray, delivered: _Rows) -> FloatArray:
    """Earliest audited release matching each arrival, s since the epoch (+inf: none).

    A release matches when sender, recipient, originator, track number and the whole label
    are the same.
    """

    def keys(rows: _Rows) -> IntArray:
        return np.stack(
            [
                rows.sender,
                rows.recipient,
                rows.originator,
                rows.track_number,
                rows.classification,
                rows.rel_to.view(np.int64),
                rows.caveats,
                rows.category,
            ],
            axis=1,
        )

    audit_keys = keys(audit)[released]
    both = np.concatenate([audit_keys, keys(delivered)])
    if both.shape[0] == 0:
        return np.zeros(0)
    _, ids = np.unique(both, axis=0, return_inverse=True)
    ids = ids.reshape(-1)
    earliest = np.full(int(ids.max()) + 1, np.inf)
    np.minimum.at(earliest, ids[: audit_keys.shape[0]], audit.time_s[released])
    return np.asarray(earliest[ids[audit_keys.shape[0] :]])


def _violations(
    table: RecordTable,
    rows: _Rows,
    nations: tuple[NationCode, ...],
    found: dict[ViolationKind, BoolArray],
) -> list[Violation]:
    """Violation objects for every flagged row (only failures reach this Python loop)."""

    def name(index: int) -> NationCode:
        return nations[index] if 0 <= index < len(nations) else NationCode("?")

    return [
        Violation(
            kind=kind,
            table=table,
            row=row,
            time_s=float(rows.time_s[row]),
            sender=name(int(rows.sender[row])),
            recipient=name(int(rows.recipient[row])),
            originator=name(int(rows.originator[row])),
            track_number=int(rows.track_number[row]),
        )
        for kind, mask in found.items()
        for row in np.flatnonzero(mask).tolist()
    ]


def check_releases(
    audit: AuditRecords,
    policy: ReleasePolicy,
    *,
    delivered: DeliveryRecords | None = None,
) -> list[Violation]:
    """Every rule that a recorded release or arrival broke; empty when the run was clean.

    Parameters
    ----------
    audit : AuditRecords
        Every outbound decision of the run (e.g. ``AuditRecords.concatenate`` of every
        node's, or columns read back from a recording).
    policy : ReleasePolicy
        The agreements and clearances the run was held to.
    delivered : DeliveryRecords, optional
        Every arrival of the run; without it only the audit is checked.

    Returns
    -------
    list of Violation
        Audit violations first, then delivery ones, each by row then rule; one row may
        break several rules.

    Raises
    ------
    ValueError
        If the two batches together name more than 64 nations.
    """
    nations = audit.nations
    if delivered is not None:
        nations = tuple(dict.fromkeys(audit.nations + delivered.nations))
        if len(nations) > MAX_NATIONS:
            raise ValueError(f"at most {MAX_NATIONS} nations (got {len(nations)})")
        delivered = delivered.over(nations)
    audit = audit.over(nations)

    audit_rows = _Rows(
        audit.time_s,
        audit.node,
        audit.recipient,
        audit.originator,
        audit.track_number,
        audit.classification,
        audit.rel_to,
        audit.caveats,
        audit.category,
    )
    released = (audit.decision == Decision.RELEASE) | (audit.decision == Decision.SANITISE)
    denied = audit.decision == Decision.DENY
    breaches, audit_malformed = _rule_breaches(audit_rows, nations, policy)
    usable = released & ~audit_malformed
    found = {kind: mask & usable for kind, mask in breaches.items()}
    must_sanitise, _ = _required_sanitisation(audit_rows, nations, policy, usable)
    found[ViolationKind.NOT_SANITISED] = must_sanitise & (audit.decision == Decision.RELEASE)
    found[ViolationKind.MALFORMED_RECORD] = (
        (audit_malformed & released)
        | ~(released | denied)
        | (released & (audit.reason != DenyReason.NONE))
        | (denied & (audit.reason == DenyReason.NONE))
    )
    violations = _violations(RecordTable.AUDIT, audit_rows, nations, found)

    if delivered is not None:
        arrivals = _Rows(
            delivered.time_s,
            delivered.sender,
            delivered.node,
            delivered.originator,
            delivered.track_number,
            delivered.classification,
            delivered.rel_to,
            delivered.caveats,
            delivered.category,
        )
        breaches, malformed = _rule_breaches(arrivals, nations, policy)
        found = {kind: mask & ~malformed for kind, mask in breaches.items()}
        found[ViolationKind.MALFORMED_RECORD] = malformed
        first = _first_release_time(audit_rows, usable, arrivals)
        found[ViolationKind.UNAUDITED_DELIVERY] = ~malformed & ~(first <= arrivals.time_s)
        delayed, delay = _required_sanitisation(arrivals, nations, policy, ~malformed)
        found[ViolationKind.RELEASED_EARLY] = (
            delayed & (delay > 0.0) & (arrivals.time_s < delivered.valid_at_s + delay)
        )
        violations += _violations(RecordTable.DELIVERY, arrivals, nations, found)

    violations.sort(key=lambda v: (v.table is RecordTable.DELIVERY, v.row, v.kind))
    return violations


__all__ = ["RecordTable", "Violation", "ViolationKind", "check_releases"]
