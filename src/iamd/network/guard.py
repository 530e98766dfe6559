"""The releasability guards: one on the way out of a node, one on the way in.

:class:`OutboundGuard` is the one place that decides what leaves a node for a recipient. It
applies :func:`~iamd.network.releasability.decide` to a whole batch, sanitises what the
agreements say to sanitise, gives each released item its release time, and writes one
:class:`AuditRecords` row for **every** decision, released or denied, so a recording can
prove afterwards that nothing left that should not have
(:func:`~iamd.network.invariants.check_releases`).

:class:`InboundGuard` runs the same rule again on the receiving node, for the receiver, as
defence in depth: a sender whose guard is wrong, misconfigured or hostile cannot push data
into a picture that is not entitled to it. It also checks that the sanitisation the
agreement requires was done (sensor identity stripped, position covariance no tighter than
the agreed floor, delay respected) and writes one :class:`DeliveryRecords` row per item
that arrived.

Both guards work on :class:`LabelledTracks`, a small batch of arrays: the labels, the
kinematics that sanitisation changes, and the sensor id. A track-report adapter fills it
from the wire batch, and uses ``OutboundRelease.index`` to carry the other fields along.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.messages.reports import MAX_NATIONS, MaskArray, remap_rel_to
from iamd.network.releasability import (
    Decision,
    Decisions,
    DenyReason,
    ReleasePolicy,
    ReleaseTables,
    as_rel_to,
    decide,
    sanitisation_of,
)

_Records = TypeVar("_Records", bound="_NationIndexed")


def _with_nations(
    nations: tuple[NationCode, ...], extra: Sequence[NationCode]
) -> tuple[NationCode, ...]:
    """``nations`` followed by those of ``extra`` it lacks (appending keeps REL TO bits)."""
    out = list(nations)
    for nation in extra:
        if nation not in out:
            out.append(nation)
    if len(out) > MAX_NATIONS:
        raise ValueError(f"at most {MAX_NATIONS} nations per batch (got {len(out)})")
    return tuple(out)


def _low_bits(rel_to: MaskArray, count: int) -> MaskArray:
    """``rel_to`` with every bit from ``count`` up cleared."""
    if count >= MAX_NATIONS:
        return rel_to
    return rel_to & np.uint64((1 << count) - 1)


def _in_range(index: IntArray, count: int) -> IntArray:
    """``index`` with values outside ``0…count-1`` replaced by -1.

    Records extend a batch's nations with the sender and recipient; a malformed index must
    not come to name one of them.
    """
    return np.where((index >= 0) & (index < count), index, -1)


class _NationIndexed:
    """Record batch whose nation columns are indices into its ``nations`` tuple.

    Every such batch has a ``rel_to`` column, a REL TO mask over the same tuple.
    """

    __slots__ = ()

    _COLUMNS: ClassVar[Mapping[str, type[np.generic]]]
    """Every per-row column and its dtype."""

    _NATION_COLUMNS: ClassVar[tuple[str, ...]]
    """Columns holding indices into ``nations``."""

    nations: tuple[NationCode, ...]
    rel_to: MaskArray

    def _normalise(self) -> None:
        """Coerce columns to their dtypes (Parquet may hand back narrower ones), check shapes."""
        nations = tuple(self.nations)
        if len(nations) > MAX_NATIONS or len(set(nations)) != len(nations):
            raise ValueError(
                f"{type(self).__name__}: nations must be at most {MAX_NATIONS} distinct "
                f"codes (got {nations})"
            )
        object.__setattr__(self, "nations", nations)
        shape: tuple[int, ...] | None = None
        for name, dtype in self._COLUMNS.items():
            raw = getattr(self, name)
            column = as_rel_to(raw) if dtype is np.uint64 else np.asarray(raw, dtype=dtype)
            if shape is None:
                shape = column.shape
            if column.ndim != 1 or column.shape != shape:
                raise ValueError(
                    f"{type(self).__name__}: {name} must have shape {shape} "
                    f"like every column (got {column.shape})"
                )
            object.__setattr__(self, name, column)

    def __len__(self) -> int:
        first = next(iter(self._COLUMNS))
        return int(getattr(self, first).shape[0])

    def over(self: _Records, nations: Sequence[NationCode]) -> _Records:
        """The same rows, with nation indices and REL TO masks over ``nations``.

        Parameters
        ----------
        nations : sequence of NationCode
            A superset of :attr:`nations`, at most 64.

        Raises
        ------
        ValueError
            If ``nations`` lacks one of :attr:`nations`.
        """
        new = tuple(nations)
        missing = [n for n in self.nations if n not in new]
        if missing:
            raise ValueError(f"nations {tuple(new)} lack {missing}")
        if new == self.nations:
            return self
        old = len(self.nations)
        lookup = np.array([new.index(n) for n in self.nations] + [-1], dtype=np.int64)
        changes: dict[str, object] = {"nations": new}
        for name in self._NATION_COLUMNS:
            column: IntArray = getattr(self, name)
            # Out-of-range indices stay out of range (-1): a malformed row must not come to
            # name a real nation.
            changes[name] = lookup[np.where((column >= 0) & (column < old), column, old)]
        changes["rel_to"] = remap_rel_to(self.rel_to, self.nations, new)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @classmethod
    def concatenate(cls: type[_Records], parts: Sequence[_Records]) -> _Records:
        """All rows of ``parts`` in order, over the union of their nations.

        Parameters
        ----------
        parts : sequence of records of this class
            Batches to join (may be empty).

        Returns
        -------
        records of this class
        """
        nations: tuple[NationCode, ...] = ()
        for part in parts:
            nations = _with_nations(nations, part.nations)
        aligned = [part.over(nations) for part in parts]
        columns = {
            name: np.concatenate(
                [getattr(part, name) for part in aligned] or [np.zeros(0, dtype=dtype)]
            )
            for name, dtype in cls._COLUMNS.items()
        }
        return cls(nations=nations, **columns)  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecords(_NationIndexed):
    """One row per release decision of an outbound guard, released or denied.

    Everything the invariant checker needs is in the row: it can re-derive each decision
    from the labels without the items themselves.

    Attributes
    ----------
    nations : tuple of NationCode
        The nations that the index columns and REL TO masks refer to.
    time_s : ndarray, shape (K,)
        Decision time, s since the scenario epoch.
    node : ndarray of int, shape (K,)
        The deciding (sending) node's nation.
    recipient : ndarray of int, shape (K,)
        The nation the item would go to.
    track_number : ndarray of int, shape (K,)
        The item's track number (unique per originator).
    originator : ndarray of int, shape (K,)
        The item's originator.
    decision : ndarray of int, shape (K,)
        :class:`~iamd.network.releasability.Decision` values.
    reason : ndarray of int, shape (K,)
        :class:`~iamd.network.releasability.DenyReason` values.
    classification : ndarray of int, shape (K,)
        The item's classification.
    rel_to : ndarray of uint64, shape (K,)
        The item's REL TO mask over ``nations``.
    caveats : ndarray of int, shape (K,)
        The item's caveat bits.
    category : ndarray of int, shape (K,)
        The item's threat category.
    """

    _COLUMNS: ClassVar[Mapping[str, type[np.generic]]] = {
        "time_s": np.float64,
        "node": np.int64,
        "recipient": np.int64,
        "track_number": np.int64,
        "originator": np.int64,
        "decision": np.int64,
        "reason": np.int64,
        "classification": np.int64,
        "rel_to": np.uint64,
        "caveats": np.int64,
        "category": np.int64,
    }
    _NATION_COLUMNS: ClassVar[tuple[str, ...]] = ("node", "recipient", "originator")

    nations: tuple[NationCode, ...]
    time_s: FloatArray
    node: IntArray
    recipient: IntArray
    track_number: IntArray
    originator: IntArray
    decision: IntArray
    reason: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray
    category: IntArray

    def __post_init__(self) -> None:
        self._normalise()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecords(_NationIndexed):
    """One row per item that arrived at a node, accepted by its inbound guard or not.

    Attributes
    ----------
    nations : tuple of NationCode
        The nations that the index columns and REL TO masks refer to.
    time_s : ndarray, shape (K,)
        Arrival time, s since the scenario epoch.
    node : ndarray of int, shape (K,)
        The receiving node's nation.
    sender : ndarray of int, shape (K,)
        The nation the item came from over the link (originator or relay).
    track_number, originator, classification, rel_to, caveats, category : ndarray, shape (K,)
        The item's identity and label, as in :class:`AuditRecords`.
    valid_at_s : ndarray, shape (K,)
        The item's valid time, s since the scenario epoch.
    accepted : ndarray of bool, shape (K,)
        The inbound guard let the item in.
    reason : ndarray of int, shape (K,)
        The inbound guard's :class:`~iamd.network.releasability.DenyReason`.
    """

    _COLUMNS: ClassVar[Mapping[str, type[np.generic]]] = {
        "time_s": np.float64,
        "node": np.int64,
        "sender": np.int64,
        "track_number": np.int64,
        "originator": np.int64,
        "classification": np.int64,
        "rel_to": np.uint64,
        "caveats": np.int64,
        "category": np.int64,
        "valid_at_s": np.float64,
        "accepted": np.bool_,
        "reason": np.int64,
    }
    _NATION_COLUMNS: ClassVar[tuple[str, ...]] = ("node", "sender", "originator")

    nations: tuple[NationCode, ...]
    time_s: FloatArray
    node: IntArray
    sender: IntArray
    track_number: IntArray
    originator: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray
    category: IntArray
    valid_at_s: FloatArray
    accepted: BoolArray
    reason: IntArray

    def __post_init__(self) -> None:
        self._normalise()


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelledTracks:
    """The parts of a batch of track reports that the guards read or change.

    Attributes
    ----------
    nations : tuple of NationCode
        Nations that ``originator`` and ``rel_to`` refer to (at most 64).
    track_number : ndarray of int, shape (K,)
        Track number of each item (unique per originator).
    originator : ndarray of int, shape (K,)
        Index into ``nations`` of the nation whose sensors produced the item.
    classification : ndarray of int, shape (K,)
        Classification level (0 unclassified … higher more sensitive).
    rel_to : ndarray of uint64, shape (K,)
        REL TO bit mask over ``nations``.
    caveats : ndarray of int, shape (K,)
        Handling caveat bits.
    category : ndarray of int, shape (K,)
        :class:`~iamd.messages.truth.ThreatCategory` values, 0 when not yet classified.
    sensor_id : ndarray of int, shape (K,)
        Id of the sensor that last updated the item (0: unknown or stripped).
    valid_at_s : ndarray, shape (K,)
        Time the state is given at, s since the scenario epoch.
    state : ndarray, shape (K, 6)
        ECEF position (m) and velocity relative to the Earth (m/s).
    covariance : ndarray, shape (K, 6, 6)
        State covariance, m² / m²·s⁻¹ / m²·s⁻².

    Raises
    ------
    ValueError
        If an array has the wrong shape or ``nations`` is too long or repeats.
    """

    nations: tuple[NationCode, ...]
    track_number: IntArray
    originator: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray
    category: IntArray
    sensor_id: IntArray
    valid_at_s: FloatArray
    state: FloatArray
    covariance: FloatArray

    def __post_init__(self) -> None:
        nations = tuple(self.nations)
        if len(nations) > MAX_NATIONS or len(set(nations)) != len(nations):
            raise ValueError(
                f"LabelledTracks: nations must be at most {MAX_NATIONS} distinct codes "
                f"(got {nations})"
            )
        object.__setattr__(self, "nations", nations)
        k = np.shape(self.track_number)[0] if np.ndim(self.track_number) == 1 else -1
        expected = {
            "track_number": ((k,), np.int64),
            "originator": ((k,), np.int64),
            "classification": ((k,), np.int64),
            "rel_to": ((k,), np.uint64),
            "caveats": ((k,), np.int64),
            "category": ((k,), np.int64),
            "sensor_id": ((k,), np.int64),
            "valid_at_s": ((k,), np.float64),
            "state": ((k, 6), np.float64),
            "covariance": ((k, 6, 6), np.float64),
        }
        for name, (shape, dtype) in expected.items():
            raw = getattr(self, name)
            array = as_rel_to(raw) if dtype is np.uint64 else np.asarray(raw, dtype=dtype)
            if array.shape != shape:
                raise ValueError(
                    f"LabelledTracks: {name} must have shape {shape} (got {array.shape})"
                )
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return int(self.track_number.shape[0])

    def take(self, index: npt.ArrayLike) -> LabelledTracks:
        """The items at ``index`` (integer positions or a boolean mask), same nations."""
        rows = np.asarray(index)
        return LabelledTracks(
            nations=self.nations,
            track_number=self.track_number[rows],
            originator=self.originator[rows],
            classification=self.classification[rows],
            rel_to=self.rel_to[rows],
            caveats=self.caveats[rows],
            category=self.category[rows],
            sensor_id=self.sensor_id[rows],
            valid_at_s=self.valid_at_s[rows],
            state=self.state[rows],
            covariance=self.covariance[rows],
        )


def coarsening_variance_m2(quantum_m: npt.ArrayLike) -> FloatArray:
    """Variance of the rounding error of a position snapped to a grid, per axis, m².

    The error is uniform on ``[-q/2, q/2]``, so its variance is ``q²/12``.

    Examples
    --------
    >>> coarsening_variance_m2([0.0, 1200.0]).tolist()
    [0.0, 120000.0]
    """
    q = np.asarray(quantum_m, dtype=np.float64)
    return np.asarray(q * q / 12.0)


def coarsen_positions(
    position: npt.ArrayLike,
    covariance: npt.ArrayLike,
    *,
    quantum_m: npt.ArrayLike,
    min_sigma_m: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Snap ECEF positions to a grid and widen their covariance so it stays honest.

    The model is given in :class:`~iamd.network.releasability.Sanitisation`: the position
    block gains ``q²/12 · I₃`` (the rounding error's variance), then is lifted by a multiple
    of ``I₃`` until its smallest eigenvalue reaches ``min_sigma_m²``. The result is never
    smaller, in the positive semidefinite order, than the input plus the coarsening
    variance.

    Parameters
    ----------
    position : array_like, shape (K, 3)
        ECEF positions, m.
    covariance : array_like, shape (K, D, D), D ≥ 3
        Covariances whose first three rows and columns are the ECEF position, m² (the rest,
        e.g. velocity, is left as it is).
    quantum_m : array_like, shape (K,) or scalar
        Grid spacing per item, m (0: not snapped, no variance added).
    min_sigma_m : array_like, shape (K,) or scalar
        Smallest position standard deviation per item along any direction, m (0: no floor).

    Returns
    -------
    position : ndarray, shape (K, 3)
        Snapped positions, m; each component within ``q/2`` of the input.
    covariance : ndarray, shape (K, D, D)
        Widened covariances; NaN for items whose position covariance is not finite.

    Examples
    --------
    >>> p, P = coarsen_positions(
    ...     [[1234.0, -40.0, 6_400_010.0]], [np.eye(6)], quantum_m=100.0, min_sigma_m=0.0
    ... )
    >>> p.tolist()
    [[1200.0, -0.0, 6400000.0]]
    >>> round(float(P[0, 0, 0]), 3), float(P[0, 3, 3])
    (834.333, 1.0)
    """
    pos = np.asarray(position, dtype=np.float64)
    cov = np.array(covariance, dtype=np.float64)  # a copy: the input is never changed
    k = pos.shape[0]
    q = np.broadcast_to(np.asarray(quantum_m, dtype=np.float64), (k,))
    floor = np.broadcast_to(np.asarray(min_sigma_m, dtype=np.float64), (k,))
    snap = q > 0.0
    step = np.where(snap, q, 1.0)[:, None]
    snapped = np.where(snap[:, None], np.round(pos / step) * step, pos)

    eye = np.eye(3)
    block = cov[:, :3, :3] + coarsening_variance_m2(q)[:, None, None] * eye
    finite = np.isfinite(block).all(axis=(1, 2))
    smallest = np.full(k, np.nan)
    # eigvalsh refuses NaN input; such items keep NaN so no one trusts them.
    smallest[finite] = np.linalg.eigvalsh(block[finite])[:, 0]
    lift = np.maximum(floor * floor - smallest, 0.0)
    cov[:, :3, :3] = block + lift[:, None, None] * eye
    return snapped, cov


