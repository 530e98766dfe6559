"""Stone Soup's GNN tracker, tuned like ours, as the reference peer on a :class:`RadarScene`.

Stone Soup runs in the radar site's East-North-Up frame with the radar at the origin (state
``[x, ẋ, y, ẏ, z, ż]`` = east, north, up); its tracks are rotated back to ECEF for scoring.
Its ``CartesianToElevationBearingRange`` measures ``(elevation, bearing, range)`` with the
bearing counter-clockwise from its x axis (east), so our azimuth (clockwise from north)
maps to ``bearing = π/2 − azimuth``; elevation and range are the same.

The pipeline is the textbook one: ``MultiTargetTracker`` with an EKF
(``ExtendedKalmanPredictor`` / ``ExtendedKalmanUpdater``, Joseph form like ours),
``DistanceHypothesiser`` with the Mahalanobis distance gated at the same χ² probability as
ours, ``GNNWith2DAssignment`` (or its k-d tree pre-gated form ``DetectionKDTreeGNN2D``), a
``MultiMeasurementInitiator`` confirming on the third update, and ``UpdateTimeStepsDeleter``
for tentative (2 misses) and confirmed (5 misses) tracks.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import numpy as np
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import ExtendedKalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.angle import Bearing, Elevation
from stonesoup.types.array import StateVector
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import ExtendedKalmanUpdater

from iamd.core.gating import chi2_gate_threshold
from radar_scenes import (
    ACCELERATION_PSD_M2_S3,
    CONFIRM_HITS,
    GATE_PROBABILITY,
    INITIAL_SPEED_SIGMA_MPS,
    MAX_MISSES,
    SIGMA,
    TENTATIVE_MAX_MISSES,
    RadarScene,
    TrackerRun,
    enu_to_ecef,
)

EPOCH = datetime.datetime(2030, 1, 1)
POSITION_INDEX = [0, 2, 4]


class AnalyticElevationBearingRange(CartesianToElevationBearingRange):
    """Stone Soup's radar model with an analytic Jacobian of its own function.

    Stone Soup 1.9.1 differentiates this model by forward differences with a step
    ``1e8·spacing(x)`` that collapses to 1e-8 m for negative coordinates (``np.spacing`` is
    negative there): at 60–200 km that puts 0.05–1.4 % errors in the Jacobian's entries
    (measured), and half this scene lies west of the radar (negative x). Only this method
    is replaced; it also spares Stone Soup a model call on seven perturbed states per
    Jacobian, which makes the peer faster, not slower. The matrix is the one
    ``tests/tracking/test_kalman.py`` checks against Stone Soup's own.
    """

    def jacobian(self, state: Any, **kwargs: object) -> np.ndarray:
        d = self.rotation_matrix @ (
            np.asarray(state.state_vector, float)[list(self.mapping)] - self.translation_offset
        )
        x, y, z = (float(v) for v in np.ravel(d))
        rho2 = x * x + y * y
        rho = np.sqrt(rho2)
        r2 = rho2 + z * z
        r = np.sqrt(r2)
        local = np.array(
            [
                [-x * z / (r2 * rho), -y * z / (r2 * rho), rho / r2],
                [-y / rho2, x / rho2, 0.0],
                [x / r, y / r, z / r],
            ]
        )
        jac = np.zeros((3, self.ndim_state))
        jac[:, list(self.mapping)] = local @ self.rotation_matrix
        return jac


def measurement_model() -> AnalyticElevationBearingRange:
    """The radar at the origin of the site's ENU frame, noise in Stone Soup's order."""
    return AnalyticElevationBearingRange(
        ndim_state=6,
        mapping=tuple(POSITION_INDEX),
        noise_covar=np.diag([SIGMA[2] ** 2, SIGMA[1] ** 2, SIGMA[0] ** 2]),
    )


def stonesoup_detections(
    scene: RadarScene, model: CartesianToElevationBearingRange
) -> list[tuple[datetime.datetime, set[Detection]]]:
    """The scene's scans as Stone Soup detections (built once, outside any timing)."""
    out = []
    for scan in scene.scans:
        stamp = EPOCH + datetime.timedelta(seconds=scan.valid_at)
        detections = set()
        for slant, azimuth, elevation in scan.measurements:
            vector = StateVector([[Elevation(elevation)], [Bearing(np.pi / 2 - azimuth)], [slant]])
            detections.add(Detection(vector, timestamp=stamp, measurement_model=model))
        out.append((stamp, detections))
    return out


