"""A node's multi-target tracker: predict, gate, associate, update, manage, initiate.

The tracker is composed from the parts it needs (a motion model, an associator, a life-cycle
policy), all passed in; :meth:`RadarTracker.step` reads like the algorithm it runs on one
batch of radar detections. Every track of the node lives in the rows of a few arrays (states
``N×6``, covariances ``N×6×6``, life-cycle counters), so each stage is one array operation
over every track and every detection at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from iamd.core.assignment import UNASSIGNED
from iamd.core.errors import ConfigurationError
from iamd.core.gating import (
    chi2_gate_threshold,
    innovation_statistics,
    spatial_candidate_pairs,
)
from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo.frames import ecef_to_geodetic
from iamd.messages import Detections, LocalTracks, MeasurementKind, ThreatCategory, TrackStatus
from iamd.tracking.association import GnnAssociator, JpdaAssociator
from iamd.tracking.base import MotionModel
from iamd.tracking.cueing import CuePolicy, InfraredCues
from iamd.tracking.imm import (
    ImmEstimate,
    imm_pda_update,
    imm_predict,
    imm_update,
    markov_transition_matrix,
)
from iamd.tracking.impact import predict_impact
from iamd.tracking.lifecycle import LifecyclePolicy, TrackNumberAllocator, advance, initiate
from iamd.tracking.measurement import RadarMeasurement
from iamd.tracking.motion import Ballistic
from iamd.tracking.quality import position_sigma_m, track_quality

Coverage = Callable[[FloatArray], BoolArray]
"""Which ECEF positions ``(K, 3)`` a scan could have seen (the sensor's field of regard)."""

_STATE_DIM = 6
"""Dimension of the reported states (the tracks may carry ``1/β`` as a 7th component)."""
_IMPACT_FIELDS = 6

_TRACK_ARRAYS = (
    "number",
    "state",
    "covariance",
    "time_s",
    "status",
    "history",
    "misses",
    "updated_at",
    "category",
    "mode_state",
    "mode_covariance",
    "mode_probability",
    "impact",
    "impact_at",
    "last_hit",
)
"""The per-track arrays of :class:`RadarTracker`: row ``i`` of each is track ``i``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSet:
    """The interacting multiple model (IMM) filter of one category of track.

    Attributes
    ----------
    modes : tuple of MotionModel
        The IMM's motion models, all on the tracker's state layout (ECEF position and
        velocity, plus ``1/β`` when the tracker estimates drag).
    mode_sojourn_s : tuple of float
        Mean time a target stays in each mode, s (sets the Markov transition matrix).
    initial_mode_probabilities : tuple of float
        Mode probabilities of a track that enters the set (is started or reclassified).
    """

    modes: tuple[MotionModel, ...]
    mode_sojourn_s: tuple[float, ...]
    initial_mode_probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        count = len(self.modes)
        if count == 0:
            raise ConfigurationError("ModelSet: needs at least one mode")
        for name in ("mode_sojourn_s", "initial_mode_probabilities"):
            if len(getattr(self, name)) != count:
                raise ConfigurationError(f"ModelSet: {name} needs one value per mode")
        if not np.isclose(sum(self.initial_mode_probabilities), 1.0):
            raise ConfigurationError("ModelSet: initial_mode_probabilities must sum to 1")
        dims = {model.state_dim for model in self.modes}
        if len(dims) != 1:
            raise ConfigurationError(
                f"ModelSet: every mode needs the same state dimension (got {sorted(dims)})"
            )

    @property
    def state_dim(self) -> int:
        """Dimension of the states of the set's modes."""
        return self.modes[0].state_dim

    def transition(self, dt: FloatArray) -> FloatArray:
        """Markov transition matrices for steps ``dt`` (N,), shape ``(N, r, r)``."""
        if len(self.modes) == 1:
            return np.ones((dt.shape[0], 1, 1))
        return markov_transition_matrix(self.mode_sojourn_s, dt)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerConfig:
    """How a node tracks.

    Every track runs an interacting multiple model (IMM) filter whose set of motion models
    depends on the track's category: a track starts unclassified, with a set that follows
    any threat (e.g. boost, ballistic and manoeuvring air modes), and switches to its
    category's set once classified: ballistic by speed or height, air-breathing
    otherwise. The switch starts every mode of the new set from the track's combined
    estimate.

    Attributes
    ----------
    model_sets : mapping of int to ModelSet
        The set of each :class:`~iamd.messages.truth.ThreatCategory` value; key ``0`` (the
        unclassified set) is required, and a category without a set uses it.
    associator : GnnAssociator or JpdaAssociator
        Association of detections to firm (confirmed and coasting) tracks; its gate
        probability also sets the gate. With JPDA, firm tracks are updated with every gated
        detection weighted by its association probability (IMM-JPDA); tentative tracks
        always take detections by global nearest neighbour (a JPDA over unconfirmed tracks
        would only blur their initiation).
    cued_mode_probabilities : tuple of float
        Mode probabilities of a track started on an infrared cue: such a track is a
        ballistic missile in boost, so it starts in the ballistic set (or the unclassified
        one if there is no ballistic set), weighted to its boost mode.
    lifecycle : LifecyclePolicy
        Confirmation, coasting and deletion rules.
    initial_speed_sigma_mps : float
        Standard deviation of each velocity component of a track initiated from a single
        detection, m/s: large enough to hold any threat's velocity (a one-point initiation
        with a vague velocity prior, [1]_ §3.2).
    cued_speed_sigma_mps : float
        The same for a track started on an infrared cue, m/s: a boosting ballistic missile
        may already fly at several km/s.
    initial_inverse_beta_m2_kg, initial_inverse_beta_sigma_m2_kg : float
        Prior mean and standard deviation of the inverse ballistic coefficient ``1/β`` of a
        new track, m²/kg, when the modes carry it (7-D states): it is unobservable above
        the atmosphere, so the prior must span the plausible re-entry vehicles. The
        defaults, 1e-4 ± 5e-5, span β from 6,700 to 20,000 kg/m² at one σ and keep the
        sigma points of the impact prediction away from negative drag.
    ballistic_speed_mps : float
        A confirmed track faster than this is classified ballistic (no aircraft or cruise
        missile of the scenarios flies at more than Mach 3), m/s.
    ballistic_altitude_m : float
        A confirmed track above this height is classified ballistic (air-breathing threats
        stay below it), m.
    air_speed_mps : float
        A confirmed, unclassified track slower than this (and below
        ``ballistic_altitude_m``) is classified air-breathing, m/s: a ballistic missile is
        faster within seconds of launch, and a track classified air that later becomes
        fast or high is reclassified ballistic.
    cruise_altitude_m : float
        An air-breathing track below this height is classified a cruise missile, above it
        an aircraft (a notional rule: sea-skimming and terrain-following flight), m.
    classify_speed_sigma_mps : float
        Classification waits until the velocity's standard deviation (per axis, RMS) is
        below this, m/s.
    cues : CuePolicy
        How space infrared detections become launch cues for the radars.
    impact_model : Ballistic
        The model that flies ballistic tracks to the ground for their predicted impact
        point (no process noise: the ellipse is the track's own uncertainty). With 7-D
        states it must estimate drag too, so the prediction uses the track's ``1/β``.
    impact_period_s : float
        A ballistic track's impact prediction is refreshed when it is reported and at least
        this long after the previous one, s (0: on every report).
    miss_memory_s : float
        A scan that gets no detection for a track counts a miss only if its radar detected
        that track within this time, s (or the track is new to every radar). A radar's
        field of regard often reaches far beyond where it can detect a small target: counting
        the misses of every radar whose field of regard holds the track would delete a
        track held by one long-range radar whenever short-range radars with fast revisits
        look the other way. Which radars can see a target is learnt from the detections,
        with no assumption about its radar cross section.

    References
    ----------
    .. [1] S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
       Artech House, 1999.
    """

    model_sets: Mapping[int, ModelSet]
    associator: GnnAssociator | JpdaAssociator
    cued_mode_probabilities: tuple[float, ...]
    lifecycle: LifecyclePolicy = field(default_factory=LifecyclePolicy)
    initial_speed_sigma_mps: float = 1_500.0
    cued_speed_sigma_mps: float = 3_000.0
    initial_inverse_beta_m2_kg: float = 1e-4
    initial_inverse_beta_sigma_m2_kg: float = 5e-5
    ballistic_speed_mps: float = 1_000.0
    ballistic_altitude_m: float = 30_000.0
    air_speed_mps: float = 400.0
    cruise_altitude_m: float = 1_500.0
    classify_speed_sigma_mps: float = 150.0
    cues: CuePolicy = field(default_factory=CuePolicy)
    impact_model: Ballistic = field(
        default_factory=lambda: Ballistic(acceleration_psd_m2_s3=0.0, max_step_s=2.0)
    )
    impact_period_s: float = 0.0
    miss_memory_s: float = 30.0

    def __post_init__(self) -> None:
        if 0 not in self.model_sets:
            raise ConfigurationError("TrackerConfig: model_sets needs the unclassified set (key 0)")
        known = {0, *(int(category) for category in ThreatCategory)}
        unknown = sorted(set(self.model_sets) - known)
        if unknown:
            raise ConfigurationError(
                f"TrackerConfig: model_sets keys must be 0 or ThreatCategory values (got {unknown})"
            )
        dims = {model_set.state_dim for model_set in self.model_sets.values()}
        if len(dims) != 1 or not dims <= {6, 7}:
            raise ConfigurationError(
                f"TrackerConfig: every model set needs the same state dimension, 6 or 7 "
                f"(got {sorted(dims)})"
            )
        if len(self.cued_mode_probabilities) != len(self.cued_set.modes):
            raise ConfigurationError(
                "TrackerConfig: cued_mode_probabilities needs one value per mode of the "
                "ballistic set"
            )
        if not np.isclose(sum(self.cued_mode_probabilities), 1.0):
            raise ConfigurationError("TrackerConfig: cued_mode_probabilities must sum to 1")
        if self.impact_model.state_dim != self.state_dim:
            raise ConfigurationError(
                f"TrackerConfig: impact_model works on {self.impact_model.state_dim}-D states, "
                f"the tracks are {self.state_dim}-D"
            )

    @property
    def state_dim(self) -> int:
        """Dimension of the track states: 6, or 7 when the modes carry ``1/β``."""
        return next(iter(self.model_sets.values())).state_dim

    @property
    def cued_set(self) -> ModelSet:
        """The model set of a track started on an infrared cue."""
        return self.model_sets.get(ThreatCategory.BALLISTIC_MISSILE, self.model_sets[0])

    @property
    def max_modes(self) -> int:
        """Number of modes of the largest set."""
        return max(len(model_set.modes) for model_set in self.model_sets.values())

    @property
    def gate_sigma(self) -> float:
        """Radius of the spatial pre-gate in standard deviations."""
        return float(np.sqrt(chi2_gate_threshold(self.associator.gate_probability, 3)))


class RadarTracker:
    """The local tracker of one node: its radars' scans, cued by its space infrared frames.

    Parameters
    ----------
    node : NationCode
        The node that owns the tracks.
    config : TrackerConfig
        Models and rules.
    """

    def __init__(self, node: NationCode, config: TrackerConfig) -> None:
        self.node = node
        self.config = config
        self._numbers = TrackNumberAllocator()
        # Distinct model sets, and the set of each category (a lookup table by value).
        self._sets: list[ModelSet] = []
        self._set_of_category = np.zeros(1 + max(ThreatCategory), np.int64)
        for category in range(self._set_of_category.size):
            model_set = config.model_sets.get(category, config.model_sets[0])
            index = next((i for i, known in enumerate(self._sets) if known is model_set), None)
            if index is None:
                index = len(self._sets)
                self._sets.append(model_set)
            self._set_of_category[category] = index
        # Mode probabilities of a track entering each set, padded to the widest set.
        self._entry_probability = np.zeros((len(self._sets), config.max_modes))
        for index, model_set in enumerate(self._sets):
            self._entry_probability[index, : len(model_set.modes)] = (
                model_set.initial_mode_probabilities
            )
        dim = config.state_dim
        self.number: IntArray = np.empty(0, np.int64)
        self.state: FloatArray = np.empty((0, dim))
        self.covariance: FloatArray = np.empty((0, dim, dim))
        self.time_s: FloatArray = np.empty(0)
        self.status: IntArray = np.empty(0, np.int64)
        self.history: IntArray = np.empty(0, np.int64)
        self.misses: IntArray = np.empty(0, np.int64)
        self.updated_at: FloatArray = np.empty(0)
        self.category: IntArray = np.empty(0, np.int64)
        modes = config.max_modes
        # Mode arrays are as wide as the largest set; a track of a smaller set leaves the
        # trailing modes unused, with probability 0.
        self.mode_state: FloatArray = np.empty((0, modes, dim))
        self.mode_covariance: FloatArray = np.empty((0, modes, dim, dim))
        self.mode_probability: FloatArray = np.empty((0, modes))
        self.impact: FloatArray = np.empty((0, _IMPACT_FIELDS))
        """Latest impact prediction: time, lat, lon, semi-major, semi-minor, orientation."""
        self.impact_at: FloatArray = np.empty(0)
        self.last_hit: FloatArray = np.empty((0, 0))
        """Time each radar (a column, see ``_radar_column``) last detected each track, s."""
        self._radar_column: dict[str, int] = {}
        # The χ² quantile costs a fraction of a millisecond: once per tracker, not per scan.
        self._gate = chi2_gate_threshold(config.associator.gate_probability, 3)
        self._gate_sigma = config.gate_sigma
        self._gnn = GnnAssociator(
            detection_probability=config.associator.detection_probability,
            gate_probability=config.associator.gate_probability,
            clutter_density=config.associator.clutter_density,
        )
        self._pda: tuple[IntArray, FloatArray, FloatArray] | None = None
        self.cues = InfraredCues(config.cues)
        self.detection_tracks: IntArray = np.empty(0, np.int64)
        """Track number each detection of the latest step went to: the track it updated (for
        JPDA, the track it was the most probable detection of) or started; 0 for a detection
        that did neither (shared by JPDA among tracks that each had a likelier one)."""

    def __len__(self) -> int:
        return int(self.number.size)

    def step(self, detections: Detections, coverage: Coverage) -> LocalTracks:
        """Process one batch; return the tracks it updated, started or ended.

        Parameters
        ----------
        detections : Detections
            One scan of one radar (:attr:`MeasurementKind.RADAR_RAE`), or one frame of a
            space infrared sensor (:attr:`MeasurementKind.LINE_OF_SIGHT`), which only feeds
            the launch cues; batches arrive in time order.
        coverage : callable
            The scanning radar's field of regard: tracks inside it that get no detection
            count a miss; tracks outside do not.

        Returns
        -------
        LocalTracks
            Rows for every track updated or initiated by this batch and every track whose
            status changed, with states at ``detections.valid_at``.
        """
        now = detections.valid_at
        if detections.kind == MeasurementKind.LINE_OF_SIGHT:
            self.cues.observe(
                now,
                detections.sensor_position_ecef_m,
                detections.measurements,
                detections.covariances,
            )
            self.detection_tracks = np.zeros(len(detections), np.int64)
            return self._report_rows(np.empty(0, np.int64), now)
        radar = RadarMeasurement(
            site_ecef_m=detections.sensor_position_ecef_m,
            site_lat_deg=detections.sensor_lat_deg,
            site_lon_deg=detections.sensor_lon_deg,
        )
        # Detections as ECEF points, once: the pre-gate and the initiation both need them.
        positions, position_covariances = radar.to_cartesian(
            detections.measurements, detections.covariances
        )
        self._predict(now)
        assigned = self._associate(detections, radar, positions, position_covariances)
        hit = assigned != UNASSIGNED
        self._update(hit, assigned, detections, radar, now)
        old_status = self.status.copy()
        expected = self._expected(detections.sensor, hit, coverage, now)
        self._manage(hit, expected, now)
        old_category = self.category.copy()
        self._classify()
        changed = np.flatnonzero(
            hit | (self.status != old_status) | (self.category != old_category)
        )
        first_new = len(self)
        unused = np.setdiff1d(np.arange(len(detections)), assigned[hit])
        self.detection_tracks = np.zeros(len(detections), np.int64)
        self.detection_tracks[assigned[hit]] = self.number[hit]
        self._initiate(
            positions[unused], position_covariances[unused], now, self._column(detections.sensor)
        )
        self.detection_tracks[unused] = self.number[first_new:]
        reported = np.concatenate([changed, np.arange(first_new, len(self))])
        self._predict_impacts(reported, now)
        report = self._report_rows(reported, now)
        self._forget_dropped()
        return report

    # The stages of a step, in order.

    def _predict(self, now: float) -> None:
        if len(self) == 0:
            return
        dt = now - self.time_s
        if np.any(dt < 0.0):
            raise ValueError("detections arrived out of time order")
        for model_set, rows in self._set_groups(np.arange(len(self))):
            r = len(model_set.modes)
            self._set_estimate(
                imm_predict(
                    self.mode_state[rows, :r],
                    self.mode_covariance[rows, :r],
                    self.mode_probability[rows, :r],
                    dt[rows],
                    model_set.modes,
                    model_set.transition(dt[rows]),
                ),
                rows,
            )
        self.time_s = np.full(len(self), now)

    def _set_groups(self, rows: IntArray) -> list[tuple[ModelSet, IntArray]]:
        """The given track rows grouped by their model set (non-empty groups only)."""
        of_row = self._set_of_category[self.category[rows]]
        return [
            (model_set, rows[of_row == index])
            for index, model_set in enumerate(self._sets)
            if np.any(of_row == index)
        ]

    def _estimate(self, rows: IntArray, modes: int) -> ImmEstimate:
        """The current IMM estimate of ``rows``, whose model set has ``modes`` modes."""
        return ImmEstimate(
            self.state[rows],
            self.covariance[rows],
            self.mode_state[rows, :modes],
            self.mode_covariance[rows, :modes],
            self.mode_probability[rows, :modes],
            np.zeros(rows.size),
        )

    def _set_estimate(self, estimate: ImmEstimate, rows: IntArray) -> None:
        r = estimate.mode_probabilities.shape[-1]
        self.state[rows] = estimate.state
        self.covariance[rows] = estimate.covariance
        self.mode_state[rows, :r] = estimate.mode_states
        self.mode_covariance[rows, :r] = estimate.mode_covariances
        self.mode_probability[rows, :r] = estimate.mode_probabilities

    def _enter_sets(self, rows: IntArray) -> None:
        """Start every mode of each row's model set from the row's combined estimate.

        ``rows`` are reclassified tracks; they take their new set's initial probabilities.
        """
        self.mode_state[rows] = self.state[rows, None, :]
        self.mode_covariance[rows] = self.covariance[rows, None, :, :]
        self.mode_probability[rows] = self._entry_probability[
            self._set_of_category[self.category[rows]]
        ]

    def _associate(
        self,
        detections: Detections,
        radar: RadarMeasurement,
        positions: FloatArray,
        position_covariances: FloatArray,
    ) -> IntArray:
        """Index of the detection assigned to each track, or ``UNASSIGNED``."""
        count = len(detections)
        assigned = np.full(len(self), UNASSIGNED, np.int64)
        if len(self) == 0 or count == 0:
            return assigned
        pairs = spatial_candidate_pairs(
            self.state[:, :3],
            self.covariance[:, :3, :3],
            positions,
            position_covariances,
            gate_sigma=self._gate_sigma,
        )
        if pairs.shape[0] == 0:
            return assigned
        tracks, columns = pairs[:, 0], pairs[:, 1]
        x, P = self.state[tracks], self.covariance[tracks]
        H = radar.jacobian(x)
        S = H @ P @ np.swapaxes(H, -1, -2) + detections.covariances[columns]
        innovation = radar.residual(detections.measurements[columns], radar.predict(x))
        d2, log_det = innovation_statistics(innovation, S)
        inside = d2 <= self._gate
        pairs, d2, log_det = pairs[inside], d2[inside], log_det[inside]
        # Two stages: firm (confirmed, coasting) tracks choose first, tentative tracks take
        # what is left. In one joint assignment a fresh tentative track on the same target
        # can win the detection from a firm track that has drifted, which then coasts on as
        # a false track while the new one confirms (seen against Stone Soup's tracker).
        taken = np.zeros(count, bool)
        firm = self.status != TrackStatus.TENTATIVE
        for stage, associator in ((firm, self.config.associator), (~firm, self._gnn)):
            use = stage[pairs[:, 0]] & ~taken[pairs[:, 1]]
            if not use.any():
                continue
            if isinstance(associator, JpdaAssociator):
                taken |= self._weigh(pairs[use], d2[use], log_det[use], associator, assigned, count)
                continue
            chosen = np.asarray(
                associator.associate(
                    pairs[use],
                    d2[use],
                    log_det[use],
                    shape=(len(self), count),
                    measurement_dim=3,
                ).row_to_col,
                np.int64,
            )
            won = chosen != UNASSIGNED
            assigned[won] = chosen[won]
            taken[chosen[won]] = True
        return assigned

    def _weigh(
        self,
        pairs: IntArray,
        d2: FloatArray,
        log_det: FloatArray,
        associator: JpdaAssociator,
        assigned: IntArray,
        count: int,
    ) -> BoolArray:
        """JPDA weights of the firm tracks' gated pairs, kept for :meth:`_update`.

        A track counts as detected (for its life cycle) when ``β₀ < ½``, with its most
        probable detection as the one it took; a detection is used up (starts no track)
        when its weights over the firm tracks sum to at least ½.
        """
        weights = associator.associate(
            pairs, d2, log_det, shape=(len(self), count), measurement_dim=3
        )
        self._pda = (pairs, weights.pair_weights, weights.missed_weights)
        # Most probable detection of each track: the last of its pairs sorted by weight.
        order = np.lexsort((weights.pair_weights, pairs[:, 0]))
        last = np.r_[pairs[order[1:], 0] != pairs[order[:-1], 0], True]
        best = order[last]
        detected = weights.missed_weights[pairs[best, 0]] < 0.5
        assigned[pairs[best[detected], 0]] = pairs[best[detected], 1]
        claimed = np.zeros(count)
        np.add.at(claimed, pairs[:, 1], weights.pair_weights)
        return claimed >= 0.5

    def _update(
        self,
        hit: BoolArray,
        assigned: IntArray,
        detections: Detections,
        radar: RadarMeasurement,
        now: float,
    ) -> None:
        pda_rows = np.empty(0, np.int64)
        if self._pda is not None:
            pda_rows = self._update_pda(detections, radar, *self._pda)
            self._pda = None
        rows = np.setdiff1d(np.flatnonzero(hit), pda_rows)
        for model_set, group in self._set_groups(rows):
            r = len(model_set.modes)
            columns = assigned[group]
            self._set_estimate(
                imm_update(
                    self._estimate(group, r),
                    detections.measurements[columns],
                    detections.covariances[columns],
                    radar,
                ),
                group,
            )
        self.updated_at[hit] = now

    def _update_pda(
        self,
        detections: Detections,
        radar: RadarMeasurement,
        pairs: IntArray,
        pair_weights: FloatArray,
        missed_weights: FloatArray,
    ) -> IntArray:
        """IMM-JPDA update of every firm track with gated detections; returns their rows."""
        associator = self.config.associator
        assert isinstance(associator, JpdaAssociator)  # only JPDA leaves weights
        rows = np.unique(pairs[:, 0])
        for model_set, group in self._set_groups(rows):
            r = len(model_set.modes)
            local = np.full(len(self), -1, np.int64)
            local[group] = np.arange(group.size)
            mine = local[pairs[:, 0]] >= 0
            self._set_estimate(
                imm_pda_update(
                    self._estimate(group, r),
                    np.column_stack([local[pairs[mine, 0]], pairs[mine, 1]]),
                    pair_weights[mine],
                    missed_weights[group],
                    detections.measurements,
                    detections.covariances,
                    radar,
                    detection_probability=associator.detection_probability,
                    gate_probability=associator.gate_probability,
                    clutter_density=associator.clutter_density,
                ),
                group,
            )
        return rows

    def _expected(self, sensor: str, hit: BoolArray, coverage: Coverage, now: float) -> BoolArray:
        """Tracks the scan should have detected: hit, or covered and detectable by the radar.

        Records the hits. A track counts as detectable by the radar if the radar detected it
        within ``miss_memory_s`` (a new track is detected by the radar that started it).
        """
        column = self._column(sensor)
        self.last_hit[hit, column] = now
        recent = now - self.last_hit[:, column] <= self.config.miss_memory_s
        return hit | (coverage(self.state[:, :3]) & recent)

    def _column(self, sensor: str) -> int:
        """Column of ``sensor`` in :attr:`last_hit`, added on its first scan."""
        column = self._radar_column.setdefault(sensor, len(self._radar_column))
        if column == self.last_hit.shape[1]:
            self.last_hit = np.hstack([self.last_hit, np.full((len(self), 1), -np.inf)])
        return column

    def _manage(self, hit: BoolArray, expected: BoolArray, now: float) -> None:
        if len(self) == 0:
            return
        new = advance(
            self.status,
            self.history,
            self.misses,
            self.updated_at,
            now_s=now,
            hit_mask=hit,
            expected_mask=expected,
            position_sigma_m=position_sigma_m(self.covariance[:, :3, :3]),
            policy=self.config.lifecycle,
        )
        self.status, self.history, self.misses = new.status, new.history, new.misses
        self.updated_at = new.last_update_s

    def _classify(self) -> None:
        """Classify confirmed tracks by speed and height, and switch their model sets.

        Only tracks whose velocity is known to ``classify_speed_sigma_mps`` are classified:
        a freshly started track's velocity is mostly its vague prior, and switching it to
        the ballistic model then would fly that prior. Ballistic is a lasting decision; an
        air-breathing track that becomes fast or high is reclassified ballistic (a missile
        classified in the first seconds of its boost), and it moves between aircraft and
        cruise missile with its height.
        """
        config = self.config
        speed_sigma = np.sqrt(np.trace(self.covariance[:, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
        ready = (
            (self.status == TrackStatus.CONFIRMED)
            & (speed_sigma < config.classify_speed_sigma_mps)
            & (self.category != ThreatCategory.BALLISTIC_MISSILE)
        )
        if not ready.any():
            return
        rows = np.flatnonzero(ready)
        speed = np.linalg.norm(self.state[rows, 3:6], axis=1)
        _, _, height = ecef_to_geodetic(self.state[rows, :3])
        ballistic = (speed > config.ballistic_speed_mps) | (height > config.ballistic_altitude_m)
        air = ~ballistic & ((speed < config.air_speed_mps) | (self.category[rows] != 0))
        new = self.category[rows].copy()
        new[ballistic] = ThreatCategory.BALLISTIC_MISSILE
        new[air] = np.where(
            height[air] < config.cruise_altitude_m,
            ThreatCategory.CRUISE_MISSILE,
            ThreatCategory.AIRCRAFT,
        )
        moved = self._set_of_category[new] != self._set_of_category[self.category[rows]]
        self.category[rows] = new
        if moved.any():
            self._enter_sets(rows[moved])

    def _initiate(
        self, positions: FloatArray, position_covariances: FloatArray, now: float, column: int
    ) -> None:
        """Start a tentative track on every detection no track took (given as ECEF points).

        ``column`` is the detecting radar's column of :attr:`last_hit`.
        """
        count = positions.shape[0]
        if count == 0:
            return
        config = self.config
        dim = config.state_dim
        state = np.zeros((count, dim))
        state[:, :3] = positions
        covariance = np.zeros((count, dim, dim))
        covariance[:, :3, :3] = position_covariances
        if dim == 7:
            state[:, 6] = config.initial_inverse_beta_m2_kg
            covariance[:, 6, 6] = config.initial_inverse_beta_sigma_m2_kg**2
        life = initiate(count, now)
        # A detection on a live infrared cue is the cued missile: confirmed at once (the
        # point of cueing), classified ballistic, with its IMM weighted to the boost mode.
        cued = self.cues.match(now, positions) >= 0
        speed_sigma = np.where(cued, config.cued_speed_sigma_mps, config.initial_speed_sigma_mps)
        covariance[:, 3:6, 3:6] = np.eye(3) * (speed_sigma**2)[:, None, None]
        life.status[cued] = TrackStatus.CONFIRMED
        life.history[cued] = (1 << config.lifecycle.confirm_hits) - 1
        category = np.where(cued, int(ThreatCategory.BALLISTIC_MISSILE), 0)
        modes = config.max_modes
        probability = self._entry_probability[self._set_of_category[category]]
        probability[cued, : len(config.cued_mode_probabilities)] = config.cued_mode_probabilities
        new = {
            # Every mode of the track's set starts from the one-point estimate.
            "mode_state": np.repeat(state[:, None, :], modes, axis=1),
            "mode_covariance": np.repeat(covariance[:, None, :, :], modes, axis=1),
            "mode_probability": probability,
            "impact": np.full((count, _IMPACT_FIELDS), np.nan),
            "impact_at": np.full(count, np.nan),
            "number": self._numbers.allocate(count),
            "state": state,
            "covariance": covariance,
            "time_s": np.full(count, now),
            "status": life.status,
            "history": life.history,
            "misses": life.misses,
            "updated_at": life.last_update_s,
            "category": category,
            "last_hit": np.full((count, self.last_hit.shape[1]), -np.inf),
        }
        new["last_hit"][:, column] = now
        for name in _TRACK_ARRAYS:
            setattr(self, name, np.concatenate([getattr(self, name), new[name]]))

    def _forget_dropped(self) -> None:
        keep = self.status != TrackStatus.DROPPED
        if keep.all():
            return
        for name in _TRACK_ARRAYS:
            setattr(self, name, getattr(self, name)[keep])

    def _predict_impacts(self, rows: IntArray, now: float) -> None:
        """Refresh the impact prediction of the ballistic tracks among ``rows``."""
        stale = ~(now - self.impact_at[rows] < self.config.impact_period_s)
        due = rows[(self.category[rows] == ThreatCategory.BALLISTIC_MISSILE) & stale]
        if due.size == 0:
            return
        prediction = predict_impact(
            self.state[due], self.covariance[due], self.config.impact_model, time_s=now
        )
        self.impact[due] = np.column_stack(
            [
                prediction.impact_time_s,
                prediction.impact_lat_deg,
                prediction.impact_lon_deg,
                prediction.ellipse_semi_major_m,
                prediction.ellipse_semi_minor_m,
                prediction.ellipse_orientation_deg,
            ]
        )
        self.impact_at[due] = now

    def _report_rows(self, rows: IntArray, now: float) -> LocalTracks:
        covariance = self.covariance[rows, :_STATE_DIM, :_STATE_DIM]
        return LocalTracks(
            node=self.node,
            valid_at=now,
            track_number=self.number[rows].copy(),
            status=self.status[rows].copy(),
            category=self.category[rows].copy(),
            state=self.state[rows, :_STATE_DIM].copy(),
            covariance=covariance.copy(),
            quality=track_quality(covariance, now - self.updated_at[rows]),
            updated_at=self.updated_at[rows].copy(),
            impact_time_s=self.impact[rows, 0],
            impact_lat_deg=self.impact[rows, 1],
            impact_lon_deg=self.impact[rows, 2],
            impact_semi_major_m=self.impact[rows, 3],
            impact_semi_minor_m=self.impact[rows, 4],
            impact_orientation_deg=self.impact[rows, 5],
        )