def _smallest_position_variance(covariance: FloatArray) -> FloatArray:
    """Smallest eigenvalue of each position block, m² (NaN where not finite)."""
    block = covariance[:, :3, :3]
    finite = np.isfinite(block).all(axis=(1, 2))
    smallest = np.full(block.shape[0], np.nan)
    smallest[finite] = np.linalg.eigvalsh(block[finite])[:, 0]
    return smallest


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundRelease:
    """What an outbound guard lets out for one recipient, and the audit of every decision.

    Attributes
    ----------
    released : LabelledTracks
        The released items (M of the K offered), sanitised where required.
    index : ndarray of int, shape (M,)
        Position of each released item in the offered batch.
    release_at_s : ndarray, shape (M,)
        Earliest time each released item may be sent, s since the scenario epoch.
    audit : AuditRecords
        One row per offered item (K rows), in the offered order.
    """

    released: LabelledTracks
    index: IntArray
    release_at_s: FloatArray
    audit: AuditRecords


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundAcceptance:
    """What an inbound guard lets in from one batch.

    Attributes
    ----------
    accepted : ndarray of bool, shape (K,)
        The receiver is entitled to the item and it arrived as the agreement requires.
    reason : ndarray of int, shape (K,)
        :class:`~iamd.network.releasability.DenyReason` of each item (``NONE`` if accepted).
    delivered : DeliveryRecords
        One row per arrived item (K rows).
    """

    accepted: BoolArray
    reason: IntArray
    delivered: DeliveryRecords


