"""Network and fusion figures on small hand-built tables with answers worked out by hand."""

import itertools
import json
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pytest

from iamd.core import ConfigurationError, RecordingError
from iamd.metrics.network import (
    NO_NUMBER,
    Holdings,
    commonality,
    entitlement,
    link_figures,
    network_summary,
    own_holdings,
    picture_holdings,
    picture_summaries,
    reject_figures,
    release_coverage,
    release_figures,
    staleness,
    warning_times,
)
from iamd.metrics.tracking import tracking_summaries
from iamd.network import Decision, DenyReason
from iamd.record.schema import (
    AUDIT,
    DELIVERIES,
    LINK_EVENTS,
    LOCAL_TRACKS,
    REJECTS,
    SYSTEM_TRACKS,
    THREATS,
    TRUTH,
)

Rows = list[dict[str, object]]
Make = Callable[[pa.Schema, Rows], pa.Table]

NATIONS = ("USA", "JPN", "KOR")
STEPS = range(10)
# Two stationary objects far apart: a track at an object's position follows it.
POSITION = {"T": 0.0, "U": 1e6}


def _state(x: float) -> dict[str, float]:
    return {"x_m": x, "y_m": 0.0, "z_m": 0.0, "vx_mps": 0.0, "vy_mps": 0.0, "vz_mps": 0.0}


def _truth(make: Make) -> pa.Table:
    return make(
        TRUTH,
        [
            {"time_s": float(t), "threat": name, **_state(x)}
            for name, x in POSITION.items()
            for t in STEPS
        ],
    )


def _track(
    node: str,
    track: int,
    on: str,
    times: Sequence[int],
    numbers: Sequence[int] | None = None,
) -> Rows:
    """Records of one track on object ``on`` at ``times``, then a dropped row one step later
    (unless the truth has ended); ``numbers`` are network track numbers (system tracks)."""
    rows: Rows = [
        {"time_s": float(t), "node": node, "track": track, "status": 2, **_state(POSITION[on])}
        for t in times
    ]
    if times[-1] + 1 in STEPS:
        rows.append({**rows[-1], "time_s": float(times[-1] + 1), "status": 4})
    if numbers is not None:
        for row, number in zip(rows, [*numbers, numbers[-1]], strict=False):
            row["network_track_number"] = number
    return rows


def _audit(
    make: Make,
    rows: Sequence[tuple[float, str, str, int, str, int, int]] = (),
) -> pa.Table:
    """Rows (time, node, recipient, originator's local track, originator, decision, reason)."""
    return make(
        AUDIT,
        [
            {
                "time_s": time,
                "node": node,
                "recipient": recipient,
                "track_number": number,
                "originator": originator,
                "decision": decision,
                "reason": reason,
            }
            for time, node, recipient, number, originator, decision, reason in rows
        ],
    )


def _holdings(
    make: Make, local: Rows, system: Rows, nations: Sequence[str] = NATIONS
) -> tuple[Holdings, Holdings]:
    truth = _truth(make)
    return (
        picture_holdings(truth, make(SYSTEM_TRACKS, system), nations),
        own_holdings(truth, make(LOCAL_TRACKS, local), nations),
    )


BOTH_OWN = _track("USA", 11, "T", list(STEPS)) + _track("JPN", 21, "T", list(STEPS))


# --- holdings ---------------------------------------------------------------------------------


def test_holdings_carry_the_network_number_of_each_step(make_table: Make) -> None:
    picture, own = _holdings(
        make_table,
        BOTH_OWN,
        _track("JPN", 3, "T", list(STEPS), numbers=[5] * 5 + [6] * 5),
    )
    assert picture.nodes == ("JPN",)
    assert picture.step.tolist() == list(STEPS)
    assert picture.number.tolist() == [5] * 5 + [6] * 5
    assert set(picture.track.tolist()) == {3}
    assert picture.truth_ids == ("T", "U")
    assert own.nodes == ("USA", "JPN")
    assert np.all(own.number == NO_NUMBER)
    assert sorted(set(zip(own.nation.tolist(), own.track.tolist(), strict=True))) == [
        (0, 11),
        (1, 21),
    ]


def test_a_node_outside_the_nation_table_is_an_error(make_table: Make) -> None:
    with pytest.raises(RecordingError, match=r"'FRA' is not in the run's nation table"):
        _holdings(make_table, _track("FRA", 1, "T", list(STEPS)), [])


