"""Immutable records that flow between the stages, and their closed vocabularies."""

from iamd.messages.detections import Detections, MeasurementKind
from iamd.messages.tracks import LocalTracks, TrackStatus
from iamd.messages.truth import PlatformState, ThreatCategory, ThreatPhase, TruthState

__all__ = [
    "Detections",
    "LocalTracks",
    "MeasurementKind",
    "PlatformState",
    "ThreatCategory",
    "ThreatPhase",
    "TrackStatus",
    "TruthState",
]
