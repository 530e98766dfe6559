"""Battle management end to end: nations fire only within their authority, shots destroy
threats, and the defense outcome adds up."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from iamd.core import NationCode
from iamd.messages import ThreatPhase
from iamd.record import Recording
from iamd.scenario import InterceptorType, load_scenario_text, resolve_scenario
from iamd.sim import RunOptions, run_scenario, summarise
from iamd.sim.battle import ShooterState, _held_for_upper_tier, _held_in_reserve
from iamd.sim.verify import check_engagements

DUO_TEXT = resolve_scenario("test-duo")[1]


def run(
    tmp_path: Path, name: str, text: str = DUO_TEXT, variant: str | None = "defended"
) -> Recording:
    model = load_scenario_text(text, f"{name}.yaml")
    run_scenario(model, text, tmp_path / name, options=RunOptions(seed=1, variant=variant))
    return Recording(tmp_path / name)


@pytest.fixture(scope="module")
def defended(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return run(tmp_path_factory.mktemp("battle"), "defended")


def test_nations_fire_within_their_authority(defended: Recording) -> None:
    shots = defended.table("engagements").to_pylist()
    assert len(shots) >= 3
    assert defended.meta["authority_violations"] == 0
    assert check_engagements(defended.run_dir) == []
    shooters = {"USA": {"USA-DDG-1-UT"}, "JPN": {"JPN-Matsue-LT"}}
    for shot in shots:
        assert shot["shooter"] in shooters[shot["nation"]]
        # USA defends Japan by its rules; Japan defends itself: only Japan's assets here.
        assert shot["asset_nation"] == "JPN"
        assert shot["value_at_risk"] > 0.0
        assert shot["decided_at_s"] <= shot["launch_at_s"] < shot["intercept_at_s"]
    assert len({s["shot"] for s in shots}) == len(shots)


def test_a_kill_destroys_the_threat_in_the_world(defended: Recording) -> None:
    shots = defended.table("engagements").to_pylist()
    kills = {s["threat"]: s["time_s"] for s in shots if s["result"] == "KILL"}
    assert kills
    truth = defended.table("truth")
    for threat, time_s in kills.items():
        rows = truth.filter(pc.equal(truth["threat"], threat)).to_pylist()
        # The truth table holds threats in flight: the threat flies up to the kill, and
        # never after it (its planned impact was later: it did not end on its own).
        assert any(r["time_s"] < time_s for r in rows)
        assert not any(r["time_s"] >= time_s for r in rows)
        assert all(r["phase"] != ThreatPhase.DESTROYED for r in rows)
    # The sensors stop seeing it: no detection of it after the kill.
    detections = defended.table("detections").to_pylist()
    for threat, time_s in kills.items():
        assert not [d for d in detections if d["truth_threat"] == threat and d["time_s"] > time_s]


def test_the_defense_outcome_adds_up(defended: Recording) -> None:
    defense = summarise(defended.run_dir)["defense"]
    assert defense is not None
    assert defense["missiles"] == 4
    assert defense["destroyed"] + defense["leakers"] + defense["in_flight_at_end"] == 4
    assert defense["destroyed"] >= 1
    assert defense["kills"] == defense["destroyed"]
    assert sum(n["shots"] for n in defense["by_nation"]) == defense["shots"]
    assert 0.0 <= defense["value_weighted_survival"] <= 1.0
    assessments = defended.table("assessments").to_pylist()
    assert {a["shot"] for a in assessments} <= {
        s["shot"] for s in defended.table("engagements").to_pylist()
    }


def test_without_rules_of_engagement_nobody_fires(tmp_path: Path) -> None:
    recording = run(
        tmp_path,
        "hold",
        variant=None,
    )
    assert recording.table("engagements").num_rows == 0
    assert summarise(recording.run_dir)["defense"] is None


def test_a_nation_that_defends_only_itself_leaves_its_allies_undefended(tmp_path: Path) -> None:
    text = DUO_TEXT.replace(
        "      - {nation: USA, defends: [JPN], doctrine: {mode: salvo, salvo: 2}}",
        "      - {nation: USA, doctrine: {mode: salvo, salvo: 2}}",
    )
    assert text != DUO_TEXT
    recording = run(tmp_path, "selfish", text)
    nations = set(recording.table("engagements")["nation"].to_pylist())
    assert "USA" not in nations  # the USA has no asset in this scenario
    assert recording.meta["authority_violations"] == 0


def test_the_checker_catches_a_shot_outside_authority(defended: Recording, tmp_path: Path) -> None:
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    copy = tmp_path / "copy"
    shutil.copytree(defended.run_dir, copy)
    part = sorted((copy / "tables" / "engagements").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    forged = pa.array(["JPN-Matsue-LT"] * table.num_rows)
    table = table.set_column(table.schema.get_field_index("shooter"), "shooter", forged)
    pq.write_table(table, part)
    problems = check_engagements(copy)
    assert any("not the nation's own" in p for p in problems)


def test_engagement_status_on_the_network_prevents_double_engagements(tmp_path: Path) -> None:
    """Japan gets an upper-tier battery too, so both nations can engage the same missiles.
    Linked, each sees the other's engagements and leaves those threats alone; cut off, they
    fire at the same missiles at the same time."""
    both = DUO_TEXT.replace(
        "  - {name: JPN-Matsue-LT, site: JPN-Matsue, interceptor: LOWER-TIER, inventory: 8, "
        "fire_channels: 2}\n",
        "  - {name: JPN-Matsue-LT, site: JPN-Matsue, interceptor: LOWER-TIER, inventory: 8, "
        "fire_channels: 2}\n"
        "  - {name: JPN-Matsue-UT, site: JPN-Matsue, interceptor: UPPER-TIER, inventory: 6, "
        "fire_channels: 2}\n",
    )
    assert both != DUO_TEXT
    alone = both.replace(
        "links:\n  - {a: USA, b: JPN, latency_s: 0.5, jitter_s: 0.05, loss_probability: 0.01}\n",
        "links: []\n",
    )
    assert alone != both
    linked, cut = run(tmp_path, "linked", both), run(tmp_path, "cut", alone)
    linked_defense = summarise(linked.run_dir)["defense"]
    cut_defense = summarise(cut.run_dir)["defense"]
    assert linked_defense["double_engagements"] == 0
    assert cut_defense["double_engagements"] >= 1
    assert linked_defense["shots"] < cut_defense["shots"]
    # The statuses went through the guards and arrived, like any other data.
    audit = linked.table("audit")
    statuses = audit.filter(pc.equal(audit["kind"], "engagement"))
    assert statuses.num_rows > 0
    deliveries = linked.table("deliveries")
    arrived = deliveries.filter(pc.equal(deliveries["kind"], "engagement"))
    assert arrived.num_rows > 0
    assert pc.all(arrived["accepted"]).as_py()
    assert linked.meta["release_violations"] == 0


REQUESTS_TEXT = DUO_TEXT.replace(
    "      - {nation: JPN, doctrine: {mode: shoot_look_shoot, salvo: 1}}\n"
    "      - {nation: USA, defends: [JPN], doctrine: {mode: salvo, salvo: 2}}\n",
    "      - {nation: JPN, doctrine: {mode: shoot_look_shoot, salvo: 1}, requests_to: [USA]}\n"
    "      - {nation: USA, accepts_from: [JPN], decision_delay_s: 4,\n"
    "         doctrine: {mode: salvo, salvo: 2}}\n",
)


def test_a_partner_fires_only_on_request_and_only_what_it_accepted(tmp_path: Path) -> None:
    """The USA defends nothing of its own here, so it fires only when Japan asks and it
    accepts; every such shot names the request, and the checker finds nothing wrong."""
    assert REQUESTS_TEXT != DUO_TEXT
    recording = run(tmp_path, "asked", REQUESTS_TEXT)
    shots = recording.table("engagements").to_pylist()
    usa = [s for s in shots if s["nation"] == "USA"]
    assert usa
    assert all(s["requested_by"] == "JPN" for s in usa)
    assert all(s["requested_by"] == "" for s in shots if s["nation"] == "JPN")
    requests = recording.table("requests").to_pylist()
    sent = [r for r in requests if r["state"] == "REQUESTED" and r["reason"] == "sent"]
    accepted = [r for r in requests if r["state"] == "ACCEPTED"]
    assert sent
    assert accepted
    assert all(r["requester"] == "JPN" and r["owner"] == "USA" for r in sent)
    # The answer comes a decision delay after the request reached the USA.
    received = [
        (r["track_number"], r["shooter"], r["time_s"])
        for r in requests
        if r["reason"] == "received"
    ]
    for r in accepted:
        assert any(
            (t, n) == (r["track_number"], r["shooter"]) and r["time_s"] == pytest.approx(at + 4.0)
            for t, n, at in received
        )
    assert recording.meta["authority_violations"] == 0
    defense = summarise(recording.run_dir)["defense"]
    # In the kill chain a shot on request was decided by the requester, authorised by the
    # owner when it accepted.
    on_request = {s["intended_threat"] for s in usa}
    chains = [c for c in defense["kill_chains"] if c["threat"] in on_request]
    asked_first = [c for c in chains if c["deciding_nation"] == "JPN"]
    assert asked_first
    for chain in asked_first:
        assert chain["authority_s"] >= chain["decision_s"] + 4.0
    assert defense["requests_sent"] == len(sent)
    assert defense["requests_accepted"] == len(accepted)
    assert defense["shots_on_request"] == len(usa)


def test_requests_are_declined_where_not_accepted(tmp_path: Path) -> None:
    text = REQUESTS_TEXT.replace("accepts_from: [JPN], ", "")
    recording = run(tmp_path, "refused", text)
    assert not [s for s in recording.table("engagements").to_pylist() if s["nation"] == "USA"]
    states = recording.table("requests")["state"].to_pylist()
    assert "DECLINED" in states
    assert "ACCEPTED" not in states


def _battery(name: str, ceiling_m: float, rounds: int, initial: int) -> ShooterState:
    kind = InterceptorType(
        name=name,
        min_range_m=1000,
        max_range_m=100_000,
        min_intercept_altitude_m=100,
        max_intercept_altitude_m=ceiling_m,
        mean_speed_mps=1000,
        single_shot_pk=0.8,
    )
    return ShooterState(
        name=name,
        nation=NationCode("JPN"),
        platform=lambda t: None,  # type: ignore[arg-type,return-value]
        interceptor=kind,
        rounds=rounds,
        channels=2,
        initial_rounds=initial,
    )


def test_a_layered_defense_holds_the_lower_tier_while_the_upper_can_engage() -> None:
    upper, lower = _battery("UT", 500_000, 4, 4), _battery("LT", 25_000, 8, 8)
    # Threat 0: both can engage; threat 1: only the lower tier; threat 2: neither.
    feasible = np.array([[True, False, False], [True, True, False]])
    held = _held_for_upper_tier([upper, lower], feasible)
    assert held.tolist() == [[False, False, False], [True, False, False]]


def test_a_reserve_is_kept_for_high_value_assets() -> None:
    full, low = _battery("A", 25_000, 8, 8), _battery("B", 25_000, 2, 8)
    values = np.array([10.0, 3.0])  # the asset each threat endangers most
    held = _held_in_reserve([full, low], values, 0.25, 5.0)
    # A has 8 > 2 reserved: fires at anything; B is down to its 2: only the valuable one.
    assert held.tolist() == [[False, False], [False, True]]


def test_magazines_reload_from_depots_and_production_refills_them(tmp_path: Path) -> None:
    text = DUO_TEXT.replace(
        "  - {name: USA-DDG-1-UT, site: USA-DDG-1, interceptor: UPPER-TIER, inventory: 6, "
        "fire_channels: 2}\n",
        "  - {name: USA-DDG-1-UT, site: USA-DDG-1, interceptor: UPPER-TIER, inventory: 2, "
        "fire_channels: 2,\n     depot: 1, reload_time_s: 60}\n",
    )
    assert text != DUO_TEXT
    text += "\nproduction:\n  - {interceptor: UPPER-TIER, rounds_per_day: 864, nations: [USA]}\n"
    recording = run(tmp_path, "sustained", text)
    rows = [r for r in recording.table("inventory").to_pylist() if r["shooter"] == "USA-DDG-1-UT"]
    assert rows[0] == {
        "time_s": 0.0,
        "shooter": "USA-DDG-1-UT",
        "nation": "USA",
        "ready": 2,
        "depot": 1,
    }
    assert all(r["ready"] >= 0 and r["depot"] >= 0 for r in rows)
    # One round every 86,400 / 864 = 100 s reaches the only eligible battery's depot.
    delivered = [
        b["time_s"]
        for a, b in itertools.pairwise(rows)
        if b["depot"] == a["depot"] + 1 and b["ready"] == a["ready"]
    ]
    assert delivered[:3] == pytest.approx([100.0, 200.0, 300.0])
    # A reload completes a reload time after the firing that emptied a launcher slot.
    shots = recording.table("engagements").to_pylist()
    fired = sorted({s["decided_at_s"] for s in shots if s["nation"] == "USA"})
    reloads = [
        b["time_s"]
        for a, b in itertools.pairwise(rows)
        if b["ready"] > a["ready"] and b["depot"] < a["depot"]
    ]
    assert fired
    assert reloads
    assert reloads[0] == pytest.approx(fired[0] + 60.0)
    magazines = {m["shooter"]: m for m in summarise(recording.run_dir)["defense"]["magazines"]}
    assert magazines["USA-DDG-1-UT"]["delivered"] >= 3
    assert recording.meta["authority_violations"] == 0


def test_no_engagement_on_a_partners_data_its_agreement_keeps_from_fire_control(
    tmp_path: Path,
) -> None:
    """Japan's picture holds the missiles the US ship tracks, but the USA -> JPN agreement
    is for warning only: Japan fires only on tracks its own radar contributes to."""
    text = DUO_TEXT.replace(
        "  - {provider: USA, recipient: JPN, caveats_allowed: [sensor_source]}",
        "  - {provider: USA, recipient: JPN, caveats_allowed: [sensor_source], "
        "fire_control: false}",
    )
    assert text != DUO_TEXT
    recording = run(tmp_path, "warning-only", text)
    jpn = [s for s in recording.table("engagements").to_pylist() if s["nation"] == "JPN"]
    assert jpn
    assert all("JPN" in s["track_sources"].split(",") for s in jpn)
    assert recording.meta["authority_violations"] == 0
    # And the checker holds the shots to the same rule: a JPN shot on USA-only data fails.
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    copy = tmp_path / "forged"
    shutil.copytree(recording.run_dir, copy)
    for part in sorted((copy / "tables" / "engagements").glob("part-*.parquet")):
        table = pq.read_table(part)
        forged = pa.array(["USA"] * table.num_rows)
        column = table.schema.get_field_index("track_sources")
        pq.write_table(table.set_column(column, "track_sources", forged), part)
    problems = check_engagements(copy)
    assert any("do not let it engage on" in p and "(JPN," in p for p in problems)


def test_a_node_cut_off_from_the_network_fights_on_with_its_own_sensors(tmp_path: Path) -> None:
    """The link is down the whole run: nothing arrives, and Japan still engages the missiles
    its own radar tracks (autonomous operation), on its own tracks only."""
    text = DUO_TEXT.replace(
        "loss_probability: 0.01}",
        "loss_probability: 0.01, outages: [{start_s: 0, end_s: 400}]}",
    )
    assert text != DUO_TEXT
    recording = run(tmp_path, "cut-off", text)
    assert recording.table("deliveries").num_rows == 0
    jpn = [s for s in recording.table("engagements").to_pylist() if s["nation"] == "JPN"]
    assert jpn
    assert all(s["track_sources"] == "JPN" for s in jpn)
    assert any(s["result"] == "KILL" for s in jpn)
    assert recording.meta["authority_violations"] == 0
