"""Releasability: what one nation may give another, as plain data and one vectorised rule.

The policy
----------
A :class:`SharingAgreement` is *directed*: it says what its ``provider`` may give its
``recipient`` — the highest classification, which threat categories, which handling caveats,
and whether the data must be sanitised (:class:`Sanitisation`) on the way. A
:class:`ReleasePolicy` holds every agreement of a run, each nation's clearance (the highest
classification its network is accredited to hold) and what item caveats demand
(:class:`CaveatRules`).

Who owns a release decision
---------------------------
The originator. An item's originator is the nation whose sensors produced it; its label
(classification, REL TO list, caveats) is the originator's and travels unchanged with the
item. A node that relays an item (a hub) may pass it to a recipient only if the
*originator's* agreement with that recipient allows it; the relayer's own agreements neither
widen nor narrow that. One rule, :func:`decide`, therefore serves a node's own tracks and
relayed tracks alike, and a hub cannot launder data by passing it on.

Labels as arrays
----------------
Items are described by arrays over a batch, relative to the batch's ``nations`` tuple:
``originator`` is an index into it and ``rel_to`` a ``uint64`` bit mask over it (bit ``i``
set: ``nations[i]`` may receive the item), so a batch names at most 64 nations.
Classifications are ordered integers (0 = unclassified, higher = more sensitive); categories
are :class:`~iamd.messages.truth.ThreatCategory` values (0 = not yet classified); caveats are
bit masks. Enumerations from the message layer (``IntEnum``, ``IntFlag``) are integers and can
be passed as they are.

Precedence
----------
A nation always receives its own data. Otherwise the rules are checked in this order and a
denied item carries the first one it breaks (the :class:`DenyReason` values follow the same
order):

=====  =======================  ==========================================================
order  reason                   the item is denied when
=====  =======================  ==========================================================
1      ``INVALID_LABEL``        its label is malformed (originator not in the batch,
                                negative classification or caveats, category outside
                                0…62); checked even before own-nation data, since a
                                malformed label cannot say whose data it is
2      ``NOT_IN_REL_TO``        the recipient is not on its REL TO list
3      ``ABOVE_CLEARANCE``      its classification is above the recipient's clearance
4      ``NO_AGREEMENT``         no originator → recipient agreement exists
5      ``ABOVE_AGREEMENT``      its classification is above the agreement's maximum
6      ``CATEGORY_NOT_AGREED``  its threat category is not in the agreement
7      ``CAVEAT_NOT_AGREED``    it carries a caveat the agreement does not allow
8      ``RELAY_NOT_PERMITTED``  the sender is not the originator and it carries a caveat
                                that forbids relaying (e.g. originator-controlled)
=====  =======================  ==========================================================

The order runs from the least negotiable rule to the most negotiable: the originator's own
marking on the item, then the recipient's national accreditation, then the bilateral terms.
The first failing rule is the one to change for the item to flow, so counts of denials by
reason answer "what if nation C's tracks became releasable to nation B?" directly: items
denied for ``NO_AGREEMENT`` are already marked for B and within B's clearance.

An item that passes every rule is released as it is (``RELEASE``) or sanitised
(``SANITISE``) when its agreement carries a :class:`Sanitisation` or its caveats demand one
(:class:`CaveatRules`); own-nation data is never sanitised.

Caveats
-------
Caveats act twice. An agreement lists the caveats an item may carry at all
(``CAVEAT_NOT_AGREED`` otherwise). And some caveats demand handling wherever the item goes
outside its originator, whatever the agreement: withhold the sensor identity, degrade the
position, never relay. :class:`CaveatRules` says which caveat bits demand what, so this
module needs no caveat enumeration of its own; the message layer's flags map onto it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.messages.reports import MAX_NATIONS, Caveat, MaskArray

MAX_CATEGORY = 62
"""Highest threat category value: agreed categories are a signed 64-bit mask."""


class Decision(enum.IntEnum):
    """What the guard does with one item (stored as its integer value; 0 is never valid)."""

    RELEASE = 1
    """Released as it is."""

    SANITISE = 2
    """Released after the sanitisation its agreement or its caveats require."""

    DENY = 3
    """Not released; the :class:`DenyReason` says why."""


class DenyReason(enum.IntEnum):
    """Why an item was denied, in order of precedence (see the module notes).

    ``NONE`` marks a released item. ``NOT_SANITISED`` and ``RELEASED_EARLY`` are raised only
    by the receiving side, which checks that the sanitisation an item required was done.
    """

    NONE = 0
    INVALID_LABEL = 1
    NOT_IN_REL_TO = 2
    ABOVE_CLEARANCE = 3
    NO_AGREEMENT = 4
    ABOVE_AGREEMENT = 5
    CATEGORY_NOT_AGREED = 6
    CAVEAT_NOT_AGREED = 7
    RELAY_NOT_PERMITTED = 8
    NOT_SANITISED = 9
    RELEASED_EARLY = 10
    NOT_SANITISABLE = 11
    """The agreement requires sanitisation, but the item is a raw measurement, which cannot
    be coarsened or stripped of its sensor and still be used (measurement-sharing mode)."""


def _fail(owner: str, rule: str, value: object) -> ConfigurationError:
    return ConfigurationError(f"{owner}: {rule} (got {value!r})")


def _require_non_negative_finite(owner: str, name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise _fail(owner, f"{name} must be finite and ≥ 0", value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sanitisation:
    """How data is degraded before it is released under an agreement.

    Position coarsening model: each ECEF position component is snapped to the nearest
    multiple of ``position_quantum_m`` (``q``). The rounding error is bounded by ``q/2`` per
    axis and, over positions the recipient cannot know to better than the grid, uniform on
    ``[-q/2, q/2]``, so its covariance is ``q²/12 · I₃`` and independent of the track error
    (the classical quantisation-noise model of [1]_). The released position covariance is
    therefore the original plus ``q²/12 · I₃``; then, if its smallest eigenvalue is still
    below ``min_position_sigma_m²``, a multiple of ``I₃`` is added to lift it there. Both
    steps only add positive semidefinite terms, so the released covariance is never smaller
    than the original plus the coarsening variance: a recipient that trusts it is never
    over-confident. Velocity and the position–velocity cross-covariance are left as they
    are (adding a positive semidefinite block to the position block keeps the whole 6×6
    matrix positive semidefinite).

    Parameters
    ----------
    position_quantum_m : float
        Grid spacing of released ECEF positions, m (0: positions not snapped).
    min_position_sigma_m : float
        Smallest standard deviation the released position covariance may show along any
        direction, m (0: no floor).
    strip_sensor_identity : bool
        Replace the sensor id of released items with 0 (unknown).
    delay_s : float
        Age an item must reach before it is released: it leaves no earlier than its valid
        time plus ``delay_s``, s.

    Raises
    ------
    ConfigurationError
        If a value is negative or not finite.

    Notes
    -----
    Snapping keeps the positions of one track on the grid, but a recipient that smooths a
    long, fast track over many reports can recover some sub-grid precision (the motion acts
    as a dither); ``delay_s`` and ``min_position_sigma_m`` limit what that buys.

    References
    ----------
    .. [1] B. Widrow and I. Kollár, *Quantization Noise*, Cambridge University Press, 2008,
       ch. 4 (the uniform quantisation noise model, variance q²/12).
    """

    position_quantum_m: float = 0.0
    min_position_sigma_m: float = 0.0
    strip_sensor_identity: bool = True
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        owner = "Sanitisation"
        _require_non_negative_finite(owner, "position_quantum_m", self.position_quantum_m)
        _require_non_negative_finite(owner, "min_position_sigma_m", self.min_position_sigma_m)
        _require_non_negative_finite(owner, "delay_s", self.delay_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class SharingAgreement:
    """What ``provider`` may give ``recipient`` (directed: the reverse needs its own).

    Parameters
    ----------
    provider : NationCode
        The nation whose data this is (the originator).
    recipient : NationCode
        The nation that may receive it.
    max_classification : int
        Highest classification released under the agreement (a ``Classification`` value).
    categories : frozenset of int
        Threat categories released (:class:`~iamd.messages.truth.ThreatCategory` values,
        0 for tracks not yet classified); empty means every category.
    caveats_allowed : int
        Bit mask of the handling caveats an item may carry and still be released.
    sanitise : Sanitisation or None
        Degrade every item released under the agreement this way; None releases items as
        they are.

    Raises
    ------
    ConfigurationError
        If provider and recipient are the same nation (own data always flows) or a value is
        out of range.
    """

    provider: NationCode
    recipient: NationCode
    max_classification: int
    categories: frozenset[int] = frozenset()
    caveats_allowed: int = 0
    sanitise: Sanitisation | None = None

    def __post_init__(self) -> None:
        owner = f"SharingAgreement {self.provider}→{self.recipient}"
        if self.provider == self.recipient:
            raise _fail(owner, "provider and recipient must differ (own data always flows)", 0)
        if int(self.max_classification) < 0:
            raise _fail(owner, "max_classification must be ≥ 0", self.max_classification)
        # Callers often pass a set or a tuple; freeze it so the agreement stays immutable.
        categories = frozenset(int(c) for c in self.categories)
        object.__setattr__(self, "categories", categories)
        bad = sorted(c for c in categories if not 0 <= c <= MAX_CATEGORY)
        if bad:
            raise _fail(owner, f"categories must be in 0…{MAX_CATEGORY}", bad)
        if not 0 <= int(self.caveats_allowed) < 2**63:
            raise _fail(
                owner, "caveats_allowed must be a bit mask in [0, 2⁶³)", self.caveats_allowed
            )


DEFAULT_DEGRADATION = Sanitisation(
    position_quantum_m=1000.0, min_position_sigma_m=500.0, strip_sensor_identity=False
)
"""Notional position degradation for items whose caveats demand it: 1 km grid, σ ≥ 500 m."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaveatRules:
    """What an item's caveats demand when it goes to anyone but its originator.

    Each field is a bit mask over the caveat flags: an item carrying any bit of a mask gets
    that handling, on top of whatever its agreement says. The agreement decides whether an
    item may go at all; these rules only ever restrict or degrade.

    Parameters
    ----------
    relay_forbidden : int
        Caveats that only the originator may send (originator-controlled): a relay of such
        an item is denied with ``RELAY_NOT_PERMITTED``.
    withhold_sensor : int
        Caveats that reveal the sensor: the sensor id is replaced with 0.
    degrade_position : int
        Caveats that mark a precise position: the position is degraded by ``degradation``
        (or by the agreement's own sanitisation where that is coarser).
    degradation : Sanitisation
        The degradation that ``degrade_position`` caveats demand.

    Raises
    ------
    ConfigurationError
        If a mask is negative or does not fit in 63 bits.
    """

    relay_forbidden: int = int(Caveat.ORIGINATOR_CONTROLLED)
    withhold_sensor: int = int(Caveat.SENSOR_SOURCE)
    degrade_position: int = int(Caveat.PRECISE_POSITION)
    degradation: Sanitisation = DEFAULT_DEGRADATION

    def __post_init__(self) -> None:
        for name in ("relay_forbidden", "withhold_sensor", "degrade_position"):
            value = int(getattr(self, name))
            if not 0 <= value < 2**63:
                raise _fail("CaveatRules", f"{name} must be a bit mask in [0, 2⁶³)", value)
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseTables:
    """A :class:`ReleasePolicy` laid out as arrays over one batch's ``nations`` tuple.

    Every (N, N) table is indexed ``[provider, recipient]``.

    Attributes
    ----------
    nations : tuple of NationCode, length N
        The nations the indices refer to.
    clearance : ndarray of int, shape (N,)
        Each nation's clearance; -1 for nations the policy does not know (they receive only
        their own data).
    agreed : ndarray of bool, shape (N, N)
        An agreement exists.
    max_classification : ndarray of int, shape (N, N)
        Highest classification agreed (-1 without agreement).
    category_mask : ndarray of int, shape (N, N)
        Bit ``c`` set: category ``c`` agreed (all bits set for "every category").
    caveats_allowed : ndarray of int, shape (N, N)
        Caveat bits an item may carry.
    sanitise : ndarray of bool, shape (N, N)
        Items released under the agreement are sanitised.
    position_quantum_m, min_position_sigma_m, delay_s : ndarray, shape (N, N)
        The agreement's :class:`Sanitisation` figures, m, m and s (0 where none).
    strip_sensor_identity : ndarray of bool, shape (N, N)
        Sanitisation strips sensor ids.
    caveat_rules : CaveatRules
        What item caveats demand.
    """

    nations: tuple[NationCode, ...]
    clearance: IntArray
    agreed: BoolArray
    max_classification: IntArray
    category_mask: IntArray
    caveats_allowed: IntArray
    sanitise: BoolArray
    position_quantum_m: FloatArray
    min_position_sigma_m: FloatArray
    delay_s: FloatArray
    strip_sensor_identity: BoolArray
    caveat_rules: CaveatRules

    def index(self, nation: NationCode) -> int:
        """Index of ``nation`` in :attr:`nations`, or -1 when the batch does not name it."""
        try:
            return self.nations.index(nation)
        except ValueError:
            return -1


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleasePolicy:
    """Every sharing agreement of a run, each nation's clearance, and the relay caveats.

    Parameters
    ----------
    agreements : tuple of SharingAgreement
        At most one per (provider, recipient) pair.
    clearances : mapping of NationCode to int
        Highest classification each nation may hold. Every agreement's recipient needs one;
        a nation without one receives nothing but its own data.
    caveat_rules : CaveatRules
        What item caveats demand outside their originator (default: the meaning of
        :class:`~iamd.messages.reports.Caveat`'s flags).

    Raises
    ------
    ConfigurationError
        If two agreements share a pair, a recipient has no clearance, or a value is out of
        range.

    Examples
    --------
    >>> usa, jpn = NationCode("USA"), NationCode("JPN")
    >>> policy = ReleasePolicy(
    ...     agreements=(SharingAgreement(provider=usa, recipient=jpn, max_classification=2),),
    ...     clearances={usa: 4, jpn: 3},
    ... )
    >>> policy.agreement(usa, jpn).max_classification, policy.agreement(jpn, usa)
    (2, None)
    """

    agreements: tuple[SharingAgreement, ...]
    clearances: Mapping[NationCode, int]
    caveat_rules: CaveatRules = CaveatRules()
    _by_pair: Mapping[tuple[NationCode, NationCode], SharingAgreement] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        owner = "ReleasePolicy"
        object.__setattr__(self, "agreements", tuple(self.agreements))
        # A read-only copy: the policy must not change under a guard that compiled it.
        object.__setattr__(
            self, "clearances", MappingProxyType({n: int(c) for n, c in self.clearances.items()})
        )
        for nation, level in self.clearances.items():
            if level < 0:
                raise _fail(owner, f"clearance of {nation} must be ≥ 0", level)
        by_pair: dict[tuple[NationCode, NationCode], SharingAgreement] = {}
        for agreement in self.agreements:
            pair = (agreement.provider, agreement.recipient)
            if pair in by_pair:
                raise _fail(owner, "at most one agreement per provider→recipient pair", pair)
            if agreement.recipient not in self.clearances:
                raise _fail(owner, "every agreement's recipient needs a clearance", pair)
            by_pair[pair] = agreement
        object.__setattr__(self, "_by_pair", MappingProxyType(by_pair))

    @property
    def nations(self) -> tuple[NationCode, ...]:
        """Every nation the policy names, sorted."""
        named = set(self.clearances)
        for agreement in self.agreements:
            named.update((agreement.provider, agreement.recipient))
        return tuple(sorted(named))

    def agreement(self, provider: NationCode, recipient: NationCode) -> SharingAgreement | None:
        """The ``provider`` → ``recipient`` agreement, or None."""
        return self._by_pair.get((provider, recipient))

    def compile(self, nations: Sequence[NationCode]) -> ReleaseTables:
        """Lay the policy out as arrays over a batch's ``nations`` tuple.

        Parameters
        ----------
        nations : sequence of NationCode
            The batch's nations, at most 64, no repeats; may include nations the policy
            does not name.

        Returns
        -------
        ReleaseTables

        Raises
        ------
        ConfigurationError
            If ``nations`` is too long or repeats a nation.
        """
        names = tuple(nations)
        if len(names) > MAX_NATIONS:
            raise _fail("ReleasePolicy.compile", f"at most {MAX_NATIONS} nations", len(names))
        if len(set(names)) != len(names):
            raise _fail("ReleasePolicy.compile", "nations must not repeat", names)
        n = len(names)
        index = {nation: i for i, nation in enumerate(names)}
        clearance = np.array([self.clearances.get(nation, -1) for nation in names], np.int64)
        clearance = clearance.reshape(n)
        agreed = np.zeros((n, n), dtype=np.bool_)
        max_classification = np.full((n, n), -1, dtype=np.int64)
        category_mask = np.zeros((n, n), dtype=np.int64)
        caveats_allowed = np.zeros((n, n), dtype=np.int64)
        sanitise = np.zeros((n, n), dtype=np.bool_)
        quantum = np.zeros((n, n))
        min_sigma = np.zeros((n, n))
        delay = np.zeros((n, n))
        strip = np.zeros((n, n), dtype=np.bool_)
        # One pass over the agreements (a few dozen at most), never over items.
        for agreement in self.agreements:
            p = index.get(agreement.provider)
            r = index.get(agreement.recipient)
            if p is None or r is None:
                continue
            agreed[p, r] = True
            max_classification[p, r] = agreement.max_classification
            category_mask[p, r] = (
                sum(1 << c for c in agreement.categories) if agreement.categories else -1
            )
            caveats_allowed[p, r] = agreement.caveats_allowed
            if agreement.sanitise is not None:
                sanitise[p, r] = True
                quantum[p, r] = agreement.sanitise.position_quantum_m
                min_sigma[p, r] = agreement.sanitise.min_position_sigma_m
                delay[p, r] = agreement.sanitise.delay_s
                strip[p, r] = agreement.sanitise.strip_sensor_identity
        return ReleaseTables(
            nations=names,
            clearance=clearance,
            agreed=agreed,
            max_classification=max_classification,
            category_mask=category_mask,
            caveats_allowed=caveats_allowed,
            sanitise=sanitise,
            position_quantum_m=quantum,
            min_position_sigma_m=min_sigma,
            delay_s=delay,
            strip_sensor_identity=strip,
            caveat_rules=self.caveat_rules,
        )


