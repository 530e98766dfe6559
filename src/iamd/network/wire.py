"""The versioned binary wire format of the messages nations exchange, and its strict decoder.

A message is a little-endian byte string (the full tables are in ``docs/wire-format.md``)::

    header   36 bytes   magic b"IAMD", version u16, message type u8, flags u8 (0),
                        sender code 3×ASCII, nation count N u8, sequence u64,
                        sent_at f64, item count K u32, payload length u32
    nations  3·N bytes  the nation table, three ASCII capitals per nation
    padding  0–7 bytes  zeros, so the payload starts at a multiple of 8
    payload  K·itemsize one NumPy structured array (the layout of the message type)
    trailer  64 bytes   Ed25519 signature, added by :mod:`iamd.network.signing`

:func:`encode` and :func:`decode` handle header and payload; the signature trailer is added by
:meth:`~iamd.network.signing.NodeKeys.sign` and checked and removed by
:meth:`~iamd.network.signing.KeyRing.verify`, so an inbound gate runs
``decode(keyring.verify(data))``.

The payload is one structured array per message so that decoding is a single
``np.frombuffer`` and a column copy per field, with no Python loop over items. Decoding is
strict: every rule of the format is checked, vectorised over the items, and the first broken
rule raises :class:`WireError` with a :class:`RejectReason` and a message naming the field and
the item. Any byte string decodes to a valid message or raises :class:`WireError`, nothing
else.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from iamd.core.errors import IamdError
from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.messages.reports import (
    ALL_CAVEATS,
    MAX_NATIONS,
    UNCLASSIFIED_CATEGORY,
    Classification,
    EngagementState,
    EngagementStatuses,
    MeasurementReports,
    MissileWarnings,
    TrackReports,
)
from iamd.messages.tracks import TrackStatus
from iamd.messages.truth import ThreatCategory

WireMessage: TypeAlias = TrackReports | MissileWarnings | EngagementStatuses | MeasurementReports
"""Any record the wire format carries."""

MAGIC = b"IAMD"
"""First four bytes of every message."""

VERSION = 1
"""Version this module writes."""

SUPPORTED_VERSIONS = frozenset({1})
"""Versions this module reads."""

DEFAULT_MAX_MESSAGE_BYTES = 1 << 20
"""Default largest message :func:`decode` accepts, bytes (1 MiB: about 2,400 track reports)."""

HEADER_BYTES = 36
"""Size of the fixed header, before the nation table, bytes."""

COVARIANCE_SYMMETRY_TOLERANCE = 1e-9
"""Largest accepted ``|P_ij − P_ji|`` relative to ``sqrt(P_ii·P_jj)``."""

COVARIANCE_DEFINITE_TOLERANCE = 1e-12
"""Smallest accepted eigenvalue of a covariance's correlation matrix.

Tested on the correlation matrix ``D^-½ P D^-½`` (unit diagonal) so that the test does not
depend on units: ECEF covariances put m² next to m²/s², which would make an absolute
eigenvalue threshold meaningless. 1e-12 rejects only matrices that are singular to rounding;
a tracker's covariance is nowhere near it."""

_FIXED = struct.Struct("<4sHBB3sBQdII")


class MessageType(enum.IntEnum):
    """What a message carries (byte 6 of the header)."""

    TRACK_REPORTS = 1
    """:class:`~iamd.messages.reports.TrackReports`."""

    MISSILE_WARNINGS = 2
    """:class:`~iamd.messages.reports.MissileWarnings`."""

    ENGAGEMENT_STATUSES = 3
    """:class:`~iamd.messages.reports.EngagementStatuses`."""

    MEASUREMENT_REPORTS = 4
    """:class:`~iamd.messages.reports.MeasurementReports` (measurement-sharing mode)."""


class RejectReason(enum.IntEnum):
    """Why a message was rejected (values are stable: recordings count rejections by them)."""

    TRUNCATED = 1
    """Fewer bytes than the header, the nation table or the declared payload need."""

    OVERSIZED = 2
    """The message or its declared payload exceeds the receiver's maximum size."""

    TRAILING_DATA = 3
    """Bytes after the payload (a signed message that was not passed through verify)."""

    BAD_MAGIC = 4
    """The first four bytes are not ``b"IAMD"``."""

    UNSUPPORTED_VERSION = 5
    """The format version is not one this receiver reads."""

    UNKNOWN_MESSAGE_TYPE = 6
    """The message type byte names no :class:`MessageType`."""

    RESERVED_NOT_ZERO = 7
    """Header flags, header padding or an item's reserved bytes are not zero."""

    BAD_NATION_CODE = 8
    """The sender or a nation table entry is not three ASCII capital letters."""

    BAD_NATION_TABLE = 9
    """The nation table has more than 64 entries or a duplicate."""

    COUNT_MISMATCH = 10
    """The payload length is not the item count times the item size."""

    BAD_NATION_INDEX = 11
    """A nation index (originator, reporting node, engaging nation) is outside the table."""

    REL_TO_OUTSIDE_TABLE = 12
    """A ``rel_to`` bit is set for a nation beyond the end of the table."""

    NON_FINITE = 13
    """NaN or infinity where a finite value is required."""

    UNKNOWN_ENUM = 14
    """A value outside its closed vocabulary (status, category, classification, caveats,
    engagement state)."""

    OUT_OF_RANGE = 15
    """A value outside its range (quality, latitude, ellipse axes, track numbers, …)."""

    COVARIANCE_NOT_SYMMETRIC = 16
    """A covariance differs from its transpose beyond the relative tolerance."""

    COVARIANCE_NOT_POSITIVE_DEFINITE = 17
    """A covariance is not positive definite."""

    UNKNOWN_SENDER = 18
    """The claimed sender has no public key in the receiver's key ring."""

    BAD_SIGNATURE = 19
    """The signature does not verify with the claimed sender's public key."""

    MALFORMED_RECORD = 20
    """A record given to :func:`encode` or :func:`check` has an array of the wrong shape or
    kind (never raised by :func:`decode`)."""

    REPLAYED = 21
    """A verified message whose sequence is not above the last one the receiving node
    accepted from its sender: a replay or a duplicate (raised by the node, never by
    :func:`decode`)."""