def test_system_tracks_without_numbers_are_an_error(make_table: Make) -> None:
    system = make_table(SYSTEM_TRACKS, []).drop_columns(["network_track_number"])
    with pytest.raises(RecordingError, match="lacks the columns network_track_number"):
        picture_holdings(_truth(make_table), system, NATIONS)


# --- commonality ------------------------------------------------------------------------------


def test_commonality_is_one_when_both_hold_one_number(make_table: Make) -> None:
    picture, own = _holdings(
        make_table,
        BOTH_OWN,
        _track("USA", 1, "T", list(STEPS), [5] * 10) + _track("JPN", 3, "T", list(STEPS), [5] * 10),
    )
    figures = commonality(picture, own, _audit(make_table))
    assert (figures.commonality, figures.object_times, figures.common_object_times) == (1.0, 10, 10)
    [pair] = figures.pairwise
    assert (pair.nations, pair.commonality, pair.object_times) == (("USA", "JPN"), 1.0, 10)
    assert figures.number_changes == {"USA": 0, "JPN": 0}
    assert figures.numbers_per_object == {"T": 1}


def test_commonality_is_one_half_when_numbers_disagree_half_the_time(make_table: Make) -> None:
    picture, own = _holdings(
        make_table,
        BOTH_OWN,
        _track("USA", 1, "T", list(STEPS), [5] * 10)
        + _track("JPN", 3, "T", list(STEPS), [5] * 5 + [6] * 5),
    )
    figures = commonality(picture, own, _audit(make_table))
    assert (figures.commonality, figures.object_times, figures.common_object_times) == (0.5, 10, 5)
    assert figures.pairwise[0].commonality == 0.5
    # JPN's track renumbered once; T was held under two numbers.
    assert figures.number_changes == {"USA": 0, "JPN": 1}
    assert figures.numbers_per_object == {"T": 2}


def test_several_tracks_give_several_numbers_and_one_shared_is_enough(make_table: Make) -> None:
    # JPN holds T twice (numbers 5 and 9) at steps 0–4: 5 is shared with USA at every step.
    picture, own = _holdings(
        make_table,
        BOTH_OWN,
        _track("USA", 1, "T", list(STEPS), [5] * 10)
        + _track("JPN", 3, "T", list(STEPS), [5] * 10)
        + _track("JPN", 4, "T", [0, 1, 2, 3, 4], [9] * 5),
    )
    figures = commonality(picture, own, _audit(make_table))
    assert figures.commonality == 1.0
    assert figures.numbers_per_object == {"T": 2}


def test_a_nation_entitled_by_a_release_but_not_holding_lowers_commonality(
    make_table: Make,
) -> None:
    system = _track("USA", 1, "T", list(STEPS), [5] * 10) + _track(
        "JPN", 3, "T", list(STEPS), [5] * 10
    )
    picture, own = _holdings(make_table, BOTH_OWN, system)
    # USA releases its local track 11 (on T) to KOR at 2.5 s: KOR is entitled at 3, 4, 5 s
    # with a 3-s memory. A denied item and an item of an unknown track entitle nobody.
    audit = _audit(
        make_table,
        [
            (2.5, "USA", "KOR", 11, "USA", Decision.RELEASE, 0),
            (6.0, "USA", "KOR", 11, "USA", Decision.DENY, DenyReason.NO_AGREEMENT),
            (6.0, "USA", "KOR", 99, "USA", Decision.RELEASE, 0),
        ],
    )
    figures = commonality(picture, own, audit, entitlement_memory_s=3.0)
    assert (figures.commonality, figures.object_times, figures.common_object_times) == (0.7, 10, 7)
    pairs = {pair.nations: pair for pair in figures.pairwise}
    assert pairs["USA", "JPN"].commonality == 1.0
    assert (pairs["USA", "KOR"].commonality, pairs["USA", "KOR"].object_times) == (0.0, 3)
    assert (pairs["JPN", "KOR"].commonality, pairs["JPN", "KOR"].object_times) == (0.0, 3)
    # KOR holding T under 5 from 4 s on makes 4 and 5 s common again.
    picture, own = _holdings(
        make_table, BOTH_OWN, [*system, *_track("KOR", 8, "T", [4, 5, 6, 7, 8, 9], [5] * 6)]
    )
    figures = commonality(picture, own, audit, entitlement_memory_s=3.0)
    assert figures.commonality == 0.9
    assert {pair.nations: pair.common_object_times for pair in figures.pairwise} == {
        ("USA", "JPN"): 10,
        ("USA", "KOR"): 2,
        ("JPN", "KOR"): 2,
    }


