"""Detection figures of a run, computed from its recording.

Definitions (detected, first-detection latency, false alarms): ``docs/metrics.md``,
"Detection figures".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iamd.messages import ThreatCategory


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorFigures:
    """Detection counts of one sensor."""

    sensor: str
    nation: str
    kind: str
    detections: int
    false_alarms: int
    threats_detected: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NationFigures:
    """What one nation's own sensors saw."""

    nation: str
    threats_detected: int
    threats: int
    median_latency_s: float | None
    """Median first-detection latency over the threats it detected, s (None if none)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionSummary:
    """Detection figures of a whole run."""

    threats: int
    threats_by_category: dict[str, int]
    detections: int
    false_alarms: int
    threats_detected: int
    threats_detected_by_category: dict[str, int]
    median_latency_s: float | None
    sensors: list[SensorFigures] = field(default_factory=list)
    nations: list[NationFigures] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def _first_detection(detections: pa.Table) -> dict[str, float]:
    true = detections.filter(pc.is_valid(detections["truth_threat"]))
    if true.num_rows == 0:
        return {}
    grouped = true.group_by("truth_threat").aggregate([("time_s", "min")])
    return dict(
        zip(grouped["truth_threat"].to_pylist(), grouped["time_s_min"].to_pylist(), strict=True)
    )


def _median_latency(first: dict[str, float], launch: dict[str, float]) -> float | None:
    if not first:
        return None
    return float(np.median([time - launch[threat] for threat, time in first.items()]))


def detection_summary(
    threats: pa.Table, sensors: pa.Table, detections: pa.Table
) -> DetectionSummary:
    """Detection figures from the ``threats``, ``sensors`` and ``detections`` tables."""
    launch = dict(
        zip(threats["threat"].to_pylist(), threats["launch_time_s"].to_pylist(), strict=True)
    )
    categories = [ThreatCategory(c).name.lower() for c in threats["category"].to_pylist()]
    by_category = {name: categories.count(name) for name in sorted(set(categories))}
    first = _first_detection(detections)
    detected_by_category = dict.fromkeys(by_category, 0)
    for threat, category in zip(threats["threat"].to_pylist(), categories, strict=True):
        detected_by_category[category] += threat in first
    truth = detections["truth_threat"]
    sensor_rows = []
    for sensor, nation, kind in zip(
        sensors["sensor"].to_pylist(),
        sensors["nation"].to_pylist(),
        sensors["kind"].to_pylist(),
        strict=True,
    ):
        own = detections.filter(pc.equal(detections["sensor"], sensor))
        seen = {t for t in own["truth_threat"].to_pylist() if t is not None}
        sensor_rows.append(
            SensorFigures(
                sensor=sensor,
                nation=nation,
                kind=kind,
                detections=own.num_rows,
                false_alarms=own["truth_threat"].null_count,
                threats_detected=len(seen),
            )
        )
    nation_rows = []
    for nation in sorted(set(sensors["nation"].to_pylist())):
        nation_first = _first_detection(detections.filter(pc.equal(detections["nation"], nation)))
        nation_rows.append(
            NationFigures(
                nation=nation,
                threats_detected=len(nation_first),
                threats=threats.num_rows,
                median_latency_s=_median_latency(nation_first, launch),
            )
        )
    return DetectionSummary(
        threats=threats.num_rows,
        threats_by_category=by_category,
        detections=detections.num_rows,
        false_alarms=truth.null_count,
        threats_detected=len(first),
        threats_detected_by_category=detected_by_category,
        median_latency_s=_median_latency(first, launch),
        sensors=sensor_rows,
        nations=nation_rows,
    )