class _CompiledPolicy:
    """A policy's tables per batch ``nations`` tuple, compiled once each."""

    __slots__ = ("_policy", "_tables")

    def __init__(self, policy: ReleasePolicy) -> None:
        self._policy = policy
        self._tables: dict[tuple[NationCode, ...], ReleaseTables] = {}

    def __call__(self, nations: tuple[NationCode, ...]) -> ReleaseTables:
        tables = self._tables.get(nations)
        if tables is None:
            tables = self._tables[nations] = self._policy.compile(nations)
        return tables


class OutboundGuard:
    """The releasability gate of one node: what may leave it for each recipient.

    Parameters
    ----------
    node : NationCode
        The nation whose node this guard serves (the sender of every batch it passes).
    policy : ReleasePolicy
        The run's agreements and clearances.

    Examples
    --------
    >>> from iamd.network.releasability import SharingAgreement
    >>> usa, jpn = NationCode("USA"), NationCode("JPN")
    >>> policy = ReleasePolicy(
    ...     agreements=(SharingAgreement(provider=usa, recipient=jpn, max_classification=2),),
    ...     clearances={usa: 4, jpn: 3},
    ... )
    >>> items = LabelledTracks(
    ...     nations=(usa, jpn), track_number=[7, 8], originator=[0, 0],
    ...     classification=[2, 3], rel_to=np.array([3, 3], np.uint64), caveats=[0, 0],
    ...     category=[1, 1], sensor_id=[11, 11], valid_at_s=[5.0, 5.0],
    ...     state=np.zeros((2, 6)), covariance=np.tile(np.eye(6), (2, 1, 1)),
    ... )
    >>> out = OutboundGuard(node=usa, policy=policy).release(items, recipient=jpn, now_s=6.0)
    >>> out.released.track_number.tolist(), len(out.audit)
    ([7], 2)
    """

    def __init__(self, *, node: NationCode, policy: ReleasePolicy) -> None:
        self.node = node
        self.policy = policy
        self._tables = _CompiledPolicy(policy)

    def release(
        self,
        items: LabelledTracks,
        *,
        recipient: NationCode,
        now_s: float,
        sanitisable: bool = True,
    ) -> OutboundRelease:
        """Decide, sanitise and audit one batch offered to ``recipient``.

        Parameters
        ----------
        items : LabelledTracks
            The K items this node would send (its own or relayed).
        recipient : NationCode
            The nation the batch goes to.
        now_s : float
            Decision time, s since the scenario epoch.
        sanitisable : bool
            False for raw measurements: an item whose agreement requires sanitisation is
            then denied (``NOT_SANITISABLE``) instead of sanitised.

        Returns
        -------
        OutboundRelease
            Released items (sanitised), their positions in ``items`` and release times
            (``now_s``, or the valid time plus the agreement's delay if later), and K
            audit rows.
        """
        tables = self._tables(items.nations)
        decided = decide(
            tables,
            recipient=recipient,
            sender=self.node,
            originator=items.originator,
            classification=items.classification,
            rel_to=items.rel_to,
            caveats=items.caveats,
            category=items.category,
        )
        if not sanitisable:
            decided = _unsanitisable(decided)
        index = np.flatnonzero(decided.decision != Decision.DENY)
        released = items.take(index)
        release_at = np.full(index.shape, float(now_s))
        sanitise = decided.decision[index] == Decision.SANITISE
        if sanitise.any():
            released, release_at = _sanitise(released, release_at, sanitise, tables, recipient)

        audit_nations = _with_nations(items.nations, (self.node, recipient))
        k = len(items)
        audit = AuditRecords(
            nations=audit_nations,
            time_s=np.full(k, float(now_s)),
            node=np.full(k, audit_nations.index(self.node), dtype=np.int64),
            recipient=np.full(k, audit_nations.index(recipient), dtype=np.int64),
            track_number=items.track_number,
            originator=_in_range(items.originator, len(items.nations)),
            decision=decided.decision,
            reason=decided.reason,
            classification=items.classification,
            rel_to=_low_bits(items.rel_to, len(items.nations)),
            caveats=items.caveats,
            category=items.category,
        )
        return OutboundRelease(released=released, index=index, release_at_s=release_at, audit=audit)


