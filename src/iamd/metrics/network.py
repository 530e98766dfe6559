"""Network and fusion figures of a run, computed from the recording's tables.

How common, complete, timely and fresh the nations' air pictures are, and what the links and
the releasability guards did. Every figure is a pure function of recording tables (pyarrow
tables in, frozen dataclasses with ``to_dict()`` out); ``docs/metrics.md`` ("Network and
fusion") gives the definitions with their reasons. In short, with the time alignment and the
truth-to-track association of the tracking figures (:mod:`iamd.metrics.picture`,
:mod:`iamd.metrics.association`) applied to each node's ``system_tracks`` (its *picture*) and
to its ``local_tracks`` (its *own sensors*), on the truth instants ``t`` (one step each):

* **Picture SIAP** (:func:`picture_summaries`): the tracking figures of each node's system
  tracks; the track identity is the node's system track id (network track number changes are
  counted under commonality).
* **Holdings** (:class:`Holdings`): nation ``n`` *holds* object ``o`` at ``t`` *under number*
  ``N`` when one of its system tracks associated with ``o`` at ``t`` has network track number
  ``N`` (the number of the latest snapshot at or before ``t``); it *tracks ``o`` with its own
  sensors* when one of its local tracks is associated with ``o`` at ``t``.
* **Entitlement** ``E(o, t)``: the nations that track ``o`` with their own sensors at ``t``,
  plus every recipient of an audited release (decision release or sanitise) of an item whose
  originator's local track is associated with ``o`` at the first step at or after the
  release time ``tᵣ``, at every step with ``tᵣ ≤ t ≤ tᵣ + entitlement_memory_s``.
* **Commonality**: over the ``(o, t)`` with ``|E(o, t)| ≥ 2``, the share at which one network
  track number is held for ``o`` by every nation in ``E(o, t)``. **Pairwise** for nations
  ``a, b``: over the ``(o, t)`` with ``a, b ∈ E(o, t)``, the share at which ``a`` and ``b``
  hold ``o`` under a shared number. **Number changes** of a node: successive associated rows
  of one system track on one object with different numbers; **numbers per object**: distinct
  numbers held for it by any node (ideal 1).
* **Release coverage** of nation ``n``: with ``C`` the ``(o, t)`` some nation tracks with its
  own sensors, the share of ``C`` held in ``n``'s picture; **coalition completeness** is
  ``|C|`` over the truth rows.
* **Warning time** of nation ``n``: for each threat its picture holds, the first time ``t₁``
  it does; *detection delay* ``t₁ − launch``, *warning* ``end − t₁`` (mean and median), and
  the same from its own sensors.
* **Staleness** of remote data at a node: arrival time minus validity time of its accepted
  deliveries (mean, 95th percentile, maximum).
* **Links**: per link and direction, messages, reports and bytes handed to it, delivered
  share, drops by reason, delay of delivered messages (arrival − hand-over, mean and 95th
  percentile), and offered reports and bytes per second of run.
* **Releases**: per releasing node (and per originator) and recipient, items released,
  sanitised and denied, denials by :class:`~iamd.network.DenyReason`. **Rejects**: messages
  rejected whole by each node's inbound gate, by reason.

Percentiles are NumPy's default (linear interpolation between order statistics). A figure
with nothing to average over is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iamd.core import ConfigurationError, RecordingError
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo import great_circle_distance_m
from iamd.messages import ThreatCategory
from iamd.metrics.association import NO_TRUTH, AssociationRule, associate_truth
from iamd.metrics.gospa import DEFAULT_CUTOFF_M, DEFAULT_ORDER
from iamd.metrics.picture import (
    TIME_TOLERANCE_S,
    TRACK_COLUMNS,
    TRUTH_COLUMNS,
    TimeAlignment,
    align_picture,
)
from iamd.metrics.tracking import TrackingFigures, tracking_summaries
from iamd.network import Decision, DenyReason

MaskArray = npt.NDArray[np.uint64]
"""Nation bit masks: bit ``i`` is nation ``i`` of the run's nation table."""

NO_NUMBER = -1
"""``number`` of a holding row that carries no network track number (own-sensor holdings)."""

DEFAULT_ENTITLEMENT_MEMORY_S = 12.0
"""How long a release entitles its recipient to hold the object, s: one Link 16 frame, more
than the default gap between reports of a held track (8-s refresh + 2-s report cycle)."""

MAX_NATIONS = 64
"""Nations a run may have: masks are 64-bit."""

AUDIT_COLUMNS = ("time_s", "node", "recipient", "track_number", "originator", "decision", "reason")
DELIVERY_COLUMNS = ("time_s", "node", "valid_at_s", "accepted")
LINK_COLUMNS = (
    "time_s",
    "link",
    "sender",
    "receiver",
    "reports",
    "size_bytes",
    "arrival_s",
    "drop_reason",
)
REJECT_COLUMNS = ("node", "reason")
THREAT_COLUMNS = ("threat", "launch_time_s", "end_time_s")


