import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from iamd.metrics import (
    TimeAlignment,
    gospa_series,
    tracking_summaries,
    tracking_summary,
)
from iamd.record.schema import TABLES

Build = Callable[[list[dict[str, object]]], pa.Table]


def _state(x: float, y: float, vx: float = 0.0) -> dict[str, float]:
    return {"x_m": x, "y_m": y, "z_m": 0.0, "vx_mps": vx, "vy_mps": 0.0, "vz_mps": 0.0}


@pytest.fixture
def run(truth_table: Build, tracks_table: Build) -> tuple[pa.Table, pa.Table]:
    truth = [
        {"time_s": float(t), "threat": "T1", **_state(1000.0 * t, 0.0, 1000.0)} for t in range(10)
    ] + [{"time_s": float(t), "threat": "T2", **_state(0.0, 1e6)} for t in range(10)]
    tracks = (
        # JPN 1: on T1, 100 m to the side, updated every 2 s (propagation is exact here).
        [
            {
                "time_s": float(t),
                "node": "JPN",
                "track": 1,
                "status": 2,
                **_state(1000.0 * t, 100.0, 1000.0),
            }
            for t in range(0, 10, 2)
        ]
        # JPN 2: a false track; JPN 3: a tentative track on T2.
        + [
            {"time_s": float(t), "node": "JPN", "track": 2, "status": 2, **_state(0.0, -1e6)}
            for t in range(10)
        ]
        + [
            {"time_s": float(t), "node": "JPN", "track": 3, "status": 1, **_state(0.0, 1e6)}
            for t in range(10)
        ]
        + [
            {"time_s": float(t), "node": "USA", "track": 1, "status": 2, **_state(0.0, 1e6)}
            for t in range(10)
        ]
    )
    return truth_table(truth), tracks_table(tracks)


def test_summary_of_one_node_by_hand(run: tuple[pa.Table, pa.Table]) -> None:
    figures = tracking_summary(*run, "JPN")
    siap = figures.siap
    assert figures.assessment_times == 10
    assert (siap.completeness, siap.ambiguity, siap.spuriousness) == (0.5, 1.0, 0.5)
    assert siap.position_accuracy_m == pytest.approx(100.0, rel=1e-12)
    assert siap.velocity_accuracy_mps == 0.0
    assert siap.rate_of_track_number_change_per_s == 0.0
    assert siap.longest_track_segment == 0.5
    assert siap.timeliness_s == 0.0
    # Each time: T1 tracked 100 m off, T2 missed (c/2), one false track (c/2); c = 5 km, p = 1.
    assert figures.mean_gospa_m == pytest.approx(100.0 + 2500.0 + 2500.0, rel=1e-12)
    assert figures.mean_gospa_localisation == pytest.approx(100.0, rel=1e-12)
    assert (figures.mean_gospa_missed, figures.mean_gospa_false) == (2500.0, 2500.0)
    assert json.loads(json.dumps(figures.to_dict()))["siap"]["completeness"] == 0.5


def test_tentative_tracks_on_request(run: tuple[pa.Table, pa.Table]) -> None:
    figures = tracking_summary(*run, "JPN", alignment=TimeAlignment(include_tentative=True))
    assert figures.siap.completeness == 1.0
    assert figures.siap.position_accuracy_m == pytest.approx(50.0, rel=1e-12)
    assert figures.mean_gospa_m == pytest.approx(100.0 + 2500.0, rel=1e-12)


def test_gospa_series_of_a_node(run: tuple[pa.Table, pa.Table]) -> None:
    series = gospa_series(*run, "USA", cutoff_m=1000.0, order=2.0)
    assert series.times_s.tolist() == list(np.arange(10.0))
    # T1 missed at every step: (c²/2)^(1/2).
    assert np.allclose(series.distance_m, np.sqrt(1000.0**2 / 2), rtol=1e-15, atol=0)
    assert series.missed_targets.tolist() == [1] * 10
    assert series.mean_distance_m == pytest.approx(np.sqrt(5e5), rel=1e-15)


def test_every_node(run: tuple[pa.Table, pa.Table]) -> None:
    summaries = tracking_summaries(*run)
    assert [s.node for s in summaries] == ["JPN", "USA"]
    assert summaries[1].siap.completeness == 0.5
    assert summaries[1].siap.spuriousness == 0.0


def test_reads_the_recorded_local_tracks_table(
    run: tuple[pa.Table, pa.Table], make_table: Callable[[pa.Schema, list[dict]], pa.Table]
) -> None:
    # The tracker's own schema has more columns (category, quality, covariance, …); the
    # metrics read only the ones they need.
    schema = TABLES.get("local_tracks")
    if schema is None:
        pytest.skip("the recording has no local_tracks table yet")
    tracks = make_table(schema, run[1].to_pylist())
    assert tracks.schema == schema
    assert tracking_summary(run[0], tracks, "JPN") == tracking_summary(*run, "JPN")