def _sanitise(
    released: LabelledTracks,
    release_at: FloatArray,
    sanitise: BoolArray,
    tables: ReleaseTables,
    recipient: NationCode,
) -> tuple[LabelledTracks, FloatArray]:
    """Apply each item's required sanitisation to the rows marked in ``sanitise``."""
    rows = released.take(sanitise)
    need = sanitisation_of(
        tables, recipient=recipient, originator=rows.originator, caveats=rows.caveats
    )
    position, cov_rows = coarsen_positions(
        rows.state[:, :3],
        rows.covariance,
        quantum_m=need.position_quantum_m,
        min_sigma_m=need.min_position_sigma_m,
    )
    state = released.state.copy()
    state[sanitise, :3] = position
    cov = released.covariance.copy()
    cov[sanitise] = cov_rows
    sensor_id = released.sensor_id.copy()
    sensor_id[sanitise] = np.where(need.strip_sensor_identity, 0, rows.sensor_id)
    release_at = release_at.copy()
    release_at[sanitise] = np.maximum(release_at[sanitise], rows.valid_at_s + need.delay_s)
    out = dataclasses.replace(released, state=state, covariance=cov, sensor_id=sensor_id)
    return out, release_at


def _unsanitisable(decided: Decisions) -> Decisions:
    """``decided`` with every SANITISE turned into a DENY for ``NOT_SANITISABLE``."""
    must = decided.decision == Decision.SANITISE
    if not must.any():
        return decided
    return Decisions(
        decision=np.where(must, int(Decision.DENY), decided.decision).astype(np.int64),
        reason=np.where(must, int(DenyReason.NOT_SANITISABLE), decided.reason).astype(np.int64),
    )


