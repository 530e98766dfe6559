"""How much of what its radars could hold each node's tracker holds, per threat.

Reads a recording (``iamd run`` writes one) and prints, for every node and threat:

* *steps*: truth assessment times of the threat in flight;
* *coverable*: those at which one of the node's radars detected the threat within the last
  ``--window`` seconds (a generous upper bound on what a tracker could hold: it ignores
  confirmation delays and counts a single stray detection as coverage);
* *held*: those at which a confirmed or coasting track is associated with it (the SIAP
  completeness rule of ``iamd.metrics``);
* *segments*: association segments (track breaks plus one).

The last line is a JSON object with the per-node totals. Usage::

    python bench/tracking_coverage.py runs/western-pacific-seed1-…  [--window 12]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pyarrow.compute as pc

from iamd.metrics import align_picture, associate_truth
from iamd.record import Recording

RADAR_RAE = 1


def node_coverage(run: Recording, node: str, window_s: float) -> dict[str, object]:
    """Per-threat and total coverable and held truth steps of one node."""
    picture = align_picture(run.table("truth"), run.table("local_tracks"), node)
    association = associate_truth(picture)
    detections = run.table("detections")
    mine = detections.filter(
        pc.and_(pc.equal(detections["nation"], node), pc.equal(detections["kind"], RADAR_RAE))
    )
    threat_of = np.array(mine["truth_threat"].fill_null("").to_pylist())
    detection_time = mine["time_s"].to_numpy()
    held_rows = association.truth_of_row >= 0
    held_pairs = set(
        zip(
            picture.track_step[held_rows].tolist(),
            association.truth_of_row[held_rows].tolist(),
            strict=True,
        )
    )
    threats = []
    for index, name in enumerate(picture.truth_ids):
        steps = picture.truth_step[picture.truth_index == index]
        times = picture.times_s[steps]
        seen = np.sort(detection_time[threat_of == name])
        coverable = np.zeros(steps.size, bool)
        if seen.size:
            latest = np.searchsorted(seen, times, side="right") - 1
            coverable = (latest >= 0) & (times - seen[np.maximum(latest, 0)] <= window_s)
        held = np.array([(int(step), index) in held_pairs for step in steps], bool)
        threats.append(
            {
                "threat": name,
                "steps": int(steps.size),
                "coverable": int(coverable.sum()),
                "held": int(held.sum()),
                "segments": int((association.segment_truth == index).sum()),
            }
        )
    total = picture.truth_step.size
    coverable_sum = sum(int(t["coverable"]) for t in threats)
    held_sum = sum(int(t["held"]) for t in threats)
    return {
        "node": node,
        "truth_steps": int(total),
        "coverable_fraction": coverable_sum / total if total else 0.0,
        "completeness": held_sum / total if total else 0.0,
        "held_of_coverable": held_sum / coverable_sum if coverable_sum else 0.0,
        "threats": threats,
    }


def main() -> None:
    """Print the table of every node of a recording, then a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a run directory written by `iamd run`")
    parser.add_argument("--window", type=float, default=12.0, help="coverage window, s")
    args = parser.parse_args()
    run = Recording(args.run_dir)
    nodes = sorted(set(run.table("local_tracks")["node"].to_pylist()))
    summary = []
    for node in nodes:
        figures = node_coverage(run, node, args.window)
        print(f"== {node}")
        for threat in figures["threats"]:  # type: ignore[attr-defined]
            if threat["coverable"] or threat["held"]:
                print(
                    f"  {threat['threat']:24s} steps {threat['steps']:5d}  coverable "
                    f"{threat['coverable']:5d}  held {threat['held']:5d}  segments "
                    f"{threat['segments']:2d}"
                )
        print(
            f"  completeness {figures['completeness']:.3f} of a coverable "
            f"{figures['coverable_fraction']:.3f}: {figures['held_of_coverable']:.0%} held"
        )
        summary.append({k: v for k, v in figures.items() if k != "threats"})
    print(json.dumps({"benchmark": "tracking_coverage", "nodes": summary}))


if __name__ == "__main__":
    main()
