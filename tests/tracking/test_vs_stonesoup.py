"""Our radar tracker against Stone Soup 1.9.1's GNN tracker on the same detections.

Scene (``bench/radar_scenes.py``): one radar measuring range, azimuth and elevation; 12
constant-velocity targets (some born late, some dying early), 80 scans 2 s apart, P_D 0.9,
Poisson clutter. Stone Soup's side (``bench/stonesoup_gnn.py``): ``MultiTargetTracker`` with
``GNNWith2DAssignment``, ``DistanceHypothesiser(Mahalanobis)``, EKF with ``ConstantVelocity``
in the radar's ENU frame, ``MultiMeasurementInitiator`` and ``UpdateTimeStepsDeleter``. Both
share the process noise, gate probability, initiation prior and confirmation and deletion
rules. GOSPA (c = 5 km, p = 1) of the confirmed tracks against the truth at every scan.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# The scene and the Stone Soup peer live with the benchmark that uses them at scale.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from radar_scenes import make_scene, run_iamd, score
from stonesoup_gnn import run_stonesoup

TARGETS, SCANS, SEED = 12, 80, 2
"""Seed 2 is the one of seeds 1–10 on which the two trackers part (ours 2,255.0 m against
2,169.1 m, +4.0 %); on the other nine they give the same tracks to the metre."""

RELATIVE_TOLERANCE = 1.10
ABSOLUTE_TOLERANCE_M = 5.0
"""Ours may be at most 10 % + 5 m worse in mean GOSPA: the two trackers differ in their
association cost (ours the likelihood ratio with ln|S|, Stone Soup's the Mahalanobis distance)
and in whether tentative tracks compete with confirmed ones for a detection (ours in one
assignment, Stone Soup's initiator after the tracker), so they may part on a close call."""


def test_mean_gospa_no_worse_than_stonesoup_gnn() -> None:
    scene = make_scene(TARGETS, SCANS, seed=SEED)
    ours = score(scene, run_iamd(scene))
    theirs = score(scene, run_stonesoup(scene, kd_tree=False))

    # Both really track: most truths have a confirmed track within the cut-off.
    truths = np.bincount(scene.truth_step, minlength=SCANS)
    settled = slice(SCANS // 4, None)
    for series in (ours, theirs):
        assert series.assigned[settled].sum() >= 0.85 * truths[settled].sum()
    assert ours.mean_distance_m <= (
        RELATIVE_TOLERANCE * theirs.mean_distance_m + ABSOLUTE_TOLERANCE_M
    ), (ours.mean_distance_m, theirs.mean_distance_m)


def test_stonesoup_kd_tree_pre_gate_changes_no_association() -> None:
    # The benchmark times Stone Soup with its k-d tree pre-gate; its search radius is set so
    # that it contains the χ² gate, hence the same tracks as the exhaustive hypothesiser.
    scene = make_scene(TARGETS, SCANS // 2, seed=SEED)
    exhaustive = run_stonesoup(scene, kd_tree=False)
    pre_gated = run_stonesoup(scene, kd_tree=True)
    np.testing.assert_array_equal(exhaustive.track_step, pre_gated.track_step)
    # Stone Soup keeps tracks in a set: compare each scan's tracks in a fixed order.
    a, b = (
        run.track_ecef_m[np.lexsort((run.track_ecef_m[:, 0], run.track_step))]
        for run in (exhaustive, pre_gated)
    )
    np.testing.assert_allclose(a, b, rtol=0.0, atol=1e-6)
