"""Synthetic radar scans of constant-velocity targets, and iamd's tracker run over them.

One all-round radar at a site in Japan watches a 120° sector centred on north. Targets fly
straight and level in the site's East-North-Up (ENU) frame at 150–300 m/s, 100–250 km out,
5–15 km above the tangent plane; a third are born over the first third of the run and a
quarter die in the last third, so track initiation and deletion both count. Each scan
detects every live target with probability ``P_D`` and adds Poisson clutter spread uniformly
over the sector in range, azimuth and elevation.

The truth moves on straight lines in ENU, hence on straight lines in ECEF too (the frames
differ by a rotation and a translation): a constant-velocity tracker is exactly matched in
either frame, so a tracker in ECEF (ours) and one in the site's ENU (Stone Soup's) face the
same problem. Measurements are computed from the ENU truth in our radar convention
(:attr:`iamd.messages.MeasurementKind.RADAR_RAE`: range; azimuth clockwise from north in
[0, 2π); elevation).

Used by ``bench/tracker_vs_stonesoup.py`` and ``tests/tracking/test_vs_stonesoup.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from iamd.core import NationCode, SensorId
from iamd.core.typing import FloatArray, IntArray
from iamd.geo import ecef_to_enu_matrix, geodetic_to_ecef
from iamd.messages import Detections, MeasurementKind, TrackStatus
from iamd.metrics.gospa import DEFAULT_CUTOFF_M, DEFAULT_ORDER, GospaSeries, gospa_steps
from iamd.tracking import (
    GnnAssociator,
    LifecyclePolicy,
    ModelSet,
    NearlyConstantVelocity,
    RadarTracker,
    TrackerConfig,
)

SITE_LAT_DEG, SITE_LON_DEG, SITE_ALT_M = 35.0, 135.0, 50.0
SITE_ECEF_M = geodetic_to_ecef(SITE_LAT_DEG, SITE_LON_DEG, SITE_ALT_M)
ECEF_TO_ENU = ecef_to_enu_matrix(SITE_LAT_DEG, SITE_LON_DEG)
"""Rows: the site's East, North and Up unit vectors in ECEF."""

SIGMA = np.array([30.0, 1e-3, 1e-3])
"""Measurement noise σ: range (m), azimuth (rad), elevation (rad)."""
SCAN_PERIOD_S = 2.0
DETECTION_PROBABILITY = 0.9
SECTOR_HALF_WIDTH_RAD = np.radians(60.0)
"""Half-width of the watched sector about north; clutter fills it, targets start inside
±50° and cannot reach the sector's back (the bearing wrap of Stone Soup's frame) in 200 s."""
CLUTTER_RANGE_M = (50e3, 300e3)
CLUTTER_ELEVATION_RAD = (-0.02, 0.16)

# The tuning both trackers share.
ACCELERATION_PSD_M2_S3 = 1.0
"""White-noise acceleration q of the constant-velocity model: the truth has none, so only
a small allowance for modelling slack."""
GATE_PROBABILITY = 0.999
INITIAL_SPEED_SIGMA_MPS = 300.0
"""σ of each velocity component of a one-point track: covers the scene's 300 m/s ceiling
without a gate so wide that every tentative track sweeps up clutter."""
CONFIRM_HITS = 3
"""Hits, the initiating detection included, that confirm a track (ours: 3 of the last 5
scans; Stone Soup's multi-measurement initiator: 3 updates, and with a tentative track
dropped after 2 consecutive misses the two rules confirm and drop the same tracks)."""
TENTATIVE_MAX_MISSES = 2
MAX_MISSES = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class RadarScene:
    """Scans of one radar and the truth they came from.

    Attributes
    ----------
    times_s : ndarray, shape (K,)
        Scan times, s.
    scans : list of Detections
        One batch per scan (rows shuffled; ``truth_index`` for analysis only).
    truth_step : ndarray of int, shape (R,)
        Scan index of each truth row, non-decreasing.
    truth_ecef_m : ndarray, shape (R, 3)
        True positions, ECEF, m.
    truth_enu_m : ndarray, shape (R, 3)
        The same positions in the site's ENU frame, m.
    clutter_density : float
        Mean false alarms per unit measurement volume, per m·rad².
    targets : int
        Number of targets over the run.
    """

    times_s: FloatArray
    scans: list[Detections]
    truth_step: IntArray
    truth_ecef_m: FloatArray
    truth_enu_m: FloatArray
    clutter_density: float
    targets: int

    @property
    def detection_count(self) -> int:
        """Detections over all scans, target returns and clutter."""
        return sum(len(scan) for scan in self.scans)


