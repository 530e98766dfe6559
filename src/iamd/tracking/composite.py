"""Composite tracking from shared measurements (the measurement-sharing architecture).

In the track-sharing architecture each node tracks its own sensors and the nodes exchange
tracks, which each receiver fuses into its picture. In the measurement-sharing architecture,
in the manner of the US Navy's Cooperative Engagement Capability (CEC), the nodes exchange
their radars' *measurements* and every node runs one tracker over all the measurements it
holds, own and received: the composite track. A :class:`CompositeTracker` is that tracker.

Same measurements, same tracks
------------------------------
Measurements reach the nodes after different delays, and a tracker must take them in time
order. The composite tracker therefore holds every scan until ``delay_s`` after its
measurement time, and then processes the scans that are due in one fixed order: by
measurement time, then originating nation, then sensor. A scan that arrives after its turn
(later than ``delay_s``) is *late*: it is counted and dropped, never processed out of order.
The tracker itself is deterministic, so two nodes that hold the same scans compute bit-for-bit
the same composite tracks, whatever the order of arrival.

Track numbers follow the same rule. A composite track is numbered when it is confirmed:
it takes the number of a track that ended within ``max_age_s`` if their estimates gate
(χ², 99.9 %; the nearest one), so an object keeps its number across a gap in coverage;
otherwise a number made from the measurement that started it, ``(index of the originating
nation + 1)·10⁹ + the originator's local track number of that detection`` (moved by whole
multiples of 10¹¹ past any number this tracker has already used). Every step of this is a
function of the composite tracker's own state, so nodes agree on numbers without
negotiating them.

What the composite picture assumes
----------------------------------
- Only radar scans are shared; a node's space infrared frames cue its own local tracker
  only (a line of sight alone does not make a composite track).
- Every node knows the coverage of every radar in the network (from the scenario), so that
  a track in a remote radar's field of regard that the scan did not detect counts a miss.
- The picture is ``delay_s`` behind the measurements: :meth:`CompositeTracker.snapshot`
  predicts each track from its last update to the snapshot time with a nearly constant
  velocity model, as the track-sharing picture does.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.gating import chi2_gate_threshold
from iamd.core.ids import NationCode, SensorId
from iamd.core.kinematics import predict_nearly_constant_velocity
from iamd.core.typing import FloatArray, IntArray
from iamd.messages import Detections, MeasurementKind, TrackStatus
from iamd.messages.picture import NO_LOCAL_TRACK, NO_NATION, SystemTracks
from iamd.tracking.quality import track_quality
from iamd.tracking.tracker import Coverage, RadarTracker, TrackerConfig

CoverageOf = Callable[[SensorId, float], Coverage]
"""``coverage_of(sensor, time_s)``: the field of regard of a radar's scan at ``time_s``."""

NATION_NUMBER_BASE = 10**9
"""Composite numbers of nation ``i`` (0-based) start at ``(i + 1)·NATION_NUMBER_BASE``."""

_RENUMBER_STEP = 10**11
"""Step that moves a composite number past one already used (above every nation's range)."""

_SHOWN = (TrackStatus.CONFIRMED, TrackStatus.COASTING)
"""Statuses a composite picture shows (a tentative track is not yet part of it)."""

_STATE_DIM = 6


@dataclass(order=True, slots=True)
class _Scan:
    """One scan waiting for its turn; ordered by the processing key."""

    valid_at: float
    originator: int
    sensor_number: int
    detections: Detections = field(compare=False)
    local_track_number: IntArray = field(compare=False)


@dataclass(frozen=True, slots=True)
class _Seen:
    """A named track's latest estimate (6-D ECEF, at ``time_s``)."""

    number: int
    time_s: float
    state: FloatArray
    covariance: FloatArray


_INHERIT_GATE = float(chi2_gate_threshold(0.999, 3))
"""Squared Mahalanobis distance within which a new track takes an ended track's number."""


@dataclass(frozen=True, slots=True)
class CompositeStatistics:
    """What a composite tracker has taken in so far.

    Attributes
    ----------
    scans : int
        Scans processed.
    measurements : int
        Detections in them.
    late_scans : int
        Scans dropped because they arrived after their turn.
    late_measurements : int
        Detections in them.
    """

    scans: int
    measurements: int
    late_scans: int
    late_measurements: int