# --- holdings ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Holdings:
    """Which object each node's tracks follow at each truth instant (associated rows only).

    Rows are re-ordered on construction by ``(nation, track, step)``, truth rows by
    ``(step, object)``.

    Parameters
    ----------
    times_s : ndarray, shape (K,)
        The truth sampling instants ``t₀ + kΔ``, k = 0 … K − 1, s from the scenario epoch.
    truth_ids : tuple of str, length J
        Truth object names, sorted; ``truth`` and ``truth_index`` point into it.
    truth_step, truth_index : ndarray of int, shape (R,)
        Step (into ``times_s``) and object of every truth row (an object in flight at a
        step), sorted by ``(step, object)``.
    nations : tuple of str
        The run's nation table; ``nation`` points into it and bit ``i`` of a mask is
        ``nations[i]``.
    nodes : tuple of str
        Nodes whose tracks were assessed (those in the tracks table), in nation order.
    step, truth, nation : ndarray of int, shape (H,)
        Step, associated object and holding nation of each row.
    track : ndarray of int, shape (H,)
        The nation's track id (system track id, or local track number).
    number : ndarray of int, shape (H,)
        Network track number of the system track at that step, or ``NO_NUMBER``.
    """

    times_s: FloatArray
    truth_ids: tuple[str, ...]
    truth_step: IntArray
    truth_index: IntArray
    nations: tuple[str, ...]
    nodes: tuple[str, ...]
    step: IntArray
    truth: IntArray
    nation: IntArray
    track: IntArray
    number: IntArray

    def __post_init__(self) -> None:
        times = np.asarray(self.times_s, np.float64).reshape(-1)
        if np.any(np.diff(times) <= 0.0):
            raise ValueError("holdings: times_s must be strictly increasing")
        object.__setattr__(self, "times_s", times)
        for name in ("truth_ids", "nations", "nodes"):
            object.__setattr__(self, name, tuple(str(value) for value in getattr(self, name)))
        step = np.asarray(self.truth_step, np.int64).reshape(-1)
        index = np.asarray(self.truth_index, np.int64).reshape(-1)
        order = np.lexsort((index, step))
        object.__setattr__(self, "truth_step", step[order])
        object.__setattr__(self, "truth_index", index[order])
        rows = {
            name: np.asarray(getattr(self, name), np.int64).reshape(-1)
            for name in ("step", "truth", "nation", "track", "number")
        }
        if len({column.size for column in rows.values()}) > 1:
            raise ValueError("holdings: rows have different lengths")
        order = np.lexsort((rows["step"], rows["track"], rows["nation"]))
        for name, column in rows.items():
            object.__setattr__(self, name, column[order])

    @property
    def width(self) -> int:
        """Multiplier of ``step`` in an object-time key ``step · width + object``."""
        return max(len(self.truth_ids), 1)

    @property
    def keys(self) -> IntArray:
        """Object-time key of each row, ``step · width + truth``."""
        return self.step * self.width + self.truth

    @property
    def truth_keys(self) -> IntArray:
        """Object-time key of each truth row, increasing."""
        return self.truth_step * self.width + self.truth_index


def _require(table: pa.Table, name: str, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in table.column_names]
    if missing:
        raise RecordingError(f"table '{name}' lacks the columns {', '.join(missing)}")


def _about_objects(table: pa.Table) -> pa.Table:
    """The rows of an ``audit`` or ``deliveries`` table that carry tracks or measurements.

    Engagement statuses and missile warnings (``kind`` ``engagement``, ``warning``) name
    network track numbers, not an originator's local tracks, and say nothing about where an
    object is now; recordings from before the ``kind`` column hold only track reports.
    """
    if "kind" not in table.column_names:
        return table
    other = pc.is_in(table["kind"], value_set=pa.array(["engagement", "warning"]))
    return table.filter(pc.invert(pc.fill_null(other, False)))


def _strings(table: pa.Table, column: str) -> npt.NDArray[np.str_]:
    values = pc.fill_null(table[column].cast(pa.string()), "").to_pylist()
    return np.asarray(values, dtype=str).reshape(-1)


def _floats(table: pa.Table, column: str) -> FloatArray:
    return np.asarray(table[column].to_numpy(zero_copy_only=False), np.float64).reshape(-1)


def _ints(table: pa.Table, column: str) -> IntArray:
    return np.asarray(table[column].to_numpy(zero_copy_only=False), np.int64).reshape(-1)


def _nation_table(nations: Sequence[str]) -> tuple[str, ...]:
    table = tuple(str(nation) for nation in nations)
    if len(table) > MAX_NATIONS:
        raise ConfigurationError(
            f"network figures: at most {MAX_NATIONS} nations (got {len(table)})"
        )
    if len(set(table)) != len(table):
        raise ConfigurationError(f"network figures: nations repeat (got {list(table)})")
    return table


def _nation_index(names: npt.NDArray[np.str_], nations: tuple[str, ...], where: str) -> IntArray:
    """Index into ``nations`` of each name; an unknown name is a recording error."""
    unique, inverse = np.unique(names, return_inverse=True)
    unknown = [str(name) for name in unique if str(name) not in nations]
    if unknown:
        raise RecordingError(
            f"{where}: {unknown[0]!r} is not in the run's nation table {list(nations)}"
        )
    lookup = np.array([nations.index(str(name)) for name in unique], np.int64)
    return lookup[inverse.reshape(-1)]


def _bits(nation: IntArray) -> MaskArray:
    return np.left_shift(np.ones(nation.size, np.uint64), nation.astype(np.uint64))


def _popcount(masks: MaskArray, count: int) -> IntArray:
    total = np.zeros(masks.size, np.int64)
    for bit in range(count):
        total += ((masks >> np.uint64(bit)) & np.uint64(1)).astype(np.int64)
    return total


@dataclass(frozen=True, slots=True)
class _Grid:
    anchor: float
    period: float
    times: FloatArray
    truth_ids: tuple[str, ...]
    truth_step: IntArray
    truth_index: IntArray

    @classmethod
    def of(cls, truth: pa.Table, alignment: TimeAlignment) -> _Grid:
        time = _floats(truth, "time_s")
        if time.size == 0:
            empty = np.empty(0, np.int64)
            return cls(0.0, 1.0, np.empty(0), (), empty, empty)
        if alignment.period_s is not None:
            period = alignment.period_s
        else:
            gaps = np.diff(np.unique(time))
            period = float(gaps.min()) if gaps.size else 1.0
        anchor = float(time.min())
        step = np.rint((time - anchor) / period).astype(np.int64)
        names, index = np.unique(_strings(truth, "threat"), return_inverse=True)
        order = np.lexsort((index, step))
        return cls(
            anchor,
            period,
            np.asarray(anchor + np.arange(int(step.max()) + 1) * period, np.float64),
            tuple(str(name) for name in names),
            step[order],
            index.reshape(-1)[order].astype(np.int64),
        )

    def step_of(self, time_s: FloatArray) -> IntArray:
        """Step of grid instants (times on the grid)."""
        return np.rint((time_s - self.anchor) / self.period).astype(np.int64)


def _composite(
    table_columns: Sequence[IntArray], query_columns: Sequence[IntArray]
) -> tuple[IntArray, IntArray]:
    """Integer keys that compare rows by several integer columns, for table and query rows."""
    size = table_columns[0].size
    table_key = np.zeros(size, np.int64)
    query_key = np.zeros(query_columns[0].size, np.int64)
    for table_values, query_values in zip(table_columns, query_columns, strict=True):
        values, inverse = np.unique(
            np.concatenate((table_values, query_values)), return_inverse=True
        )
        inverse = inverse.reshape(-1)
        table_key = table_key * values.size + inverse[:size]
        query_key = query_key * values.size + inverse[size:]
    return table_key, query_key


