"""Immutable records that flow between the stages, and their closed vocabularies."""

from iamd.messages.detections import Detections, MeasurementKind
from iamd.messages.picture import ReportsDue, SystemTracks
from iamd.messages.reports import (
    MAX_NATIONS,
    Caveat,
    Classification,
    EngagementState,
    EngagementStatuses,
    LabelArrays,
    MeasurementReports,
    MissileWarnings,
    ReleasabilityLabel,
    TrackReports,
    label_arrays,
    rel_to_codes,
    rel_to_mask,
)
from iamd.messages.tracks import LocalTracks, TrackStatus
from iamd.messages.truth import PlatformState, ThreatCategory, ThreatPhase, TruthState

__all__ = [
    "MAX_NATIONS",
    "Caveat",
    "Classification",
    "Detections",
    "EngagementState",
    "EngagementStatuses",
    "LabelArrays",
    "LocalTracks",
    "MeasurementKind",
    "MeasurementReports",
    "MissileWarnings",
    "PlatformState",
    "ReleasabilityLabel",
    "ReportsDue",
    "SystemTracks",
    "ThreatCategory",
    "ThreatPhase",
    "TrackReports",
    "TrackStatus",
    "TruthState",
    "label_arrays",
    "rel_to_codes",
    "rel_to_mask",
]
