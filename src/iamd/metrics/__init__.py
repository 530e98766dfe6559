"""Figures of merit computed from a recording (never from live objects)."""

from iamd.metrics.detection import (
    DetectionSummary,
    NationFigures,
    SensorFigures,
    detection_summary,
)

__all__ = ["DetectionSummary", "NationFigures", "SensorFigures", "detection_summary"]