def stonesoup_tracker(
    model: CartesianToElevationBearingRange, *, kd_tree: bool
) -> MultiTargetTracker:
    """Stone Soup's GNN tracker with the scene's shared tuning.

    Parameters
    ----------
    model : CartesianToElevationBearingRange
        The radar's measurement model (the detections carry it too).
    kd_tree : bool
        Pre-gate with ``DetectionKDTreeGNN2D`` instead of hypothesising every detection.
    """
    transition = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(ACCELERATION_PSD_M2_S3)] * 3
    )
    predictor = ExtendedKalmanPredictor(transition)
    updater = ExtendedKalmanUpdater(model, use_joseph_cov=True)
    gate = float(np.sqrt(chi2_gate_threshold(GATE_PROBABILITY, 3)))
    hypothesiser = DistanceHypothesiser(
        predictor, updater, measure=Mahalanobis(), missed_distance=gate
    )

    def associator() -> GNNWith2DAssignment:
        if not kd_tree:
            return GNNWith2DAssignment(hypothesiser)
        # The tree holds (elevation, bearing, range) and searches a Euclidean ball of radius
        # multiplier × (largest variance on the diagonal of S). That variance is the range
        # one, ≥ σ_r², and the χ² gate d² ≤ γ implies ‖Δ‖ ≤ sqrt(γ·tr S) ≤ sqrt(3γ·max S_ii),
        # so multiplier = sqrt(3γ)/σ_r makes the ball contain every pair the gate passes:
        # the tree only saves work, it never changes an association.
        return DetectionKDTreeGNN2D(
            hypothesiser,
            predictor,
            updater,
            max_distance_covariance_multiplier=float(np.sqrt(3.0) * gate / SIGMA[0]),
        )

    prior = GaussianState(
        StateVector(np.zeros(6)),
        np.diag([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]) * INITIAL_SPEED_SIGMA_MPS**2,
    )
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        measurement_model=model,
        deleter=UpdateTimeStepsDeleter(TENTATIVE_MAX_MISSES),
        data_associator=associator(),
        updater=updater,
        min_points=CONFIRM_HITS,
    )
    return MultiTargetTracker(
        initiator=initiator,
        deleter=UpdateTimeStepsDeleter(MAX_MISSES),
        detector=None,
        data_associator=associator(),
        updater=updater,
    )


def run_stonesoup(scene: RadarScene, *, kd_tree: bool) -> TrackerRun:
    """Run Stone Soup's GNN tracker over the scene; positions back in ECEF for scoring."""
    model = measurement_model()
    scans = stonesoup_detections(scene, model)
    tracker = stonesoup_tracker(model, kd_tree=kd_tree)
    steps: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    cpu = 0.0
    for step, (stamp, detections) in enumerate(scans):
        start = time.process_time()
        _, tracks = tracker.update_tracker(stamp, detections)
        cpu += time.process_time() - start
        enu = np.array(
            [np.asarray(track.state_vector, float)[POSITION_INDEX, 0] for track in tracks]
        ).reshape(-1, 3)
        positions.append(enu_to_ecef(enu))
        steps.append(np.full(enu.shape[0], step))
    return TrackerRun(
        track_step=np.concatenate(steps),
        track_ecef_m=np.concatenate(positions),
        cpu_s=cpu,
    )
