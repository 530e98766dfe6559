"""Errors, identifiers, random streams and registries shared by every layer."""

from iamd.core.errors import (
    ConfigurationError,
    IamdError,
    RecordingError,
    RegistryError,
    ScenarioError,
    ScenarioIssue,
)
from iamd.core.ids import AssetId, NationCode, SensorId, ShooterId, SiteId, ThreatId
from iamd.core.random import RandomStreams
from iamd.core.registry import Registry

__all__ = [
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
]
