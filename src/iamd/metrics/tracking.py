"""Tracking figures of one node's picture, computed from the recording's tables.

The entry point for summaries and reports: the ``truth`` and ``local_tracks`` tables in,
SIAP attributes and mean GOSPA of one node out. Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iamd.metrics.association import AssociationRule, associate_truth
from iamd.metrics.gospa import DEFAULT_CUTOFF_M, DEFAULT_ORDER, picture_gospa
from iamd.metrics.picture import TimeAlignment, align_picture
from iamd.metrics.siap import SiapFigures, siap_figures


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingFigures:
    """How well one node's picture matches the truth over a run."""

    node: str
    """The node whose picture was assessed."""
    assessment_times: int
    """Assessment times at which a threat or a track of the node was present."""
    siap: SiapFigures
    """SIAP attributes of the picture."""
    mean_gospa_m: float | None
    """Mean GOSPA over the assessment times, m (None: no assessment time)."""
    mean_gospa_localisation: float | None
    """Mean localisation part of GOSPA, m^p."""
    mean_gospa_missed: float | None
    """Mean missed-target part of GOSPA, m^p."""
    mean_gospa_false: float | None
    """Mean false-track part of GOSPA, m^p."""
    gospa_cutoff_m: float
    """GOSPA cut-off ``c`` used, m."""
    gospa_order: float
    """GOSPA order ``p`` used."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (SIAP attributes nested under ``siap``)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["siap"] = self.siap.to_dict()
        return out


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if values.size else None


def tracking_summary(
    truth: pa.Table,
    tracks: pa.Table,
    node: str,
    *,
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
    gospa_cutoff_m: float = DEFAULT_CUTOFF_M,
    gospa_order: float = DEFAULT_ORDER,
) -> TrackingFigures:
    """SIAP attributes and mean GOSPA of one node's picture.

    Parameters
    ----------
    truth : pyarrow.Table
        The recording's ``truth`` table (ECEF states of threats in flight, every Δ s).
    tracks : pyarrow.Table
        The ``local_tracks`` table (ECEF track states at their update times, all nodes).
    node : str
        The node whose picture is assessed.
    alignment : TimeAlignment, optional
        Age limit, counted statuses and truth period (default :class:`TimeAlignment()`:
        10 s, confirmed and coasting tracks, period inferred).
    association : AssociationRule, optional
        Truth-to-track association (default :class:`AssociationRule()`: 5 km, 3 steps to
        start, 2 misses to end).
    gospa_cutoff_m, gospa_order : float
        GOSPA cut-off ``c`` (m, default 5 km) and order ``p`` (default 1).

    Returns
    -------
    TrackingFigures
        The node's SIAP attributes and mean GOSPA with its decomposition.
    """
    picture = align_picture(truth, tracks, node, alignment=alignment)
    series = picture_gospa(picture, cutoff_m=gospa_cutoff_m, order=gospa_order)
    figures = siap_figures(picture, associate_truth(picture, association))
    return TrackingFigures(
        node=node,
        assessment_times=int(picture.times_s.size),
        siap=figures,
        mean_gospa_m=_mean(series.distance_m),
        mean_gospa_localisation=_mean(series.localisation),
        mean_gospa_missed=_mean(series.missed),
        mean_gospa_false=_mean(series.false),
        gospa_cutoff_m=gospa_cutoff_m,
        gospa_order=gospa_order,
    )


def tracking_summaries(
    truth: pa.Table,
    tracks: pa.Table,
    *,
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
    gospa_cutoff_m: float = DEFAULT_CUTOFF_M,
    gospa_order: float = DEFAULT_ORDER,
) -> list[TrackingFigures]:
    """:func:`tracking_summary` of every node in the ``local_tracks`` table, by node name."""
    nodes = sorted(str(node) for node in pc.unique(tracks["node"]).to_pylist())
    return [
        tracking_summary(
            truth,
            tracks,
            node,
            alignment=alignment,
            association=association,
            gospa_cutoff_m=gospa_cutoff_m,
            gospa_order=gospa_order,
        )
        for node in nodes
    ]