def _find(table_key: IntArray, query_key: IntArray) -> IntArray:
    """Row of ``table_key`` equal to each query key (the last such row), or -1."""
    if table_key.size == 0:
        return np.full(query_key.size, -1, np.int64)
    order = np.argsort(table_key, kind="stable")
    ordered = table_key[order]
    where = np.searchsorted(ordered, query_key, side="right") - 1
    found = where >= 0
    found[found] = ordered[where[found]] == query_key[found]
    return np.where(found, order[np.maximum(where, 0)], -1).astype(np.int64)


def _numbers_at(
    record_track: IntArray,
    record_time: FloatArray,
    record_number: IntArray,
    track: IntArray,
    time_s: FloatArray,
) -> IntArray:
    """Network track number of each (track, time): its latest record at or before the time."""
    if track.size == 0:
        return np.empty(0, np.int64)
    instants = np.unique(record_time)
    record_rank = np.searchsorted(instants, record_time)
    query_rank = np.searchsorted(instants, time_s + TIME_TOLERANCE_S, side="right") - 1
    _, inverse = np.unique(np.concatenate((record_track, track)), return_inverse=True)
    inverse = inverse.reshape(-1)
    width = instants.size + 1
    record_key = inverse[: record_track.size] * width + record_rank + 1
    query_key = inverse[record_track.size :] * width + query_rank + 1
    order = np.argsort(record_key, kind="stable")
    where = np.searchsorted(record_key[order], query_key, side="right") - 1
    found = where >= 0
    found[found] = record_key[order][where[found]] // width == query_key[found] // width
    return np.where(found, record_number[order][np.maximum(where, 0)], NO_NUMBER).astype(np.int64)


def _holdings(
    truth: pa.Table,
    tracks: pa.Table,
    name: str,
    nations: Sequence[str],
    *,
    numbered: bool,
    alignment: TimeAlignment | None,
    association: AssociationRule | None,
) -> Holdings:
    alignment = alignment or TimeAlignment()
    _require(truth, "truth", TRUTH_COLUMNS)
    _require(tracks, name, (*TRACK_COLUMNS, "network_track_number") if numbered else TRACK_COLUMNS)
    table = _nation_table(nations)
    grid = _Grid.of(truth, alignment)
    node_names = np.unique(_strings(tracks, "node"))
    node_index = _nation_index(node_names, table, f"table '{name}'")
    nodes = [str(node) for _, node in sorted(zip(node_index.tolist(), node_names, strict=True))]
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []
    for node in nodes:
        picture = align_picture(truth, tracks, node, alignment=alignment)
        truth_of_row = associate_truth(picture, association).truth_of_row
        rows = np.flatnonzero(truth_of_row != NO_TRUTH)
        if rows.size == 0:
            continue
        if picture.truth_ids != grid.truth_ids:  # pragma: no cover - both sort the same names
            raise RecordingError(f"table '{name}': truth objects of node {node} differ")
        time = picture.times_s[picture.track_step[rows]]
        track = picture.track_ids[picture.track_index[rows]]
        if numbered:
            own = tracks.filter(pc.equal(tracks["node"], node))
            number = _numbers_at(
                _ints(own, "track"),
                _floats(own, "time_s"),
                _ints(own, "network_track_number"),
                track,
                time,
            )
        else:
            number = np.full(rows.size, NO_NUMBER, np.int64)
        nation = np.full(rows.size, table.index(node), np.int64)
        parts.append((grid.step_of(time), truth_of_row[rows], nation, track, number))
    columns = [
        np.concatenate([part[column] for part in parts]) if parts else np.empty(0, np.int64)
        for column in range(5)
    ]
    step, truth_index, nation, track, number = columns
    return Holdings(
        times_s=grid.times,
        truth_ids=grid.truth_ids,
        truth_step=grid.truth_step,
        truth_index=grid.truth_index,
        nations=table,
        nodes=tuple(nodes),
        step=step,
        truth=truth_index,
        nation=nation,
        track=track,
        number=number,
    )


def picture_holdings(
    truth: pa.Table,
    system_tracks: pa.Table,
    nations: Sequence[str],
    *,
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
) -> Holdings:
    """What every node's air picture holds: objects and network track numbers over time.

    Parameters
    ----------
    truth : pyarrow.Table
        The recording's ``truth`` table (``time_s``, ``threat``, ECEF ``x_m`` … ``vz_mps``).
    system_tracks : pyarrow.Table
        The ``system_tracks`` table (``time_s``, ``node``, ``track``,
        ``network_track_number``, ``status``, ECEF ``x_m`` … ``vz_mps``), all nodes.
    nations : sequence of str
        The run's nation table (``meta.json`` ``nations``); every node must be in it.
    alignment, association : optional
        Time alignment and truth-to-track association of each node's picture (defaults as
        for the tracking figures: 10 s age limit, confirmed and coasting tracks; 5 km,
        3 steps to start, 2 misses to end).

    Returns
    -------
    Holdings
        One row per associated system track row, with its network track number at that step.

    Raises
    ------
    iamd.core.RecordingError
        A table lacks a column, or a node is not in ``nations``.
    iamd.core.ConfigurationError
        More than 64 nations, or truth off the sampling grid.
    """
    return _holdings(
        truth,
        system_tracks,
        "system_tracks",
        nations,
        numbered=True,
        alignment=alignment,
        association=association,
    )


def own_holdings(
    truth: pa.Table,
    local_tracks: pa.Table,
    nations: Sequence[str],
    *,
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
) -> Holdings:
    """What every node tracks with its own sensors: objects and local track numbers over time.

    As :func:`picture_holdings` on the ``local_tracks`` table; ``track`` is the node's local
    track number and ``number`` is ``NO_NUMBER``.
    """
    return _holdings(
        truth,
        local_tracks,
        "local_tracks",
        nations,
        numbered=False,
        alignment=alignment,
        association=association,
    )


def _check_pair(picture: Holdings, own: Holdings) -> None:
    """Both holdings must share the truth grid, the objects and the nation table."""
    if (
        picture.nations != own.nations
        or picture.truth_ids != own.truth_ids
        or not np.array_equal(picture.times_s, own.times_s)
    ):
        raise ValueError(
            "network figures: picture and own holdings come from different truth or nations"
        )


def _or_by_key(keys: IntArray, masks: MaskArray) -> tuple[IntArray, MaskArray]:
    """Distinct keys, increasing, and the bitwise OR of the masks of each."""
    if keys.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.uint64)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], np.bitwise_or.reduceat(masks[order], starts)


