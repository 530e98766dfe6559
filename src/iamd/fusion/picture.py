r"""The air picture of one node: system tracks fused from its own and other nodes' local tracks.

An :class:`AirPicture` holds a node's **system tracks**. Each system track gathers the latest
**contribution** of every source that tracks the object: the node's own local track (from its
tracker, :class:`~iamd.messages.tracks.LocalTracks`) and the local tracks other nodes report
(:class:`~iamd.messages.reports.TrackReports`, already verified by the inbound guard). A
contribution is keyed by its source nation and that nation's local track number, which stays
the same for the track's life, even when the network renumbers the object. Everything inside
is arrays over all contributions and all system tracks; the only Python loops are over the
sources of one batch (a handful) and over the rare track-number events (merges, renumberings).

What one input batch does, in order
-----------------------------------
1. **Age.** Contributions older than ``max_age_s`` leave; a local track its source reports as
   dropped leaves at once; tentative tracks are ignored unless ``include_tentative``.
2. **Upsert.** Each item updates its source's contribution (same source and local track
   number) or adds a new one; an item older than the contribution held (a copy delayed on a
   longer relay path) is ignored.
3. **Correlation by number.** A remote item that carries a network track number this node
   holds joins that system track (a number retired by a merge or renumbering still leads to
   the track that absorbed it). A source that *changes* the number of a contribution to one
   this node does not know is saying that it split the object off: the contribution leaves
   its system track and is placed afresh (step 4), never back in the track it left.
4. **Correlation by kinematics**, for the contributions still without a track: one 2-D
   assignment per source (:func:`~iamd.fusion.correlation.gated_pairs`, chi-square gate with
   each source's sensor-bias allowance, cost ``d² + ln |S|``,
   :func:`~iamd.core.assignment.assign_sparse`), against the system tracks predicted to the
   batch time, never pairing a contribution with a track that already holds one of the same
   source (a source's two tracks are two objects to it). A contribution that pairs with
   nothing starts a system track.
5. **Fusion** of every system track the batch touched: all its contributions are predicted to
   the newest contribution's time (below) and fused with the configured rule
   (:data:`~iamd.fusion.combine.FUSION_RULES`, covariance intersection by default).
6. **Decorrelation.** In a track with several contributions, each updated contribution is
   compared with the track's *anchor* contribution at the later of their two times. After
   ``decorrelation_updates`` consecutive updates outside the correlation gate it leaves:
   it joins another track by kinematics or starts one. The anchor keeps the number; it is the
   contribution of the nation whose block the number belongs to, else the one whose nation
   code sorts first. The rule depends on nothing that varies in time, so two nodes that see
   the same split agree on which object keeps the number. A remote contribution that left
   is barred from the number until its source renumbers it.
7. **Number reconciliation** (below).
8. **Dual tracks.** Two system tracks with no common source whose fused estimates pass a
   stricter gate (position *and* velocity, ``merge_gate_probability``) in ``merge_updates``
   consecutive updates of either are one object numbered twice: they merge, the lower number
   survives, and the other is retired as an alias of it and recorded as merged. Velocity
   matters here: two objects that cross pass a position gate for a few updates, but they
   rarely fly the same velocity, and two tracks of one object always do.

Network track numbers
---------------------
A system track started by an own contribution gets the next number of this nation's block
(:class:`~iamd.fusion.numbers.TrackNumberBlock`). One started by a remote contribution takes the
number its source reports. The number is then **reconciled** whenever the track changes: it
becomes the lowest of the numbers its sources use for the object: the numbers of the recent
remote reports, and the track's own number if this node has its own track of the object
(i.e. may have reported it). Every node that sees both numbers picks the same survivor, so
after one exchange all nodes hold the object under one number (commonality), and the losing
numbers are kept as aliases so that a late report under them still joins by number. A node
with no own track of the object never imposes its number: it adopts the reporter's. The
lower number survives rather than the one with the longest history because the rule needs no
knowledge of another node's history (see :mod:`iamd.fusion.numbers`).

Reporting responsibility and data incest
----------------------------------------
:meth:`AirPicture.reports_due` decides, for every system track, whether this node holds
reporting responsibility (:func:`~iamd.fusion.numbers.hold_reporting_responsibility`: best
quality with a hysteresis margin; every recent remote report counts as a claim, since a node
only reports what it holds responsibility for). It returns this node's *own local tracks* of
the tracks it holds. A remote-only track is never reported, and neither is a fused estimate:
the network would otherwise receive its own output back as a new measurement and grow
overconfident (data incest). Items whose originator is this node (its own reports relayed
back) are dropped on input for the same reason.

Time alignment
--------------
Estimates of different times are brought to one time with a nearly-constant-velocity
prediction (:func:`~iamd.core.kinematics.predict_nearly_constant_velocity`): ``p ← p + Δt·v`` and
``P ← F P Fᵀ + Q(|Δt|)`` with the continuous white-noise acceleration ``Q`` of power spectral
density ``q`` (Bar-Shalom et al. 2001 §6.2.2). The process noise inflation lets an older
estimate carry its age: covariance intersection then gives it less weight, and the gates widen.
``q`` (``acceleration_psd_m2_s3``, 100 m²/s³ by default) adds a position standard deviation
``sqrt(q Δt³ / 3)`` of 5.8 m at 1 s and 16 m at 2 s, and a velocity standard deviation
``sqrt(q Δt)`` of 10 and 14 m/s. The fall of an unpowered missile under gravity, which the
model neglects, is ½ g Δt² = 4.9 m and 20 m: covered at 1 s, slightly under from 2 s. The
spans fusion sees are latencies and scan offsets of a second or two; where reports of
ballistic tracks arrive later than that, raise ``q``.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §6.2.2 (white-noise acceleration model).
.. [2] Y. Bar-Shalom, P. K. Willett and X. Tian, *Tracking and Data Fusion: A Handbook of
   Algorithms*, YBS Publishing, 2011 (track-to-track association and fusion, dual tracks).
.. [3] S. J. Julier and J. K. Uhlmann, "A non-divergent estimation algorithm in the presence
   of unknown correlations", *Proc. American Control Conference*, 1997 (covariance
   intersection).
.. [4] Northrop Grumman, *Understanding Voice and Data Link Networking*, 2014 (public
   overview of Link 16 track numbers and reporting responsibility).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from iamd.core.assignment import UNASSIGNED, assign_sparse
from iamd.core.errors import ConfigurationError
from iamd.core.gating import spatial_neighbour_pairs, spatial_neighbours
from iamd.core.ids import NationCode
from iamd.core.kinematics import predict_nearly_constant_velocity
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.fusion.combine import DEFAULT_FUSION_RULE, FUSION_RULES, FusionRule
from iamd.fusion.correlation import (
    CorrelationConfig,
    CorrelationSpace,
    TrackSet,
    correlation_statistics,
    gated_pairs,
)
from iamd.fusion.numbers import (
    PENDING_NUMBER,
    TrackNumberPlan,
    hold_reporting_responsibility,
    surviving_number,
)
from iamd.messages.picture import NO_LOCAL_TRACK, NO_NATION, ReportsDue, SystemTracks
from iamd.messages.reports import MAX_NATIONS, MaskArray, TrackReports
from iamd.messages.tracks import LocalTracks, TrackStatus

OWN = 0
"""Index of the node itself in its picture's nation table."""

_RULES_NEEDING_PRIOR = frozenset({"information-decorrelated"})
"""Fusion rules that need each source's previous report and the previous fused estimate
(:class:`~iamd.fusion.combine.CommonPrior`), which the picture does not keep."""

_STATUS_PREFERENCE = np.array([9, 2, 0, 1, 9], dtype=np.int64)
"""Rank of each :class:`TrackStatus` value when a system track takes its best contribution's
status: confirmed (0) before coasting (1) before tentative (2)."""
_STATUS_OF_PREFERENCE = np.array(
    [TrackStatus.CONFIRMED, TrackStatus.COASTING, TrackStatus.TENTATIVE], dtype=np.int64
)