def test_a_single_entitled_nation_does_not_count(make_table: Make) -> None:
    picture, own = _holdings(
        make_table,
        _track("USA", 11, "T", list(STEPS)),
        _track("USA", 1, "T", list(STEPS), [5] * 10) + _track("JPN", 3, "T", list(STEPS), [6] * 10),
    )
    figures = commonality(picture, own, _audit(make_table))
    assert (figures.commonality, figures.object_times) == (None, 0)


def test_entitlement_window_and_lookup(make_table: Make) -> None:
    _, own = _holdings(make_table, _track("USA", 11, "T", [0, 1, 2, 3, 4]), [])
    # A release on the grid entitles from that instant. The release at 4.5 s is looked up at
    # 5 s, when the track has ended: it entitles nobody.
    audit = _audit(
        make_table,
        [
            (3.0, "USA", "JPN", 11, "USA", Decision.SANITISE, 0),
            (4.5, "USA", "KOR", 11, "USA", Decision.RELEASE, 0),
        ],
    )
    keys, masks = entitlement(own, audit, memory_s=2.0)
    by_step = dict(zip((keys // own.width).tolist(), masks.tolist(), strict=True))
    assert by_step == {0: 0b001, 1: 0b001, 2: 0b001, 3: 0b011, 4: 0b011, 5: 0b010}
    with pytest.raises(ConfigurationError, match="entitlement memory"):
        entitlement(own, audit, memory_s=-1.0)


def _brute_force(
    picture: Holdings, own: Holdings, audit: Rows, memory_s: float
) -> tuple[list[bool], dict[tuple[int, int], list[bool]]]:
    """Commonality by the definition, one object-time at a time."""
    entitled: dict[tuple[int, int], set[int]] = {
        (s, o): set()
        for s, o in zip(own.truth_step.tolist(), own.truth_index.tolist(), strict=True)
    }
    own_rows = list(
        zip(own.nation.tolist(), own.track.tolist(), own.step.tolist(), own.truth, strict=True)
    )
    for nation, _, step, truth in own_rows:
        entitled[step, int(truth)].add(nation)
    for row in audit:
        if row["decision"] not in (1, 2):
            continue
        time = float(row["time_s"])
        steps = [s for s, t in enumerate(own.times_s) if time - 1e-9 <= t <= time + memory_s]
        if not steps:
            continue
        originator = NATIONS.index(str(row["originator"]))
        found = [
            int(truth)
            for nation, track, step, truth in own_rows
            if (nation, track, step) == (originator, row["track_number"], steps[0])
        ]
        for truth in found:
            for step in steps:
                if (step, truth) in entitled:
                    entitled[step, truth].add(NATIONS.index(str(row["recipient"])))
    held: dict[tuple[int, int, int], set[int]] = {}
    for nation, step, truth, number in zip(
        picture.nation.tolist(),
        picture.step.tolist(),
        picture.truth.tolist(),
        picture.number.tolist(),
        strict=True,
    ):
        held.setdefault((step, truth, nation), set()).add(number)
    overall = [
        bool(set.intersection(*(held.get((*key, n), set()) for n in nations)))
        for key, nations in sorted(entitled.items())
        if len(nations) >= 2
    ]
    pairwise = {
        (a, b): [
            bool(held.get((*key, a), set()) & held.get((*key, b), set()))
            for key, nations in sorted(entitled.items())
            if {a, b} <= nations
        ]
        for a, b in itertools.combinations(range(len(NATIONS)), 2)
    }
    return overall, pairwise


@pytest.mark.parametrize("seed", range(8))
def test_commonality_agrees_with_the_definition_on_random_holdings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps, objects = 12, 3

    def holdings(numbered: bool) -> Holdings:
        rows = set()
        for nation in range(len(NATIONS)):
            for track in range(4):
                for step in np.flatnonzero(rng.random(steps) < 0.6).tolist():
                    number = int(rng.integers(1, 4)) if numbered else NO_NUMBER
                    rows.add((step, int(rng.integers(objects)), nation, track, number))
        step, truth, nation, track, number = (
            np.array(c, np.int64) for c in zip(*rows, strict=True)
        )
        return Holdings(
            times_s=np.arange(steps) * 2.0,
            truth_ids=("A", "B", "C"),
            truth_step=np.repeat(np.arange(steps), objects),
            truth_index=np.tile(np.arange(objects), steps),
            nations=NATIONS,
            nodes=NATIONS,
            step=step,
            truth=truth,
            nation=nation,
            track=track,
            number=number,
        )

    picture, own = holdings(True), holdings(False)
    audit = [
        {
            "time_s": float(rng.uniform(-1.0, 2.0 * steps)),
            "node": "USA",
            "recipient": NATIONS[int(rng.integers(3))],
            "track_number": int(rng.integers(4)),
            "originator": NATIONS[int(rng.integers(3))],
            "decision": int(rng.integers(1, 4)),
            "reason": 0,
        }
        for _ in range(10)
    ]
    figures = commonality(
        picture, own, pa.Table.from_pylist(audit, schema=AUDIT), entitlement_memory_s=5.0
    )
    overall, pairwise = _brute_force(picture, own, audit, 5.0)
    assert (figures.object_times, figures.common_object_times) == (len(overall), sum(overall))
    for pair in figures.pairwise:
        expected = pairwise[NATIONS.index(pair.nations[0]), NATIONS.index(pair.nations[1])]
        assert (pair.object_times, pair.common_object_times) == (len(expected), sum(expected))


# --- coverage and warning time ----------------------------------------------------------------

COVERAGE_LOCAL = _track("USA", 11, "T", list(STEPS)) + _track("JPN", 21, "U", [0, 1, 2, 3, 4])
COVERAGE_SYSTEM = (
    _track("USA", 1, "T", list(STEPS), [5] * 10)
    + _track("USA", 2, "U", [2, 3, 4], [6] * 3)
    + _track("JPN", 3, "T", [0, 1, 2, 3, 4], [5] * 5)
    + _track("JPN", 4, "U", [0, 1, 2, 3, 4], [6] * 5)
)


def test_release_coverage(make_table: Make) -> None:
    picture, own = _holdings(make_table, COVERAGE_LOCAL, COVERAGE_SYSTEM)
    figures = release_coverage(picture, own)
    # C: T over 10 steps (USA) and U over 5 (JPN), of 20 truth rows.
    assert (figures.truth_object_times, figures.coalition_object_times) == (20, 15)
    assert figures.coalition_completeness == 0.75
    usa, jpn = figures.nations
    assert (usa.node, usa.held_object_times, usa.coverage) == ("USA", 13, 13 / 15)
    assert (usa.own_object_times, usa.own_share) == (10, 10 / 15)
    assert (jpn.node, jpn.held_object_times, jpn.coverage) == ("JPN", 10, 10 / 15)
    assert (jpn.own_object_times, jpn.own_share) == (5, 5 / 15)


def test_warning_times(make_table: Make) -> None:
    picture, own = _holdings(make_table, COVERAGE_LOCAL, COVERAGE_SYSTEM)
    threats = make_table(
        THREATS,
        [
            {"threat": "T", "launch_time_s": -5.0, "end_time_s": 30.0},
            {"threat": "U", "launch_time_s": 0.0, "end_time_s": 20.0},
            {"threat": "V", "launch_time_s": 0.0, "end_time_s": 20.0},
        ],
    )
    usa, jpn = warning_times(picture, own, threats)
    assert (usa.node, usa.threats) == ("USA", 3)
    # USA's picture: T first held at 0 s, U at 2 s; its own sensors: T at 0 s only.
    assert usa.picture.first_held_s == {"T": 0.0, "U": 2.0}
    assert (usa.picture.threats_held, usa.picture.mean_delay_s) == (2, 3.5)
    assert (usa.picture.median_delay_s, usa.picture.mean_warning_s) == (3.5, 24.0)
    assert usa.picture.median_warning_s == 24.0
    assert (usa.own.threats_held, usa.own.mean_delay_s, usa.own.mean_warning_s) == (1, 5.0, 30.0)
    # JPN's picture gains T through the network (delay 5 s, warning 30 s).
    assert (jpn.picture.threats_held, jpn.picture.mean_delay_s) == (2, 2.5)
    assert jpn.picture.mean_warning_s == 25.0
    assert (jpn.own.threats_held, jpn.own.mean_delay_s, jpn.own.mean_warning_s) == (1, 0.0, 20.0)
    nobody = warning_times(*_holdings(make_table, [], []), threats)
    assert nobody == []


def test_a_node_without_own_tracks_holds_nothing_of_its_own(make_table: Make) -> None:
    picture, own = _holdings(make_table, [], _track("JPN", 3, "T", list(STEPS), [5] * 10))
    [jpn] = warning_times(picture, own, make_table(THREATS, []))
    assert (jpn.picture.threats_held, jpn.picture.mean_delay_s) == (1, None)
    assert (jpn.own.threats_held, jpn.own.median_warning_s, jpn.own.first_held_s) == (0, None, {})
    assert release_coverage(picture, own).nations[0].coverage is None


# --- staleness, links, releases, rejects -------------------------------------------------------


def test_staleness_of_accepted_deliveries(make_table: Make) -> None:
    rows: Rows = [
        {"time_s": 10.0 + age, "node": "JPN", "valid_at_s": 10.0, "accepted": True}
        for age in (1.0, 2.0, 3.0)
    ]
    rows += [
        {"time_s": 110.0, "node": "JPN", "valid_at_s": 10.0, "accepted": False},
        {"time_s": 5.5, "node": "USA", "valid_at_s": 5.0, "accepted": True},
    ]
    jpn, usa = staleness(make_table(DELIVERIES, rows))
    assert (jpn.node, jpn.items, jpn.mean_s, jpn.max_s) == ("JPN", 3, 2.0, 3.0)
    assert jpn.p95_s == pytest.approx(2.9, abs=1e-12)
    assert (usa.node, usa.items, usa.mean_s, usa.p95_s, usa.max_s) == ("USA", 1, 0.5, 0.5, 0.5)
    assert staleness(make_table(DELIVERIES, [])) == []


def test_link_figures_with_a_drop(make_table: Make) -> None:
    def message(sender: str, time: float, reports: int, delay: float | None, why: str) -> dict:
        return {
            "time_s": time,
            "link": "USA-JPN",
            "sender": sender,
            "receiver": "JPN" if sender == "USA" else "USA",
            "reports": reports,
            "size_bytes": 100,
            "departure_s": time,
            "arrival_s": math.nan if delay is None else time + delay,
            "drop_reason": why,
        }

    table = make_table(
        LINK_EVENTS,
        [
            message("USA", 1.0, 1, 0.1, ""),
            message("USA", 2.0, 2, 0.2, ""),
            message("USA", 3.0, 3, 0.3, ""),
            message("USA", 4.0, 4, None, "LOSS"),
            message("JPN", 1.0, 1, None, "OUTAGE"),
        ],
    )
    back, forth = link_figures(table, 10.0)
    assert (forth.sender, forth.receiver, forth.messages, forth.reports) == ("USA", "JPN", 4, 10)
    assert (forth.size_bytes, forth.delivered, forth.delivered_reports) == (400, 3, 6)
    assert (forth.delivered_fraction, forth.drops) == (0.75, {"LOSS": 1})
    assert forth.mean_delay_s == pytest.approx(0.2, abs=1e-12)
    assert forth.p95_delay_s == pytest.approx(0.29, abs=1e-12)
    assert (forth.reports_per_s, forth.bytes_per_s) == (1.0, 40.0)
    assert (back.sender, back.delivered_fraction, back.drops) == ("JPN", 0.0, {"OUTAGE": 1})
    assert (back.mean_delay_s, back.p95_delay_s) == (None, None)
    with pytest.raises(ConfigurationError, match="duration_s must be finite and > 0"):
        link_figures(table, 0.0)


def test_release_figures_by_node_and_by_originator(make_table: Make) -> None:
    audit = _audit(
        make_table,
        [
            (1.0, "USA", "KOR", 1, "USA", Decision.RELEASE, 0),
            (2.0, "USA", "KOR", 1, "USA", Decision.RELEASE, 0),
            (2.0, "USA", "KOR", 2, "USA", Decision.SANITISE, 0),
            (3.0, "USA", "KOR", 3, "USA", Decision.DENY, DenyReason.NOT_IN_REL_TO),
            (3.0, "USA", "KOR", 4, "USA", Decision.DENY, DenyReason.NO_AGREEMENT),
            (3.0, "JPN", "KOR", 5, "USA", Decision.DENY, DenyReason.RELAY_NOT_PERMITTED),
            (3.0, "JPN", "USA", 6, "JPN", Decision.RELEASE, 0),
        ],
    )
    by_node = {(f.sender, f.recipient): f for f in release_figures(audit)}
    assert list(by_node) == [("JPN", "KOR"), ("JPN", "USA"), ("USA", "KOR")]
    usa = by_node["USA", "KOR"]
    assert (usa.released, usa.sanitised, usa.denied) == (2, 1, 2)
    assert usa.denials == {"NOT_IN_REL_TO": 1, "NO_AGREEMENT": 1}
    assert by_node["JPN", "KOR"].denials == {"RELAY_NOT_PERMITTED": 1}
    by_originator = {(f.sender, f.recipient): f for f in release_figures(audit, by="originator")}
    assert list(by_originator) == [("JPN", "USA"), ("USA", "KOR")]
    assert by_originator["USA", "KOR"].denied == 3
    with pytest.raises(ConfigurationError, match="by must be 'node' or 'originator'"):
        release_figures(audit, by="recipient")


def test_reject_figures(make_table: Make) -> None:
    rejects = make_table(
        REJECTS,
        [
            {"node": "JPN", "reason": "BAD_SIGNATURE"},
            {"node": "JPN", "reason": "BAD_SIGNATURE"},
            {"node": "JPN", "reason": "REPLAY"},
            {"node": "USA", "reason": "TRUNCATED"},
        ],
    )
    jpn, usa = reject_figures(rejects)
    assert (jpn.node, jpn.rejected, jpn.reasons) == ("JPN", 3, {"BAD_SIGNATURE": 2, "REPLAY": 1})
    assert (usa.node, usa.rejected, usa.reasons) == ("USA", 1, {"TRUNCATED": 1})
    assert reject_figures(make_table(REJECTS, [])) == []


# --- summary ----------------------------------------------------------------------------------


def test_picture_summaries_are_the_tracking_figures_of_the_system_tracks(
    make_table: Make,
) -> None:
    truth, system = _truth(make_table), make_table(SYSTEM_TRACKS, COVERAGE_SYSTEM)
    figures = picture_summaries(truth, system)
    assert figures == tracking_summaries(truth, system)
    assert [f.node for f in figures] == ["JPN", "USA"]
    jpn = figures[0]
    assert (jpn.siap.completeness, jpn.siap.spuriousness) == (0.5, 0.0)


def test_network_summary_is_json_ready(make_table: Make) -> None:
    figures = network_summary(
        truth=_truth(make_table),
        threats=make_table(THREATS, [{"threat": "T", "launch_time_s": 0.0, "end_time_s": 9.0}]),
        local_tracks=make_table(LOCAL_TRACKS, COVERAGE_LOCAL),
        system_tracks=make_table(SYSTEM_TRACKS, COVERAGE_SYSTEM),
        audit=_audit(make_table, [(0.0, "USA", "JPN", 11, "USA", Decision.RELEASE, 0)]),
        deliveries=make_table(DELIVERIES, []),
        link_events=make_table(LINK_EVENTS, []),
        rejects=make_table(REJECTS, []),
        duration_s=10.0,
        nations=["USA", "JPN"],
    )
    out = json.loads(json.dumps(figures.to_dict()))
    assert out["nations"] == ["USA", "JPN"]
    assert [node["node"] for node in out["picture"]] == ["JPN", "USA"]
    # JPN is entitled to T over 0–9 s by USA's release at 0 s; both hold it under 5 until
    # JPN's track drops at 5 s.
    assert out["commonality"]["object_times"] == 10
    assert out["commonality"]["commonality"] == 0.5
    assert out["coverage"]["coalition_completeness"] == 0.75
    assert out["warning"][0]["picture"]["first_held_s"] == {"T": 0.0, "U": 2.0}
    assert (out["staleness"], out["links"], out["rejects"]) == ([], [], [])
    assert out["releases_by_node"][0]["released"] == 1


def test_holdings_of_different_runs_do_not_mix(make_table: Make) -> None:
    picture, _ = _holdings(make_table, [], [], nations=("USA", "JPN"))
    _, own = _holdings(make_table, [], [])
    with pytest.raises(ValueError, match="different truth or nations"):
        release_coverage(picture, own)
