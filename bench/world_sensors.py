"""Benchmark: the world and the sensors at scale.

1,000 threats (600 ballistic, 400 cruise) observed by 40 radars for 10 simulated minutes,
through the full ``iamd run`` pipeline (trajectory solving, sensor models, Parquet recording).
Prints detections generated per CPU-second and the simulated-to-wall time ratio; the last
line is a JSON object. ``--quick`` runs a tenth of the threats and radars.

No reference peer runs here: no other open tool generates radar detections of ballistic
trajectories end to end on the same input. The quality side is pinned by the tests (solver
miss distance, Pd curve, false-alarm statistics, noise covariance); this benchmark reports
throughput and the fraction of threats detected so a speed-up that drops detections shows.

The nation's tracker is off by default, so the figure is the world's and the sensors';
``--with-tracking`` runs the whole pipeline.

Usage: ``python bench/world_sensors.py [--quick] [--with-tracking] [--threats N] [--radars M]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from iamd.record import Recording
from iamd.scenario import load_scenario_text
from iamd.sim import RunOptions, build_truth, run_scenario


def make_scenario(threats: int, radars: int, seed: int = 1) -> str:
    """A synthetic scenario: radars on a grid over the Sea of Japan region, mixed raid."""
    rng = np.random.default_rng(seed)
    sites, sensors = [], []
    lats = np.linspace(31.0, 43.0, max(1, int(np.ceil(np.sqrt(radars)))))
    lons = np.linspace(128.0, 142.0, max(1, int(np.ceil(radars / len(lats)))))
    grid = [(float(la), float(lo)) for la in lats for lo in lons][:radars]
    for i, (lat, lon) in enumerate(grid):
        sites.append(
            {
                "name": f"S{i:02d}",
                "nation": "BLU",
                "kind": "land",
                "lat_deg": lat,
                "lon_deg": lon,
                "altitude_m": 100.0,
            }
        )
        sensors.append(
            {
                "name": f"R{i:02d}",
                "kind": "radar",
                "site": f"S{i:02d}",
                "boresight_azimuth_deg": 0.0,
                "azimuth_extent_deg": 360.0,
                "elevation_min_deg": 0.0,
                "elevation_max_deg": 85.0,
                "range_min_m": 1000.0,
                "range_max_m": 1_200_000.0,
                "revisit_period_s": 5.0,
                "range_noise_m": 30.0,
                "azimuth_noise_mrad": 1.0,
                "elevation_noise_mrad": 1.0,
                "reference_range_m": 600_000.0,
                "reference_rcs_m2": 1.0,
                "reference_snr_db": 13.0,
                "false_alarms_per_scan": 1.0,
            }
        )
    ballistic = round(threats * 0.6)
    items: list[dict[str, Any]] = []
    for i in range(ballistic):
        launch_lat, launch_lon = 40.0 + rng.uniform(-1.5, 1.5), 127.0 + rng.uniform(-1.0, 1.0)
        aim_lat, aim_lon = 36.0 + rng.uniform(-3.0, 3.0), 136.0 + rng.uniform(-3.0, 3.0)
        items.append(
            {
                "name": f"BM{i:04d}",
                "kind": "ballistic",
                "launch": {"lat_deg": launch_lat, "lon_deg": launch_lon},
                "aim": {"lat_deg": aim_lat, "lon_deg": aim_lon},
                "launch_time_s": float(rng.uniform(0.0, 200.0)),
                "range_class": "mrbm",
                "rcs_m2": 0.3,
            }
        )
    for i in range(threats - ballistic):
        start = (38.0 + rng.uniform(-2.0, 2.0), 131.0 + rng.uniform(-2.0, 2.0))
        end = (35.0 + rng.uniform(-1.0, 1.0), 137.0 + rng.uniform(-2.0, 2.0))
        items.append(
            {
                "name": f"CM{i:04d}",
                "kind": "cruise_missile",
                "waypoints": [
                    {"lat_deg": start[0], "lon_deg": start[1]},
                    {"lat_deg": end[0], "lon_deg": end[1]},
                ],
                "speed_mps": 240.0,
                "altitude_m": 50.0 + rng.uniform(0, 100),
                "launch_time_s": float(rng.uniform(0.0, 300.0)),
                "rcs_m2": 0.1,
            }
        )
    scenario = {
        "name": "bench-world-sensors",
        "epoch": "2030-01-01T00:00:00Z",
        "duration_s": 600.0,
        "seed": seed,
        "nations": [{"code": "BLU", "name": "Blue"}],
        "sites": sites,
        "sensors": sensors,
        "threats": items,
    }
    return yaml.safe_dump(scenario, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 threats × 4 radars")
    parser.add_argument("--threats", type=int, default=1000)
    parser.add_argument("--radars", type=int, default=40)
    parser.add_argument(
        "--with-tracking", action="store_true", help="also run the nation's tracker (IMM, GNN)"
    )
    args = parser.parse_args()
    threats, radars = (100, 4) if args.quick else (args.threats, args.radars)
    text = make_scenario(threats, radars)
    scenario = load_scenario_text(text, "bench-world-sensors.yaml")
    # Trajectory solving alone, timed apart so its share of the run is visible.
    solve0 = time.process_time()
    build_truth(scenario)
    solve_cpu = time.process_time() - solve0
    with tempfile.TemporaryDirectory() as folder:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        run_scenario(
            scenario, text, Path(folder) / "run", options=RunOptions(tracking=args.with_tracking)
        )
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        recording = Recording(Path(folder) / "run")
        detections = recording.table("detections")
        detected = len({t for t in detections["truth_threat"].to_pylist() if t is not None})
    result = {
        "benchmark": "world_sensors",
        "threats": threats,
        "radars": radars,
        "tracking": args.with_tracking,
        "simulated_s": scenario.duration_s,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "truth_build_cpu_s": round(solve_cpu, 2),
        "detections": detections.num_rows,
        "detections_per_cpu_s": round(detections.num_rows / cpu),
        "sim_to_wall_ratio": round(scenario.duration_s / wall, 2),
        "threats_detected_fraction": round(detected / threats, 3),
    }
    print(
        f"{threats} threats × {radars} radars × {scenario.duration_s:.0f} s simulated: "
        f"{detections.num_rows:,} detections in {cpu:.1f} CPU-s "
        f"({result['detections_per_cpu_s']:,}/CPU-s), simulated/wall = "
        f"{result['sim_to_wall_ratio']}, threats detected {detected}/{threats}; "
        f"of the CPU time, solving and flying the trajectories took {solve_cpu:.1f} s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
