"""Benchmark: iamd's radar tracker against Stone Soup's k-d tree GNN tracker, same detections.

For each target count N, one scene (``bench/radar_scenes.py``): one radar, N constant-velocity
targets, 100 scans 2 s apart, P_D 0.9, Poisson clutter with mean 0.5·N per scan. Both
trackers run in this process on the same detections with the same tuning (process noise,
gate probability, initiation prior, confirmation and deletion rules); Stone Soup's is
``MultiTargetTracker`` + ``DetectionKDTreeGNN2D`` + ``DistanceHypothesiser(Mahalanobis)`` +
EKF (``bench/stonesoup_gnn.py``). Printed per N: detections processed per CPU-second of each
tracker, their ratio, and the mean GOSPA of each tracker's confirmed tracks over the scans
(c = 5 km, p = 1, α = 2); then ours alone at N = 2,000. The last line is a JSON object.

CPU time is counted inside the per-scan tracker calls only; inputs are built beforehand in
each tracker's own format (our ``Detections`` arrays, Stone Soup's ``Detection`` sets). Ours
runs ``--repeat`` times (median reported; the host is shared and small runs are noisy),
Stone Soup once (minutes at N = 200).

Usage: ``python bench/tracker_vs_stonesoup.py [--quick] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
from typing import Any

from iamd.metrics.gospa import DEFAULT_CUTOFF_M, DEFAULT_ORDER, GospaSeries
from radar_scenes import RadarScene, TrackerRun, make_scene, run_iamd, score
from stonesoup_gnn import run_stonesoup


def _quality(series: GospaSeries) -> dict[str, float]:
    assigned = int(series.assigned.sum())
    return {
        "gospa_mean_m": round(series.mean_distance_m, 1),
        "localisation_per_pair_m": round(float(series.localisation.sum()) / max(assigned, 1), 1),
        "missed_per_scan": round(float(series.missed_targets.mean()), 3),
        "false_per_scan": round(float(series.false_tracks.mean()), 3),
    }


def _ours(scene: RadarScene, repeat: int) -> tuple[TrackerRun, float]:
    runs = [run_iamd(scene) for _ in range(repeat)]
    return runs[0], statistics.median(run.cpu_s for run in runs)


def compare(targets: int, scans: int, seed: int, repeat: int) -> dict[str, Any]:
    """Both trackers on one scene; rates, ratio and GOSPA."""
    scene = make_scene(targets, scans, seed=seed)
    ours, ours_cpu = _ours(scene, repeat)
    peer = run_stonesoup(scene, kd_tree=True)
    count = scene.detection_count
    result = {
        "targets": targets,
        "scans": scans,
        "detections": count,
        "iamd_cpu_s": round(ours_cpu, 4),
        "stonesoup_cpu_s": round(peer.cpu_s, 2),
        "iamd_detections_per_cpu_s": round(count / ours_cpu),
        "stonesoup_detections_per_cpu_s": round(count / peer.cpu_s, 1),
        "ratio": round(peer.cpu_s / ours_cpu, 1),
        "iamd": _quality(score(scene, ours)),
        "stonesoup": _quality(score(scene, peer)),
    }
    rate = result["iamd_detections_per_cpu_s"]
    print(
        f"N = {targets:>5,}: {count:>7,} detections | iamd {rate:>9,}/CPU-s, Stone Soup "
        f"{result['stonesoup_detections_per_cpu_s']:>7,}/CPU-s, "
        f"ratio {result['ratio']:,}× | mean GOSPA iamd {result['iamd']['gospa_mean_m']:,} m, "
        f"Stone Soup {result['stonesoup']['gospa_mean_m']:,} m",
        flush=True,
    )
    return result


def alone(targets: int, scans: int, seed: int, repeat: int, profile: bool) -> dict[str, Any]:
    """Ours only, at a size where Stone Soup would take hours."""
    scene = make_scene(targets, scans, seed=seed)
    ours, ours_cpu = _ours(scene, repeat)
    count = scene.detection_count
    result = {
        "targets": targets,
        "scans": scans,
        "detections": count,
        "iamd_cpu_s": round(ours_cpu, 3),
        "iamd_detections_per_cpu_s": round(count / ours_cpu),
        "iamd": _quality(score(scene, ours)),
    }
    rate = result["iamd_detections_per_cpu_s"]
    print(
        f"N = {targets:>5,}: {count:>7,} detections | iamd {rate:>9,}/CPU-s "
        f"({1e3 * ours_cpu / scans:.1f} ms per scan) | mean GOSPA iamd "
        f"{result['iamd']['gospa_mean_m']:,} m (Stone Soup not run)",
        flush=True,
    )
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_iamd(scene)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="N = 10, 50 over 50 scans; ours alone at 500"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--alone", type=int, default=2000, help="N for ours alone (0: skip)")
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours per size")
    parser.add_argument("--profile", action="store_true", help="cProfile ours at --alone")
    args = parser.parse_args()
    sizes, scans, single = (
        ([10, 50], 50, 500) if args.quick else (args.sizes, args.scans, args.alone)
    )
    print(
        f"{scans} scans, P_D 0.9, clutter 0.5·N per scan; GOSPA c = {DEFAULT_CUTOFF_M:.0f} m, "
        f"p = {DEFAULT_ORDER:.0f}",
        flush=True,
    )
    wall0 = time.perf_counter()
    results = [compare(n, scans, args.seed, args.repeat) for n in sizes]
    solo = alone(single, scans, args.seed, args.repeat, args.profile) if single else None
    print(
        json.dumps(
            {
                "benchmark": "tracker_vs_stonesoup",
                "seed": args.seed,
                "gospa_cutoff_m": DEFAULT_CUTOFF_M,
                "gospa_order": DEFAULT_ORDER,
                "compared": results,
                "iamd_alone": solo,
                "wall_s": round(time.perf_counter() - wall0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
