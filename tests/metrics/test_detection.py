import math

import pyarrow as pa

from iamd.metrics import detection_summary
from iamd.record.schema import DETECTIONS, SENSORS, THREATS


def _table(schema: pa.Schema, rows: list[dict[str, object]]) -> pa.Table:
    full = [
        {
            name: row.get(name, math.nan if schema.field(name).type == pa.float64() else None)
            for name in schema.names
        }
        for row in rows
    ]
    return pa.Table.from_pylist(full, schema=schema)


def test_figures_by_hand() -> None:
    threats = _table(
        THREATS,
        [
            {"threat": "B1", "threat_index": 0, "category": 1, "launch_time_s": 10.0},
            {"threat": "B2", "threat_index": 1, "category": 1, "launch_time_s": 20.0},
            {"threat": "C1", "threat_index": 2, "category": 2, "launch_time_s": 0.0},
        ],
    )
    sensors = _table(
        SENSORS,
        [
            {"sensor": "R1", "nation": "JPN", "kind": "radar"},
            {"sensor": "I1", "nation": "USA", "kind": "infrared"},
        ],
    )
    detections = _table(
        DETECTIONS,
        [
            {"time_s": 30.0, "sensor": "R1", "nation": "JPN", "kind": 1, "truth_threat": "B1"},
            {"time_s": 25.0, "sensor": "R1", "nation": "JPN", "kind": 1, "truth_threat": "B1"},
            {"time_s": 26.0, "sensor": "R1", "nation": "JPN", "kind": 1, "truth_threat": None},
            {"time_s": 12.0, "sensor": "I1", "nation": "USA", "kind": 2, "truth_threat": "B1"},
            {"time_s": 28.0, "sensor": "I1", "nation": "USA", "kind": 2, "truth_threat": "B2"},
        ],
    )
    summary = detection_summary(threats, sensors, detections)
    assert summary.threats == 3
    assert summary.threats_by_category == {"ballistic_missile": 2, "cruise_missile": 1}
    assert summary.threats_detected_by_category == {"ballistic_missile": 2, "cruise_missile": 0}
    assert summary.detections == 5
    assert summary.false_alarms == 1
    assert summary.threats_detected == 2
    # First detections: B1 at 12 (latency 2), B2 at 28 (latency 8) -> median 5.
    assert summary.median_latency_s == 5.0
    by_nation = {n.nation: n for n in summary.nations}
    assert by_nation["JPN"].threats_detected == 1
    assert by_nation["JPN"].median_latency_s == 15.0
    assert by_nation["USA"].threats_detected == 2
    by_sensor = {s.sensor: s for s in summary.sensors}
    assert (by_sensor["R1"].detections, by_sensor["R1"].false_alarms) == (3, 1)
    assert by_sensor["I1"].threats_detected == 2


def test_no_detections() -> None:
    threats = _table(
        THREATS, [{"threat": "B1", "threat_index": 0, "category": 1, "launch_time_s": 0.0}]
    )
    summary = detection_summary(threats, SENSORS.empty_table(), DETECTIONS.empty_table())
    assert summary.threats_detected == 0
    assert summary.median_latency_s is None
    assert summary.nations == []
