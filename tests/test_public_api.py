"""Pin the public API of every subpackage: a change here is a deliberate API change."""

import importlib

import pytest

PUBLIC = {
    "iamd.core": {
        "AssetId",
        "ConfigurationError",
        "IamdError",
        "NationCode",
        "RandomStreams",
        "RecordingError",
        "Registry",
        "RegistryError",
        "ScenarioError",
        "ScenarioIssue",
        "SensorId",
        "ShooterId",
        "SiteId",
        "ThreatId",
    },
    "iamd.messages": {
        "Detections",
        "LocalTracks",
        "MeasurementKind",
        "PlatformState",
        "ThreatCategory",
        "ThreatPhase",
        "TrackStatus",
        "TruthState",
    },
    "iamd.record": {"FORMAT_VERSION", "TABLES", "Recording", "RecordingWriter", "TableWriter"},
    "iamd.metrics": {
        "AlignedPicture",
        "AssociationRule",
        "DetectionSummary",
        "GospaDecomposition",
        "GospaSeries",
        "NationFigures",
        "SensorFigures",
        "SiapFigures",
        "TimeAlignment",
        "TrackingFigures",
        "TruthAssociation",
        "align_picture",
        "associate_truth",
        "detection_summary",
        "gospa",
        "gospa_series",
        "gospa_steps",
        "hold_associations",
        "nearest_truth",
        "ospa",
        "ospa_steps",
        "picture_gospa",
        "sample_tracks",
        "siap_figures",
        "tracking_summaries",
        "tracking_summary",
    },
    "iamd.sim": {
        "Assembly",
        "EventKernel",
        "RunOptions",
        "RunResult",
        "SensorSetup",
        "build",
        "build_truth",
        "run_scenario",
        "summarise",
    },
    "iamd.tracking": {
        "AssociationWeights",
        "Ballistic",
        "CoordinatedTurn",
        "Coverage",
        "GnnAssociator",
        "ImmEstimate",
        "JpdaAssociator",
        "KalmanUpdate",
        "LifecyclePolicy",
        "LifecycleState",
        "LineOfSightMeasurement",
        "MeasurementModel",
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
        "imm_predict",
        "imm_update",
        "initiate",
        "innovation_log_likelihood",
        "markov_transition_matrix",
        "position_error_radius_95_m",
        "position_sigma_m",
        "sigma_points",
        "track_quality",
        "ukf_predict",
        "ukf_update",
        "wrap_angle",
    },
    "iamd.cli": {"app", "main"},
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module: str) -> None:
    assert set(importlib.import_module(module).__all__) == PUBLIC[module]


@pytest.mark.parametrize(
    "module",
    [
        "iamd.core",
        "iamd.geo",
        "iamd.messages",
        "iamd.world",
        "iamd.sensors",
        "iamd.tracking",
        "iamd.scenario",
        "iamd.record",
        "iamd.metrics",
        "iamd.sim",
        "iamd.cli",
    ],
)
def test_every_exported_name_exists(module: str) -> None:
    package = importlib.import_module(module)
    for name in package.__all__:
        assert hasattr(package, name), f"{module}.{name}"