def _mask_at(keys: IntArray, masks: MaskArray, query: IntArray) -> MaskArray:
    """Mask of each query key (0 where the key is absent); ``keys`` increasing."""
    if keys.size == 0:
        return np.zeros(query.size, np.uint64)
    where = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return np.where(keys[where] == query, masks[where], np.uint64(0)).astype(np.uint64)


def entitlement(
    own: Holdings,
    audit: pa.Table,
    *,
    memory_s: float = DEFAULT_ENTITLEMENT_MEMORY_S,
) -> tuple[IntArray, MaskArray]:
    """The nations entitled to hold each object at each time, as bit masks.

    ``E(o, t)`` is the set of nations that track ``o`` with their own sensors at ``t``, plus
    the recipient of every audit row that released an item (decision release or sanitise)
    whose originator's local track is associated with ``o`` at the first step at or after the
    release time ``tᵣ``, at the steps with ``tᵣ ≤ t ≤ tᵣ + memory_s``.

    Parameters
    ----------
    own : Holdings
        Own-sensor holdings (:func:`own_holdings`).
    audit : pyarrow.Table
        The ``audit`` table (``time_s``, ``node``, ``recipient``, ``track_number`` (the
        originator's local track number), ``originator``, ``decision``, ``reason``).
    memory_s : float
        How long a release entitles its recipient, s (≥ 0).

    Returns
    -------
    keys : ndarray of int, shape (E,)
        Object-time keys ``step · own.width + object``, increasing, all truth rows.
    masks : ndarray of uint64, shape (E,)
        Entitled nations of each key (non-zero).

    Raises
    ------
    iamd.core.ConfigurationError
        ``memory_s`` is negative or not finite.
    """
    if not (math.isfinite(memory_s) and memory_s >= 0.0):
        raise ConfigurationError(
            f"network figures: entitlement memory must be finite and >= 0 (got {memory_s})"
        )
    _require(audit, "audit", AUDIT_COLUMNS)
    audit = _about_objects(audit)
    released = audit.filter(
        pc.is_in(
            audit["decision"].cast(pa.int64()),
            value_set=pa.array([int(Decision.RELEASE), int(Decision.SANITISE)], pa.int64()),
        )
    )
    keys = [own.keys]
    masks = [_bits(own.nation)]
    if released.num_rows and own.times_s.size:
        time = _floats(released, "time_s")
        originator = _nation_index(_strings(released, "originator"), own.nations, "table 'audit'")
        recipient = _nation_index(_strings(released, "recipient"), own.nations, "table 'audit'")
        first = np.searchsorted(own.times_s, time - TIME_TOLERANCE_S, side="left")
        last = np.searchsorted(own.times_s, time + memory_s + TIME_TOLERANCE_S, side="right") - 1
        table_key, query_key = _composite(
            (own.nation, own.track, own.step),
            (originator, _ints(released, "track_number"), first),
        )
        row = _find(table_key, query_key)
        keep = (row >= 0) & (first <= last)
        first, last, row, recipient = first[keep], last[keep], row[keep], recipient[keep]
        span = last - first + 1
        item = np.repeat(np.arange(span.size), span)
        offset = np.arange(item.size) - np.repeat(np.cumsum(span) - span, span)
        keys.append((first[item] + offset) * own.width + own.truth[row[item]])
        masks.append(_bits(recipient[item]))
    unique, combined = _or_by_key(np.concatenate(keys), np.concatenate(masks))
    in_flight = np.isin(unique, own.truth_keys)
    return unique[in_flight], combined[in_flight]


# --- commonality ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCommonality:
    """How often two nations hold an object they are both entitled to under a shared number."""

    nations: tuple[str, str]
    """The two nations, in nation-table order."""
    commonality: float | None
    """``common_object_times / object_times`` (None: never both entitled)."""
    object_times: int
    """Object-times at which both are entitled."""
    common_object_times: int
    """Of those, the ones at which both hold the object under one number."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        out = asdict(self)
        out["nations"] = list(self.nations)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CommonalityFigures:
    """Whether the nations hold each object under one network track number."""

    commonality: float | None
    """Share of object-times with ≥ 2 entitled nations at which all hold one number."""
    object_times: int
    """Object-times with at least two entitled nations."""
    common_object_times: int
    """Of those, the ones at which every entitled nation holds the object under one number."""
    pairwise: list[PairCommonality]
    """Each unordered pair of nations that have a node or are ever entitled."""
    number_changes: dict[str, int]
    """Per node: successive associated rows of one system track on one object that changed
    number."""
    numbers_per_object: dict[str, int]
    """Per object held by some node: distinct network track numbers held for it (ideal 1)."""
    entitlement_memory_s: float
    """How long a release entitles its recipient, s."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        out = asdict(self)
        out["pairwise"] = [pair.to_dict() for pair in self.pairwise]
        return out


def _held_groups(picture: Holdings) -> tuple[IntArray, MaskArray]:
    """Key and holding nations of each distinct (object-time, number) of the picture."""
    keys = picture.keys
    if keys.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.uint64)
    order = np.lexsort((picture.number, keys))
    key, number = keys[order], picture.number[order]
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (number[1:] != number[:-1])])
    masks = np.bitwise_or.reduceat(_bits(picture.nation)[order], starts)
    return key[starts], masks


def _all_hold(
    group_key: IntArray, group_mask: MaskArray, keys: IntArray, wanted: MaskArray
) -> BoolArray:
    """Whether some group of each key's object-time holds all of its ``wanted`` nations."""
    if group_key.size == 0:
        return np.zeros(keys.size, bool)
    want = _mask_at(keys, wanted, group_key)
    covers = ((group_mask & want) == want) & (want != 0)
    return np.isin(keys, group_key[covers])


