"""Messages that nations exchange over the bus: track reports, measurements, warnings, engagements.

Each record is a batch: one node sends many items at one time, and every per-item field is a
NumPy array over the ``K`` items (the layout :mod:`iamd.network.wire` puts on the wire, one
structured array per batch). Constructors do not validate, so building a batch inside the
trusted core costs nothing; the wire decoder and :func:`iamd.network.wire.check` enforce
every rule at the boundary.

Releasability labels
--------------------
Every item carries its own label, stored as four arrays on the batch:

``classification`` (K,)
    :class:`Classification` of the item.
``rel_to`` (K,) uint64
    Bitmask over the batch's ``nations`` table: bit ``j`` set means the item may be released
    to ``nations[j]``. The table travels with the message so the bytes describe themselves
    and hold at most 64 nations.
``originator`` (K,)
    Index into ``nations`` of the nation that produced the data; it owns the label.
``caveats`` (K,)
    :class:`Caveat` flags that restrict how the item may be handled.

:class:`ReleasabilityLabel` is the same label for one item, with Python sets, for the edges
(scenario files, display, tests); :func:`label_arrays` and the batches' :meth:`label` methods
convert between the two.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray

MaskArray = npt.NDArray[np.uint64]
"""Array of ``rel_to`` bitmasks (uint64, bit ``j`` ↔ ``nations[j]``)."""

MAX_NATIONS = 64
"""Largest nation table a batch can carry: ``rel_to`` is one 64-bit mask per item."""

WITHHELD = 0
"""``sensor_id`` / ``shooter_id`` value meaning "not disclosed" (or not applicable)."""

UNCLASSIFIED_CATEGORY = 0
"""``category`` value of an object not yet classified (no :class:`ThreatCategory`)."""


class Classification(enum.IntEnum):
    """Security classification of one item (stored as its integer value).

    Notional levels in the usual order; a higher value is more restricted.
    """

    UNCLASSIFIED = 0
    RESTRICTED = 1
    CONFIDENTIAL = 2
    SECRET = 3
    TOP_SECRET = 4


class Caveat(enum.IntFlag):
    """Handling caveats of one item (stored as the integer of the combined flags).

    A caveat never widens release: it tells the outbound guard what it must remove or keep
    from a nation that is in ``rel_to`` but is not the originator.
    """

    SENSOR_SOURCE = 1
    """The item reveals which sensor saw the object (``sensor_id``, or accuracy that
    identifies it): released outside the originator, ``sensor_id`` must be withheld (0)."""

    PRECISE_POSITION = 2
    """The state comes from a sensitive source at full precision: released outside the
    originator, the position must be degraded (rounded, covariance inflated) first."""

    ORIGINATOR_CONTROLLED = 4
    """Originator controlled (ORCON-like): a recipient may use the item but must not relay
    it to anyone, even a nation in ``rel_to``; only the originator disseminates it."""


NO_CAVEATS = Caveat(0)
"""No caveat: the label's classification and ``rel_to`` say everything."""

ALL_CAVEATS = Caveat.SENSOR_SOURCE | Caveat.PRECISE_POSITION | Caveat.ORIGINATOR_CONTROLLED
"""Every defined caveat bit; any other bit is invalid on the wire."""


class EngagementState(enum.IntEnum):
    """Where one engagement of one threat stands (stored as its integer value)."""

    PLANNED = 1
    """The sender's battle manager assigned a shooter; nothing requested or fired yet."""

    REQUESTED = 2
    """Engagement asked of the engaging nation's authority (or of an ally's shooter)."""

    ACCEPTED = 3
    """The engaging nation's authority approved; the shooter will fire when in range."""

    DECLINED = 4
    """The engaging nation's authority refused; the threat needs another shooter."""

    ENGAGING = 5
    """Interceptors are in flight."""

    KILL = 6
    """Kill assessed: the threat is destroyed."""

    MISS = 7
    """Every interceptor of this engagement missed; the threat flies on."""

    CEASED = 8
    """Engagement called off (cease fire, threat lost, or out of the shooter's reach)."""


