"""Smoke test of ``bench/fusion.py`` (one node's picture fed many sources) at a tiny size.

The benchmark's figures are printed, not asserted; this pins that its pieces fit together:
the message rate it promises, a picture that holds the objects once each under the numbers
the lowest-number rule gives them, the oracle never worse than the picture, and a JSON-ready
result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

# The scene and the oracle live with the benchmark that uses them at scale.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from fusion import benchmark, make_scene

OBJECTS, SOURCES, RATE, MINUTES = 40, 4, 16.0, 0.5


def test_scene_sends_the_asked_rate_with_stable_local_numbers() -> None:
    scene = make_scene(objects=OBJECTS, sources=SOURCES, rate=RATE, minutes=MINUTES, seed=3)
    active = np.bincount(
        scene.pair_source, weights=scene.pair_end - scene.pair_start, minlength=SOURCES
    )
    # Mean reports per second: each source's mean count of held tracks over its interval.
    np.testing.assert_allclose(np.sum(active / scene.interval) / scene.duration_s, RATE)
    # One local number per (source, object), never reused within a source.
    keys = scene.pair_source * 10_000 + scene.pair_local
    assert np.unique(keys).size == keys.size
    seen_by = np.bincount(scene.pair_object, minlength=scene.objects)
    assert seen_by.min() >= 1
    assert seen_by.max() <= 4


def test_small_run_holds_every_object_once() -> None:
    result = benchmark(objects=OBJECTS, sources=SOURCES, rate=RATE, minutes=MINUTES, seed=2)
    json.dumps(result)
    ours, oracle = result["iamd"], result["oracle"]
    assert result["remote_reports_per_s"] > 0.8 * RATE
    # Within two percent of the oracle either way (a track may pass within the association
    # distance of an object not reported yet).
    assert abs(ours["completeness"] - oracle["completeness"]) < 0.02
    assert 1.0 <= ours["ambiguity"] < 1.05
    assert oracle["ambiguity"] == 1.0
    assert result["sim_to_cpu_ratio"] > 0