_POSITION_BLOCK = np.array([6 * i + j for i in range(3) for j in range(3)])
"""Where the position block of a 6 × 6 covariance lies in its 36 flattened entries."""
_POSITION_VELOCITY_BLOCK = _POSITION_BLOCK + 3
_VELOCITY_POSITION_BLOCK = _POSITION_BLOCK + 18
_VELOCITY_BLOCK = _POSITION_BLOCK + 21
_ROW_AND_COLUMN_SUMS = np.array(
    [
        [float(k // 3 == i) for i in range(3)] + [float(k % 3 == j) for j in range(3)]
        for k in range(9)
    ]
)
"""``(9, 6)``: a flattened 3 × 3 matrix times this gives its row sums, then its column sums."""

_REMOVED = -1
"""Source index of a removed contribution until the table is compacted (``_remove_rows``)."""
_MIN_COMPACTION = 256
"""Removed contributions the table may hold whatever its size."""
_COMPACTION_SHARE = 8
"""The table is compacted when more than one row in this many is a removed contribution."""

_NO_NUMBER = np.iinfo(np.int64).max
"""Placeholder above every network track number, for minima over empty groups."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AirPictureConfig:
    """How a node builds its air picture.

    Parameters
    ----------
    track_numbers : TrackNumberPlan
        Every nation's block of network track numbers; the node's own nation needs one.
    fusion_rule : str
        Kind in :data:`~iamd.fusion.combine.FUSION_RULES` (``"covariance-intersection"`` by
        default; ``"fast-ci"``, ``"independent"``). ``"information-decorrelated"`` is refused:
        it needs a common prior the picture does not keep.
    correlation : CorrelationConfig
        Space and gate of track-to-track correlation and of the decorrelation check.
    merge_space : CorrelationSpace
        Components the dual-track check compares: position and velocity by default. Two
        tracks of one object agree in velocity too, two objects crossing almost never do, and
        a merge is never urgent, so the stricter test costs little.
    merge_gate_probability : float
        Gate probability of the dual-track check, in (0, 1). Stricter than the correlation
        gate (0.99 against 0.999 by default) so that two objects that just split at the edge
        of the correlation gate do not merge back.
    position_bias_sigma_m : mapping of NationCode to float
        Sensor-bias allowance of each nation's tracks, m per axis (≥ 0), see
        :mod:`iamd.fusion.correlation`.
    default_position_bias_sigma_m : float
        Allowance of a nation not in ``position_bias_sigma_m``, m (≥ 0).
    acceleration_psd_m2_s3 : float
        Process noise ``q`` of the time alignment, m²/s³ (≥ 0; module notes).
    max_age_s : float
        A contribution not updated for longer leaves its system track, s (> 0); a system
        track without contributions ends.
    reporter_timeout_s : float
        A remote node counts as reporting a track while its latest report of it is at most
        this old, s (> 0, ≤ ``max_age_s``).
    handover_margin : int
        Quality steps by which a node must beat the current reporter to take over (≥ 0).
    decorrelation_updates : int
        Consecutive updates outside the gate after which a contribution leaves (≥ 1).
    merge_updates : int
        Consecutive updates in the merge gate after which two system tracks merge (≥ 1).
    include_tentative : bool
        Whether own and remote tentative tracks enter the picture (False by default: a
        tentative track is not yet worth a network number).

    Raises
    ------
    ConfigurationError
        If a value is out of range, or the fusion rule needs a common prior.
    iamd.core.errors.RegistryError
        If the fusion rule is not registered.
    """

    track_numbers: TrackNumberPlan
    fusion_rule: str = DEFAULT_FUSION_RULE
    correlation: CorrelationConfig = field(default_factory=CorrelationConfig)
    merge_space: CorrelationSpace = CorrelationSpace.POSITION_VELOCITY
    merge_gate_probability: float = 0.99
    position_bias_sigma_m: Mapping[NationCode, float] = field(default_factory=dict)
    default_position_bias_sigma_m: float = 0.0
    acceleration_psd_m2_s3: float = 100.0
    max_age_s: float = 30.0
    reporter_timeout_s: float = 12.0
    handover_margin: int = 2
    decorrelation_updates: int = 3
    merge_updates: int = 3
    include_tentative: bool = False

    def __post_init__(self) -> None:
        def fail(name: str, rule: str) -> ConfigurationError:
            return ConfigurationError(
                f"AirPictureConfig: {name} {rule} (got {getattr(self, name)!r})"
            )

        FUSION_RULES.get(self.fusion_rule)
        if self.fusion_rule in _RULES_NEEDING_PRIOR:
            raise fail(
                "fusion_rule",
                "needs the previous fused estimate and every source's previous report, which "
                "the air picture does not keep; use 'covariance-intersection', 'fast-ci' or "
                "'independent'",
            )
        p = self.merge_gate_probability
        if not (math.isfinite(p) and 0.0 < p < 1.0):
            raise fail("merge_gate_probability", "must be in (0, 1)")
        for name in ("default_position_bias_sigma_m", "acceleration_psd_m2_s3"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise fail(name, "must be finite and ≥ 0")
        for nation, sigma in self.position_bias_sigma_m.items():
            if not (math.isfinite(sigma) and sigma >= 0.0):
                raise ConfigurationError(
                    f"AirPictureConfig: position_bias_sigma_m[{nation!r}] must be finite and "
                    f"≥ 0 (got {sigma!r})"
                )
        for name in ("max_age_s", "reporter_timeout_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise fail(name, "must be finite and > 0")
        if self.reporter_timeout_s > self.max_age_s:
            raise fail("reporter_timeout_s", f"must not exceed max_age_s ({self.max_age_s})")
        if self.handover_margin < 0:
            raise fail("handover_margin", "must be ≥ 0")
        for name in ("decorrelation_updates", "merge_updates"):
            if getattr(self, name) < 1:
                raise fail(name, "must be ≥ 1")


# --- the picture's tables ---------------------------------------------------------------------


class _Columns:
    """Named arrays of one length, appended to and filtered together."""

    names: ClassVar[tuple[str, ...]] = ()

    def __len__(self) -> int:
        return int(getattr(self, self.names[0]).shape[0])

    def append(self, **columns: npt.NDArray[Any]) -> IntArray:
        """Append rows; return their indices.

        Each column is a view of the front of a larger buffer, so an append writes the new
        rows after the old ones instead of copying the whole table; the old rows are never
        moved or changed. A column that was replaced by another array (a filter, a
        ``np.where``) moves to a new buffer, with room to grow by half.
        """
        first = len(self)
        buffers: dict[str, npt.NDArray[Any]] = self.__dict__.setdefault("_buffers", {})
        for name in self.names:
            old = getattr(self, name)
            new = np.asarray(columns[name], dtype=old.dtype)
            if new.shape[1:] != old.shape[1:]:
                raise ValueError(
                    f"column {name}: rows of shape {new.shape[1:]} appended to rows "
                    f"of shape {old.shape[1:]}"
                )
            end = first + new.shape[0]
            buffer = buffers.get(name)
            if buffer is None or not _is_front(old, buffer) or buffer.shape[0] < end:
                buffer = np.empty((max(end + end // 2, 64), *old.shape[1:]), dtype=old.dtype)
                buffer[:first] = old
                buffers[name] = buffer
            buffer[first:end] = new
            setattr(self, name, buffer[:end])
        return np.arange(first, len(self), dtype=np.int64)

    def rows(self, index: IntArray) -> dict[str, npt.NDArray[Any]]:
        """Copies of the rows at ``index``, by column name (for :meth:`append` elsewhere)."""
        return {name: getattr(self, name)[index] for name in self.names}

    def keep(self, mask: BoolArray) -> IntArray:
        """Keep the rows where ``mask`` is True; return the old-to-new index map (-1: gone)."""
        for name in self.names:
            setattr(self, name, getattr(self, name)[mask])
        remap = np.full(mask.shape[0], -1, dtype=np.int64)
        remap[mask] = np.arange(int(mask.sum()), dtype=np.int64)
        return remap


def _is_front(column: npt.NDArray[Any], buffer: npt.NDArray[Any]) -> bool:
    """Whether ``column`` is ``buffer[:len(column)]`` (and not a copy or another view)."""
    return bool(
        column.base is buffer
        and column.strides == buffer.strides
        and column.ctypes.data == buffer.ctypes.data
    )


class _Contributions(_Columns):
    """The latest estimate of each source's local track, and the system track it is in."""

    names = (
        "system",
        "source",
        "local",
        "number",
        "barred",
        "misses",
        "epoch",
        "time",
        "updated_at",
        "state",
        "covariance",
        "quality",
        "status",
        "category",
        "impact",
    )

    def __init__(self) -> None:
        self.system: IntArray = np.empty(0, np.int64)
        """System track (index) the contribution is in; -1 while it is being placed."""
        self.source: IntArray = np.empty(0, np.int64)
        """Source nation, index into the picture's nation table (0: this node)."""
        self.local: IntArray = np.empty(0, np.int64)
        """The source's local track number."""
        self.number: IntArray = np.empty(0, np.int64)
        """Network track number the source reports it under (0 for own tracks)."""
        self.barred: IntArray = np.empty(0, np.int64)
        """Number the contribution was decorrelated from (0: none); not joined by it."""
        self.misses: IntArray = np.empty(0, np.int64)
        """Consecutive updates outside the gate of its track's anchor."""
        self.epoch: IntArray = np.empty(0, np.int64)
        """Decision on reporting responsibility that followed its latest update."""
        self.time: FloatArray = np.empty(0)
        self.updated_at: FloatArray = np.empty(0)
        self.state: FloatArray = np.empty((0, 6))
        self.covariance: FloatArray = np.empty((0, 6, 6))
        self.quality: IntArray = np.empty(0, np.int64)
        self.status: IntArray = np.empty(0, np.int64)
        self.category: IntArray = np.empty(0, np.int64)
        self.impact: FloatArray = np.empty((0, 6))


class _Tracks(_Columns):
    """The system tracks: fused estimates and what the picture knows about each."""

    names = (
        "id",
        "number",
        "state",
        "covariance",
        "time",
        "quality",
        "status",
        "category",
        "impact",
        "sources",
        "bias",
        "spread",
        "updated_at",
        "holds",
        "reporter",
        "shown",
        "shown_number",
        "split_from",
    )

    def __init__(self) -> None:
        self.id: IntArray = np.empty(0, np.int64)
        """Node-local identity, increasing in creation order (so the column stays sorted)."""
        self.number: IntArray = np.empty(0, np.int64)
        self.state: FloatArray = np.empty((0, 6))
        """Fused state at ``time`` (the newest contribution's time)."""
        self.covariance: FloatArray = np.empty((0, 6, 6))
        self.time: FloatArray = np.empty(0)
        self.quality: IntArray = np.empty(0, np.int64)
        self.status: IntArray = np.empty(0, np.int64)
        self.category: IntArray = np.empty(0, np.int64)
        self.impact: FloatArray = np.empty((0, 6))
        self.sources: MaskArray = np.empty(0, np.uint64)
        self.bias: FloatArray = np.empty(0)
        """Largest sensor-bias allowance among the contributing nations, m."""
        self.spread: FloatArray = np.empty((0, 9))
        """:func:`_covariance_spread` of ``covariance``, for the bound of its gate radius."""
        self.updated_at: FloatArray = np.empty(0)
        self.holds: BoolArray = np.empty(0, np.bool_)
        """Whether this node holds reporting responsibility (last decision)."""
        self.reporter: IntArray = np.empty(0, np.int64)
        self.shown: BoolArray = np.empty(0, np.bool_)
        """Whether a snapshot has shown the track (only those get a final DROPPED row)."""
        self.shown_number: IntArray = np.empty(0, np.int64)
        self.split_from: IntArray = np.empty(0, np.int64)


class _Batch(NamedTuple):
    """One input batch, normalised: own and remote items look alike from here on."""

    source: IntArray
    local: IntArray
    number: IntArray
    time: FloatArray
    updated_at: FloatArray
    state: FloatArray
    covariance: FloatArray
    quality: IntArray
    status: IntArray
    category: IntArray
    impact: FloatArray

    def take(self, index: IntArray | BoolArray) -> _Batch:
        columns: list[Any] = [np.asarray(column[index]) for column in self]
        return _Batch(*columns)


def _as_array(
    kind: str, name: str, value: object, shape: tuple[int, ...], dtype: type[Any]
) -> npt.NDArray[Any]:
    """``value`` as an array of ``shape``, or a ValueError naming the field."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{kind}.{name} must be numeric ({error})") from None
    if array.shape != shape:
        raise ValueError(f"{kind}.{name} must have shape {_shape_text(shape)} (got {array.shape})")
    return array


def _shape_text(shape: tuple[int, ...]) -> str:
    """``(K,)``, ``(K, 6)``, …: the expected shape with the item count as ``K``."""
    return "(K,)" if len(shape) == 1 else "(" + ", ".join(["K", *map(str, shape[1:])]) + ")"


_IMPACT_FIELDS = (
    "impact_time_s",
    "impact_lat_deg",
    "impact_lon_deg",
    "impact_semi_major_m",
    "impact_semi_minor_m",
    "impact_orientation_deg",
)


def _check_items(kind: str, batch: LocalTracks | TrackReports, number_field: str) -> int:
    """The item count of a batch whose per-item arrays all have the right shapes."""
    numbers = np.asarray(getattr(batch, number_field))
    if numbers.ndim != 1:
        raise ValueError(f"{kind}.{number_field} must have shape (K,) (got {numbers.shape})")
    return int(numbers.shape[0])


# --- the air picture --------------------------------------------------------------------------


class AirPicture:
    """The system tracks of one node, with network track numbers and reporting responsibility.

    Call order at every processing step of the node (the module notes give the details):

    1. :meth:`ingest_remote` for each batch of reports received since the last step;
    2. :meth:`ingest_local` with the node's tracker output of the step;
    3. :meth:`reports_due` ``(now)`` → the outbound side reports these own local tracks;
    4. :meth:`snapshot` ``(now)`` → the recording.

    Parameters
    ----------
    node : NationCode
        The node (nation) whose picture this is.
    config : AirPictureConfig
        Numbers, fusion rule, gates, timers.

    Raises
    ------
    ConfigurationError
        If the plan gives ``node`` no track-number block.
    """

    def __init__(self, node: NationCode, config: AirPictureConfig) -> None:
        self.node = node
        self.config = config
        self._rule: FusionRule = FUSION_RULES.get(config.fusion_rule)
        self._block = config.track_numbers.block(node)
        self._merge_gate = dataclasses.replace(
            config.correlation,
            space=config.merge_space,
            gate_probability=config.merge_gate_probability,
        )
        self._gate = config.correlation.gate_threshold
        self._merge_threshold = self._merge_gate.gate_threshold
        self._nations: list[NationCode] = [node]
        self._nation_index: dict[NationCode, int] = {node: OWN}
        self._rank: IntArray = np.zeros(1, np.int64)
        self._bias: FloatArray = np.zeros(1)
        self._plan_to_picture: IntArray = np.zeros(0, np.int64)
        self._refresh_nations()
        self._rows = _Contributions()
        self._tracks = _Tracks()
        self._ended = _Tracks()
        self._ended_into: IntArray = np.empty(0, np.int64)
        self._next_id = 1
        self._clock = -math.inf
        self._alias_from: IntArray = np.empty(0, np.int64)
        self._alias_to: IntArray = np.empty(0, np.int64)
        self._dual_counts: dict[tuple[int, int], int] = {}
        self._fate: dict[int, int] = {}
        self._epoch = 0
        """Count of decisions on reporting responsibility so far."""
        self._last_words = _Contributions()
        """Own tracks that ended while this node reported them: one final DROPPED report."""
        self._last_numbers: IntArray = np.empty(0, np.int64)

    # --- public interface ---------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of system tracks."""
        return len(self._tracks)

    @property
    def nations(self) -> tuple[NationCode, ...]:
        """The picture's nation table: this node first, then others as they first report."""
        return tuple(self._nations)

    def ingest_local(self, tracks: LocalTracks) -> None:
        """Take in the node's own local tracks of one tracker step.

        Parameters
        ----------
        tracks : LocalTracks
            Rows the tracker updated, started or ended (``DROPPED`` rows end their
            contributions), ECEF, all at ``tracks.valid_at``.

        Raises
        ------
        ValueError
            If the batch belongs to another node, its time is not finite, or an array has
            the wrong shape.
        """
        if tracks.node != self.node:
            raise ValueError(
                f"LocalTracks of node {tracks.node!r} given to the air picture of {self.node!r}"
            )
        k = _check_items("LocalTracks", tracks, "track_number")
        if not math.isfinite(tracks.valid_at):
            raise ValueError(f"LocalTracks.valid_at must be finite (got {tracks.valid_at!r})")
        kind = "LocalTracks"
        self._ingest(
            _Batch(
                source=np.full(k, OWN, np.int64),
                local=_as_array(kind, "track_number", tracks.track_number, (k,), np.int64),
                number=np.zeros(k, np.int64),
                time=np.full(k, float(tracks.valid_at)),
                updated_at=_as_array(kind, "updated_at", tracks.updated_at, (k,), np.float64),
                state=_as_array(kind, "state", tracks.state, (k, 6), np.float64),
                covariance=_as_array(kind, "covariance", tracks.covariance, (k, 6, 6), np.float64),
                quality=_as_array(kind, "quality", tracks.quality, (k,), np.int64),
                status=_as_array(kind, "status", tracks.status, (k,), np.int64),
                category=_as_array(kind, "category", tracks.category, (k,), np.int64),
                impact=np.column_stack(
                    [
                        _as_array(kind, n, getattr(tracks, n), (k,), np.float64)
                        for n in _IMPACT_FIELDS
                    ]
                ).reshape(k, 6),
            )
        )

    def ingest_remote(self, reports: TrackReports) -> None:
        """Take in track reports received from other nodes (verified by the inbound guard).

        Items whose originator is this node (its own reports relayed back) are dropped: they
        hold nothing the node does not know, and fusing them would count its own data twice.

        Parameters
        ----------
        reports : TrackReports
            One received batch; each item's ``valid_at`` is its own.

        Raises
        ------
        ValueError
            If an array has the wrong shape, a time is not finite, an originator index is
            outside the batch's nation table, or the picture would exceed 64 nations.
        """
        kind = "TrackReports"
        k = _check_items(kind, reports, "network_track_number")
        originator = _as_array(kind, "originator", reports.originator, (k,), np.int64)
        table = tuple(reports.nations)
        if k and (originator.min() < 0 or originator.max() >= len(table)):
            raise ValueError(
                f"{kind}.originator must index the batch's nation table of {len(table)} "
                f"(got values {originator.min()}…{originator.max()})"
            )
        time = _as_array(kind, "valid_at", reports.valid_at, (k,), np.float64)
        if not np.isfinite(time).all():
            raise ValueError(f"{kind}.valid_at must be finite")
        batch = _Batch(
            source=originator,
            local=_as_array(kind, "local_track_number", reports.local_track_number, (k,), np.int64),
            number=_as_array(
                kind, "network_track_number", reports.network_track_number, (k,), np.int64
            ),
            time=time,
            updated_at=time,
            state=_as_array(kind, "state", reports.state, (k, 6), np.float64),
            covariance=_as_array(kind, "covariance", reports.covariance, (k, 6, 6), np.float64),
            quality=_as_array(kind, "quality", reports.quality, (k,), np.int64),
            status=_as_array(kind, "status", reports.status, (k,), np.int64),
            category=_as_array(kind, "category", reports.category, (k,), np.int64),
            impact=np.column_stack(
                [_as_array(kind, n, getattr(reports, n), (k,), np.float64) for n in _IMPACT_FIELDS]
            ).reshape(k, 6),
        )
        foreign = np.array([code != self.node for code in table], dtype=bool)
        keep = foreign[originator] if k else np.zeros(0, bool)
        used = np.unique(originator[keep])
        to_picture = np.full(len(table), -1, np.int64)
        for index in used.tolist():
            to_picture[index] = self._nation(table[index])
        batch = batch.take(keep)
        self._ingest(batch._replace(source=to_picture[batch.source]))

    def reports_due(self, now: float) -> ReportsDue:
        """Decide reporting responsibility at ``now`` and list the own tracks to report.

        Parameters
        ----------
        now : float
            Decision time, s since the scenario epoch (ages every contribution to it).

        Returns
        -------
        ReportsDue
            This node's own local tracks of the system tracks it holds responsibility for,
            each as its tracker last gave it, under the system track's network number, and
            once, with status ``DROPPED``, each own track that ended since the previous call
            while this node reported it (so that another node takes over at once rather than
            after ``reporter_timeout_s``); ordered by network track number.
        """
        self._advance(now)
        own_row = self._decide(now)
        tracks = np.flatnonzero(self._tracks.holds)
        c, last = self._rows, self._last_words
        numbers = np.concatenate([self._tracks.number[tracks], self._last_numbers])
        order = np.argsort(numbers, kind="stable")

        def column(name: str) -> Any:
            values = getattr(c, name)[own_row[tracks]]
            return np.concatenate([values, getattr(last, name)])[order]

        impact = column("impact")
        due = ReportsDue(
            node=self.node,
            decided_at=float(now),
            network_track_number=numbers[order],
            local_track_number=column("local"),
            valid_at=column("time"),
            state=column("state"),
            covariance=column("covariance"),
            quality=column("quality"),
            status=column("status"),
            category=column("category"),
            updated_at=column("updated_at"),
            **{name: impact[:, j] for j, name in enumerate(_IMPACT_FIELDS)},
        )
        self._last_words = _Contributions()
        self._last_numbers = np.empty(0, np.int64)
        return due

    def snapshot(self, now: float) -> SystemTracks:
        """The picture at ``now``, for the recording.

        Live tracks are predicted to ``now`` (their fused estimate at its own time, moved with
        :func:`~iamd.core.kinematics.predict_nearly_constant_velocity`) and ordered by network
        track number; tracks that ended since the previous snapshot follow with status
        ``DROPPED`` (see :class:`~iamd.messages.picture.SystemTracks` for the change fields).

        Parameters
        ----------
        now : float
            Snapshot time, s since the scenario epoch.

        Returns
        -------
        SystemTracks
        """
        self._advance(now)
        own_row = self._decide(now)
        t, c = self._tracks, self._rows
        order = np.lexsort((t.id, t.number))
        state, covariance = predict_nearly_constant_velocity(
            t.state[order], t.covariance[order], now - t.time[order], self._q
        )
        previous = np.where(
            t.shown & (t.number != t.shown_number) & (t.shown_number > 0), t.shown_number, 0
        )[order]
        local = np.where(own_row >= 0, c.local[np.maximum(own_row, 0)], NO_LOCAL_TRACK)[order]
        live = len(order)
        e = self._ended
        ended = len(e)

        def both(live_values: npt.NDArray[Any], ended_values: npt.NDArray[Any]) -> Any:
            return np.concatenate([live_values, ended_values])

        impact = both(t.impact[order], e.impact)
        result = SystemTracks(
            node=self.node,
            valid_at=float(now),
            nations=self.nations,
            track_id=both(t.id[order], e.id),
            network_track_number=both(t.number[order], e.number),
            status=both(t.status[order], np.full(ended, TrackStatus.DROPPED, np.int64)),
            category=both(t.category[order], e.category),
            state=both(state, e.state),
            covariance=both(covariance, e.covariance),
            quality=both(t.quality[order], e.quality),
            updated_at=both(t.updated_at[order], e.updated_at),
            sources=both(t.sources[order], e.sources),
            reporter=both(t.reporter[order], np.full(ended, NO_NATION, np.int64)),
            reporting=both(t.holds[order], np.zeros(ended, bool)),
            local_track_number=both(local, np.full(ended, NO_LOCAL_TRACK, np.int64)),
            merged_into=both(np.zeros(live, np.int64), self._ended_into),
            previous_number=both(previous, np.zeros(ended, np.int64)),
            split_from=both(t.split_from[order], np.zeros(ended, np.int64)),
            **{name: impact[:, j] for j, name in enumerate(_IMPACT_FIELDS)},
        )
        t.shown[:] = True
        t.shown_number[:] = t.number
        t.split_from[:] = 0
        self._ended = _Tracks()
        self._ended_into = np.empty(0, np.int64)
        return result

    # --- nations ------------------------------------------------------------------------------

    @property
    def _q(self) -> float:
        return self.config.acceleration_psd_m2_s3

    def _nation(self, code: NationCode) -> int:
        """Index of ``code`` in the picture's nation table, added on first sight."""
        index = self._nation_index.get(code)
        if index is not None:
            return index
        if len(self._nations) >= MAX_NATIONS:
            raise ValueError(
                f"the air picture of {self.node} can hold at most {MAX_NATIONS} nations "
                f"(a {MAX_NATIONS + 1}th, {code!r}, reported)"
            )
        self._nation_index[code] = len(self._nations)
        self._nations.append(code)
        self._refresh_nations()
        return self._nation_index[code]

    def _refresh_nations(self) -> None:
        codes = self._nations
        self._rank = np.argsort(np.argsort(np.array(codes, dtype=object))).astype(np.int64)
        config = self.config
        self._bias = np.array(
            [
                config.position_bias_sigma_m.get(code, config.default_position_bias_sigma_m)
                for code in codes
            ],
            dtype=float,
        )
        self._plan_to_picture = np.array(
            [self._nation_index.get(code, -1) for code in config.track_numbers.nations],
            dtype=np.int64,
        )

    def _owner_nation(self, numbers: IntArray) -> IntArray:
        """Picture index of the nation whose block holds each number (-1: none we know)."""
        owner = self.config.track_numbers.owner_index(numbers)
        return np.where(owner >= 0, self._plan_to_picture[np.maximum(owner, 0)], -1)

    # --- helpers over the tables --------------------------------------------------------------

    def _members(self) -> IntArray:
        """How many contributions each system track holds."""
        system = self._rows.system
        return np.bincount(system[system >= 0], minlength=len(self._tracks)).astype(np.int64)

    def _source_masks(self) -> MaskArray:
        """Bitmask of the contributing sources of each system track."""
        c = self._rows
        placed = c.system >= 0
        masks = np.zeros(len(self._tracks), np.uint64)
        np.bitwise_or.at(
            masks, c.system[placed], np.left_shift(np.uint64(1), c.source[placed].astype(np.uint64))
        )
        return masks

    def _lookup(self, numbers: IntArray) -> IntArray:
        """System track (index) holding each network number, directly or by alias; -1: none.

        Only tracks with contributions count: a track emptied in this batch is on its way out.
        """
        t = self._tracks
        numbers = np.asarray(numbers, dtype=np.int64)
        live = np.flatnonzero((self._members() > 0) & (t.number > 0))
        order = live[_stable_argsort(t.number[live])]
        held = t.number[order]

        def find(values: IntArray) -> IntArray:
            if held.size == 0:
                return np.full(values.shape, -1, np.int64)
            pos = np.clip(np.searchsorted(held, values), 0, held.size - 1)
            hit = (held[pos] == values) & (values > 0)
            return np.where(hit, order[pos], -1).astype(np.int64)

        found = find(numbers)
        missing = (found < 0) & (numbers > 0)
        if missing.any() and self._alias_from.size:
            ask = numbers[missing]
            pos = np.clip(np.searchsorted(self._alias_from, ask), 0, self._alias_from.size - 1)
            aliased = self._alias_from[pos] == ask
            via = np.where(aliased, self._alias_to[pos], 0)
            found[missing] = np.where(aliased, find(via), -1)
        return found

    def _add_aliases(self, retired: IntArray, current: IntArray) -> None:
        """Retired numbers now lead to ``current`` ones (and so do aliases of the retired)."""
        keep = (retired > 0) & (current > 0) & (retired != current)
        retired, current = retired[keep], current[keep]
        if retired.size == 0:
            return
        order = np.argsort(retired, kind="stable")
        sorted_retired, sorted_current = retired[order], current[order]
        if self._alias_to.size:
            pos = np.clip(np.searchsorted(sorted_retired, self._alias_to), 0, retired.size - 1)
            moved = sorted_retired[pos] == self._alias_to
            self._alias_to = np.where(moved, sorted_current[pos], self._alias_to)
        every_from = np.concatenate([self._alias_from, retired])
        every_to = np.concatenate([self._alias_to, current])
        # Later entries win: np.unique keeps the first of each value, so look from the end.
        _, first = np.unique(every_from[::-1], return_index=True)
        last = every_from.size - 1 - first
        keep_alias = every_from[last] != every_to[last]
        self._alias_from = every_from[last][keep_alias]
        self._alias_to = every_to[last][keep_alias]

    def _find(self, source: IntArray, local: IntArray) -> IntArray:
        """Contribution (index) of each (source, local track number); -1: none yet."""
        c = self._rows
        found = np.full(source.shape, -1, np.int64)
        # One vectorised search per source, and there are a handful of sources.
        for s in np.unique(source).tolist():
            mine = np.flatnonzero(c.source == s)
            if mine.size == 0:
                continue
            order = mine[np.argsort(c.local[mine], kind="stable")]
            keys = c.local[order]
            asked = np.flatnonzero(source == s)
            pos = np.clip(np.searchsorted(keys, local[asked]), 0, keys.size - 1)
            hit = keys[pos] == local[asked]
            found[asked[hit]] = order[pos[hit]]
        return found

    # --- one batch ----------------------------------------------------------------------------

    def _ingest(self, batch: _Batch) -> None:
        if batch.source.size == 0:
            return
        reference = float(batch.time.max())
        self._clock = max(self._clock, reference)
        batch = _latest_per_track(batch)
        # The batch refreshes its own contributions: age only the others.
        refreshed = self._find(batch.source, batch.local)
        touched: list[IntArray] = [self._expire(self._clock, spare=refreshed[refreshed >= 0])]

        ended = batch.status == TrackStatus.DROPPED
        if ended.any():
            gone = self._find(batch.source[ended], batch.local[ended])
            gone = gone[gone >= 0]
            self._say_last_words(gone)
            touched.append(self._rows.system[gone])
            self._remove_rows(gone)
        usable = ~ended
        if not self.config.include_tentative:
            usable &= batch.status != TrackStatus.TENTATIVE
        # A copy that arrives late (over a longer relay path) must not replace a newer one.
        held = self._find(batch.source, batch.local)
        known = held >= 0
        usable[known] &= batch.time[known] >= self._rows.time[held[known]]
        batch = batch.take(usable)

        rows, renumbered = self._upsert(batch)
        remote = batch.source != OWN
        orphans, left = self._place_by_number(rows[remote], renumbered[remote], touched)
        fresh = rows[self._rows.system[rows] < 0]
        fresh = np.setdiff1d(fresh, orphans)
        exclude = np.concatenate([np.full(fresh.size, -1, np.int64), left])
        touched.append(self._place(np.concatenate([fresh, orphans]), exclude, reference))
        touched.append(self._rows.system[rows])

        tracks = _valid(np.concatenate(touched))
        self._fuse(tracks)
        moved = self._decorrelate(rows)
        if moved.size:
            self._fuse(moved)
            tracks = np.union1d(tracks, moved)
        self._reconcile(tracks)
        survivors = self._merge_duals(tracks)
        if survivors.size:
            self._fuse(survivors)
            self._reconcile(survivors)
        self._drop_empty()

    def _say_last_words(self, rows: IntArray) -> None:
        """Queue a final DROPPED report of the ending own tracks this node was reporting.

        Without it the other nodes would wait ``reporter_timeout_s`` before one of them takes
        over; with it, the next decision after they receive it.
        """
        c, t = self._rows, self._tracks
        rows = rows[(c.source[rows] == OWN) & (c.system[rows] >= 0)]
        rows = rows[t.holds[c.system[rows]] & (t.number[c.system[rows]] > 0)]
        if rows.size == 0:
            return
        last = c.rows(rows)
        last["status"] = np.full(rows.size, TrackStatus.DROPPED, np.int64)
        self._last_words.append(**last)
        self._last_numbers = np.concatenate([self._last_numbers, t.number[c.system[rows]]])

    def _upsert(self, batch: _Batch) -> tuple[IntArray, BoolArray]:
        """Write each item into its contribution, adding the new ones (unplaced)."""
        c = self._rows
        rows = self._find(batch.source, batch.local)
        existing = rows >= 0
        renumbered = np.zeros(rows.shape, bool)
        r = rows[existing]
        renumbered[existing] = c.number[r] != batch.number[existing]
        c.epoch[r] = self._epoch
        for name in (
            "number",
            "time",
            "updated_at",
            "state",
            "covariance",
            "quality",
            "status",
            "category",
            "impact",
        ):
            getattr(c, name)[r] = getattr(batch, name)[existing]
        new = ~existing
        count = int(new.sum())
        if count:
            fresh = batch.take(new)
            rows[new] = c.append(
                system=np.full(count, -1),
                barred=np.zeros(count),
                misses=np.zeros(count),
                epoch=np.full(count, self._epoch),
                **{name: getattr(fresh, name) for name in c.names if hasattr(fresh, name)},
            )
        return rows, renumbered

    def _place_by_number(
        self, rows: IntArray, renumbered: BoolArray, touched: list[IntArray]
    ) -> tuple[IntArray, IntArray]:
        """Correlation by number of remote contributions.

        Returns the contributions whose source split them off (renumbered them to a number
        this node does not hold), now unplaced, and the tracks they must not rejoin.
        """
        empty = np.empty(0, np.int64)
        if rows.size == 0:
            return empty, empty
        c = self._rows
        lifted = (c.barred[rows] != 0) & (c.number[rows] != c.barred[rows])
        c.barred[rows[lifted]] = 0
        number = c.number[rows]
        target = self._lookup(number)
        target[number == c.barred[rows]] = -1
        current = c.system[rows].copy()

        want = np.flatnonzero((target >= 0) & (target != current))
        if want.size:
            masks = self._source_masks()
            bits = np.left_shift(np.uint64(1), c.source[rows[want]].astype(np.uint64))
            free = (masks[target[want]] & bits) == 0
            # One contribution per source and track: the first of a source's items wins.
            pair = target[want] * MAX_NATIONS + c.source[rows[want]]
            _, first = np.unique(pair, return_index=True)
            is_first = np.zeros(want.size, bool)
            is_first[first] = True
            go = want[free & is_first]
            moving = rows[go]
            self._record_fate(current[go], target[go])
            c.system[moving] = target[go]
            c.misses[moving] = 0
            touched.extend([current[go], target[go]])

        split = renumbered & (target < 0) & (current >= 0) & (number > 0)
        if not split.any():
            return empty, empty
        alone = self._members()[current[split]] == 1
        # A contribution alone in its track keeps the track, which adopts the new number.
        leaving = rows[split][~alone]
        previous = current[split][~alone]
        c.system[leaving] = -1
        c.misses[leaving] = 0
        touched.append(previous)
        return leaving, previous

    def _place(
        self,
        rows: IntArray,
        exclude: IntArray,
        reference: float,
        split_from: IntArray | None = None,
    ) -> IntArray:
        """Correlation by kinematics of unplaced contributions; the rest start system tracks.

        Returns every system track that gained a contribution.
        """
        if rows.size == 0:
            return np.empty(0, np.int64)
        c, t = self._rows, self._tracks
        split_from = np.zeros(rows.size, np.int64) if split_from is None else split_from
        alive = np.flatnonzero(self._members() > 0)
        system_index = alive
        state, covariance = predict_nearly_constant_velocity(
            c.state[rows], c.covariance[rows], reference - c.time[rows], self._q
        )
        # Only the system tracks within reach of a row can pass its gate: predict and gate
        # those (``near``, positions in ``system_index``), so the cost follows the batch.
        gate_sigma = math.sqrt(self._gate)
        dt = reference - t.time[alive]
        near = spatial_neighbours(
            t.state[alive, :3] + dt[:, None] * t.state[alive, 3:6],
            _reach_from_spread(t.spread[alive], dt, self._q, t.bias[alive], gate_sigma),
            state[:, :3],
            _gate_reach_bound_m(
                covariance, np.zeros(rows.size), 0.0, self._bias[c.source[rows]], gate_sigma
            ),
        )
        system_state, system_covariance = predict_nearly_constant_velocity(
            t.state[alive[near]], t.covariance[alive[near]], dt[near], self._q
        )
        system_bias = t.bias[alive[near]]
        masks = self._source_masks()[alive]
        gained: list[IntArray] = []
        # Sources in turn, own first (index 0): a new object two sources see starts one track.
        for s in np.unique(c.source[rows]).tolist():
            mine = np.flatnonzero(c.source[rows] == s)
            bit = np.left_shift(np.uint64(1), np.uint64(s))
            partner = np.full(mine.size, -1, np.int64)
            if near.size:
                pairs, statistics = gated_pairs(
                    TrackSet(system_state, system_covariance, system_bias),
                    TrackSet(state[mine], covariance[mine], float(self._bias[s])),
                    config=self.config.correlation,
                )
                pairs[:, 0] = near[pairs[:, 0]]
                allowed = ((masks[pairs[:, 0]] & bit) == 0) & (
                    system_index[pairs[:, 0]] != exclude[mine][pairs[:, 1]]
                )
                pairs = pairs[allowed]
                cost, d2 = statistics.cost[allowed], statistics.d2[allowed]
                if pairs.shape[0]:
                    # One above the costliest gated pair, as in correlate(): the gate alone
                    # decides whether a pair may be assigned.
                    free = self._gate + float((cost - d2).max()) + 1.0
                    result = assign_sparse(
                        pairs, cost, (system_index.size, mine.size), unassigned_row_cost=free
                    )
                    hit = result.col_to_row != UNASSIGNED
                    partner[hit] = result.col_to_row[hit]
            joined = partner >= 0
            c.system[rows[mine[joined]]] = system_index[partner[joined]]
            masks[partner[joined]] |= bit
            gained.append(system_index[partner[joined]])
            started = mine[~joined]
            if started.size:
                new = self._new_tracks(rows[started], split_from[started])
                gained.append(new)
                near = np.concatenate([near, system_index.size + np.arange(new.size)])
                system_index = np.concatenate([system_index, new])
                system_state = np.concatenate([system_state, state[started]])
                system_covariance = np.concatenate([system_covariance, covariance[started]])
                system_bias = np.concatenate([system_bias, np.full(started.size, self._bias[s])])
                masks = np.concatenate([masks, np.full(started.size, bit, np.uint64)])
        return np.concatenate(gained)

    def _new_tracks(self, rows: IntArray, split_from: IntArray) -> IntArray:
        """Start one system track per contribution; returns their indices."""
        c, t = self._rows, self._tracks
        count = rows.size
        own = c.source[rows] == OWN
        number = np.zeros(count, np.int64)
        number[own] = self._block.allocate(int(own.sum()))
        remote = np.flatnonzero(~own)
        if remote.size:
            reported = c.number[rows[remote]]
            usable = (reported > 0) & (reported != c.barred[rows[remote]])
            usable &= self._lookup(reported) < 0
            # Two new tracks must not take one number: the first item keeps it.
            _, first = np.unique(reported, return_index=True)
            is_first = np.zeros(remote.size, bool)
            is_first[first] = True
            number[remote] = np.where(usable & is_first, reported, PENDING_NUMBER)
        ids = np.arange(self._next_id, self._next_id + count, dtype=np.int64)
        self._next_id += count
        index = t.append(
            id=ids,
            number=number,
            state=c.state[rows],
            covariance=c.covariance[rows],
            time=c.time[rows],
            quality=c.quality[rows],
            status=c.status[rows],
            category=c.category[rows],
            impact=c.impact[rows],
            sources=np.left_shift(np.uint64(1), c.source[rows].astype(np.uint64)),
            bias=self._bias[c.source[rows]],
            spread=_covariance_spread(c.covariance[rows]),
            updated_at=c.updated_at[rows],
            holds=np.zeros(count, bool),
            reporter=np.full(count, NO_NATION),
            shown=np.zeros(count, bool),
            shown_number=np.zeros(count),
            split_from=split_from,
        )
        c.system[rows] = index
        return index

    def _fuse(self, tracks: IntArray) -> None:
        """Fuse the contributions of ``tracks`` at each track's newest contribution time."""
        c, t = self._rows, self._tracks
        # One entry more, for the rows in no track (-1): removed ones may outlive every track.
        wanted = np.zeros(len(t) + 1, bool)
        wanted[tracks] = True
        sel = np.flatnonzero(wanted[c.system])
        if sel.size == 0:
            return
        # Sources in a fixed order inside each group, so a result never depends on arrival order.
        rows = sel[np.lexsort((c.source[sel], c.system[sel]))]
        system = c.system[rows]
        starts = np.flatnonzero(np.r_[True, system[1:] != system[:-1]])
        counts = np.diff(np.r_[starts, rows.size])
        group = np.repeat(np.arange(starts.size), counts)
        owner = system[starts]
        fused_time = np.maximum.reduceat(c.time[rows], starts)
        state, covariance = predict_nearly_constant_velocity(
            c.state[rows], c.covariance[rows], fused_time[group] - c.time[rows], self._q
        )
        fused_state = state[starts].copy()
        fused_covariance = covariance[starts].copy()
        several = np.flatnonzero(counts > 1)
        if several.size:
            width = int(counts.max())
            slot = np.arange(rows.size) - starts[group]
            position = np.full(starts.size, -1, np.int64)
            position[several] = np.arange(several.size)
            inside = position[group] >= 0
            at = (position[group][inside], slot[inside])
            states = np.full((several.size, width, 6), np.nan)
            covariances = np.full((several.size, width, 6, 6), np.nan)
            present = np.zeros((several.size, width), bool)
            states[at] = state[inside]
            covariances[at] = covariance[inside]
            present[at] = True
            fused = self._rule(states, covariances, present=present)
            fused_state[several] = fused.state
            fused_covariance[several] = fused.covariance
        t.state[owner] = fused_state
        t.covariance[owner] = fused_covariance
        t.spread[owner] = _covariance_spread(fused_covariance)
        t.time[owner] = fused_time
        t.quality[owner] = np.maximum.reduceat(c.quality[rows], starts)
        t.updated_at[owner] = np.maximum.reduceat(c.updated_at[rows], starts)
        t.sources[owner] = np.bitwise_or.reduceat(
            np.left_shift(np.uint64(1), c.source[rows].astype(np.uint64)), starts
        )
        t.bias[owner] = np.maximum.reduceat(self._bias[c.source[rows]], starts)
        preference = _STATUS_PREFERENCE[np.clip(c.status[rows], 0, 4)]
        t.status[owner] = _STATUS_OF_PREFERENCE[
            np.minimum(np.minimum.reduceat(preference, starts), 2)
        ]
        last = np.r_[starts[1:], rows.size] - 1
        # The best-quality classified contribution gives the category; unclassified ones only
        # when none is classified (its category is then 0 anyway).
        by_category = np.lexsort((c.quality[rows], c.category[rows] != 0, group))
        t.category[owner] = c.category[rows[by_category[last]]]
        by_impact = np.lexsort((c.quality[rows], np.isfinite(c.impact[rows, 0]), group))
        t.impact[owner] = c.impact[rows[by_impact[last]]]

    def _anchors(self, members: IntArray, tracks: IntArray) -> IntArray:
        """Anchor contribution of each of ``tracks`` with several (-1 for others): module notes."""
        c, t = self._rows, self._tracks
        anchor = np.full(len(t), -1, np.int64)
        wanted = np.zeros(len(t) + 1, bool)  # the last entry for the rows in no track (-1)
        wanted[tracks] = members[tracks] >= 2
        candidates = np.flatnonzero(wanted[c.system])
        if candidates.size == 0:
            return anchor
        system = c.system[candidates]
        not_owner = c.source[candidates] != self._owner_nation(t.number[system])
        order = np.lexsort((candidates, self._rank[c.source[candidates]], not_owner, system))
        ranked = candidates[order]
        first = np.r_[True, system[order][1:] != system[order][:-1]]
        anchor[c.system[ranked[first]]] = ranked[first]
        return anchor

    def _decorrelate(self, rows: IntArray) -> IntArray:
        """The consistency check of updated contributions; returns the tracks splits changed."""
        c, t = self._rows, self._tracks
        rows = rows[c.system[rows] >= 0]
        anchor = self._anchors(self._members(), c.system[rows])
        track_anchor = anchor[c.system[rows]]
        c.misses[rows[track_anchor == rows]] = 0
        checked = rows[(track_anchor >= 0) & (track_anchor != rows)]
        if checked.size == 0:
            return np.empty(0, np.int64)
        a = anchor[c.system[checked]]
        common = np.maximum(c.time[checked], c.time[a])
        # Both sides in one prediction: the anchors first, then the checked contributions.
        both = np.concatenate([a, checked])
        state, covariance = predict_nearly_constant_velocity(
            c.state[both], c.covariance[both], np.tile(common, 2) - c.time[both], self._q
        )
        index = np.arange(checked.size)
        statistics = correlation_statistics(
            TrackSet(state, covariance, self._bias[c.source[both]]),
            TrackSet(state, covariance, self._bias[c.source[both]]),
            np.column_stack([index, index + checked.size]),
            space=self.config.correlation.space,
            log_det_cost=False,
        )
        outside = statistics.d2 > self._gate
        c.misses[checked] = np.where(outside, c.misses[checked] + 1, 0)
        split = checked[c.misses[checked] >= self.config.decorrelation_updates]
        if split.size == 0:
            return np.empty(0, np.int64)
        left = c.system[split].copy()
        c.system[split] = -1
        c.misses[split] = 0
        remote = c.source[split] != OWN
        c.barred[split[remote]] = c.number[split[remote]]
        reference = float(c.time[split].max())
        joined = self._place(split, left, reference, split_from=t.number[left])
        return np.union1d(left, joined)

    def _reconcile(self, tracks: IntArray) -> None:
        """Give each of ``tracks`` the lowest number its sources use (module notes)."""
        c, t = self._rows, self._tracks
        tracks = tracks[(tracks >= 0) & (tracks < len(t))]
        if tracks.size == 0:
            return
        wanted = np.zeros(len(t), bool)
        wanted[tracks] = True
        placed = c.system >= 0
        sel = np.flatnonzero(placed & wanted[np.maximum(c.system, 0)])
        own = sel[c.source[sel] == OWN]
        remote = sel[
            (c.source[sel] != OWN)
            & (self._clock - c.time[sel] <= self.config.reporter_timeout_s)
            & (c.number[sel] > 0)
            & (c.number[sel] != c.barred[sel])
        ]
        held_by = self._lookup(c.number[remote])
        here = c.system[remote]
        usable = (held_by < 0) | (held_by == here)
        value = np.where(held_by == here, t.number[here], c.number[remote])[usable]
        where = here[usable]
        own_tracks = c.system[own]
        numbered = t.number[own_tracks] > 0
        value = np.concatenate([value, t.number[own_tracks[numbered]]])
        where = np.concatenate([where, own_tracks[numbered]])
        best = np.full(len(t), _NO_NUMBER, np.int64)
        np.minimum.at(best, where, value)

        change = tracks[(best[tracks] != _NO_NUMBER) & (best[tracks] != t.number[tracks])]
        if change.size:
            wanted_number = best[change]
            holder = self._lookup(wanted_number)
            _, first = np.unique(wanted_number, return_index=True)
            is_first = np.zeros(change.size, bool)
            is_first[first] = True
            ok = ((holder < 0) | (holder == change)) & is_first
            change, wanted_number = change[ok], wanted_number[ok]
            retired = t.number[change].copy()
            t.number[change] = wanted_number
            self._add_aliases(retired, wanted_number)
        # An own object still without a number (its track was split off another node's
        # number) gets one from this node's block.
        pending = np.unique(own_tracks[t.number[own_tracks] == PENDING_NUMBER])
        pending = pending[best[pending] == _NO_NUMBER]
        if pending.size:
            t.number[pending] = self._block.allocate(pending.size)
        # The numbers that lost lead to the winner, so that a late report under them still
        # joins by number.
        losing = (value != t.number[where]) & (self._lookup(value) < 0)
        self._add_aliases(value[losing], t.number[where[losing]])

    def _merge_duals(self, tracks: IntArray) -> IntArray:
        """The dual-track check of ``tracks`` against every track; returns the survivors."""
        t = self._tracks
        none = np.empty(0, np.int64)
        members = self._members()
        alive = np.flatnonzero(members > 0)
        if alive.size < 2:
            return none
        touched = np.unique(tracks[(tracks >= 0) & (tracks < len(t))])
        touched = touched[members[touched] > 0]
        if touched.size == 0:
            return none
        # Only the tracks within reach of a touched one can pass its gate, and the pairs in
        # reach hold every pair the gate's own pre-gate would find (its radii are below these
        # bounds): gate those pairs alone, so the cost follows the batch.
        dt = self._clock - t.time[alive]
        reach = _reach_from_spread(
            t.spread[alive], dt, self._q, t.bias[alive], math.sqrt(self._merge_threshold)
        )
        position = t.state[alive, :3] + dt[:, None] * t.state[alive, 3:6]
        incoming = np.searchsorted(alive, touched)
        pairs = spatial_neighbour_pairs(position, reach, position[incoming], reach[incoming])
        i, j = alive[pairs[:, 0]], touched[pairs[:, 1]]
        ok = (i != j) & ((t.sources[i] & t.sources[j]) == 0)
        i, j = i[ok], j[ok]
        involved, index = np.unique(np.concatenate([i, j]), return_inverse=True)
        state, covariance = predict_nearly_constant_velocity(
            t.state[involved], t.covariance[involved], self._clock - t.time[involved], self._q
        )
        predicted = TrackSet(state, covariance, t.bias[involved])
        statistics = correlation_statistics(
            predicted,
            predicted,
            index.reshape(2, -1).T,
            space=self._merge_gate.space,
            log_det_cost=False,
        )
        inside = statistics.d2 <= self._merge_threshold
        i, j, d2 = i[inside], j[inside], statistics.d2[inside]
        low, high = np.minimum(t.id[i], t.id[j]), np.maximum(t.id[i], t.id[j])
        gated: dict[tuple[int, int], float] = {}
        for key_low, key_high, distance in zip(
            low.tolist(), high.tolist(), d2.tolist(), strict=True
        ):
            gated[(key_low, key_high)] = distance
        touched_ids = set(t.id[touched].tolist())
        counts = self._dual_counts
        for key in [
            k for k in counts if k not in gated and (k[0] in touched_ids or k[1] in touched_ids)
        ]:
            del counts[key]
        for key in gated:
            counts[key] = counts.get(key, 0) + 1
        ready = sorted(
            (key for key in gated if counts[key] >= self.config.merge_updates),
            key=lambda key: (gated[key], key),
        )
        if not ready:
            return none
        index_of = {int(track_id): int(k) for k, track_id in enumerate(t.id)}
        c = self._rows
        merged: set[int] = set()
        survivors: list[int] = []
        for id_a, id_b in ready:
            if id_a in merged or id_b in merged:
                continue
            a, b = index_of[id_a], index_of[id_b]
            if int(t.sources[a] & t.sources[b]):
                continue
            number_a, number_b = int(t.number[a]), int(t.number[b])
            survivor = int(surviving_number([number_a], [number_b])[0])
            keep, lose = (
                (a, b) if (survivor == number_a and (number_a != number_b or a < b)) else (b, a)
            )
            c.system[c.system == lose] = keep
            t.sources[keep] |= t.sources[lose]
            t.holds[keep] |= t.holds[lose]
            self._add_aliases(np.array([t.number[lose]]), np.array([t.number[keep]]))
            self._fate[int(t.id[lose])] = int(t.id[keep])
            merged.update((id_a, id_b))
            survivors.append(keep)
            for key in [k for k in counts if int(t.id[lose]) in k]:
                del counts[key]
        return np.array(survivors, dtype=np.int64)

    def _record_fate(self, sources: IntArray, targets: IntArray) -> None:
        """Remember where the contributions of a track went, for its final ``merged_into``."""
        t = self._tracks
        for source, target in zip(sources.tolist(), targets.tolist(), strict=True):
            if source >= 0:
                self._fate[int(t.id[source])] = int(t.id[target])

    # --- time ---------------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Age the picture to ``now``: stale contributions leave, empty tracks end."""
        if not math.isfinite(now):
            raise ValueError(f"now must be finite (got {now!r})")
        self._clock = max(self._clock, float(now))
        tracks = _valid(self._expire(self._clock))
        if tracks.size:
            self._fuse(tracks)
            self._reconcile(tracks)
        self._drop_empty()

    def _expire(self, now: float, spare: IntArray | None = None) -> IntArray:
        """Remove contributions older than ``max_age_s`` (but ``spare``); returns their tracks."""
        c = self._rows
        stale = now - c.time > self.config.max_age_s
        if spare is not None:
            stale[spare] = False
        if not stale.any():
            return np.empty(0, np.int64)
        tracks = np.unique(c.system[stale & (c.system >= 0)])
        self._remove_rows(np.flatnonzero(stale))
        return tracks

    def _remove_rows(self, rows: IntArray) -> None:
        """Remove contributions.

        A removed row stays in the table, inert, until an eighth of it is removed
        (copying the whole table at every removal cost more than the rest of a batch): it
        belongs to no source and no track, so no search finds it and no scan of the placed
        rows sees it, and it is never stale. The live rows keep their order either way.
        """
        c = self._rows
        c.system[rows] = -1
        c.source[rows] = _REMOVED
        c.time[rows] = np.inf
        removed = c.source == _REMOVED
        if np.count_nonzero(removed) > max(_MIN_COMPACTION, len(c) // _COMPACTION_SHARE):
            c.keep(~removed)

    def _drop_empty(self) -> None:
        """End the tracks without contributions; keep a final row of those a snapshot showed."""
        t = self._tracks
        empty = self._members() == 0
        if not empty.any():
            return
        gone = np.flatnonzero(empty)
        shown = gone[t.shown[gone]]
        if shown.size:
            into = np.zeros(shown.size, np.int64)
            for k, track_id in enumerate(t.id[shown].tolist()):
                destination = self._follow_fate(track_id)
                if destination is not None:
                    into[k] = destination
            self._ended.append(**t.rows(shown))
            self._ended_into = np.concatenate([self._ended_into, into])
        gone_ids = set(t.id[gone].tolist())
        remap = t.keep(~empty)
        c = self._rows
        c.system = np.where(c.system >= 0, remap[np.maximum(c.system, 0)], -1)
        self._fate = {k: v for k, v in self._fate.items() if k not in gone_ids}
        for key in [k for k in self._dual_counts if k[0] in gone_ids or k[1] in gone_ids]:
            del self._dual_counts[key]

    def _follow_fate(self, track_id: int) -> int | None:
        """Number of the live track that took a track's contributions (following chains)."""
        t = self._tracks
        members = self._members()
        seen: set[int] = set()
        current = self._fate.get(track_id)
        while current is not None and current not in seen:
            seen.add(current)
            k = int(np.searchsorted(t.id, current))
            if k < len(t) and t.id[k] == current and members[k] > 0:
                return int(t.number[k]) or None
            current = self._fate.get(current)
        return None

    # --- reporting responsibility -------------------------------------------------------------

    def _decide(self, now: float) -> IntArray:
        """Decide reporting responsibility for every track; returns each one's own row (-1)."""
        c, t = self._rows, self._tracks
        count = len(t)
        placed = c.system >= 0
        own = np.flatnonzero(placed & (c.source == OWN))
        own_row = np.full(count, -1, np.int64)
        own_row[c.system[own]] = own
        has_own = own_row >= 0
        own_quality = np.where(has_own, c.quality[np.maximum(own_row, 0)], 0)

        claims = np.flatnonzero(
            placed
            & (c.source != OWN)
            & (now - c.time <= self.config.reporter_timeout_s)
            & ((c.barred == 0) | (c.number != c.barred))
        )
        # A holder gives way only to a report received since its previous decision: a node
        # that gave way stops reporting, and its last report must not count against the
        # holder until it times out. A take-over weighs the reporter's latest report.
        received = claims[c.epoch[claims] == self._epoch]
        reporter, reporter_quality = self._best_claims(claims, count)
        challenger, challenger_quality = self._best_claims(received, count)
        against = np.where(t.holds, challenger, reporter)
        against_quality = np.where(t.holds, challenger_quality, reporter_quality)
        present = against != NO_NATION
        wins_tie = present & (self._rank[np.maximum(against, 0)] < self._rank[OWN])
        holds = hold_reporting_responsibility(
            held=t.holds,
            own_present=has_own & (t.number > 0),
            own_quality=own_quality,
            reporter_present=present,
            reporter_quality=against_quality,
            reporter_wins_tie=wins_tie,
            margin=self.config.handover_margin,
        )
        self._epoch += 1
        t.holds = holds
        t.reporter = np.where(holds, OWN, reporter)
        return own_row

    def _best_claims(self, claims: IntArray, count: int) -> tuple[IntArray, IntArray]:
        """Per track, the claiming nation of best quality (ties: code order) and its quality."""
        c = self._rows
        nation = np.full(count, NO_NATION, np.int64)
        quality = np.zeros(count, np.int64)
        if claims.size:
            order = np.lexsort((self._rank[c.source[claims]], -c.quality[claims], c.system[claims]))
            ranked = claims[order]
            system = c.system[ranked]
            best = ranked[np.r_[True, system[1:] != system[:-1]]]
            nation[c.system[best]] = c.source[best]
            quality[c.system[best]] = c.quality[best]
        return nation, quality


def _gate_reach_bound_m(
    covariance: FloatArray,
    dt: FloatArray,
    acceleration_psd_m2_s3: float,
    bias_sigma_m: FloatArray,
    gate_sigma: float,
) -> FloatArray:
    """An upper bound of the gate radius of each estimate once predicted by ``dt``.

    :func:`~iamd.fusion.correlation.gated_pairs` pre-gates with the radius
    ``gate_sigma · sqrt(λmax(P + σ² I))`` of the position block ``P`` of the covariance
    predicted by :func:`predict_nearly_constant_velocity` and the bias allowance ``σ``.
    ``P`` is ``A + q |Δt|³/3 · I`` with ``A = Ppp + Δt (Ppv + Pvp) + Δt² Pvv`` symmetrised,
    and the largest eigenvalue of a symmetric matrix is at most its largest absolute row sum,
    which is at most ``a_k + |Δt| b_k + Δt² c_k`` with ``a``, ``b``, ``c`` the absolute row
    (or column) sums of ``Ppp``, ``Ppv + Pvp`` and ``Pvv`` (:func:`_covariance_spread`,
    which the picture keeps per track, so that a bound costs a few operations on ``(N,)``
    arrays). The bound needs no 6 × 6 prediction; a relative margin and a millimetre cover
    rounding.

    Parameters
    ----------
    covariance : ndarray, shape (N, 6, 6)
        Covariances before the prediction, ECEF (m, m/s).
    dt : ndarray, shape (N,)
        Prediction steps, s.
    acceleration_psd_m2_s3 : float
        Process noise ``q`` of the prediction, m²/s³.
    bias_sigma_m : ndarray, shape (N,)
        Sensor-bias allowances, m.
    gate_sigma : float
        Gate size in standard deviations.

    Returns
    -------
    ndarray, shape (N,)
        Radii, m (non-finite for a non-finite covariance).
    """
    return _reach_from_spread(
        _covariance_spread(covariance), dt, acceleration_psd_m2_s3, bias_sigma_m, gate_sigma
    )


def _covariance_spread(covariance: FloatArray) -> FloatArray:
    """Per position axis, the larger absolute row or column sum of three blocks, ``(N, 9)``.

    Columns 0–2 of ``|Ppp|``, 3–5 of ``|Ppv + Pvp|``, 6–8 of ``|Pvv|``: what
    :func:`_reach_from_spread` needs of a covariance ``(N, 6, 6)``, whatever the step.
    """
    flat = covariance.reshape(-1, 36)
    spread = np.empty((flat.shape[0], 9))
    # A non-finite covariance gives a non-finite spread, then a non-finite radius.
    with np.errstate(invalid="ignore", over="ignore"):
        blocks = (
            flat[:, _POSITION_BLOCK],
            flat[:, _POSITION_VELOCITY_BLOCK] + flat[:, _VELOCITY_POSITION_BLOCK],
            flat[:, _VELOCITY_BLOCK],
        )
        for k, block in enumerate(blocks):
            # One product gives the three row sums and the three column sums of the block.
            sums = np.abs(block) @ _ROW_AND_COLUMN_SUMS
            spread[:, 3 * k : 3 * k + 3] = np.maximum(sums[:, :3], sums[:, 3:])
    return spread


def _reach_from_spread(
    spread: FloatArray,
    dt: FloatArray,
    acceleration_psd_m2_s3: float,
    bias_sigma_m: FloatArray,
    gate_sigma: float,
) -> FloatArray:
    """:func:`_gate_reach_bound_m` from the :func:`_covariance_spread` of the covariances."""
    with np.errstate(invalid="ignore", over="ignore"):
        step = np.abs(dt)
        square = step * step
        largest = spread[:, 0] + step * spread[:, 3] + square * spread[:, 6]
        for k in (1, 2):
            axis = spread[:, k] + step * spread[:, 3 + k] + square * spread[:, 6 + k]
            largest = np.maximum(largest, axis)
        largest += acceleration_psd_m2_s3 * (square * step) / 3.0 + bias_sigma_m**2
    return np.asarray(gate_sigma * np.sqrt(largest * (1.0 + 1e-6)) + 1e-3)


def _stable_argsort(values: IntArray) -> IntArray:
    """``np.argsort(values, kind="stable")`` of non-negative integers, about four times faster.

    NumPy's stable sort of 64-bit integers is a merge sort; each value with its position
    appended below it is unique, and a quicksort of those gives the same order.
    """
    count = values.shape[0]
    if count == 0 or int(values.min()) < 0 or int(values.max()) >= _NO_NUMBER // max(count, 1):
        return np.argsort(values, kind="stable").astype(np.int64)
    keyed = values * count + np.arange(count, dtype=np.int64)
    return np.argsort(keyed).astype(np.int64)


def _valid(tracks: IntArray) -> IntArray:
    """Distinct non-negative track indices."""
    tracks = np.unique(tracks)
    return tracks[tracks >= 0]


def _latest_per_track(batch: _Batch) -> _Batch:
    """One item per (source, local track): the latest, when a batch repeats a track."""
    order = np.lexsort((batch.time, batch.local, batch.source))
    source, local = batch.source[order], batch.local[order]
    last = np.r_[(source[1:] != source[:-1]) | (local[1:] != local[:-1]), True]
    if last.all():
        return batch
    return batch.take(np.sort(order[last]))


__all__ = ["AirPicture", "AirPictureConfig", "predict_nearly_constant_velocity"]
