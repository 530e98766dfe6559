"""Figures of merit computed from a recording (never from live objects).

Definitions of every figure: ``docs/metrics.md``.
"""

from iamd.metrics.association import (
    AssociationRule,
    TruthAssociation,
    associate_truth,
    hold_associations,
    nearest_truth,
)
from iamd.metrics.detection import (
    DetectionSummary,
    NationFigures,
    SensorFigures,
    detection_summary,
)
from iamd.metrics.gospa import (
    GospaDecomposition,
    GospaSeries,
    gospa,
    gospa_series,
    gospa_steps,
    ospa,
    ospa_steps,
    picture_gospa,
)
from iamd.metrics.picture import AlignedPicture, TimeAlignment, align_picture, sample_tracks
from iamd.metrics.siap import SiapFigures, siap_figures
from iamd.metrics.tracking import TrackingFigures, tracking_summaries, tracking_summary

__all__ = [
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
]