def commonality(
    picture: Holdings,
    own: Holdings,
    audit: pa.Table,
    *,
    entitlement_memory_s: float = DEFAULT_ENTITLEMENT_MEMORY_S,
) -> CommonalityFigures:
    """Commonality of network track numbers across the nations entitled to each object.

    Parameters
    ----------
    picture : Holdings
        System-track holdings (:func:`picture_holdings`).
    own : Holdings
        Own-sensor holdings (:func:`own_holdings`) of the same truth and nations.
    audit : pyarrow.Table
        The ``audit`` table (see :func:`entitlement`).
    entitlement_memory_s : float
        How long a release entitles its recipient, s.

    Returns
    -------
    CommonalityFigures
        Overall and pairwise commonality with their counts, number changes per node and
        distinct numbers per object.

    Raises
    ------
    ValueError
        The two holdings come from different truth or nation tables.

    Examples
    --------
    Two nations track one object with their own sensors at 3 instants; both pictures hold it
    under number 7, except JPN's at the last instant (number 8): commonality 2/3.

    >>> import pyarrow as pa
    >>> no_audit = pa.table({name: pa.array([], pa.int64()) for name in AUDIT_COLUMNS})
    >>> grid = dict(times_s=np.arange(3.0), truth_ids=("T",), truth_step=np.arange(3),
    ...             truth_index=np.zeros(3, int), nations=("USA", "JPN"), nodes=("USA", "JPN"))
    >>> rows = dict(step=np.r_[0:3, 0:3], truth=np.zeros(6, int),
    ...             nation=np.r_[0, 0, 0, 1, 1, 1], track=np.ones(6, int))
    >>> own = Holdings(**grid, **rows, number=np.full(6, NO_NUMBER))
    >>> picture = Holdings(**grid, **rows, number=np.r_[7, 7, 7, 7, 7, 8])
    >>> figures = commonality(picture, own, no_audit)
    >>> figures.commonality, figures.number_changes
    (0.6666666666666666, {'USA': 0, 'JPN': 1})
    """
    _check_pair(picture, own)
    keys, entitled = entitlement(own, audit, memory_s=entitlement_memory_s)
    group_key, group_mask = _held_groups(picture)
    many = _popcount(entitled, len(picture.nations)) >= 2
    common = _all_hold(group_key, group_mask, keys[many], entitled[many])

    anyone = int(np.bitwise_or.reduce(entitled)) if entitled.size else 0
    present = sorted(
        {picture.nations.index(node) for node in (*picture.nodes, *own.nodes)}
        | {bit for bit in range(len(picture.nations)) if anyone >> bit & 1}
    )
    pairs: list[PairCommonality] = []
    for first_index, first in enumerate(present):
        for second in present[first_index + 1 :]:
            both = np.uint64((1 << first) | (1 << second))
            shared = (entitled & both) == both
            pair_keys = keys[shared]
            hits = _all_hold(
                group_key, group_mask, pair_keys, np.full(pair_keys.size, both, np.uint64)
            )
            pairs.append(
                PairCommonality(
                    nations=(picture.nations[first], picture.nations[second]),
                    commonality=_ratio(int(hits.sum()), int(pair_keys.size)),
                    object_times=int(pair_keys.size),
                    common_object_times=int(hits.sum()),
                )
            )

    # Rows are sorted by (nation, track, step): a change is a row whose predecessor is the
    # same track on the same object under another number.
    same = np.zeros(picture.step.size, bool)
    same[1:] = (
        (picture.nation[1:] == picture.nation[:-1])
        & (picture.track[1:] == picture.track[:-1])
        & (picture.truth[1:] == picture.truth[:-1])
    )
    changed = same.copy()
    changed[1:] &= picture.number[1:] != picture.number[:-1]
    changes = np.bincount(picture.nation[changed], minlength=len(picture.nations))
    order = np.lexsort((picture.number, picture.truth))
    truth, number = picture.truth[order], picture.number[order]
    first = np.r_[True, (truth[1:] != truth[:-1]) | (number[1:] != number[:-1])][: truth.size]
    per_object = np.bincount(truth[first], minlength=len(picture.truth_ids))
    return CommonalityFigures(
        commonality=_ratio(int(common.sum()), int(common.size)),
        object_times=int(common.size),
        common_object_times=int(common.sum()),
        pairwise=pairs,
        number_changes={node: int(changes[picture.nations.index(node)]) for node in picture.nodes},
        numbers_per_object={
            name: int(count)
            for name, count in zip(picture.truth_ids, per_object.tolist(), strict=True)
            if count
        },
        entitlement_memory_s=float(entitlement_memory_s),
    )


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NationCoverage:
    """How much of the coalition's own-sensor picture one nation's air picture holds."""

    node: str
    """The node (nation)."""
    coverage: float | None
    """``held_object_times / coalition_object_times`` (None: the coalition tracked nothing)."""
    held_object_times: int
    """Coalition object-times held in the node's picture."""
    own_share: float | None
    """Share of the coalition object-times the node tracks with its own sensors."""
    own_object_times: int
    """Object-times the node tracks with its own sensors."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageFigures:
    """Release coverage: what each picture holds of what the coalition's sensors track."""

    truth_object_times: int
    """Truth rows (object × time)."""
    coalition_object_times: int
    """Object-times tracked by some nation's own sensors, ``|C|``."""
    coalition_completeness: float | None
    """``|C|`` over the truth rows (None: no truth)."""
    nations: list[NationCoverage]
    """Each node with a picture, in nation order."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        out = asdict(self)
        out["nations"] = [nation.to_dict() for nation in self.nations]
        return out


def release_coverage(picture: Holdings, own: Holdings) -> CoverageFigures:
    """Release coverage of each node's picture and the coalition's completeness.

    Parameters
    ----------
    picture : Holdings
        System-track holdings (:func:`picture_holdings`).
    own : Holdings
        Own-sensor holdings (:func:`own_holdings`) of the same truth and nations.

    Returns
    -------
    CoverageFigures
        ``coverage(n) = |{(o, t) ∈ C held by n}| / |C|`` per node, with ``C`` the object-times
        tracked by some nation's own sensors, and ``|C|`` over the truth rows.

    Raises
    ------
    ValueError
        The two holdings come from different truth or nation tables.
    """
    _check_pair(picture, own)
    coalition = np.unique(own.keys)
    truth_rows = int(own.truth_keys.size)
    nations: list[NationCoverage] = []
    for node in picture.nodes:
        index = picture.nations.index(node)
        held = np.isin(coalition, picture.keys[picture.nation == index])
        own_keys = np.unique(own.keys[own.nation == index])
        nations.append(
            NationCoverage(
                node=node,
                coverage=_ratio(int(held.sum()), int(coalition.size)),
                held_object_times=int(held.sum()),
                own_share=_ratio(int(own_keys.size), int(coalition.size)),
                own_object_times=int(own_keys.size),
            )
        )
    return CoverageFigures(
        truth_object_times=truth_rows,
        coalition_object_times=int(coalition.size),
        coalition_completeness=_ratio(int(coalition.size), truth_rows),
        nations=nations,
    )


# --- warning time -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstHoldFigures:
    """When a nation first holds each threat, against its launch and its end."""

    threats_held: int
    """Threats held at some time."""
    mean_delay_s: float | None
    """Mean of (first held − launch), s (None: no threat held)."""
    median_delay_s: float | None
    """Median of (first held − launch), s."""
    mean_warning_s: float | None
    """Mean of (end − first held), s: warning before impact or end of route."""
    median_warning_s: float | None
    """Median of (end − first held), s."""
    first_held_s: dict[str, float]
    """First time each held threat is held, s."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningFigures:
    """Detection delay and warning time of one nation, from its picture and its own sensors."""

    node: str
    """The node (nation)."""
    threats: int
    """Threats in the ``threats`` table."""
    picture: FirstHoldFigures
    """From the node's air picture (system tracks)."""
    own: FirstHoldFigures
    """From the node's own sensors (local tracks)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def _mean(values: FloatArray) -> float | None:
    return float(np.mean(values)) if values.size else None


def _median(values: FloatArray) -> float | None:
    return float(np.median(values)) if values.size else None


def _p95(values: FloatArray) -> float | None:
    return float(np.percentile(values, 95.0)) if values.size else None


def _max(values: FloatArray) -> float | None:
    return float(np.max(values)) if values.size else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def _first_holds(
    holdings: Holdings, nation: int, launch: FloatArray, end: FloatArray
) -> FirstHoldFigures:
    """First-hold figures of one nation; ``launch``/``end`` per truth object (NaN: unknown)."""
    mine = holdings.nation == nation
    truth, step = holdings.truth[mine], holdings.step[mine]
    order = np.lexsort((step, truth))
    objects, first = np.unique(truth[order], return_index=True)
    first_time = holdings.times_s[step[order][first]] if objects.size else np.empty(0)
    known = np.isfinite(launch[objects]) & np.isfinite(end[objects])
    delay = first_time[known] - launch[objects][known]
    warning = end[objects][known] - first_time[known]
    return FirstHoldFigures(
        threats_held=int(objects.size),
        mean_delay_s=_mean(delay),
        median_delay_s=_median(delay),
        mean_warning_s=_mean(warning),
        median_warning_s=_median(warning),
        first_held_s={
            holdings.truth_ids[o]: float(t)
            for o, t in zip(objects.tolist(), first_time.tolist(), strict=True)
        },
    )


def warning_times(picture: Holdings, own: Holdings, threats: pa.Table) -> list[WarningFigures]:
    """Detection delay and warning time per node, from its picture and from its own sensors.

    Parameters
    ----------
    picture : Holdings
        System-track holdings (:func:`picture_holdings`).
    own : Holdings
        Own-sensor holdings (:func:`own_holdings`) of the same truth and nations.
    threats : pyarrow.Table
        The ``threats`` table (``threat``, ``launch_time_s``, ``end_time_s``).

    Returns
    -------
    list of WarningFigures
        One per node with a picture, in nation order. A held object missing from ``threats``
        counts as held but not in the delays.

    Raises
    ------
    ValueError
        The two holdings come from different truth or nation tables.
    iamd.core.RecordingError
        ``threats`` lacks a column.
    """
    _check_pair(picture, own)
    _require(threats, "threats", THREAT_COLUMNS)
    names = _strings(threats, "threat")
    launch_of = dict(zip(names.tolist(), _floats(threats, "launch_time_s").tolist(), strict=True))
    end_of = dict(zip(names.tolist(), _floats(threats, "end_time_s").tolist(), strict=True))
    launch = np.array([launch_of.get(name, math.nan) for name in picture.truth_ids], np.float64)
    end = np.array([end_of.get(name, math.nan) for name in picture.truth_ids], np.float64)
    return [
        WarningFigures(
            node=node,
            threats=int(threats.num_rows),
            picture=_first_holds(picture, picture.nations.index(node), launch, end),
            own=_first_holds(own, picture.nations.index(node), launch, end),
        )
        for node in picture.nodes
    ]


# --- staleness, links, releases, rejects -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StalenessFigures:
    """Age of remote data on arrival at one node (accepted deliveries)."""

    node: str
    """The receiving node."""
    items: int
    """Accepted items."""
    mean_s: float | None
    """Mean of (arrival − valid at), s."""
    p95_s: float | None
    """95th percentile, s."""
    max_s: float | None
    """Maximum, s."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def staleness(deliveries: pa.Table) -> list[StalenessFigures]:
    """Age of the accepted remote items on arrival, per receiving node.

    Parameters
    ----------
    deliveries : pyarrow.Table
        The ``deliveries`` table (``time_s`` arrival, ``node`` receiver, ``valid_at_s``,
        ``accepted``).

    Returns
    -------
    list of StalenessFigures
        One per receiving node with an accepted item, by node name.

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"time_s": [5.0, 9.0, 9.5], "node": ["JPN"] * 3,
    ...                   "valid_at_s": [4.0, 6.0, 0.0], "accepted": [True, True, False]})
    >>> [(f.node, f.items, f.mean_s, f.max_s) for f in staleness(table)]
    [('JPN', 2, 2.0, 3.0)]
    """
    _require(deliveries, "deliveries", DELIVERY_COLUMNS)
    deliveries = _about_objects(deliveries)
    accepted = deliveries.filter(pc.fill_null(deliveries["accepted"], False))
    node = _strings(accepted, "node")
    age = _floats(accepted, "time_s") - _floats(accepted, "valid_at_s")
    out = []
    for name in np.unique(node).tolist():
        own = age[node == name]
        out.append(
            StalenessFigures(
                node=str(name),
                items=int(own.size),
                mean_s=_mean(own),
                p95_s=_p95(own),
                max_s=_max(own),
            )
        )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFigures:
    """What one direction of one link carried."""

    link: str
    """Link name."""
    sender: str
    """Sending node."""
    receiver: str
    """Receiving node."""
    messages: int
    """Messages handed to the link."""
    reports: int
    """Track reports in them."""
    size_bytes: int
    """Their bytes."""
    delivered: int
    """Messages delivered."""
    delivered_reports: int
    """Track reports in the delivered messages."""
    delivered_fraction: float | None
    """``delivered / messages`` (None: no message)."""
    drops: dict[str, int]
    """Messages not delivered, by drop reason."""
    mean_delay_s: float | None
    """Mean of (arrival − handed to the link) over delivered messages, s."""
    p95_delay_s: float | None
    """95th percentile of that delay, s."""
    reports_per_s: float
    """``reports`` over the run duration, 1/s (offered load)."""
    bytes_per_s: float
    """``size_bytes`` over the run duration, B/s."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def link_figures(link_events: pa.Table, duration_s: float) -> list[LinkFigures]:
    """Traffic, losses and delay per link and direction.

    Parameters
    ----------
    link_events : pyarrow.Table
        The ``link_events`` table (``time_s`` handed to the link, ``link``, ``sender``,
        ``receiver``, ``reports``, ``size_bytes``, ``arrival_s`` (NaN when dropped),
        ``drop_reason`` (empty when delivered)).
    duration_s : float
        Simulated duration of the run, s (> 0).

    Returns
    -------
    list of LinkFigures
        One per (link, sender, receiver) with a message, sorted by those names.

    Raises
    ------
    iamd.core.ConfigurationError
        ``duration_s`` is not finite and positive.
    """
    if not (math.isfinite(duration_s) and duration_s > 0.0):
        raise ConfigurationError(
            f"network figures: duration_s must be finite and > 0 (got {duration_s})"
        )
    _require(link_events, "link_events", LINK_COLUMNS)
    link = _strings(link_events, "link")
    sender = _strings(link_events, "sender")
    receiver = _strings(link_events, "receiver")
    reports = _ints(link_events, "reports")
    size = _ints(link_events, "size_bytes")
    handed = _floats(link_events, "time_s")
    arrival = _floats(link_events, "arrival_s")
    reason = _strings(link_events, "drop_reason")
    delivered = (reason == "") & np.isfinite(arrival)
    directions = sorted(set(zip(link.tolist(), sender.tolist(), receiver.tolist(), strict=True)))
    out = []
    for name, source, target in directions:
        rows = (link == name) & (sender == source) & (receiver == target)
        ok = rows & delivered
        lost, counts = np.unique(reason[rows & ~delivered], return_counts=True)
        delay = arrival[ok] - handed[ok]
        out.append(
            LinkFigures(
                link=name,
                sender=source,
                receiver=target,
                messages=int(rows.sum()),
                reports=int(reports[rows].sum()),
                size_bytes=int(size[rows].sum()),
                delivered=int(ok.sum()),
                delivered_reports=int(reports[ok].sum()),
                delivered_fraction=_ratio(int(ok.sum()), int(rows.sum())),
                drops={
                    str(why) or "UNKNOWN": int(n)
                    for why, n in zip(lost.tolist(), counts.tolist(), strict=True)
                },
                mean_delay_s=_mean(delay),
                p95_delay_s=_p95(delay),
                reports_per_s=float(reports[rows].sum() / duration_s),
                bytes_per_s=float(size[rows].sum() / duration_s),
            )
        )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseFigures:
    """Outbound release decisions from one sender to one recipient."""

    sender: str
    """Releasing node (or originator of the items)."""
    recipient: str
    """Recipient node."""
    released: int
    """Items released as they are."""
    sanitised: int
    """Items released after sanitisation."""
    denied: int
    """Items denied."""
    denials: dict[str, int]
    """Denied items by :class:`~iamd.network.DenyReason` name."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def _deny_name(value: int) -> str:
    try:
        return DenyReason(value).name
    except ValueError:
        return str(value)


