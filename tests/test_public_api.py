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
        "MeasurementKind",
        "PlatformState",
        "ThreatCategory",
        "ThreatPhase",
        "TruthState",
    },
    "iamd.record": {"FORMAT_VERSION", "TABLES", "Recording", "RecordingWriter", "TableWriter"},
    "iamd.metrics": {"DetectionSummary", "NationFigures", "SensorFigures", "detection_summary"},
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
