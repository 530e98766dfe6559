"""End-to-end runs of the small built-in scenarios: determinism, interruption, content."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from iamd.record import Recording
from iamd.scenario import resolve_scenario
from iamd.sim import RunOptions, run_scenario, summarise


def _run(tmp_path: Path, name: str, scenario: str = "test-duo", **options: object) -> Path:
    model, text, _ = resolve_scenario(scenario)
    run_scenario(model, text, tmp_path / name, options=RunOptions(**options))  # type: ignore[arg-type]
    return tmp_path / name


def test_same_seed_gives_the_same_recording_hash(tmp_path: Path) -> None:
    a = Recording(_run(tmp_path, "a", seed=4))
    b = Recording(_run(tmp_path, "b", seed=4))
    c = Recording(_run(tmp_path, "c", seed=5))
    assert a.meta["recording_hash"] == b.meta["recording_hash"] == a.content_hash()
    assert c.meta["recording_hash"] != a.meta["recording_hash"]


def test_recording_holds_truth_and_detections_consistent_with_it(tmp_path: Path) -> None:
    run = Recording(_run(tmp_path, "run"))
    assert run.status == "complete"
    threats = run.table("threats")
    truth = run.table("truth")
    detections = run.table("detections")
    assert threats.num_rows >= 3
    assert set(truth["threat"].to_pylist()) == set(threats["threat"].to_pylist())
    # Radar detections of a true target lie near the truth at the same time.
    radar = detections.filter(
        (detections["kind"].to_numpy() == 1) & detections["truth_threat"].is_valid().to_numpy()
    )
    assert radar.num_rows > 10
    row = radar.slice(radar.num_rows // 2, 1).to_pylist()[0]
    match = [r for r in truth.to_pylist() if r["threat"] == row["truth_threat"]]
    times = np.array([r["time_s"] for r in match])
    nearest = match[int(np.argmin(np.abs(times - row["time_s"])))]
    from iamd.geo import aer_to_ecef

    measured = aer_to_ecef(
        np.array([row["z1"], row["z2"], row["z0"]]),
        np.array([row["sensor_x_m"], row["sensor_y_m"], row["sensor_z_m"]]),
        row["sensor_lat_deg"],
        row["sensor_lon_deg"],
    )
    true = np.array([nearest["x_m"], nearest["y_m"], nearest["z_m"]])
    speed = np.linalg.norm([nearest["vx_mps"], nearest["vy_mps"], nearest["vz_mps"]])
    # Within noise (a few km at long range) plus up to one truth sample of motion.
    assert np.linalg.norm(measured - true) < 10e3 + speed * 1.0


def test_summary_is_computed_from_the_recording(tmp_path: Path) -> None:
    summary = summarise(_run(tmp_path, "run"))
    figures = summary["detection"]
    assert summary["status"] == "complete"
    assert figures["threats"] >= 3
    assert 0 < figures["threats_detected"] <= figures["threats"]
    assert figures["detections"] == sum(s["detections"] for s in figures["sensors"])
    assert {n["nation"] for n in figures["nations"]} == {s["nation"] for s in figures["sensors"]}


def test_interrupted_run_leaves_a_readable_recording(tmp_path: Path) -> None:
    def interrupt(time_s: float, _duration: float) -> None:
        if time_s >= 60.0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "run", progress=interrupt)
    run = Recording(tmp_path / "run")
    assert run.status == "interrupted"
    truth = run.table("truth")
    assert truth.num_rows > 0
    assert max(truth["time_s"].to_pylist()) == pytest.approx(60.0)


@pytest.mark.slow
def test_killed_process_leaves_flushed_parts_readable(tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    code = (
        "import time\n"
        "from pathlib import Path\n"
        "from iamd.record import writer\n"
        "from iamd.scenario import resolve_scenario\n"
        "from iamd.sim import RunOptions, run_scenario\n"
        # Flush a part every 50 rows so several parts exist before the kill.
        "writer.TableWriter.__init__.__kwdefaults__ = "
        "{'max_rows': 50, 'max_age_s': 0.0}\n"
        "m, t, _ = resolve_scenario('test-duo')\n"
        "def slow(now, total):\n"
        "    time.sleep(0.02)\n"
        f"run_scenario(m, t, Path({str(run_dir)!r}), options=RunOptions(progress=slow))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(list((run_dir / "tables" / "truth").glob("part-*.parquet"))) >= 3:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    run = Recording(run_dir)
    assert run.status == "running"  # the writer died: it never got to say otherwise
    assert run.table("truth").num_rows > 0
    assert run.table("threats").num_rows > 0


@pytest.mark.slow
def test_default_scenario_sees_every_threat(tmp_path: Path) -> None:
    """The default scenario is meant to be a defensible picture: every threat is seen."""
    summary = summarise(_run(tmp_path, "wp", scenario="western-pacific", tracking=False))
    figures = summary["detection"]
    assert figures["threats_detected"] == figures["threats"] >= 20
    nations = {n["nation"]: n for n in figures["nations"]}
    # The space infrared sensor gives the USA launch warnings within seconds.
    assert nations["USA"]["median_latency_s"] < 10.0


def test_tracking_can_be_switched_off(tmp_path: Path) -> None:
    with_tracks = Recording(_run(tmp_path, "on", scenario="test-tiny"))
    without = Recording(_run(tmp_path, "off", scenario="test-tiny", tracking=False))
    assert with_tracks.table("local_tracks").num_rows > 0
    assert without.table("local_tracks").num_rows == 0
    # The world and the sensors draw the same numbers either way.
    assert without.table("detections").equals(with_tracks.table("detections"))


def test_ballistic_tracks_carry_a_converging_impact_prediction(tmp_path: Path) -> None:
    from iamd.geo import great_circle_distance_m

    run = Recording(_run(tmp_path, "tiny", scenario="test-tiny"))
    threat = next(t for t in run.table("threats").to_pylist() if t["category"] == 1)
    rows = [
        r
        for r in run.table("local_tracks").to_pylist()
        if r["category"] == 1 and r["impact_time_s"] == r["impact_time_s"]
    ]
    assert len(rows) > 10

    def miss(row: dict[str, float]) -> float:
        return float(
            great_circle_distance_m(
                row["impact_lat_deg"],
                row["impact_lon_deg"],
                threat["end_lat_deg"],
                threat["end_lon_deg"],
            )
        )

    early, late = rows[len(rows) // 10], rows[-1]
    assert miss(late) < 2_000.0
    assert miss(late) < miss(early)
    assert late["impact_semi_major_m"] < early["impact_semi_major_m"]
    assert abs(late["impact_time_s"] - threat["end_time_s"]) < 15.0