def rel_to_mask(nations: Sequence[NationCode], codes: Iterable[NationCode]) -> int:
    """Bitmask of ``codes`` over the nation table ``nations``.

    Parameters
    ----------
    nations : sequence of NationCode
        The batch's nation table (at most :data:`MAX_NATIONS` codes).
    codes : iterable of NationCode
        Nations an item is releasable to.

    Returns
    -------
    int
        Bit ``j`` set for each code equal to ``nations[j]`` (fits in a uint64).

    Raises
    ------
    ValueError
        If a code is not in the table: at the edges a misspelt nation must not silently
        drop out of a REL TO list.

    Examples
    --------
    >>> nations = (NationCode("USA"), NationCode("JPN"), NationCode("KOR"))
    >>> rel_to_mask(nations, [NationCode("KOR"), NationCode("USA")])
    5
    """
    index = {code: j for j, code in enumerate(nations)}
    mask = 0
    for code in codes:
        if code not in index:
            raise ValueError(f"nation {code!r} is not in the nation table {tuple(nations)}")
        mask |= 1 << index[code]
    return mask


def remap_rel_to(masks: npt.ArrayLike, old: Sequence[str], new: Sequence[str]) -> MaskArray:
    """``rel_to`` masks over the nation table ``old`` rewritten over the table ``new``.

    Bits of nations that ``new`` lacks are dropped, and bits beyond ``old`` are cleared so
    that a stray bit never comes to name a nation of ``new``. Signed masks (e.g. read from
    Parquet) are read by their 64-bit two's-complement bits.

    Examples
    --------
    >>> usa, jpn, aus = NationCode("USA"), NationCode("JPN"), NationCode("AUS")
    >>> remap_rel_to([0b11], (usa, jpn), (aus, jpn, usa)).tolist()
    [6]
    """
    source = np.asarray(masks)
    if source.dtype != np.uint64:
        source = source.astype(np.int64).view(np.uint64)
    old, new = tuple(old), tuple(new)
    if new[: len(old)] == old:
        # Appending nations leaves every existing bit where it is.
        if len(old) >= MAX_NATIONS:
            return source.copy()
        return source & np.uint64((1 << len(old)) - 1)
    out = np.zeros(source.shape, dtype=np.uint64)
    one = np.uint64(1)
    # One pass per nation (at most 64), each vectorised over all rows.
    for i, code in enumerate(old):
        if code in new:
            out |= ((source >> np.uint64(i)) & one) << np.uint64(new.index(code))
    return out