def enu_to_ecef(enu_m: FloatArray) -> FloatArray:
    """Site ENU positions ``(..., 3)`` to ECEF, m."""
    return np.asarray(SITE_ECEF_M + np.asarray(enu_m) @ ECEF_TO_ENU)


def _radar_rae(enu_m: FloatArray) -> FloatArray:
    """Range, azimuth (clockwise from north, [0, 2π)), elevation of ENU positions."""
    east, north, up = enu_m[:, 0], enu_m[:, 1], enu_m[:, 2]
    slant = np.linalg.norm(enu_m, axis=1)
    azimuth = np.arctan2(east, north) % (2.0 * np.pi)
    return np.column_stack([slant, azimuth, np.arcsin(up / slant)])


def make_scene(
    targets: int,
    scans: int,
    *,
    seed: int,
    clutter_per_scan: float | None = None,
    detection_probability: float = DETECTION_PROBABILITY,
) -> RadarScene:
    """Draw a scene: truth, then each scan's detections and clutter.

    Parameters
    ----------
    targets : int
        Number of targets.
    scans : int
        Number of scans, ``SCAN_PERIOD_S`` apart, from t = 0.
    seed : int
        Seed of the scene's random stream (the same seed gives the same scene).
    clutter_per_scan : float, optional
        Mean of the Poisson number of false alarms per scan; ``0.5 · targets`` by default.
    detection_probability : float
        Probability that a scan detects a live target.

    Returns
    -------
    RadarScene
    """
    rng = np.random.default_rng(seed)
    clutter_mean = 0.5 * targets if clutter_per_scan is None else clutter_per_scan
    times = SCAN_PERIOD_S * np.arange(scans)
    born = np.where(rng.random(targets) < 1 / 3, rng.integers(0, max(1, scans // 3), targets), 0)
    dies = np.where(
        rng.random(targets) < 1 / 4, rng.integers(2 * scans // 3, scans, targets), scans
    )
    ground_range = rng.uniform(100e3, 250e3, targets)
    bearing = rng.uniform(-np.radians(50.0), np.radians(50.0), targets)
    start = np.column_stack(
        [
            ground_range * np.sin(bearing),
            ground_range * np.cos(bearing),
            rng.uniform(5e3, 15e3, targets),
        ]
    )
    speed = rng.uniform(150.0, 300.0, targets)
    heading = rng.uniform(0.0, 2.0 * np.pi, targets)
    velocity = np.column_stack(
        [speed * np.sin(heading), speed * np.cos(heading), np.zeros(targets)]
    )
    sector_volume = (
        (CLUTTER_RANGE_M[1] - CLUTTER_RANGE_M[0])
        * 2.0
        * SECTOR_HALF_WIDTH_RAD
        * (CLUTTER_ELEVATION_RAD[1] - CLUTTER_ELEVATION_RAD[0])
    )
    batches: list[Detections] = []
    truth_step: list[IntArray] = []
    truth_enu: list[FloatArray] = []
    for step, now in enumerate(times):
        alive = np.flatnonzero((born <= step) & (step < dies))
        enu = start[alive] + velocity[alive] * (now - times[born[alive]])[:, None]
        truth_step.append(np.full(alive.size, step))
        truth_enu.append(enu)
        seen = rng.random(alive.size) < detection_probability
        returns = _radar_rae(enu[seen]) + rng.standard_normal((int(seen.sum()), 3)) * SIGMA
        returns[:, 1] %= 2.0 * np.pi
        false = int(rng.poisson(clutter_mean))
        clutter = np.column_stack(
            [
                rng.uniform(*CLUTTER_RANGE_M, false),
                rng.uniform(-SECTOR_HALF_WIDTH_RAD, SECTOR_HALF_WIDTH_RAD, false) % (2 * np.pi),
                rng.uniform(*CLUTTER_ELEVATION_RAD, false),
            ]
        )
        rows = np.concatenate([returns, clutter])
        origin = np.concatenate([alive[seen], np.full(false, -1)])
        # Shuffled so that neither tracker can lean on the order of the rows.
        order = rng.permutation(rows.shape[0])
        count = rows.shape[0]
        batches.append(
            Detections(
                sensor=SensorId("R1"),
                nation=NationCode("BLU"),
                kind=MeasurementKind.RADAR_RAE,
                valid_at=float(now),
                sensor_position_ecef_m=SITE_ECEF_M,
                sensor_lat_deg=SITE_LAT_DEG,
                sensor_lon_deg=SITE_LON_DEG,
                measurements=rows[order],
                covariances=np.tile(np.diag(SIGMA**2), (count, 1, 1)),
                truth_index=origin[order],
                snr_db=np.full(count, np.nan),
            )
        )
    enu_all = np.concatenate(truth_enu)
    return RadarScene(
        times_s=times,
        scans=batches,
        truth_step=np.concatenate(truth_step),
        truth_ecef_m=enu_to_ecef(enu_all),
        truth_enu_m=enu_all,
        clutter_density=clutter_mean / sector_volume,
        targets=targets,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerRun:
    """Confirmed track positions after every scan, and the CPU time the tracker took.

    Attributes
    ----------
    track_step : ndarray of int, shape (Q,)
        Scan index of each track row, non-decreasing.
    track_ecef_m : ndarray, shape (Q, 3)
        Position of every confirmed track at its scan's time, ECEF, m.
    cpu_s : float
        Process CPU time inside the tracker's per-scan calls only (building inputs and
        reading tracks out are not counted), s.
    """

    track_step: IntArray
    track_ecef_m: FloatArray
    cpu_s: float


def iamd_config(scene: RadarScene) -> TrackerConfig:
    """Our tracker with the shared tuning and the scene's clutter density.

    One model set of a single constant-velocity mode for every category: the node tracker's
    IMM then is exactly the EKF Stone Soup runs, and the comparison is of like with like
    (the scene has only constant-velocity targets).
    """
    motion = NearlyConstantVelocity(acceleration_psd_m2_s3=ACCELERATION_PSD_M2_S3)
    single = ModelSet(modes=(motion,), mode_sojourn_s=(60.0,), initial_mode_probabilities=(1.0,))
    return TrackerConfig(
        model_sets={0: single},
        cued_mode_probabilities=(1.0,),
        associator=GnnAssociator(
            detection_probability=DETECTION_PROBABILITY,
            gate_probability=GATE_PROBABILITY,
            clutter_density=scene.clutter_density,
        ),
        lifecycle=LifecyclePolicy(
            confirm_hits=CONFIRM_HITS,
            confirm_window=5,
            max_misses=MAX_MISSES,
            tentative_max_misses=TENTATIVE_MAX_MISSES,
        ),
        initial_speed_sigma_mps=INITIAL_SPEED_SIGMA_MPS,
    )


def _everywhere(positions: FloatArray) -> np.ndarray:
    # Every track stays inside this radar's field of regard, so every scan expects it.
    return np.ones(len(positions), bool)


def run_iamd(scene: RadarScene, config: TrackerConfig | None = None) -> TrackerRun:
    """Run :class:`iamd.tracking.RadarTracker` over the scene's scans.

    Confirmed and coasting tracks are the node's firm picture (a coasting track is a
    confirmed one that missed its latest expected detection), the counterpart of every
    track Stone Soup's tracker holds after its initiator released it.
    """
    tracker = RadarTracker(NationCode("BLU"), config or iamd_config(scene))
    firm = np.array([TrackStatus.CONFIRMED, TrackStatus.COASTING])
    steps: list[IntArray] = []
    positions: list[FloatArray] = []
    cpu = 0.0
    for step, scan in enumerate(scene.scans):
        start = time.process_time()
        tracker.step(scan, _everywhere)
        cpu += time.process_time() - start
        shown = np.isin(tracker.status, firm)
        positions.append(tracker.state[shown, :3].copy())
        steps.append(np.full(int(shown.sum()), step))
    return TrackerRun(
        track_step=np.concatenate(steps),
        track_ecef_m=np.concatenate(positions),
        cpu_s=cpu,
    )


def score(
    scene: RadarScene,
    run: TrackerRun,
    *,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    order: float = DEFAULT_ORDER,
) -> GospaSeries:
    """GOSPA of a run's confirmed tracks against the truth at every scan (α = 2)."""
    return gospa_steps(
        scene.times_s,
        scene.truth_step,
        scene.truth_ecef_m,
        run.track_step,
        run.track_ecef_m,
        cutoff_m=cutoff_m,
        order=order,
    )