def release_figures(audit: pa.Table, *, by: str = "node") -> list[ReleaseFigures]:
    """Release decisions per sender and recipient.

    Parameters
    ----------
    audit : pyarrow.Table
        The ``audit`` table (``node``, ``recipient``, ``originator``, ``decision``, ``reason``).
    by : {"node", "originator"}
        Whether the sender is the releasing node or the originator of the items.

    Returns
    -------
    list of ReleaseFigures
        One per (sender, recipient) with a decision, sorted by those names.

    Raises
    ------
    iamd.core.ConfigurationError
        ``by`` is neither ``"node"`` nor ``"originator"``.
    """
    if by not in ("node", "originator"):
        raise ConfigurationError(f"release figures: by must be 'node' or 'originator' (got {by!r})")
    _require(audit, "audit", AUDIT_COLUMNS)
    sender = _strings(audit, by)
    recipient = _strings(audit, "recipient")
    decision = _ints(audit, "decision")
    reason = _ints(audit, "reason")
    out = []
    for source, target in sorted(set(zip(sender.tolist(), recipient.tolist(), strict=True))):
        rows = (sender == source) & (recipient == target)
        denied = rows & (decision == Decision.DENY)
        why, counts = np.unique(reason[denied], return_counts=True)
        out.append(
            ReleaseFigures(
                sender=source,
                recipient=target,
                released=int((rows & (decision == Decision.RELEASE)).sum()),
                sanitised=int((rows & (decision == Decision.SANITISE)).sum()),
                denied=int(denied.sum()),
                denials={
                    _deny_name(value): int(n)
                    for value, n in zip(why.tolist(), counts.tolist(), strict=True)
                },
            )
        )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectFigures:
    """Messages one node's inbound gate rejected whole."""

    node: str
    """The receiving node."""
    rejected: int
    """Messages rejected."""
    reasons: dict[str, int]
    """Rejected messages by reason."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def reject_figures(rejects: pa.Table) -> list[RejectFigures]:
    """Rejected messages per node and reason (``rejects`` table: ``node``, ``reason``)."""
    _require(rejects, "rejects", REJECT_COLUMNS)
    node = _strings(rejects, "node")
    reason = _strings(rejects, "reason")
    out = []
    for name in np.unique(node).tolist():
        why, counts = np.unique(reason[node == name], return_counts=True)
        out.append(
            RejectFigures(
                node=str(name),
                rejected=int(counts.sum()),
                reasons={
                    str(w): int(n) for w, n in zip(why.tolist(), counts.tolist(), strict=True)
                },
            )
        )
    return out


# --- summary ----------------------------------------------------------------------------------


def picture_summaries(
    truth: pa.Table,
    system_tracks: pa.Table,
    *,
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
    gospa_cutoff_m: float = DEFAULT_CUTOFF_M,
    gospa_order: float = DEFAULT_ORDER,
) -> list[TrackingFigures]:
    """SIAP attributes and mean GOSPA of every node's air picture (its system tracks).

    :func:`~iamd.metrics.tracking.tracking_summaries` on the ``system_tracks`` table: its
    states are predicted to the snapshot time ``time_s``, as the time alignment expects. The
    track identity is the node's system track id, so the SIAP track number changes count
    changes of system track; changes of network track number are counted by
    :func:`commonality`.
    """
    return tracking_summaries(
        truth,
        system_tracks,
        alignment=alignment,
        association=association,
        gospa_cutoff_m=gospa_cutoff_m,
        gospa_order=gospa_order,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkFigures:
    """Every network and fusion figure of a run."""

    duration_s: float
    """Simulated duration of the run, s."""
    nations: list[str]
    """The run's nation table."""
    picture: list[TrackingFigures]
    """SIAP attributes and GOSPA of each node's air picture."""
    commonality: CommonalityFigures
    """Commonality of network track numbers."""
    coverage: CoverageFigures
    """Release coverage and coalition completeness."""
    warning: list[WarningFigures]
    """Detection delay and warning time per node."""
    staleness: list[StalenessFigures]
    """Age of remote data on arrival per receiving node."""
    links: list[LinkFigures]
    """Traffic per link and direction."""
    releases_by_node: list[ReleaseFigures]
    """Release decisions per releasing node and recipient."""
    releases_by_originator: list[ReleaseFigures]
    """Release decisions per originator and recipient."""
    rejects: list[RejectFigures]
    """Messages rejected whole per node."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "duration_s": self.duration_s,
            "nations": list(self.nations),
            "picture": [figures.to_dict() for figures in self.picture],
            "commonality": self.commonality.to_dict(),
            "coverage": self.coverage.to_dict(),
            "warning": [figures.to_dict() for figures in self.warning],
            "staleness": [figures.to_dict() for figures in self.staleness],
            "links": [figures.to_dict() for figures in self.links],
            "releases_by_node": [figures.to_dict() for figures in self.releases_by_node],
            "releases_by_originator": [
                figures.to_dict() for figures in self.releases_by_originator
            ],
            "rejects": [figures.to_dict() for figures in self.rejects],
        }


def network_summary(
    *,
    truth: pa.Table,
    threats: pa.Table,
    local_tracks: pa.Table,
    system_tracks: pa.Table,
    audit: pa.Table,
    deliveries: pa.Table,
    link_events: pa.Table,
    rejects: pa.Table,
    duration_s: float,
    nations: Sequence[str],
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
    entitlement_memory_s: float = DEFAULT_ENTITLEMENT_MEMORY_S,
) -> NetworkFigures:
    """All network and fusion figures of a run, from its tables.

    Parameters
    ----------
    truth, threats, local_tracks, system_tracks, audit, deliveries, link_events, rejects : \
