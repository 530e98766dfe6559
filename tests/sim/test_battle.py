"""Battle management end to end: nations fire only within their authority, shots destroy
threats, and the defense outcome adds up."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from iamd.messages import ThreatPhase
from iamd.record import Recording
from iamd.scenario import load_scenario_text, resolve_scenario
from iamd.sim import RunOptions, run_scenario, summarise
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
