"""Kill chain per threat: every step from hand-built tables, and its order in a real run."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from iamd.core import RecordingError
from iamd.metrics.defense import defense_summary
from iamd.metrics.kill_chain import ChainOutcome, KillChainFigures, kill_chains
from iamd.record import Recording
from iamd.record.schema import TABLES
from iamd.scenario import load_scenario_text, resolve_scenario
from iamd.sim import RunOptions, run_scenario

MakeTable = Callable[[pa.Schema, list[dict[str, object]]], pa.Table]

NATIONS = ("USA", "JPN")
DURATION_S = 100.0
X0_M = 6_400_000.0
SPEED_MPS = 1000.0


def _position(threat: str, time_s: float) -> dict[str, object]:
    """A straight-line truth: BM-FULL along x, CM-LEAK 1,000 km away along y."""
    y = 1.0e6 if threat == "CM-LEAK" else 0.0
    return {
        "x_m": X0_M + SPEED_MPS * time_s,
        "y_m": y,
        "z_m": 0.0,
        "vx_mps": SPEED_MPS,
        "vy_mps": 0.0,
        "vz_mps": 0.0,
    }


def _tables(make_table: MakeTable) -> dict[str, pa.Table]:
    threats = make_table(
        TABLES["threats"],
        [
            # Goes through the whole chain: killed at 60.5 s.
            {"threat": "BM-FULL", "category": 1, "launch_time_s": 0.0, "end_time_s": 500.0},
            # Detected, never held firm nor engaged; impacts within the run.
            {"threat": "CM-LEAK", "category": 2, "launch_time_s": 5.0, "end_time_s": 50.0},
            # Never detected: an aircraft that flies its route to the end within the run.
            {"threat": "AC-DARK", "category": 3, "launch_time_s": 0.0, "end_time_s": 80.0},
            # Never detected, still flying at the end; and one launched after the end.
            {"threat": "BM-FLY", "category": 1, "launch_time_s": 0.0, "end_time_s": 300.0},
            {"threat": "BM-LATE", "category": 1, "launch_time_s": 150.0, "end_time_s": 400.0},
        ],
    )
    truth_rows = [
        {"time_s": float(t), "threat": "BM-FULL", **_position("BM-FULL", t)} for t in range(61)
    ] + [{"time_s": float(t), "threat": "CM-LEAK", **_position("CM-LEAK", t)} for t in range(5, 51)]
    truth = make_table(TABLES["truth"], truth_rows)
    detections = make_table(
        TABLES["detections"],
        [
            {"time_s": 1.0, "nation": "JPN", "truth_threat": None},  # a false alarm
            {"time_s": 8.0, "nation": "USA", "truth_threat": "BM-FULL"},
            {"time_s": 3.5, "nation": "USA", "truth_threat": "BM-FULL"},
            {"time_s": 12.25, "nation": "JPN", "truth_threat": "BM-FULL"},
            {"time_s": 20.0, "nation": "JPN", "truth_threat": "CM-LEAK"},
            {"time_s": 25.0, "nation": "USA", "truth_threat": "CM-LEAK"},
        ],
    )
    far = {**_position("BM-FULL", 0.0), "y_m": -1.0e6}
    track_rows = (
        # A confirmed USA track far from every threat: never associated, never firm.
        [
            {
                "time_s": float(t),
                "node": "USA",
                "track": 7,
                "network_track_number": 7,
                "status": 2,
                **far,
            }
            for t in range(5, 9)
        ]
        # USA holds BM-FULL confirmed from 10 s, 100 m off the truth.
        + [
            {
                "time_s": float(t),
                "node": "USA",
                "track": 1,
                "network_track_number": 1,
                "status": 2,
                **_position("BM-FULL", t),
                "z_m": 100.0,
            }
            for t in range(10, 61)
        ]
        # JPN holds it tentative from 15 s (not firm), confirmed from 20 s.
        + [
            {
                "time_s": float(t),
                "node": "JPN",
                "track": 2,
                "network_track_number": 1,
                "status": 1 if t < 20 else 2,
                **_position("BM-FULL", t),
            }
            for t in range(15, 61)
        ]
    )
    system_tracks = make_table(TABLES["system_tracks"], track_rows)
    shot = {"track_number": 1, "value_at_risk": 1.0, "kill_probability": 0.8}
    engagements = make_table(
        TABLES["engagements"],
        [
            # A shot at a false track: earliest of all, in no chain.
            {
                **shot,
                "shot": 1,
                "nation": "USA",
                "decided_at_s": 5.0,
                "launch_at_s": 6.0,
                "time_s": 20.0,
                "intended_threat": "",
                "result": "OUTSIDE_BASKET",
                "threat": "",
            },
            # JPN decides first (25 s) ...
            {
                **shot,
                "shot": 2,
                "nation": "JPN",
                "decided_at_s": 25.0,
                "launch_at_s": 33.0,
                "time_s": 50.0,
                "intended_threat": "BM-FULL",
                "result": "MISS",
                "threat": "BM-FULL",
            },
            # ... but this later decision launches first (30 s); its intercept is later.
            {
                **shot,
                "shot": 3,
                "nation": "JPN",
                "decided_at_s": 28.0,
                "launch_at_s": 30.0,
                "time_s": 55.0,
                "intended_threat": "BM-FULL",
                "result": "MISS",
                "threat": "BM-FULL",
            },
            # USA kills it.
            {
                **shot,
                "shot": 4,
                "nation": "USA",
                "decided_at_s": 45.0,
                "launch_at_s": 47.0,
                "time_s": 60.5,
                "intended_threat": "BM-FULL",
                "result": "KILL",
                "threat": "BM-FULL",
            },
        ],
    )
    assessments = make_table(
        TABLES["assessments"],
        [
            {"time_s": 25.0, "shot": 1, "nation": "USA", "killed": False},
            {"time_s": 58.0, "shot": 2, "nation": "JPN", "killed": False},
            {"time_s": 57.0, "shot": 3, "nation": "JPN", "killed": False},
            {"time_s": 65.0, "shot": 4, "nation": "USA", "killed": True},
            {"time_s": 1.0, "shot": 99, "nation": "USA", "killed": False},  # no such shot
        ],
    )
    return {
        "threats": threats,
        "detections": detections,
        "system_tracks": system_tracks,
        "truth": truth,
        "engagements": engagements,
        "assessments": assessments,
    }


@pytest.fixture
def figures(make_table: MakeTable) -> KillChainFigures:
    return kill_chains(**_tables(make_table), nations=NATIONS, duration_s=DURATION_S)


def _chain(figures: KillChainFigures, threat: str) -> dict[str, object]:
    (chain,) = [c.to_dict() for c in figures.threats if c.threat == threat]
    return chain


def test_a_threat_through_the_whole_chain(figures: KillChainFigures) -> None:
    assert [c.threat for c in figures.threats] == [
        "BM-FULL",
        "CM-LEAK",
        "AC-DARK",
        "BM-FLY",
        "BM-LATE",
    ]
    assert _chain(figures, "BM-FULL") == {
        "threat": "BM-FULL",
        "category": 1,
        "launch_s": 0.0,
        "first_detection_s": 3.5,
        "detection_s_by_nation": {"USA": 3.5, "JPN": 12.25},
        # The far USA track (5 s) is not associated; JPN's tentative rows are not firm.
        "firm_track_s": 10.0,
        "firm_track_s_by_nation": {"USA": 10.0, "JPN": 20.0},
        "deciding_nation": "JPN",
        "deciding_firm_track_s": 20.0,
        "decision_s": 25.0,
        "authority_s": 25.0,
        "interceptor_launch_s": 30.0,
        "intercept_s": 50.0,
        "kill_s": 60.5,
        # Joined on shot: shot 3's assessment (57 s) is the first of the shots at it.
        "assessment_s": 57.0,
        "shots": 3,
        "outcome": "killed",
    }


def test_a_leaker_never_engaged(figures: KillChainFigures) -> None:
    chain = _chain(figures, "CM-LEAK")
    assert chain["first_detection_s"] == 20.0
    assert chain["detection_s_by_nation"] == {"USA": 25.0, "JPN": 20.0}
    assert chain["firm_track_s"] is None
    assert chain["firm_track_s_by_nation"] == {"USA": None, "JPN": None}
    for field in (
        "deciding_nation",
        "deciding_firm_track_s",
        "decision_s",
        "authority_s",
        "interceptor_launch_s",
        "intercept_s",
        "kill_s",
        "assessment_s",
    ):
        assert chain[field] is None, field
    assert chain["shots"] == 0
    assert chain["outcome"] == "leaked"


def test_threats_never_detected(figures: KillChainFigures) -> None:
    expected = {
        "AC-DARK": "survived-route",
        "BM-FLY": "in-flight-at-end",
        "BM-LATE": "not-launched",
    }
    for threat, outcome in expected.items():
        chain = _chain(figures, threat)
        assert chain["outcome"] == outcome
        assert chain["launch_s"] is not None
        assert chain["first_detection_s"] is None
        assert chain["detection_s_by_nation"] == {"USA": None, "JPN": None}
        assert chain["firm_track_s"] is None
        assert chain["decision_s"] is None
        assert chain["kill_s"] is None
        assert chain["shots"] == 0


def test_a_false_track_shot_is_in_no_chain(figures: KillChainFigures) -> None:
    assert figures.false_track_shots == 1
    # Shot 1 (decided 5 s, launched 6 s, resolved 20 s, assessed 25 s) would be the first of
    # every step; the only engaged threat's steps are those of its own shots.
    assert sum(c.shots for c in figures.threats) == 3
    full = next(c for c in figures.threats if c.threat == "BM-FULL")
    assert (full.decision_s, full.interceptor_launch_s, full.intercept_s) == (25.0, 30.0, 50.0)


def test_the_summary(figures: KillChainFigures) -> None:
    out = figures.to_dict()
    assert json.loads(json.dumps(out)) == out
    assert out["duration_s"] == DURATION_S
    assert out["nations"] == list(NATIONS)
    assert out["outcomes"] == {
        "killed": 1,
        "leaked": 1,
        "survived-route": 1,
        "in-flight-at-end": 1,
        "not-launched": 1,
    }
    intervals = out["intervals"]
    assert list(intervals) == [
        "launch_to_detection",
        "detection_to_firm_track",
        "firm_track_to_decision",
        "decision_to_interceptor_launch",
        "interceptor_launch_to_intercept",
        "intercept_to_assessment",
    ]
    # BM-FULL 3.5 s and CM-LEAK 15 s; linear percentile: 3.5 + 0.95 · 11.5.
    assert intervals["launch_to_detection"]["threats"] == 2
    assert intervals["launch_to_detection"]["mean_s"] == pytest.approx(9.25)
    assert intervals["launch_to_detection"]["p95_s"] == pytest.approx(14.425)
    # The rest only from BM-FULL; the decision from the deciding nation's (JPN) firm track.
    single = {
        "detection_to_firm_track": 6.5,
        "firm_track_to_decision": 5.0,
        "decision_to_interceptor_launch": 5.0,
        "interceptor_launch_to_intercept": 20.0,
        "intercept_to_assessment": 7.0,
    }
    for name, value in single.items():
        assert intervals[name] == {"threats": 1, "mean_s": value, "p95_s": value}, name


def test_empty_tables_give_no_chain_steps(make_table: MakeTable) -> None:
    tables = {name: TABLES[name].empty_table() for name in _tables(make_table)}
    tables["threats"] = _tables(make_table)["threats"]
    figures = kill_chains(**tables, nations=NATIONS, duration_s=DURATION_S)
    assert all(c.first_detection_s is None and c.kill_s is None for c in figures.threats)
    assert all(f.threats == 0 and f.mean_s is None for f in figures.intervals.values())
    assert figures.outcomes[ChainOutcome.LEAKED] == 1
    assert figures.false_track_shots == 0


def test_an_unknown_nation_is_a_recording_error(make_table: MakeTable) -> None:
    tables = _tables(make_table)
    with pytest.raises(RecordingError, match="table 'detections': 'JPN' is not in"):
        kill_chains(**tables, nations=("USA",), duration_s=DURATION_S)
    with pytest.raises(RecordingError, match="table 'assessments' lacks the columns shot"):
        kill_chains(
            **{**tables, "assessments": tables["assessments"].drop_columns(["shot"])},
            nations=NATIONS,
            duration_s=DURATION_S,
        )


def test_a_defended_run_goes_through_the_chain_in_order(tmp_path: Path) -> None:
    text = resolve_scenario("test-duo")[1]
    model = load_scenario_text(text, "test-duo.yaml")
    run_scenario(model, text, tmp_path / "duo", options=RunOptions(seed=1, variant="defended"))
    run = Recording(tmp_path / "duo")
    tables = {
        name: run.table(name)
        for name in ("threats", "detections", "system_tracks", "truth", "engagements")
    }
    figures = kill_chains(
        **tables,
        assessments=run.table("assessments"),
        nations=run.meta["nations"],
        duration_s=run.meta["duration_s"],
    )
    killed = [c for c in figures.threats if c.outcome == ChainOutcome.KILLED]
    assert killed
    for chain in killed:
        optional = [
            chain.launch_s,
            chain.first_detection_s,
            chain.deciding_firm_track_s,
            chain.decision_s,
            chain.authority_s,
            chain.interceptor_launch_s,
            chain.intercept_s,
            chain.assessment_s,
        ]
        steps = [step for step in optional if step is not None and math.isfinite(step)]
        assert len(steps) == len(optional), chain
        assert steps == sorted(steps), chain
        # The earliest firm track of any nation lies between detection and the decider's.
        assert chain.firm_track_s is not None
        assert steps[1] <= chain.firm_track_s <= steps[2]
        assert chain.kill_s is not None
        assert steps[6] <= chain.kill_s
    # The outcomes agree with the defense figures of the same run.
    defense = defense_summary(
        run.table("threats"),
        run.table("engagements"),
        run.table("defended_assets"),
        duration_s=run.meta["duration_s"],
    )
    assert figures.outcomes["killed"] == defense.destroyed
    assert figures.outcomes["leaked"] == defense.leakers
    assert figures.outcomes["in-flight-at-end"] == defense.in_flight_at_end