class WireError(IamdError, ValueError):
    """A message was rejected at the network boundary.

    Parameters
    ----------
    reason : RejectReason
        The rule that was broken.
    message : str
        Human-readable explanation naming the field and item.
    field : str or None
        The offending field (``None`` for framing errors).
    index : int or None
        The offending item index, when the rule is per item.
    """

    def __init__(
        self,
        reason: RejectReason,
        message: str,
        *,
        field: str | None = None,
        index: int | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.index = index
        super().__init__(f"{message} [{reason.name}]")


class Header(NamedTuple):
    """The decoded header of a message (see :func:`read_header`).

    Attributes
    ----------
    version : int
        Format version.
    message_type : MessageType
        What the payload holds.
    sender : NationCode
        The node that sent (and signed) the message.
    nations : tuple of NationCode
        The nation table.
    sequence : int
        The sender's message counter.
    sent_at : float
        Send time, s since the scenario epoch.
    item_count : int
        Number of items K.
    payload_length : int
        Payload size, bytes.
    length : int
        Header size including the nation table and padding, bytes (the payload offset).
    """

    version: int
    message_type: MessageType
    sender: NationCode
    nations: tuple[NationCode, ...]
    sequence: int
    sent_at: float
    item_count: int
    payload_length: int
    length: int


# ---------------------------------------------------------------------------------------------
# Item rules
#
# One ordered table of rules per message type drives both validation paths: a grouped fast
# path that accepts a valid batch in a few array operations, and, when it does not, the
# rule-by-rule path that names the first broken rule and item. Both read the same table, so
# they cannot disagree on what is valid.


class _Kind(enum.Enum):
    INDEX = "index"  # integer in [0, N-1] for an N-nation table
    ENUM = "enum"  # integer in a contiguous vocabulary [low, high]
    RANGE = "range"  # value in [low, high]; NaN passes (finiteness has its own rules)
    FINITE = "finite"  # every element finite
    NOT_INF = "not-inf"  # finite or NaN
    GROUP = "group"  # finite, or NaN together with every column of ``others``
    ABSENT_WITH = "absent-with"  # NaN whenever ``others`` are all NaN
    NOT_ABOVE = "not-above"  # not greater than column ``others[0]``
    REL_TO = "rel-to"  # no bit beyond the nation table
    COVARIANCE = "covariance"  # symmetric positive definite


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: _Kind
    column: str
    low: float = 0.0
    high: float = 0.0
    others: tuple[str, ...] = ()
    text: str = ""


_INT64_MAX = float(np.iinfo(np.int64).max)


def _enum_rule(column: str, values: frozenset[int], text: str = "") -> _Rule:
    low, high = min(values), max(values)
    # Contiguous vocabularies make the test two comparisons instead of a set lookup.
    assert len(values) == high - low + 1, values
    return _Rule(_Kind.ENUM, column, low, high, text=text or f"must be one of {sorted(values)}")


def _impact_rules(*, point_required: bool) -> tuple[_Rule, ...]:
    """Impact rules: the point (time, lat, lon) and the ellipse are each whole or all NaN.

    The tracker's impact predictor can give a point without an ellipse (a partial
    prediction) but never an ellipse without a point, so the two groups are NaN apart.
    """
    point = ("impact_time_s", "impact_lat_deg", "impact_lon_deg")
    ellipse = ("impact_semi_major_m", "impact_semi_minor_m", "impact_orientation_deg")
    rules: list[_Rule] = []
    if point_required:
        rules += [_Rule(_Kind.FINITE, name) for name in point]
    else:
        rules += [_Rule(_Kind.GROUP, name, others=point) for name in point]
    rules += [_Rule(_Kind.GROUP, name, others=ellipse) for name in ellipse]
    if not point_required:
        rules.append(_Rule(_Kind.ABSENT_WITH, "impact_semi_major_m", others=point))
    rules += [
        _Rule(_Kind.RANGE, "impact_lat_deg", -90.0, 90.0, text="must be in [-90, 90]"),
        _Rule(_Kind.RANGE, "impact_lon_deg", -180.0, 180.0, text="must be in [-180, 180]"),
        _Rule(_Kind.RANGE, "impact_semi_minor_m", 0.0, math.inf, text="must be non-negative"),
        _Rule(_Kind.NOT_ABOVE, "impact_semi_minor_m", others=("impact_semi_major_m",)),
        _Rule(_Kind.RANGE, "impact_orientation_deg", 0.0, 180.0, text="must be in [0, 180]"),
    ]
    return tuple(rules)


_CLASSIFICATIONS = frozenset(int(c) for c in Classification)
_CATEGORIES = frozenset({UNCLASSIFIED_CATEGORY} | {int(c) for c in ThreatCategory})
_STATUSES = frozenset(int(s) for s in TrackStatus)
_ENGAGEMENT_STATES = frozenset(int(s) for s in EngagementState)
# Every caveat is a low bit, so "only defined flags" is the range [0, ALL_CAVEATS].
assert int(ALL_CAVEATS) & (int(ALL_CAVEATS) + 1) == 0
_CAVEAT_VALUES = frozenset(range(int(ALL_CAVEATS) + 1))

_LABEL_RULES = (
    _Rule(_Kind.INDEX, "originator"),
    _enum_rule("classification", _CLASSIFICATIONS),
    _enum_rule(
        "caveats", _CAVEAT_VALUES, f"must combine only the caveat flags {int(ALL_CAVEATS):#x}"
    ),
)
_TRACK_NUMBER = _Rule(
    _Kind.RANGE, "network_track_number", 0.0, _INT64_MAX, text="must be non-negative"
)


# ---------------------------------------------------------------------------------------------
# Payload layouts


class _Column(NamedTuple):
    name: str
    wire: str
    shape: tuple[int, ...] = ()


class _Bounds(NamedTuple):
    """Bounded rules gathered over one kind of slot: slot indices and their bounds."""

    slots: IntArray
    low: FloatArray
    high: FloatArray


def _bounds(entries: list[tuple[int, float, float]]) -> _Bounds:
    return _Bounds(
        np.array([entry[0] for entry in entries], np.int64),
        np.array([entry[1] for entry in entries], np.float64),
        np.array([entry[2] for entry in entries], np.float64),
    )


@dataclass(frozen=True, slots=True)
class _FastPath:
    """The rules of a layout gathered by slot type, for :func:`_quick_accept`.

    Slots index the item seen as bytes (``u1`` fields) or as 8-byte words (``<i8`` and
    ``<f8`` fields), so one fancy index gathers every column a group needs.
    """

    bytes_: _Bounds
    byte_is_index: BoolArray
    words: _Bounds
    floats: _Bounds
    finite: IntArray
    nan_groups: tuple[IntArray, ...]
    others: tuple[_Rule, ...]
    always: tuple[_Rule, ...]


def _fast_path(rules: tuple[_Rule, ...], dtype: np.dtype[np.void]) -> _FastPath:
    fields = dtype.fields
    assert fields is not None
    wire = {name: fields[name][0].base.str for name in fields}
    byte = {name: int(fields[name][1]) for name in fields}
    # Only 8-byte fields are read through the word view, and they all sit at multiples of 8.
    word = {name: offset // 8 for name, offset in byte.items() if offset % 8 == 0}
    bytes_: list[tuple[int, float, float]] = []
    is_index: list[bool] = []
    words: list[tuple[int, float, float]] = []
    floats: list[tuple[int, float, float]] = []
    finite: list[int] = []
    groups: dict[tuple[str, ...], IntArray] = {}
    others: list[_Rule] = []
    bounded = (_Kind.INDEX, _Kind.ENUM, _Kind.RANGE)
    for rule in rules:
        kind, name = rule.kind, rule.column
        if kind in bounded and wire[name] == "|u1":
            bytes_.append((byte[name], rule.low, rule.high))
            is_index.append(kind is _Kind.INDEX)
        elif kind in bounded and wire[name] == "<i8":
            words.append((word[name], rule.low, rule.high))
        elif kind is _Kind.RANGE and wire[name] == "<f8":
            floats.append((word[name], rule.low, rule.high))
        elif kind is _Kind.FINITE and wire[name] == "<f8":
            size = int(np.prod(fields[name][0].shape, dtype=np.int64))
            finite += range(word[name], word[name] + size)
        elif kind is _Kind.GROUP:
            # The per-column group rules together say: each row of the group is all finite
            # or all NaN.
            groups[rule.others] = np.array([word[other] for other in rule.others], np.int64)
        elif kind is not _Kind.COVARIANCE:
            others.append(rule)
    return _FastPath(
        bytes_=_bounds(bytes_),
        byte_is_index=np.array(is_index, np.bool_),
        words=_bounds(words),
        floats=_bounds(floats),
        finite=np.array(finite, np.int64),
        nan_groups=tuple(groups.values()),
        others=tuple(others),
        # The covariance test does not group; it always runs on its own.
        always=tuple(rule for rule in rules if rule.kind is _Kind.COVARIANCE),
    )


@dataclass(frozen=True, slots=True)
class _Layout:
    """Item layout of one message type, its rules in order, and their fast path."""

    message_type: MessageType
    record: type[WireMessage]
    columns: tuple[_Column, ...]
    reserved: int
    rules: tuple[_Rule, ...]
    dtype: np.dtype[np.void] = field(init=False)
    fast: _FastPath = field(init=False)
    integer_ranges: tuple[tuple[str, np.dtype[Any], int, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        spec: list[tuple[str, str] | tuple[str, str, tuple[int, ...]]] = [
            (column.name, column.wire, column.shape) for column in self.columns
        ]
        if self.reserved:
            spec.append(("_reserved", "u1", (self.reserved,)))
        dtype = np.dtype(spec)
        # Items start at a multiple of 8 within the message and are a multiple of 8 long,
        # so every 8-byte field lands on an aligned address when the buffer is aligned.
        assert dtype.itemsize % 8 == 0, dtype.itemsize
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "fast", _fast_path(self.rules, dtype))
        integers = []
        for column in self.columns:
            wire = np.dtype(column.wire)
            if wire.kind in "iu":
                info = np.iinfo(wire)
                integers.append((column.name, wire, int(info.min), int(info.max)))
        object.__setattr__(self, "integer_ranges", tuple(integers))


# Fields are ordered widest first so that, with the trailing reserved bytes, every field is
# naturally aligned; the order is part of the format (see docs/wire-format.md).
_TRACK_REPORTS = _Layout(
    MessageType.TRACK_REPORTS,
    TrackReports,
    (
        _Column("network_track_number", "<i8"),
        _Column("local_track_number", "<i8"),
        _Column("valid_at", "<f8"),
        _Column("state", "<f8", (6,)),
        _Column("covariance", "<f8", (6, 6)),
        _Column("impact_time_s", "<f8"),
        _Column("impact_lat_deg", "<f8"),
        _Column("impact_lon_deg", "<f8"),
        _Column("impact_semi_major_m", "<f8"),
        _Column("impact_semi_minor_m", "<f8"),
        _Column("impact_orientation_deg", "<f8"),
        _Column("rel_to", "<u8"),
        _Column("sensor_id", "<u2"),
        _Column("originator", "u1"),
        _Column("reporting_node", "u1"),
        _Column("quality", "u1"),
        _Column("status", "u1"),
        _Column("category", "u1"),
        _Column("classification", "u1"),
        _Column("caveats", "u1"),
    ),
    reserved=7,
    rules=(
        *_LABEL_RULES,
        _Rule(_Kind.INDEX, "reporting_node"),
        _enum_rule("status", _STATUSES),
        _enum_rule("category", _CATEGORIES),
        _Rule(_Kind.RANGE, "quality", 0.0, 15.0, text="must be in [0, 15]"),
        _Rule(_Kind.REL_TO, "rel_to"),
        _TRACK_NUMBER,
        _Rule(_Kind.RANGE, "local_track_number", 0.0, _INT64_MAX, text="must be non-negative"),
        _Rule(_Kind.FINITE, "valid_at"),
        _Rule(_Kind.FINITE, "state"),
        _Rule(_Kind.FINITE, "covariance"),
        *_impact_rules(point_required=False),
        _Rule(_Kind.COVARIANCE, "covariance"),
    ),
)

_MISSILE_WARNINGS = _Layout(
    MessageType.MISSILE_WARNINGS,
    MissileWarnings,
    (
        _Column("network_track_number", "<i8"),
        _Column("valid_at", "<f8"),
        _Column("launch_time_s", "<f8"),
        _Column("launch_lat_deg", "<f8"),
        _Column("launch_lon_deg", "<f8"),
        _Column("impact_time_s", "<f8"),
        _Column("impact_lat_deg", "<f8"),
        _Column("impact_lon_deg", "<f8"),
        _Column("impact_semi_major_m", "<f8"),
        _Column("impact_semi_minor_m", "<f8"),
        _Column("impact_orientation_deg", "<f8"),
        _Column("rel_to", "<u8"),
        _Column("update_number", "<u4"),
        _Column("category", "u1"),
        _Column("originator", "u1"),
        _Column("classification", "u1"),
        _Column("caveats", "u1"),
    ),
    reserved=0,
    rules=(
        *_LABEL_RULES,
        _enum_rule("category", _CATEGORIES),
        _Rule(_Kind.REL_TO, "rel_to"),
        _TRACK_NUMBER,
        _Rule(_Kind.FINITE, "valid_at"),
        _Rule(_Kind.FINITE, "launch_time_s"),
        _Rule(_Kind.FINITE, "launch_lat_deg"),
        _Rule(_Kind.FINITE, "launch_lon_deg"),
        _Rule(_Kind.RANGE, "launch_lat_deg", -90.0, 90.0, text="must be in [-90, 90]"),
        _Rule(_Kind.RANGE, "launch_lon_deg", -180.0, 180.0, text="must be in [-180, 180]"),
        *_impact_rules(point_required=True),
    ),
)

_ENGAGEMENT_STATUSES = _Layout(
    MessageType.ENGAGEMENT_STATUSES,
    EngagementStatuses,
    (
        _Column("network_track_number", "<i8"),
        _Column("valid_at", "<f8"),
        _Column("predicted_intercept_time_s", "<f8"),
        _Column("rel_to", "<u8"),
        _Column("shooter_id", "<u2"),
        _Column("interceptors_in_flight", "<u2"),
        _Column("engaging_nation", "u1"),
        _Column("state", "u1"),
        _Column("originator", "u1"),
        _Column("classification", "u1"),
        _Column("caveats", "u1"),
    ),
    reserved=7,
    rules=(
        *_LABEL_RULES,
        _Rule(_Kind.INDEX, "engaging_nation"),
        _enum_rule("state", _ENGAGEMENT_STATES),
        _Rule(_Kind.REL_TO, "rel_to"),
        _TRACK_NUMBER,
        _Rule(_Kind.FINITE, "valid_at"),
        _Rule(_Kind.NOT_INF, "predicted_intercept_time_s"),
    ),
)

_MEASUREMENT_REPORTS = _Layout(
    MessageType.MEASUREMENT_REPORTS,
    MeasurementReports,
    (
        _Column("local_track_number", "<i8"),
        _Column("valid_at", "<f8"),
        _Column("measurement", "<f8", (3,)),
        _Column("measurement_covariance", "<f8", (3, 3)),
        _Column("sensor_position", "<f8", (3,)),
        _Column("sensor_lat_deg", "<f8"),
        _Column("sensor_lon_deg", "<f8"),
        _Column("rel_to", "<u8"),
        _Column("sensor_id", "<u2"),
        _Column("scan_size", "<u2"),
        _Column("originator", "u1"),
        _Column("classification", "u1"),
        _Column("caveats", "u1"),
    ),
    reserved=1,
    rules=(
        *_LABEL_RULES,
        _Rule(_Kind.RANGE, "sensor_id", 1.0, 65535.0, text="must be in [1, 65535]"),
        _Rule(_Kind.REL_TO, "rel_to"),
        _Rule(_Kind.RANGE, "local_track_number", 0.0, _INT64_MAX, text="must be non-negative"),
        _Rule(_Kind.FINITE, "valid_at"),
        _Rule(_Kind.FINITE, "measurement"),
        _Rule(_Kind.FINITE, "measurement_covariance"),
        _Rule(_Kind.FINITE, "sensor_position"),
        _Rule(_Kind.FINITE, "sensor_lat_deg"),
        _Rule(_Kind.FINITE, "sensor_lon_deg"),
        _Rule(_Kind.RANGE, "sensor_lat_deg", -90.0, 90.0, text="must be in [-90, 90]"),
        _Rule(_Kind.RANGE, "sensor_lon_deg", -180.0, 180.0, text="must be in [-180, 180]"),
        _Rule(_Kind.COVARIANCE, "measurement_covariance"),
    ),
)

_LAYOUTS = {
    layout.message_type: layout
    for layout in (_TRACK_REPORTS, _MISSILE_WARNINGS, _ENGAGEMENT_STATUSES, _MEASUREMENT_REPORTS)
}
_LAYOUT_OF_RECORD: dict[type[Any], _Layout] = {
    layout.record: layout for layout in _LAYOUTS.values()
}


def item_dtype(message_type: MessageType) -> np.dtype[np.void]:
    """The structured NumPy dtype of one item of ``message_type`` on the wire.

    Examples
    --------
    >>> item_dtype(MessageType.TRACK_REPORTS).itemsize
    432
    """
    return _LAYOUTS[MessageType(message_type)].dtype


# ---------------------------------------------------------------------------------------------
# Header


def _padded(length: int) -> int:
    return (length + 7) & ~7


def _is_code(raw: bytes) -> bool:
    # bytes.isalpha and isupper look at ASCII only, so this means exactly three of A-Z.
    return len(raw) == 3 and raw.isalpha() and raw.isupper()


def _as_bytes_view(data: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    return view


def read_header(data: bytes | bytearray | memoryview) -> Header:
    """Decode and check the header (fixed part, nation table and padding) of a message.

    Only the header is read: the payload is neither required nor checked, so an inbound
    gate can look at the sender and type of a message before paying for the rest.

    Parameters
    ----------
    data : bytes-like
        The message, from its first byte.

    Returns
    -------
    Header

    Raises
    ------
    WireError
        With reason ``TRUNCATED``, ``BAD_MAGIC``, ``UNSUPPORTED_VERSION``,
        ``UNKNOWN_MESSAGE_TYPE``, ``RESERVED_NOT_ZERO``, ``BAD_NATION_CODE``,
        ``BAD_NATION_TABLE`` or ``NON_FINITE``.
    """
    view = _as_bytes_view(data)
    size = len(view)
    if size < len(MAGIC):
        raise WireError(
            RejectReason.TRUNCATED,
            f"header: {size} bytes is shorter than the {HEADER_BYTES}-byte header",
        )
    magic = bytes(view[: len(MAGIC)])
    if magic != MAGIC:
        raise WireError(
            RejectReason.BAD_MAGIC,
            f"header: magic must be {MAGIC!r} (got {magic!r})",
            field="magic",
        )
    if size < HEADER_BYTES:
        raise WireError(
            RejectReason.TRUNCATED,
            f"header: {size} bytes is shorter than the {HEADER_BYTES}-byte header",
        )
    (
        _,
        version,
        type_code,
        flags,
        sender_raw,
        nation_count,
        sequence,
        sent_at,
        count,
        payload_length,
    ) = _FIXED.unpack_from(view)
    if version not in SUPPORTED_VERSIONS:
        raise WireError(
            RejectReason.UNSUPPORTED_VERSION,
            f"header: version {version} is not supported (supported: {sorted(SUPPORTED_VERSIONS)})",
            field="version",
        )
    if type_code not in _LAYOUTS:
        raise WireError(
            RejectReason.UNKNOWN_MESSAGE_TYPE,
            f"header: message_type must be one of {[int(t) for t in MessageType]} "
            f"(got {type_code})",
            field="message_type",
        )
    if flags != 0:
        raise WireError(
            RejectReason.RESERVED_NOT_ZERO,
            f"header: flags are reserved and must be 0 (got {flags:#04x})",
            field="flags",
        )
    if not _is_code(sender_raw):
        raise WireError(
            RejectReason.BAD_NATION_CODE,
            f"header: sender must be three letters A-Z (got {sender_raw!r})",
            field="sender",
        )
    if nation_count > MAX_NATIONS:
        raise WireError(
            RejectReason.BAD_NATION_TABLE,
            f"header: nation table has {nation_count} entries, at most {MAX_NATIONS}",
            field="nations",
        )
    table_end = HEADER_BYTES + 3 * nation_count
    length = _padded(table_end)
    if size < length:
        raise WireError(
            RejectReason.TRUNCATED,
            f"header: {size} bytes is shorter than the {length}-byte header with its "
            f"{nation_count}-nation table",
        )
    table = bytes(view[HEADER_BYTES:table_end])
    nations: list[NationCode] = []
    for j in range(nation_count):
        raw = table[3 * j : 3 * j + 3]
        if not _is_code(raw):
            raise WireError(
                RejectReason.BAD_NATION_CODE,
                f"header: nations[{j}] must be three letters A-Z (got {raw!r})",
                field="nations",
                index=j,
            )
        code = NationCode(raw.decode("ascii"))
        if code in nations:
            raise WireError(
                RejectReason.BAD_NATION_TABLE,
                f"header: nations[{j}] repeats {code} (first at {nations.index(code)})",
                field="nations",
                index=j,
            )
        nations.append(code)
    if any(view[table_end:length]):
        raise WireError(
            RejectReason.RESERVED_NOT_ZERO,
            "header: padding after the nation table must be zero",
            field="padding",
        )
    if not math.isfinite(sent_at):
        raise WireError(
            RejectReason.NON_FINITE,
            f"header: sent_at must be finite (got {sent_at})",
            field="sent_at",
        )
    return Header(
        version=version,
        message_type=MessageType(type_code),
        sender=NationCode(sender_raw.decode("ascii")),
        nations=tuple(nations),
        sequence=sequence,
        sent_at=sent_at,
        item_count=count,
        payload_length=payload_length,
        length=length,
    )


# ---------------------------------------------------------------------------------------------
# Validation

_Getter = Callable[[str], npt.NDArray[Any]]
_Got = npt.NDArray[Any] | Callable[[int], object]


def _require(
    bad: BoolArray | np.bool_, reason: RejectReason, field: str, rule: str, got: _Got
) -> None:
    """Raise for the first item where ``bad`` holds; ``got`` gives the offending value."""
    if bad.any():
        i = int(np.argmax(bad))
        value = got(i) if callable(got) else got[i]
        raise WireError(reason, f"item {i}: {field}: {rule} (got {value})", field=field, index=i)


def _non_finite_entry(row: npt.NDArray[Any]) -> object:
    flat = np.ravel(row)
    return flat[~np.isfinite(flat)][0] if not np.isfinite(flat).all() else row


def _all_nan(get: _Getter, columns: tuple[str, ...]) -> BoolArray:
    absent = np.isnan(get(columns[0]))
    for name in columns[1:]:
        absent &= np.isnan(get(name))
    return absent


def _rule_mask(
    rule: _Rule, get: _Getter, nation_count: int
) -> tuple[BoolArray, RejectReason, str, _Got]:
    """Items that break ``rule``, with the reason, the rule's wording and the values."""
    values = get(rule.column)
    kind = rule.kind
    if kind is _Kind.INDEX:
        bad = (values < 0) | (values > nation_count - 1)
        return (
            bad,
            RejectReason.BAD_NATION_INDEX,
            f"must index the {nation_count}-nation table",
            values,
        )
    if kind is _Kind.ENUM:
        return (
            (values < rule.low) | (values > rule.high),
            RejectReason.UNKNOWN_ENUM,
            rule.text,
            values,
        )
    if kind is _Kind.RANGE:
        return (
            (values < rule.low) | (values > rule.high),
            RejectReason.OUT_OF_RANGE,
            rule.text,
            values,
        )
    if kind is _Kind.FINITE:
        finite: BoolArray = np.isfinite(values)
        if finite.ndim > 1:
            finite = np.asarray(finite.all(axis=tuple(range(1, finite.ndim))))
        return (
            ~finite,
            RejectReason.NON_FINITE,
            "must be finite",
            lambda i: _non_finite_entry(values[i]),
        )
    if kind is _Kind.NOT_INF:
        return np.isinf(values), RejectReason.NON_FINITE, "must be finite or NaN (none)", values
    if kind is _Kind.GROUP:
        together = ", ".join(name for name in rule.others if name != rule.column)
        bad = ~np.isfinite(values) & ~_all_nan(get, rule.others)
        return (
            bad,
            RejectReason.NON_FINITE,
            f"must be finite, or NaN together with {together}",
            values,
        )
    if kind is _Kind.ABSENT_WITH:
        bad = ~np.isnan(values) & _all_nan(get, rule.others)
        return (
            bad,
            RejectReason.NON_FINITE,
            f"must be NaN when {', '.join(rule.others)} are NaN",
            values,
        )
    if kind is _Kind.NOT_ABOVE:
        other = get(rule.others[0])
        return (
            values > other,
            RejectReason.OUT_OF_RANGE,
            f"must not exceed {rule.others[0]}",
            lambda i: f"{values[i]} > {other[i]}",
        )
    if kind is _Kind.REL_TO:
        outside = np.uint64(~((1 << nation_count) - 1) & 0xFFFF_FFFF_FFFF_FFFF)
        return (
            (values & outside) != 0,
            RejectReason.REL_TO_OUTSIDE_TABLE,
            f"bits must stay within the {nation_count}-nation table",
            lambda i: hex(int(values[i])),
        )
    raise AssertionError(f"no mask for {kind}")  # pragma: no cover


def _quick_accept(layout: _Layout, items: npt.NDArray[np.void], nation_count: int) -> bool:
    """True if every rule but the covariance rule holds, in a few grouped operations.

    The grouped tests are exactly the rules' own comparisons, gathered across columns
    through byte and 8-byte views of the items; rules that do not group run one by one.
    """
    count = items.shape[0]
    if count == 0:
        return True
    fast = layout.fast
    words_per_item = layout.dtype.itemsize // 8
    if fast.bytes_.slots.size:
        high = np.where(fast.byte_is_index, nation_count - 1, fast.bytes_.high)
        raw = items.view(np.uint8).reshape(count, layout.dtype.itemsize)[:, fast.bytes_.slots]
        if ((raw < fast.bytes_.low) | (raw > high)).any():
            return False
    if fast.words.slots.size:
        ints = items.view("<i8").reshape(count, words_per_item)[:, fast.words.slots]
        if ((ints < fast.words.low) | (ints > fast.words.high)).any():
            return False
    floats = items.view("<f8").reshape(count, words_per_item)
    if fast.finite.size and not np.isfinite(floats[:, fast.finite]).all():
        return False
    for group in fast.nan_groups:
        values = floats[:, group]
        if not (np.isfinite(values).all(axis=1) | np.isnan(values).all(axis=1)).all():
            return False
    if fast.floats.slots.size:
        # NaN compares False, so absent values pass, as in the rule-by-rule path.
        bounded = floats[:, fast.floats.slots]
        if ((bounded < fast.floats.low) | (bounded > fast.floats.high)).any():
            return False
    get: _Getter = items.__getitem__
    return all(not _rule_mask(rule, get, nation_count)[0].any() for rule in fast.others)


def _check_covariance(covariance: npt.NDArray[Any], field: str = "covariance") -> None:
    """Symmetric positive definite, tested on the correlation matrix (unit-free).

    Each test runs once over the whole batch; the per-item mask that names the first
    offending item is computed only when the batch fails it.
    """
    count, n = covariance.shape[0], covariance.shape[1]
    diagonal = np.diagonal(covariance, axis1=1, axis2=2)
    if not (diagonal > 0).all():
        _require(
            ~(diagonal > 0).all(axis=1),
            RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
            field,
            "diagonal must be positive",
            diagonal,
        )
    sigma = np.sqrt(diagonal)
    correlation = covariance / (sigma[:, :, None] * sigma[:, None, :])
    if not np.isfinite(correlation).all():
        # Only a tiny diagonal next to a large off-diagonal entry overflows, and such a
        # correlation is far beyond ±1: not positive definite.
        _require(
            ~np.isfinite(correlation).all(axis=(1, 2)),
            RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
            field,
            "must be positive definite",
            lambda i: "a correlation beyond the float range",
        )
    # |P_ij − P_ji| / sqrt(P_ii·P_jj), the asymmetry relative to the entries' scale.
    asymmetry = np.abs(correlation - np.swapaxes(correlation, 1, 2))
    if not (asymmetry <= COVARIANCE_SYMMETRY_TOLERANCE).all():
        _require(
            ~(asymmetry <= COVARIANCE_SYMMETRY_TOLERANCE).all(axis=(1, 2)),
            RejectReason.COVARIANCE_NOT_SYMMETRIC,
            field,
            f"must be symmetric to a relative {COVARIANCE_SYMMETRY_TOLERANCE:g}",
            lambda i: f"relative asymmetry {np.max(asymmetry[i]):.3g}",
        )
    # Shifting the unit diagonal down by the tolerance makes the factorisation fail exactly
    # when the smallest eigenvalue is below it. The matrix is symmetric to 1e-9 already,
    # so it does not matter which triangle LAPACK reads.
    diagonal_index = np.arange(n)
    shifted = correlation.copy()
    shifted[:, diagonal_index, diagonal_index] -= COVARIANCE_DEFINITE_TOLERANCE
    try:
        np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        # The batched factorisation does not say which matrix failed; find it, on this
        # rejection path only.
        for i in range(count):
            try:
                np.linalg.cholesky(shifted[i])
            except np.linalg.LinAlgError:
                smallest = np.linalg.eigvalsh(correlation[i])[0]
                raise WireError(
                    RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
                    f"item {i}: {field}: must be positive definite (got smallest "
                    f"correlation eigenvalue {smallest:.3g})",
                    field=field,
                    index=i,
                ) from None
        raise WireError(  # pragma: no cover - LAPACK agrees with itself
            RejectReason.COVARIANCE_NOT_POSITIVE_DEFINITE,
            f"{field}: not positive definite",
            field=field,
        ) from None


def _diagnose(layout: _Layout, record: WireMessage) -> None:
    """Every rule in its documented order, raising for the first broken one."""
    nation_count = len(record.nations)

    def get(name: str) -> npt.NDArray[Any]:
        return np.asarray(getattr(record, name))

    for rule in layout.rules:
        if rule.kind is _Kind.COVARIANCE:
            _check_covariance(get(rule.column), rule.column)
            continue
        bad, reason, text, got = _rule_mask(rule, get, nation_count)
        _require(bad, reason, rule.column, text, got)


def _native(column: _Column) -> type[np.generic]:
    if column.wire[-2] == "f":
        return np.float64
    return np.uint64 if column.name == "rel_to" else np.int64


def _record(
    layout: _Layout,
    items: npt.NDArray[np.void],
    *,
    sender: NationCode,
    sent_at: float,
    sequence: int,
    nations: tuple[NationCode, ...],
) -> WireMessage:
    """The record of decoded items, every array a fresh native copy."""
    columns = {
        column.name: np.array(items[column.name], dtype=_native(column))
        for column in layout.columns
    }
    return layout.record(
        sender=sender, sent_at=sent_at, sequence=sequence, nations=nations, **columns
    )


# ---------------------------------------------------------------------------------------------
# Decoding and encoding


def decode(
    data: bytes | bytearray | memoryview, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> WireMessage:
    """Decode and validate one unsigned message (header and payload).

    Parameters
    ----------
    data : bytes-like
        The message as :func:`encode` produced it, or as
        :meth:`~iamd.network.signing.KeyRing.verify` returned it (signature removed).
    max_bytes : int
        Largest message accepted, bytes.

    Returns
    -------
    TrackReports or MissileWarnings or EngagementStatuses
        The record; its arrays are fresh native copies (never views of ``data``).

    Raises
    ------
    WireError
        On any broken rule of the format (see ``docs/wire-format.md``); nothing else is
        raised for any bytes.
    """
    view = _as_bytes_view(data)
    size = len(view)
    if size > max_bytes:
        raise WireError(
            RejectReason.OVERSIZED, f"message of {size} bytes exceeds the {max_bytes}-byte limit"
        )
    header = read_header(view)
    if header.payload_length > max_bytes:
        raise WireError(
            RejectReason.OVERSIZED,
            f"header: payload_length {header.payload_length} exceeds the {max_bytes}-byte limit",
            field="payload_length",
        )
    end = header.length + header.payload_length
    if size < end:
        raise WireError(
            RejectReason.TRUNCATED,
            f"payload: {size - header.length} bytes, the header declares {header.payload_length}",
            field="payload_length",
        )
    if size > end:
        raise WireError(
            RejectReason.TRAILING_DATA,
            f"payload: {size - end} bytes after the declared end (a signed message must go "
            "through KeyRing.verify first)",
        )
    layout = _LAYOUTS[header.message_type]
    itemsize = layout.dtype.itemsize
    if header.payload_length != header.item_count * itemsize:
        raise WireError(
            RejectReason.COUNT_MISMATCH,
            f"payload: {header.payload_length} bytes cannot hold {header.item_count} items of "
            f"{itemsize} bytes",
            field="item_count",
        )
    items = np.frombuffer(view, dtype=layout.dtype, count=header.item_count, offset=header.length)
    if layout.reserved:
        reserved = items["_reserved"]
        _require(
            reserved.any(axis=1),
            RejectReason.RESERVED_NOT_ZERO,
            "reserved",
            "reserved bytes must be zero",
            lambda i: bytes(reserved[i]).hex(),
        )
    message = _record(
        layout,
        items,
        sender=header.sender,
        sent_at=header.sent_at,
        sequence=header.sequence,
        nations=header.nations,
    )
    with np.errstate(all="ignore"):
        if _quick_accept(layout, items, len(header.nations)):
            for rule in layout.fast.always:
                _check_covariance(getattr(message, rule.column), rule.column)
        else:
            _diagnose(layout, message)
    return message


def encode(message: WireMessage, *, validate: bool = True) -> bytes:
    """Encode a record as an unsigned message (header and payload).

    Parameters
    ----------
    message : TrackReports or MissileWarnings or EngagementStatuses
        The record.
    validate : bool
        Check every rule the decoder checks first (default), so a node never sends what
        its peers would reject. Trusted producers may skip it; integer values that do not
        fit their wire type are then silently wrapped.

    Returns
    -------
    bytes
        The message, without signature.

    Raises
    ------
    WireError
        If the record cannot be encoded (``MALFORMED_RECORD``, ``BAD_NATION_CODE``,
        ``BAD_NATION_TABLE``, ``OUT_OF_RANGE``, ``NON_FINITE`` in the header), or, with
        ``validate``, breaks a rule of the format.
    """
    layout = _layout_of(message)
    arrays = _check_structure(message, layout)
    if validate:
        with np.errstate(all="ignore"):
            _check_fits(arrays, layout)
    count = len(arrays[layout.columns[0].name])
    nations = message.nations
    table = "".join(nations).encode("ascii")
    header_length = _padded(HEADER_BYTES + len(table))
    payload_length = count * layout.dtype.itemsize
    buffer = bytearray(header_length + payload_length)
    _FIXED.pack_into(
        buffer,
        0,
        MAGIC,
        VERSION,
        layout.message_type,
        0,
        message.sender.encode("ascii"),
        len(nations),
        int(message.sequence),
        float(message.sent_at),
        count,
        payload_length,
    )
    buffer[HEADER_BYTES : HEADER_BYTES + len(table)] = table
    # Write the items in place: no intermediate array, one copy per column.
    items = np.frombuffer(buffer, dtype=layout.dtype, count=count, offset=header_length)
    for column in layout.columns:
        items[column.name] = arrays[column.name]
    if validate:
        with np.errstate(all="ignore"):
            if _quick_accept(layout, items, len(nations)):
                for rule in layout.fast.always:
                    # The caller's float64 array holds exactly the wire values and is
                    # contiguous, which the factorisation prefers to the strided field.
                    source = arrays[rule.column]
                    if source.dtype != np.float64:
                        source = np.array(items[rule.column], dtype=np.float64)
                    _check_covariance(source, rule.column)
            else:
                # Diagnose what the receiver would see: the wire values, not the caller's.
                _diagnose(
                    layout,
                    _record(
                        layout,
                        items,
                        sender=message.sender,
                        sent_at=float(message.sent_at),
                        sequence=int(message.sequence),
                        nations=tuple(nations),
                    ),
                )
    return bytes(buffer)


def check(message: WireMessage) -> None:
    """Check a record against every rule of the wire format.

    Equivalent to ``encode(message)`` without keeping the bytes: a record passes exactly
    when its encoding would pass :func:`decode`.

    Raises
    ------
    WireError
        On the first broken rule, as :func:`decode` would raise it for the encoded bytes
        (plus ``MALFORMED_RECORD`` for arrays of the wrong shape or kind).
    """
    encode(message, validate=True)


def _layout_of(message: WireMessage) -> _Layout:
    layout = _LAYOUT_OF_RECORD.get(type(message))
    if layout is None:
        raise TypeError(f"cannot encode a {type(message).__name__}")
    return layout


def _check_structure(message: WireMessage, layout: _Layout) -> dict[str, npt.NDArray[Any]]:
    """Header values and array shapes/kinds of a record; returns the arrays by name."""
    if not (isinstance(message.sender, str) and _is_code(message.sender.encode("utf-8"))):
        raise WireError(
            RejectReason.BAD_NATION_CODE,
            f"header: sender must be three letters A-Z (got {message.sender!r})",
            field="sender",
        )
    nations = message.nations
    if len(nations) > MAX_NATIONS:
        raise WireError(
            RejectReason.BAD_NATION_TABLE,
            f"header: nation table has {len(nations)} entries, at most {MAX_NATIONS}",
            field="nations",
        )
    for j, code in enumerate(nations):
        if not (isinstance(code, str) and _is_code(code.encode("utf-8"))):
            raise WireError(
                RejectReason.BAD_NATION_CODE,
                f"header: nations[{j}] must be three letters A-Z (got {code!r})",
                field="nations",
                index=j,
            )
        if code in nations[:j]:
            raise WireError(
                RejectReason.BAD_NATION_TABLE,
                f"header: nations[{j}] repeats {code} (first at {nations.index(code)})",
                field="nations",
                index=j,
            )
    if not 0 <= int(message.sequence) < 1 << 64:
        raise WireError(
            RejectReason.OUT_OF_RANGE,
            f"header: sequence must be in [0, 2**64) (got {message.sequence})",
            field="sequence",
        )
    if not math.isfinite(float(message.sent_at)):
        raise WireError(
            RejectReason.NON_FINITE,
            f"header: sent_at must be finite (got {message.sent_at})",
            field="sent_at",
        )
    arrays: dict[str, npt.NDArray[Any]] = {}
    count = -1
    for column in layout.columns:
        array = np.asarray(getattr(message, column.name))
        if count < 0:
            count = array.shape[0] if array.ndim else 0
        expected = (count, *column.shape)
        if array.shape != expected:
            raise WireError(
                RejectReason.MALFORMED_RECORD,
                f"{column.name}: shape must be {expected} (got {array.shape})",
                field=column.name,
            )
        kinds = "fiu" if column.wire[-2] == "f" else "iu"
        # An empty batch built from np.array([]) is float64; its kind does not matter.
        if array.dtype.kind not in kinds and array.size:
            raise WireError(
                RejectReason.MALFORMED_RECORD,
                f"{column.name}: dtype must be {'real' if kinds == 'fiu' else 'integer'} "
                f"(got {array.dtype})",
                field=column.name,
            )
        if column.name == "rel_to" and array.dtype.kind == "i":
            # Signed masks (e.g. read back from Parquet) are read by their bits: a mask
            # with bit 63 set, for a 64-nation table, is negative as an int64.
            array = array.astype(np.int64).view(np.uint64)
        arrays[column.name] = array
    if count >= 1 << 32:
        raise WireError(
            RejectReason.OUT_OF_RANGE,
            f"header: item_count {count} exceeds 2**32 - 1",
            field="item_count",
        )
    return arrays


def _check_fits(arrays: dict[str, npt.NDArray[Any]], layout: _Layout) -> None:
    """Integer values fit their wire type (the decoder gets this for free)."""
    for name, wire, low, high in layout.integer_ranges:
        values = arrays[name]
        if values.size == 0 or np.can_cast(values.dtype, wire):
            continue
        # Two reductions find whether anything is out of range; the per-item mask that
        # names the item is built only when something is.
        if values.min() < low or values.max() > high:
            _require(
                (values < low) | (values > high),
                RejectReason.OUT_OF_RANGE,
                name,
                f"must fit in {wire.name} [{low}, {high}]",
                values,
            )


__all__ = [
    "COVARIANCE_DEFINITE_TOLERANCE",
    "COVARIANCE_SYMMETRY_TOLERANCE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "HEADER_BYTES",
    "MAGIC",
    "SUPPORTED_VERSIONS",
    "VERSION",
    "Header",
    "MessageType",
    "RejectReason",
    "WireError",
    "WireMessage",
    "check",
    "decode",
    "encode",
    "item_dtype",
    "read_header",
]