class Decisions(NamedTuple):
    """Per-item outcome of :func:`decide`.

    Attributes
    ----------
    decision : ndarray of int, shape (K,)
        :class:`Decision` values.
    reason : ndarray of int, shape (K,)
        :class:`DenyReason` values (``NONE`` where released).
    """

    decision: IntArray
    reason: IntArray


def member_of(rel_to: npt.ArrayLike, index: int) -> BoolArray:
    """True where bit ``index`` of each REL TO mask is set (False everywhere for ``index`` -1).

    Parameters
    ----------
    rel_to : array_like of uint64, shape (K,)
        REL TO bit masks (signed integers are read as their two's-complement bits).
    index : int
        Nation index, or -1 for a nation the masks cannot name.

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    marks = as_rel_to(rel_to)
    if not 0 <= index < MAX_NATIONS:
        return np.zeros(marks.shape, dtype=np.bool_)
    return np.asarray((marks >> np.uint64(index)) & np.uint64(1), dtype=np.bool_)


def as_rel_to(rel_to: npt.ArrayLike) -> MaskArray:
    """REL TO masks as ``uint64``, reading signed integers (e.g. from Parquet) by their bits."""
    marks = np.asarray(rel_to)
    if marks.dtype == np.uint64:
        return marks
    return marks.astype(np.int64).view(np.uint64)


def decide(
    tables: ReleaseTables,
    *,
    recipient: NationCode,
    sender: NationCode,
    originator: npt.ArrayLike,
    classification: npt.ArrayLike,
    rel_to: npt.ArrayLike,
    caveats: npt.ArrayLike,
    category: npt.ArrayLike,
) -> Decisions:
    """Decide, for every item of a batch, whether ``sender`` may give it to ``recipient``.

    The rules and their precedence are in the module notes. The decision depends on the
    item's originator and the recipient, never on the sender's own agreements; the sender
    matters only for caveats that forbid relaying.

    Parameters
    ----------
    tables : ReleaseTables
        The policy compiled over the batch's nations (:meth:`ReleasePolicy.compile`).
    recipient : NationCode
        The nation the batch would go to (need not be among ``tables.nations``; if it is
        not, no REL TO list can name it and only malformed labels change the reason).
    sender : NationCode
        The nation sending the batch (the originator, or a relaying hub).
    originator : array_like of int, shape (K,)
        Index into ``tables.nations`` of each item's originator.
    classification : array_like of int, shape (K,)
        Classification of each item.
    rel_to : array_like of uint64, shape (K,)
        REL TO bit mask over ``tables.nations`` of each item.
    caveats : array_like of int, shape (K,)
        Caveat bit mask of each item.
    category : array_like of int, shape (K,)
        Threat category of each item (0: not yet classified).

    Returns
    -------
    Decisions

    Raises
    ------
    ValueError
        If the label arrays do not all have shape (K,).

    Examples
    --------
    >>> usa, jpn = NationCode("USA"), NationCode("JPN")
    >>> policy = ReleasePolicy(
    ...     agreements=(SharingAgreement(provider=usa, recipient=jpn, max_classification=2),),
    ...     clearances={usa: 4, jpn: 3},
    ... )
    >>> out = decide(
    ...     policy.compile((usa, jpn)), recipient=jpn, sender=usa,
    ...     originator=[0, 0, 0, 1], classification=[2, 3, 2, 4], rel_to=[3, 3, 1, 2],
    ...     caveats=[0, 0, 0, 0], category=[1, 1, 1, 1],
    ... )
    >>> [Decision(d).name for d in out.decision]
    ['RELEASE', 'DENY', 'DENY', 'RELEASE']
    >>> [DenyReason(r).name for r in out.reason]
    ['NONE', 'ABOVE_AGREEMENT', 'NOT_IN_REL_TO', 'NONE']
    """
    origin = np.asarray(originator, dtype=np.int64)
    level = np.asarray(classification, dtype=np.int64)
    caveat_bits = np.asarray(caveats, dtype=np.int64)
    kind = np.asarray(category, dtype=np.int64)
    marks = as_rel_to(rel_to)
    shape = origin.shape
    if origin.ndim != 1:
        raise ValueError(f"originator must have shape (K,) (got {shape})")
    for name, array in (
        ("classification", level),
        ("rel_to", marks),
        ("caveats", caveat_bits),
        ("category", kind),
    ):
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (got {array.shape})")

    n = len(tables.nations)
    r = tables.index(recipient)
    s = tables.index(sender)
    valid = (
        (origin >= 0)
        & (origin < n)
        & (level >= 0)
        & (caveat_bits >= 0)
        & (kind >= 0)
        & (kind <= MAX_CATEGORY)
    )
    # Gathers need in-range indices; invalid rows are denied before their values matter.
    o = np.where(valid, origin, 0)
    c = np.where(valid, kind, 0)
    rc = max(r, 0)
    own = valid & (origin == r)
    if n == 0:
        # No nation to index: every item's originator is out of range, hence invalid.
        reason = np.full(shape, DenyReason.INVALID_LABEL, dtype=np.int64)
        return Decisions(np.full(shape, Decision.DENY, dtype=np.int64), reason)

    agreement_mask = tables.caveats_allowed[o, rc]
    failures = [
        ~valid,
        ~member_of(marks, r),
        level > (tables.clearance[rc] if r >= 0 else -1),
        ~tables.agreed[o, rc],
        level > tables.max_classification[o, rc],
        ((tables.category_mask[o, rc] >> c) & 1) == 0,
        (caveat_bits & ~agreement_mask) != 0,
        (origin != s) & ((caveat_bits & tables.caveat_rules.relay_forbidden) != 0),
    ]
    codes = [
        DenyReason.INVALID_LABEL,
        DenyReason.NOT_IN_REL_TO,
        DenyReason.ABOVE_CLEARANCE,
        DenyReason.NO_AGREEMENT,
        DenyReason.ABOVE_AGREEMENT,
        DenyReason.CATEGORY_NOT_AGREED,
        DenyReason.CAVEAT_NOT_AGREED,
        DenyReason.RELAY_NOT_PERMITTED,
    ]
    # np.select takes the first true condition: exactly the precedence above.
    reason = np.asarray(np.select(failures, [int(code) for code in codes], 0), dtype=np.int64)
    reason[own] = DenyReason.NONE
    sanitised = sanitisation_of(
        tables, recipient=recipient, originator=origin, caveats=caveat_bits
    ).required
    decision = np.where(
        reason != DenyReason.NONE,
        Decision.DENY,
        np.where(sanitised, Decision.SANITISE, Decision.RELEASE),
    ).astype(np.int64)
    return Decisions(decision, reason)


class SanitisationArrays(NamedTuple):
    """Per-item sanitisation an item needs on its way to one recipient.

    Attributes
    ----------
    required : ndarray of bool, shape (K,)
        The item must be sanitised (its agreement or its caveats say so).
    position_quantum_m : ndarray, shape (K,)
        Grid spacing of the released ECEF position, m (0: not snapped).
    min_position_sigma_m : ndarray, shape (K,)
        Floor on the released position standard deviation, m.
    strip_sensor_identity : ndarray of bool, shape (K,)
        The sensor id must be withheld (0).
    delay_s : ndarray, shape (K,)
        Age the item must reach before release, s.
    """

    required: BoolArray
    position_quantum_m: FloatArray
    min_position_sigma_m: FloatArray
    strip_sensor_identity: BoolArray
    delay_s: FloatArray


def sanitisation_of(
    tables: ReleaseTables,
    *,
    recipient: NationCode,
    originator: npt.ArrayLike,
    caveats: npt.ArrayLike,
) -> SanitisationArrays:
    """The sanitisation each item needs to go to ``recipient``, from agreement and caveats.

    Where both the originator → recipient agreement and the item's caveats
    (:class:`CaveatRules`) ask for sanitisation, the stricter figure of each wins (coarser
    grid, higher floor, longer delay; the sensor id is withheld if either asks). Nothing is
    required for own-nation data, malformed labels or recipients outside ``tables.nations``
    (those are never released anyway).

    Parameters
    ----------
    tables : ReleaseTables
        The policy compiled over the batch's nations.
    recipient : NationCode
        The receiving nation.
    originator : array_like of int, shape (K,)
        Index into ``tables.nations`` of each item's originator.
    caveats : array_like of int, shape (K,)
        Caveat bit mask of each item.

    Returns
    -------
    SanitisationArrays
    """
    origin = np.asarray(originator, dtype=np.int64)
    caveat_bits = np.asarray(caveats, dtype=np.int64)
    r = tables.index(recipient)
    applies = (origin >= 0) & (origin < len(tables.nations)) & (origin != r) & (caveat_bits >= 0)
    if r < 0:
        applies[:] = False
    o = np.where(applies, origin, 0)
    rc = max(r, 0)
    rules = tables.caveat_rules
    if tables.nations:
        by_pair = applies & tables.sanitise[o, rc]
        pair_quantum = np.where(by_pair, tables.position_quantum_m[o, rc], 0.0)
        pair_sigma = np.where(by_pair, tables.min_position_sigma_m[o, rc], 0.0)
        pair_delay = np.where(by_pair, tables.delay_s[o, rc], 0.0)
        pair_strip = by_pair & tables.strip_sensor_identity[o, rc]
    else:
        by_pair = pair_strip = np.zeros(origin.shape, dtype=np.bool_)
        pair_quantum = pair_sigma = pair_delay = np.zeros(origin.shape)
    withhold = applies & ((caveat_bits & rules.withhold_sensor) != 0)
    degrade = applies & ((caveat_bits & rules.degrade_position) != 0)
    degradation = rules.degradation
    return SanitisationArrays(
        required=by_pair | withhold | degrade,
        position_quantum_m=np.maximum(
            pair_quantum, np.where(degrade, degradation.position_quantum_m, 0.0)
        ),
        min_position_sigma_m=np.maximum(
            pair_sigma, np.where(degrade, degradation.min_position_sigma_m, 0.0)
        ),
        strip_sensor_identity=(
            pair_strip | withhold | (degrade & degradation.strip_sensor_identity)
        ),
        delay_s=np.maximum(pair_delay, np.where(degrade, degradation.delay_s, 0.0)),
    )


__all__ = [
    "DEFAULT_DEGRADATION",
    "MAX_CATEGORY",
    "CaveatRules",
    "Decision",
    "Decisions",
    "DenyReason",
    "ReleasePolicy",
    "ReleaseTables",
    "Sanitisation",
    "SanitisationArrays",
    "SharingAgreement",
    "as_rel_to",
    "decide",
    "member_of",
    "sanitisation_of",
]