class InboundGuard:
    """The receiving node's own check of everything that arrives, whatever the sender did.

    Parameters
    ----------
    node : NationCode
        The receiving nation.
    policy : ReleasePolicy
        The run's agreements and clearances (the receiver's copy).
    relative_tolerance : float
        Slack on the covariance floor check, as a fraction of the position covariance's
        largest entry (round-off in the sender's arithmetic or the wire encoding).

    Attributes
    ----------
    reject_counts : dict of DenyReason to int
        Items rejected so far, by reason (reasons never seen are absent).
    """

    def __init__(
        self, *, node: NationCode, policy: ReleasePolicy, relative_tolerance: float = 1e-9
    ) -> None:
        self.node = node
        self.policy = policy
        self.relative_tolerance = relative_tolerance
        self._tables = _CompiledPolicy(policy)
        self._counts = np.zeros(len(DenyReason), dtype=np.int64)

    @property
    def reject_counts(self) -> dict[DenyReason, int]:
        """Items rejected so far, by reason."""
        return {
            DenyReason(code): int(count)
            for code, count in enumerate(self._counts)
            if code != DenyReason.NONE and count > 0
        }

    def accept(
        self,
        items: LabelledTracks,
        *,
        sender: NationCode,
        now_s: float,
        sanitisable: bool = True,
    ) -> InboundAcceptance:
        """Check one arrived batch: entitlement first, then the sanitisation it required.

        Parameters
        ----------
        items : LabelledTracks
            The K items that arrived.
        sender : NationCode
            The nation the link says they came from.
        now_s : float
            Arrival time, s since the scenario epoch.
        sanitisable : bool
            False for raw measurements: an item whose agreement requires sanitisation is
            rejected (``NOT_SANITISABLE``), since its sender should never have sent it.

        Returns
        -------
        InboundAcceptance
        """
        tables = self._tables(items.nations)
        decided = decide(
            tables,
            recipient=self.node,
            sender=sender,
            originator=items.originator,
            classification=items.classification,
            rel_to=items.rel_to,
            caveats=items.caveats,
            category=items.category,
        )
        if not sanitisable:
            decided = _unsanitisable(decided)
        reason = decided.reason.copy()
        must = np.flatnonzero(decided.decision == Decision.SANITISE)
        if must.size:
            reason[must] = self._unsanitised(items, must, tables, now_s)
        accepted = reason == DenyReason.NONE
        self._counts += np.bincount(reason, minlength=len(DenyReason))[: len(DenyReason)]

        nations = _with_nations(items.nations, (self.node, sender))
        k = len(items)
        delivered = DeliveryRecords(
            nations=nations,
            time_s=np.full(k, float(now_s)),
            node=np.full(k, nations.index(self.node), dtype=np.int64),
            sender=np.full(k, nations.index(sender), dtype=np.int64),
            track_number=items.track_number,
            originator=_in_range(items.originator, len(items.nations)),
            classification=items.classification,
            rel_to=_low_bits(items.rel_to, len(items.nations)),
            caveats=items.caveats,
            category=items.category,
            valid_at_s=items.valid_at_s,
            accepted=accepted,
            reason=reason,
        )
        return InboundAcceptance(accepted=accepted, reason=reason, delivered=delivered)

    def _unsanitised(
        self, items: LabelledTracks, rows: IntArray, tables: ReleaseTables, now_s: float
    ) -> IntArray:
        """Reason codes for ``rows`` that needed sanitising: NONE where it was done."""
        need = sanitisation_of(
            tables,
            recipient=self.node,
            originator=items.originator[rows],
            caveats=items.caveats[rows],
        )
        floor = np.maximum(
            need.min_position_sigma_m**2, coarsening_variance_m2(need.position_quantum_m)
        )
        cov = items.covariance[rows]
        scale = np.max(np.abs(cov[:, :3, :3]), axis=(1, 2), initial=0.0)
        smallest = _smallest_position_variance(cov)
        # The comparison is False for NaN, so an unverifiable covariance is rejected.
        honest = smallest >= floor - self.relative_tolerance * np.maximum(scale, floor)
        stripped = ~need.strip_sensor_identity | (items.sensor_id[rows] == 0)
        on_time = now_s >= items.valid_at_s[rows] + need.delay_s
        return np.select(
            [~(honest & stripped), ~on_time],
            [int(DenyReason.NOT_SANITISED), int(DenyReason.RELEASED_EARLY)],
            int(DenyReason.NONE),
        ).astype(np.int64)


__all__ = [
    "AuditRecords",
    "DeliveryRecords",
    "InboundAcceptance",
    "InboundGuard",
    "LabelledTracks",
    "OutboundGuard",
    "OutboundRelease",
    "coarsen_positions",
    "coarsening_variance_m2",
]
