"""Local tracking: motion and measurement models, filters, association, track life cycle."""

from iamd.tracking.association import AssociationWeights, GnnAssociator, JpdaAssociator
from iamd.tracking.base import KalmanUpdate, MeasurementModel, MotionModel
from iamd.tracking.composite import CompositeStatistics, CompositeTracker
from iamd.tracking.cueing import CuePolicy, InfraredCues
from iamd.tracking.imm import (
    ImmEstimate,
    imm_pda_update,
    imm_predict,
    imm_update,
    markov_transition_matrix,
)
from iamd.tracking.impact import (
    ImpactPrediction,
    ImpactStatus,
    LaunchEstimate,
    error_ellipse,
    estimate_launch,
    predict_impact,
    predict_impact_linearised,
)
from iamd.tracking.kalman import ekf_predict, ekf_update, innovation_log_likelihood
from iamd.tracking.lifecycle import (
    LifecyclePolicy,
    LifecycleState,
    TrackNumberAllocator,
    advance,
    initiate,
)
from iamd.tracking.measurement import (
    LineOfSightMeasurement,
    PositionMeasurement,
    RadarMeasurement,
    wrap_angle,
)
from iamd.tracking.motion import Augmented, Ballistic, CoordinatedTurn, NearlyConstantVelocity
from iamd.tracking.quality import position_error_radius_95_m, position_sigma_m, track_quality
from iamd.tracking.tracker import Coverage, ModelSet, RadarTracker, TrackerConfig
from iamd.tracking.unscented import SigmaPointParameters, sigma_points, ukf_predict, ukf_update

__all__: list[str] = [
    "AssociationWeights",
    "Augmented",
    "Ballistic",
    "CompositeStatistics",
    "CompositeTracker",
    "CoordinatedTurn",
    "Coverage",
    "CuePolicy",
    "GnnAssociator",
    "ImmEstimate",
    "ImpactPrediction",
    "ImpactStatus",
    "InfraredCues",
    "JpdaAssociator",
    "KalmanUpdate",
    "LaunchEstimate",
    "LifecyclePolicy",
    "LifecycleState",
    "LineOfSightMeasurement",
    "MeasurementModel",
    "ModelSet",
    "MotionModel",
    "NearlyConstantVelocity",
    "PositionMeasurement",
    "RadarMeasurement",
    "RadarTracker",
    "SigmaPointParameters",
    "TrackNumberAllocator",
    "TrackerConfig",
    "advance",
    "ekf_predict",
    "ekf_update",
    "error_ellipse",
    "estimate_launch",
    "imm_pda_update",
    "imm_predict",
    "imm_update",
    "initiate",
    "innovation_log_likelihood",
    "markov_transition_matrix",
    "position_error_radius_95_m",
    "position_sigma_m",
    "predict_impact",
    "predict_impact_linearised",
    "sigma_points",
    "track_quality",
    "ukf_predict",
    "ukf_update",
    "wrap_angle",
]