class CompositeTracker:
    """One node's composite tracker over its own and its partners' radar measurements.

    Parameters
    ----------
    node : NationCode
        The node that runs it.
    nations : sequence of NationCode
        The run's nation table (originators are given by their code).
    config : TrackerConfig
        Tracking models and rules (the same as the local trackers').
    coverage_of : callable
        Field of regard of any radar of the network at a time (:data:`CoverageOf`).
    delay_s : float
        How long a scan waits for the others of its time, s (≥ 0): the measurement-sharing
        picture's latency, and the longest network delay it tolerates.
    acceleration_psd_m2_s3 : float
        Nearly-constant-velocity process noise of the snapshot's prediction, m²/s³.
    max_age_s : float
        A track not updated for longer leaves the picture (the tracker may still coast it),
        s (> 0): the track-sharing picture's rule for its contributions.
    """

    def __init__(
        self,
        node: NationCode,
        nations: Sequence[NationCode],
        config: TrackerConfig,
        *,
        coverage_of: CoverageOf,
        delay_s: float,
        acceleration_psd_m2_s3: float = 100.0,
        max_age_s: float = 30.0,
    ) -> None:
        if not (np.isfinite(delay_s) and delay_s >= 0.0):
            raise ConfigurationError(f"composite tracker: delay_s must be ≥ 0 (got {delay_s!r})")
        if not (np.isfinite(max_age_s) and max_age_s > 0.0):
            raise ConfigurationError(
                f"composite tracker: max_age_s must be > 0 (got {max_age_s!r})"
            )
        self.max_age_s = float(max_age_s)
        self.node = node
        self.nations = tuple(nations)
        if node not in self.nations:
            raise ConfigurationError(f"composite tracker: {node} is not in {self.nations}")
        # The snapshot's nation table starts with the node itself (SystemTracks' rule).
        self._table = (node, *(code for code in self.nations if code != node))
        self._bit = {
            code: np.uint64(1) << np.uint64(self._table.index(code)) for code in self.nations
        }
        self.tracker = RadarTracker(node, config)
        self.delay_s = float(delay_s)
        self._coverage_of = coverage_of
        self._q = float(acceleration_psd_m2_s3)
        self._pending: list[_Scan] = []
        self._done_until = -np.inf
        self._number: dict[int, int] = {}
        """Tracker track number → composite (network) track number, from confirmation."""
        self._birth: dict[int, tuple[int, int]] = {}
        """Tracker track number → (originator index, its local track number) of the
        detection that started the track."""
        self._last_seen: dict[int, _Seen] = {}
        """Tracker track number → the named track's latest estimate."""
        self._ended: list[_Seen] = []
        """Named tracks that ended, newest last, for a successor to inherit the number."""
        self._used: set[int] = set()
        self._sources: dict[int, np.uint64] = {}
        """Tracker track number → bits (over the snapshot table) of nations that updated it."""
        self._shown: dict[int, tuple[int, SystemTracks, int]] = {}
        """Composite number → (tracker number, last snapshot it was in, its row there)."""
        self._scans = self._measurements = self._late_scans = self._late_measurements = 0

    @property
    def statistics(self) -> CompositeStatistics:
        """Scans and measurements taken in and dropped so far."""
        return CompositeStatistics(
            scans=self._scans,
            measurements=self._measurements,
            late_scans=self._late_scans,
            late_measurements=self._late_measurements,
        )

    def add(
        self,
        detections: Detections,
        *,
        originator: NationCode,
        sensor_number: int,
        local_track_number: IntArray,
    ) -> bool:
        """Queue one radar scan (or part of one) for its turn.

        Parameters
        ----------
        detections : Detections
            The scan (:attr:`MeasurementKind.RADAR_RAE`); ``detections.sensor`` names the
            radar for its coverage.
        originator : NationCode
            The nation whose radar measured.
        sensor_number : int
            The originator's small number of the radar (orders scans of one time).
        local_track_number : ndarray of int, shape (K,)
            The originator's local track of each detection (0: none); names the composite
            tracks the detections start.

        Returns
        -------
        bool
            False if the scan came after its turn and was dropped.
        """
        if detections.kind != MeasurementKind.RADAR_RAE:
            raise ConfigurationError("composite tracker: only radar scans are shared")
        if originator not in self._bit:
            raise ConfigurationError(f"composite tracker: unknown originator {originator}")
        if detections.valid_at <= self._done_until:
            self._late_scans += 1
            self._late_measurements += len(detections)
            return False
        scan = _Scan(
            float(detections.valid_at),
            self.nations.index(originator),
            int(sensor_number),
            detections,
            np.asarray(local_track_number, np.int64),
        )
        heapq.heappush(self._pending, scan)
        return True

    def advance(self, now_s: float) -> None:
        """Process, in the fixed order, every queued scan measured by ``now_s − delay_s``."""
        cutoff = now_s - self.delay_s
        while self._pending and self._pending[0].valid_at <= cutoff:
            scan = heapq.heappop(self._pending)
            # Parts of one scan (a scan cut across messages) are processed as one.
            while self._pending and self._pending[0] == scan:
                scan = _merged(scan, heapq.heappop(self._pending))
            self._process(scan)
        self._done_until = max(self._done_until, cutoff)

    def _process(self, scan: _Scan) -> None:
        detections = scan.detections
        coverage = self._coverage_of(detections.sensor, scan.valid_at)
        self.tracker.step(detections, coverage)
        self._scans += 1
        self._measurements += len(detections)
        t = self.tracker
        bit = self._bit[self.nations[scan.originator]]
        for row, number in enumerate(t.detection_tracks.tolist()):
            if number == 0:
                continue
            self._sources[number] = self._sources.get(number, np.uint64(0)) | bit
            if number not in self._birth:
                self._birth[number] = (scan.originator, int(scan.local_track_number[row]))
        live = set(t.number.tolist())
        for number in [n for n in self._birth if n not in live]:
            del self._birth[number]
            self._sources.pop(number, None)
            ended = self._number.pop(number, None)
            if ended is not None:
                self._ended.append(self._last_seen[number])
            self._last_seen.pop(number, None)
        self._name_confirmed(scan.valid_at)

    def _name_confirmed(self, now_s: float) -> None:
        """Number every newly confirmed track (module notes).

        Also notes where every named track was last seen, for a successor to inherit its
        number.
        """
        t = self.tracker
        firm = np.flatnonzero(t.status != TrackStatus.TENTATIVE)
        for row in firm.tolist():
            number = int(t.number[row])
            if number not in self._number:
                self._number[number] = self._inherited(row, now_s) or self._new_number(
                    *self._birth[number]
                )
            self._last_seen[number] = _Seen(
                self._number[number],
                float(t.time_s[row]),
                t.state[row, :_STATE_DIM].copy(),
                t.covariance[row, :_STATE_DIM, :_STATE_DIM].copy(),
            )

    def _inherited(self, row: int, now_s: float) -> int | None:
        """The number a new track inherits, or None.

        That of the nearest track that ended within ``max_age_s`` and whose predicted
        position gates with the new track's (χ², 3 dof, 99.9 %).
        """
        self._ended = [e for e in self._ended if now_s - e.time_s <= self.max_age_s]
        if not self._ended:
            return None
        t = self.tracker
        state, covariance = predict_nearly_constant_velocity(
            np.array([e.state for e in self._ended]),
            np.array([e.covariance for e in self._ended]),
            t.time_s[row] - np.array([e.time_s for e in self._ended]),
            self._q,
        )
        residual = state[:, :3] - t.state[row, :3]
        spread = covariance[:, :3, :3] + t.covariance[row, :3, :3]
        d2 = np.einsum("ki,ki->k", residual, np.linalg.solve(spread, residual[:, :, None])[..., 0])
        best = int(np.argmin(d2))
        if not d2[best] <= _INHERIT_GATE:
            return None
        return self._ended.pop(best).number

    def _new_number(self, originator: int, local: int) -> int:
        number = (originator + 1) * NATION_NUMBER_BASE + local
        while number in self._used:
            number += _RENUMBER_STEP
        self._used.add(number)
        return number

    def snapshot(self, now_s: float) -> SystemTracks:
        """The composite picture at ``now_s`` (after processing what is due by then).

        Confirmed and coasting tracks updated within ``max_age_s``, predicted to ``now_s``,
        ordered by number; then one ``DROPPED`` row per track shown before that is gone (its
        last shown estimate).
        """
        self.advance(now_s)
        t = self.tracker
        rows = np.flatnonzero(np.isin(t.status, _SHOWN) & (now_s - t.updated_at <= self.max_age_s))
        numbers = np.array([self._number[n] for n in t.number[rows].tolist()], np.int64)
        order = np.argsort(numbers, kind="stable")
        rows, numbers = rows[order], numbers[order]
        state, covariance = predict_nearly_constant_velocity(
            t.state[rows, :_STATE_DIM],
            t.covariance[rows, :_STATE_DIM, :_STATE_DIM],
            now_s - t.time_s[rows],
            self._q,
        )
        live = len(rows)
        track_id = t.number[rows]
        sources = np.array(
            [self._sources.get(n, np.uint64(0)) for n in track_id.tolist()], np.uint64
        ).reshape(live)
        gone = sorted(set(self._shown) - set(numbers.tolist()))
        ended = [self._shown[number] for number in gone]
        k = live + len(ended)

        def with_ended(values: np.ndarray, column: str) -> np.ndarray:
            last = [getattr(snapshot, column)[row] for _, snapshot, row in ended]
            return np.concatenate(
                [values, np.asarray(last, values.dtype).reshape(-1, *values.shape[1:])]
            )

        result = SystemTracks(
            node=self.node,
            valid_at=float(now_s),
            nations=self._table,
            track_id=with_ended(track_id, "track_id"),
            network_track_number=with_ended(numbers, "network_track_number"),
            status=np.concatenate(
                [t.status[rows], np.full(len(ended), int(TrackStatus.DROPPED), np.int64)]
            ),
            category=with_ended(t.category[rows], "category"),
            state=with_ended(state, "state"),
            covariance=with_ended(covariance, "covariance"),
            quality=with_ended(track_quality(covariance, now_s - t.updated_at[rows]), "quality"),
            updated_at=with_ended(t.updated_at[rows], "updated_at"),
            sources=with_ended(sources, "sources"),
            reporter=np.full(k, NO_NATION, np.int64),
            reporting=np.zeros(k, bool),
            local_track_number=np.full(k, NO_LOCAL_TRACK, np.int64),
            merged_into=np.zeros(k, np.int64),
            previous_number=np.zeros(k, np.int64),
            split_from=np.zeros(k, np.int64),
            impact_time_s=with_ended(t.impact[rows, 0], "impact_time_s"),
            impact_lat_deg=with_ended(t.impact[rows, 1], "impact_lat_deg"),
            impact_lon_deg=with_ended(t.impact[rows, 2], "impact_lon_deg"),
            impact_semi_major_m=with_ended(t.impact[rows, 3], "impact_semi_major_m"),
            impact_semi_minor_m=with_ended(t.impact[rows, 4], "impact_semi_minor_m"),
            impact_orientation_deg=with_ended(t.impact[rows, 5], "impact_orientation_deg"),
        )
        self._shown = {
            int(number): (int(track), result, i)
            for i, (number, track) in enumerate(
                zip(numbers.tolist(), track_id.tolist(), strict=True)
            )
        }
        return result


def _merged(first: _Scan, second: _Scan) -> _Scan:
    """One scan from two parts of it (the detections of both, in arrival order)."""
    a, b = first.detections, second.detections
    detections = Detections(
        sensor=a.sensor,
        nation=a.nation,
        kind=a.kind,
        valid_at=a.valid_at,
        sensor_position_ecef_m=a.sensor_position_ecef_m,
        sensor_lat_deg=a.sensor_lat_deg,
        sensor_lon_deg=a.sensor_lon_deg,
        measurements=np.concatenate([a.measurements, b.measurements]),
        covariances=np.concatenate([a.covariances, b.covariances]),
        truth_index=np.concatenate([a.truth_index, b.truth_index]),
        snr_db=np.concatenate([a.snr_db, b.snr_db]),
    )
    return _Scan(
        first.valid_at,
        first.originator,
        first.sensor_number,
        detections,
        np.concatenate([first.local_track_number, second.local_track_number]),
    )


__all__ = ["NATION_NUMBER_BASE", "CompositeStatistics", "CompositeTracker", "CoverageOf"]