pyarrow.Table
        The recording's tables of these names (``docs/recording.md``).
    duration_s : float
        Simulated duration of the run, s (``meta.json`` ``duration_s``).
    nations : sequence of str
        The run's nation table (``meta.json`` ``nations``).
    alignment, association : optional
        Time alignment and truth-to-track association for every picture (defaults as for
        the tracking figures).
    entitlement_memory_s : float
        How long a release entitles its recipient, s (default 12 s).

    Returns
    -------
    NetworkFigures

    Examples
    --------
    From a recording directory::

        run = Recording(run_dir)
        figures = network_summary(
            **{name: run.table(name) for name in (
                "truth", "threats", "local_tracks", "system_tracks", "audit",
                "deliveries", "link_events", "rejects")},
            duration_s=run.meta["duration_s"], nations=run.meta["nations"])
    """
    picture = picture_holdings(
        truth, system_tracks, nations, alignment=alignment, association=association
    )
    own = own_holdings(truth, local_tracks, nations, alignment=alignment, association=association)
    return NetworkFigures(
        duration_s=float(duration_s),
        nations=list(picture.nations),
        picture=picture_summaries(
            truth, system_tracks, alignment=alignment, association=association
        ),
        commonality=commonality(picture, own, audit, entitlement_memory_s=entitlement_memory_s),
        coverage=release_coverage(picture, own),
        warning=warning_times(picture, own, threats),
        staleness=staleness(deliveries),
        links=link_figures(link_events, duration_s),
        releases_by_node=release_figures(audit, by="node"),
        releases_by_originator=release_figures(audit, by="originator"),
        rejects=reject_figures(rejects),
    )


@dataclass(frozen=True, slots=True)
class WarningReceipts:
    """Missile warnings one node accepted from other nations.

    Attributes
    ----------
    node : str
        The receiving node.
    warnings : int
        Warnings accepted (every update counts).
    missiles : int
        Distinct network track numbers warned of.
    threats_warned : int
        Ballistic threats of the raid that a warning's predicted impact point names: the
        threat whose true impact point is nearest, within ``max(3 × semi-major axis, 50 km)``.
    mean_lead_s : float or None
        Mean over those threats of (true impact time − first such warning), s.
    """

    node: str
    warnings: int
    missiles: int
    threats_warned: int
    mean_lead_s: float | None


def warning_receipts(warnings: pa.Table, threats: pa.Table) -> list[WarningReceipts]:
    """What each node learned from other nations' missile warnings (see :class:`WarningReceipts`).

    Parameters
    ----------
    warnings : pyarrow.Table
        The ``warnings`` table.
    threats : pyarrow.Table
        The ``threats`` table (true impact points and times).
    """
    if not warnings.num_rows:
        return []
    ballistic = threats.filter(
        pc.equal(threats["category"].cast(pa.int64()), int(ThreatCategory.BALLISTIC_MISSILE))
    )
    names = np.array(ballistic["threat"].to_pylist(), dtype=object)
    end_lat, end_lon = _floats(ballistic, "end_lat_deg"), _floats(ballistic, "end_lon_deg")
    end_time = _floats(ballistic, "end_time_s")
    out = []
    nodes = _strings(warnings, "node")
    for node in sorted(set(nodes.tolist())):
        rows = warnings.filter(pc.equal(warnings["node"], node))
        first: dict[str, float] = {}
        if names.size:
            lat, lon = _floats(rows, "impact_lat_deg"), _floats(rows, "impact_lon_deg")
            axis = np.nan_to_num(_floats(rows, "impact_semi_major_m"), nan=0.0)
            time = _floats(rows, "time_s")
            d = great_circle_distance_m(
                lat[:, None], lon[:, None], end_lat[None, :], end_lon[None, :]
            )
            nearest = np.argmin(d, axis=1)
            close = d[np.arange(d.shape[0]), nearest] <= np.maximum(3.0 * axis, 50_000.0)
            for i in np.flatnonzero(close).tolist():
                name = str(names[nearest[i]])
                first[name] = min(first.get(name, np.inf), float(time[i]))
        leads = [float(end_time[list(names).index(n)]) - t for n, t in first.items()]
        out.append(
            WarningReceipts(
                node=node,
                warnings=rows.num_rows,
                missiles=len(set(rows["network_track_number"].to_pylist())),
                threats_warned=len(first),
                mean_lead_s=float(np.mean(leads)) if leads else None,
            )
        )
    return out
