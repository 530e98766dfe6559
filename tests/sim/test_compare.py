"""The architecture comparison: intervals, paired differences, common random numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats

from iamd.core.errors import ConfigurationError
from iamd.scenario import resolve_scenario
from iamd.sim.compare import Comparison, Estimate, compare_variants, default_variants


def test_estimate_is_the_student_t_interval() -> None:
    e = Estimate.of([1.0, 2.0, 3.0, math.nan])
    assert e.mean == 2.0
    assert e.count == 3
    assert e.half_width == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3.0))
    one = Estimate.of([5.0])
    assert one.mean == 5.0
    assert math.isnan(one.half_width)
    assert Estimate.of([]).count == 0


def test_paired_differences_cancel_what_every_variant_shares() -> None:
    comparison = Comparison(
        scenario="s",
        variants=("base", "other"),
        seeds=(1, 2, 3),
        figures={"base": {"x": [1.0, 5.0, 9.0]}, "other": {"x": [1.5, 5.5, 9.5]}},
        run_dirs={"base": [], "other": []},
    )
    assert comparison.estimate("other", "x").half_width > 5.0  # seeds differ a lot
    diff = comparison.difference("other", "x")
    assert diff.mean == pytest.approx(0.5)
    assert diff.half_width == pytest.approx(0.0)  # the same shift on every seed
    assert comparison.to_dict()["variants"]["other"]["x"]["difference_to_baseline"]["mean"] == (
        pytest.approx(0.5)
    )


def test_default_variants_put_the_declared_ones_first() -> None:
    duo = resolve_scenario("test-duo")[0]
    assert default_variants(duo) == ["national", "networked", "measurements", "defended"]
    wp = resolve_scenario("western-pacific")[0]
    assert default_variants(wp) == [
        "national",
        "networked",
        "jpn-aus-agreement",
        "full-mesh",
        "measurements",
    ]
    tiny = resolve_scenario("test-tiny")[0]
    assert default_variants(tiny) == ["as-written"]


def test_unknown_variant_is_refused_before_any_run(tmp_path: Path) -> None:
    model, text, _ = resolve_scenario("test-duo")
    with pytest.raises(ConfigurationError, match="nationnal"):
        compare_variants(model, text, tmp_path, seeds=[1], variants=["nationnal"])
    assert not any(tmp_path.iterdir())


def test_networking_raises_commonality_and_the_partners_picture(tmp_path: Path) -> None:
    model, text, _ = resolve_scenario("test-duo")
    result = compare_variants(
        model,
        text,
        tmp_path,
        seeds=[3, 4],
        variants=["national", "as-written"],
        workers=2,
        duration_s=200.0,
    )
    assert result.variants == ("national", "as-written")
    national, networked = result.figures["national"], result.figures["as-written"]
    # Common random numbers: USA's own sensors and tracker see the same world in both
    # variants, and JPN adds nothing USA lacks here, so USA's picture is unchanged seed by seed.
    assert national["completeness/USA"] == networked["completeness/USA"]
    assert all(v == 0.0 for v in national["commonality"])
    assert all(v > 0.9 for v in networked["commonality"])
    assert result.difference("as-written", "completeness/JPN").mean > 0.05
    assert result.difference("as-written", "coverage/JPN").mean > 0.1
    assert all(v == 0.0 for v in networked["release_violations"])
    assert len(result.run_dirs["national"]) == 2