def rel_to_codes(nations: Sequence[NationCode], mask: int) -> frozenset[NationCode]:
    """Nations whose bit is set in ``mask`` (bits beyond the table are ignored).

    A negative ``mask`` is read by its 64-bit two's-complement bits, as signed columns
    (e.g. from Parquet) hold them.

    Examples
    --------
    >>> sorted(rel_to_codes((NationCode("USA"), NationCode("JPN"), NationCode("KOR")), 5))
    ['KOR', 'USA']
    """
    mask = int(mask) & 0xFFFF_FFFF_FFFF_FFFF
    return frozenset(code for j, code in enumerate(nations) if mask >> j & 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleasabilityLabel:
    """The releasability label of one item, with sets instead of bitmasks.

    Attributes
    ----------
    classification : Classification
        Security classification.
    rel_to : frozenset of NationCode
        Nations the item may be released to.
    originator : NationCode
        Nation that produced the data and owns the label.
    caveats : Caveat
        Handling caveats (no flag: none).

    Examples
    --------
    >>> label = ReleasabilityLabel(
    ...     classification=Classification.SECRET,
    ...     rel_to=frozenset({NationCode("USA"), NationCode("JPN")}),
    ...     originator=NationCode("JPN"),
    ...     caveats=Caveat.SENSOR_SOURCE,
    ... )
    >>> str(label)
    'SECRET REL TO JPN, USA (originator JPN; SENSOR_SOURCE)'
    """

    classification: Classification
    rel_to: frozenset[NationCode]
    originator: NationCode
    caveats: Caveat = NO_CAVEATS

    def __str__(self) -> str:
        release = ", ".join(sorted(self.rel_to)) or "NOBODY"
        flags = "".join(f"; {flag.name}" for flag in Caveat if flag in self.caveats and flag.name)
        return f"{self.classification.name} REL TO {release} (originator {self.originator}{flags})"


class LabelArrays(NamedTuple):
    """The four label arrays of a batch of ``K`` items (see the module docstring)."""

    classification: IntArray
    rel_to: MaskArray
    originator: IntArray
    caveats: IntArray


def label_arrays(
    labels: Sequence[ReleasabilityLabel], nations: Sequence[NationCode]
) -> LabelArrays:
    """Label arrays of a batch from one :class:`ReleasabilityLabel` per item.

    Parameters
    ----------
    labels : sequence of ReleasabilityLabel, length K
        One label per item.
    nations : sequence of NationCode
        The batch's nation table.

    Raises
    ------
    ValueError
        If an originator or a ``rel_to`` nation is not in the table.
    """
    index = {code: j for j, code in enumerate(nations)}
    missing = [label.originator for label in labels if label.originator not in index]
    if missing:
        raise ValueError(f"originator {missing[0]!r} is not in the nation table {tuple(nations)}")
    return LabelArrays(
        classification=np.array([int(label.classification) for label in labels], np.int64),
        rel_to=np.array([rel_to_mask(nations, label.rel_to) for label in labels], np.uint64),
        originator=np.array([index[label.originator] for label in labels], np.int64),
        caveats=np.array([int(label.caveats) for label in labels], np.int64),
    )


class _Labelled:
    """Label accessors shared by the batches (which declare the fields as dataclasses)."""

    __slots__ = ()

    nations: tuple[NationCode, ...]
    classification: IntArray
    rel_to: MaskArray
    originator: IntArray
    caveats: IntArray

    def rel_to_codes(self, i: int) -> frozenset[NationCode]:
        """Nations item ``i`` may be released to."""
        return rel_to_codes(self.nations, int(self.rel_to[i]))

    def originator_code(self, i: int) -> NationCode:
        """Nation that produced item ``i``."""
        return self.nations[int(self.originator[i])]

    def label(self, i: int) -> ReleasabilityLabel:
        """The label of item ``i`` as a :class:`ReleasabilityLabel`."""
        return ReleasabilityLabel(
            classification=Classification(int(self.classification[i])),
            rel_to=self.rel_to_codes(i),
            originator=self.originator_code(i),
            caveats=Caveat(int(self.caveats[i])),
        )

    def releasable_to(self, nation: NationCode) -> BoolArray:
        """Whether each item may be released to ``nation`` (all False if not in the table).

        Returns
        -------
        ndarray of bool, shape (K,)
        """
        masks = np.asarray(self.rel_to)
        if masks.dtype != np.uint64:
            # Hand-built batches may hold signed masks; read them by their bits.
            masks = masks.astype(np.int64).view(np.uint64)
        if nation not in self.nations:
            return np.zeros(masks.shape, dtype=np.bool_)
        bit = np.uint64(1) << np.uint64(self.nations.index(nation))
        return np.asarray((masks & bit) != 0)


# eq=False: arrays have no single truth value, so field-wise == would raise; compare the
# arrays explicitly instead.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TrackReports(_Labelled):
    """Track reports that one node sends at one time (one report per local track).

    Attributes
    ----------
    sender : NationCode
        The node that sent the batch (and signed it).
    sent_at : float
        Send time, s since the scenario epoch.
    sequence : int
        The sender's message counter (0 ≤ sequence < 2⁶⁴), increasing by one per message
        over every message type; lets receivers detect loss, reordering and replay.
    nations : tuple of NationCode
        Nation table (≤ 64 unique codes) that every index and ``rel_to`` bit refers to.
    network_track_number : ndarray of int, shape (K,)
        Common track number the network uses for the object (≥ 0; 0: not yet assigned).
    originator : ndarray of int, shape (K,)
        Index into ``nations`` of the nation that produced the local track (owns the label).
    reporting_node : ndarray of int, shape (K,)
        Index into ``nations`` of the node that holds reporting responsibility for the
        track (the sender itself, unless the batch relays another node's reports).
    local_track_number : ndarray of int, shape (K,)
        The originator's own track number (≥ 0).
    valid_at : ndarray, shape (K,)
        Time of each state, s since the scenario epoch.
    state : ndarray, shape (K, 6)
        ECEF position (m) and velocity relative to the Earth (m/s).
    covariance : ndarray, shape (K, 6, 6)
        State covariance, m² / m²·s⁻¹ / m²·s⁻², symmetric positive definite.
    quality : ndarray of int, shape (K,)
        Track quality 0–15 (15 best).
    status : ndarray of int, shape (K,)
        :class:`~iamd.messages.tracks.TrackStatus` values.
    category : ndarray of int, shape (K,)
        :class:`~iamd.messages.truth.ThreatCategory` values, or 0 when not yet classified.
    impact_time_s : ndarray, shape (K,)
        Predicted impact time, s since the epoch (NaN: no prediction).
    impact_lat_deg, impact_lon_deg : ndarray, shape (K,)
        Predicted impact point, geodetic degrees (NaN: no prediction).
    impact_semi_major_m, impact_semi_minor_m : ndarray, shape (K,)
        Semi-axes of the 95 % impact error ellipse on the ground, m (NaN: no prediction, or
        a point without covariance, as in :class:`~iamd.messages.tracks.LocalTracks`).
    impact_orientation_deg : ndarray, shape (K,)
        Direction of the ellipse's major axis, degrees clockwise from north, [0, 180].
    sensor_id : ndarray of int, shape (K,)
        Originator's small number of the sensor that last updated the track (0: withheld).
    classification, rel_to, originator, caveats
        The releasability label arrays (see the module docstring).
    """

    sender: NationCode
    sent_at: float
    sequence: int
    nations: tuple[NationCode, ...]
    network_track_number: IntArray
    originator: IntArray
    reporting_node: IntArray
    local_track_number: IntArray
    valid_at: FloatArray
    state: FloatArray
    covariance: FloatArray
    quality: IntArray
    status: IntArray
    category: IntArray
    impact_time_s: FloatArray
    impact_lat_deg: FloatArray
    impact_lon_deg: FloatArray
    impact_semi_major_m: FloatArray
    impact_semi_minor_m: FloatArray
    impact_orientation_deg: FloatArray
    sensor_id: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray

    def __len__(self) -> int:
        return int(self.network_track_number.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MissileWarnings(_Labelled):
    """Missile launch and impact warnings that one node sends at one time.

    Attributes
    ----------
    sender, sent_at, sequence, nations
        As in :class:`TrackReports`.
    network_track_number : ndarray of int, shape (K,)
        Common track number of the missile (≥ 0).
    valid_at : ndarray, shape (K,)
        Time the prediction was made, s since the scenario epoch.
    launch_time_s : ndarray, shape (K,)
        Estimated launch time, s since the epoch.
    launch_lat_deg, launch_lon_deg : ndarray, shape (K,)
        Estimated launch point, geodetic degrees.
    impact_time_s : ndarray, shape (K,)
        Predicted impact time, s since the epoch.
    impact_lat_deg, impact_lon_deg : ndarray, shape (K,)
        Predicted impact point, geodetic degrees.
    impact_semi_major_m, impact_semi_minor_m : ndarray, shape (K,)
        Semi-axes of the 95 % impact error ellipse, m (NaN: point without covariance).
    impact_orientation_deg : ndarray, shape (K,)
        Direction of the major axis, degrees clockwise from north, [0, 180].
    update_number : ndarray of int, shape (K,)
        Counts the warnings issued for this missile, from 1 (0 ≤ n < 2³²).
    category : ndarray of int, shape (K,)
        :class:`~iamd.messages.truth.ThreatCategory` values, or 0 when not yet classified.
    classification, rel_to, originator, caveats
        The releasability label arrays (see the module docstring).
    """

    sender: NationCode
    sent_at: float
    sequence: int
    nations: tuple[NationCode, ...]
    network_track_number: IntArray
    valid_at: FloatArray
    launch_time_s: FloatArray
    launch_lat_deg: FloatArray
    launch_lon_deg: FloatArray
    impact_time_s: FloatArray
    impact_lat_deg: FloatArray
    impact_lon_deg: FloatArray
    impact_semi_major_m: FloatArray
    impact_semi_minor_m: FloatArray
    impact_orientation_deg: FloatArray
    update_number: IntArray
    category: IntArray
    originator: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray

    def __len__(self) -> int:
        return int(self.network_track_number.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EngagementStatuses(_Labelled):
    """Engagement statuses that one node sends at one time (one item per engagement).

    Attributes
    ----------
    sender, sent_at, sequence, nations
        As in :class:`TrackReports`.
    network_track_number : ndarray of int, shape (K,)
        Common track number of the engaged threat (≥ 0).
    valid_at : ndarray, shape (K,)
        Time of the status, s since the scenario epoch.
    engaging_nation : ndarray of int, shape (K,)
        Index into ``nations`` of the nation whose shooter engages.
    shooter_id : ndarray of int, shape (K,)
        The engaging nation's small number of the shooter (0: withheld), < 2¹⁶.
    state : ndarray of int, shape (K,)
        :class:`EngagementState` values.
    interceptors_in_flight : ndarray of int, shape (K,)
        Interceptors of this engagement in the air now, < 2¹⁶.
    predicted_intercept_time_s : ndarray, shape (K,)
        Predicted intercept time, s since the epoch (NaN: none, e.g. planned without a
        solution yet, or finished).
    classification, rel_to, originator, caveats
        The releasability label arrays (see the module docstring).
    """

    sender: NationCode
    sent_at: float
    sequence: int
    nations: tuple[NationCode, ...]
    network_track_number: IntArray
    valid_at: FloatArray
    predicted_intercept_time_s: FloatArray
    engaging_nation: IntArray
    shooter_id: IntArray
    state: IntArray
    interceptors_in_flight: IntArray
    originator: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray

    def __len__(self) -> int:
        return int(self.network_track_number.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MeasurementReports(_Labelled):
    """Radar measurements that one node shares at one time (measurement-sharing mode).

    One item per detection; a scan with no detection travels as one *marker* item with
    ``scan_size`` 0 (so that receivers learn the scan happened and count misses). The items
    of one scan share ``originator``, ``sensor_id`` and ``valid_at``, and the node never
    splits a scan across messages.

    Attributes
    ----------
    sender, sent_at, sequence, nations
        As in :class:`TrackReports`.
    originator : ndarray of int, shape (K,)
        Index into ``nations`` of the nation whose sensor measured (owns the label).
    sensor_id : ndarray of int, shape (K,)
        Originator's small number of the sensor (1, 2, …; never withheld: a measurement
        cannot be used without its sensor's position), < 2¹⁶.
    local_track_number : ndarray of int, shape (K,)
        The originator's local track the detection updated or started (≥ 0; 0: none). It
        names the item in audit records, like a track report's.
    valid_at : ndarray, shape (K,)
        Measurement time, s since the scenario epoch.
    measurement : ndarray, shape (K, 3)
        Slant range (m), azimuth (rad, clockwise from north) and elevation (rad) in the
        sensor's local East-North-Up frame (zeros on a marker).
    measurement_covariance : ndarray, shape (K, 3, 3)
        Measurement noise covariance, m² / rad² (identity on a marker), symmetric positive
        definite.
    sensor_position : ndarray, shape (K, 3)
        Sensor position at ``valid_at``, ECEF, m.
    sensor_lat_deg, sensor_lon_deg : ndarray, shape (K,)
        Geodetic latitude and longitude of the sensor, degrees (define its ENU frame).
    scan_size : ndarray of int, shape (K,)
        Detections in the item's scan (0: the item is a marker of an empty scan), < 2¹⁶.
    classification, rel_to, caveats
        The releasability label arrays (see the module docstring): the sensor's label.
    """

    sender: NationCode
    sent_at: float
    sequence: int
    nations: tuple[NationCode, ...]
    originator: IntArray
    sensor_id: IntArray
    local_track_number: IntArray
    valid_at: FloatArray
    measurement: FloatArray
    measurement_covariance: FloatArray
    sensor_position: FloatArray
    sensor_lat_deg: FloatArray
    sensor_lon_deg: FloatArray
    scan_size: IntArray
    classification: IntArray
    rel_to: MaskArray
    caveats: IntArray

    def __len__(self) -> int:
        return int(self.valid_at.shape[0])


__all__ = [
    "ALL_CAVEATS",
    "MAX_NATIONS",
    "NO_CAVEATS",
    "UNCLASSIFIED_CATEGORY",
    "WITHHELD",
    "Caveat",
    "Classification",
    "EngagementState",
    "EngagementStatuses",
    "LabelArrays",
    "MaskArray",
    "MeasurementReports",
    "MissileWarnings",
    "ReleasabilityLabel",
    "TrackReports",
    "label_arrays",
    "rel_to_codes",
    "rel_to_mask",
    "remap_rel_to",
]
