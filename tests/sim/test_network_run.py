"""End-to-end runs with the network: releases checked on every recording, labels honoured
from the scenario file to the receiving picture, variants, and link failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from iamd.network import DenyReason, ViolationKind
from iamd.record import Recording
from iamd.scenario import load_scenario_text, resolve_scenario
from iamd.sim import RunOptions, run_scenario
from iamd.sim.verify import check_recording

DUO_TEXT = resolve_scenario("test-duo")[1]


def run(tmp_path: Path, name: str, text: str = DUO_TEXT, **options: object) -> Recording:
    model = load_scenario_text(text, f"{name}.yaml")
    run_scenario(model, text, tmp_path / name, options=RunOptions(**options))  # type: ignore[arg-type]
    return Recording(tmp_path / name)


def picture_sources(recording: Recording, node: str) -> set[str]:
    """Every nation that contributed to ``node``'s picture at any time."""
    table = recording.table("system_tracks")
    rows = table.filter(pc.equal(table["node"], node))
    nations = recording.meta["nations"]
    masks = np.bitwise_or.reduce(rows["sources"].to_numpy(), initial=np.uint64(0))
    return {code for j, code in enumerate(nations) if int(masks) >> j & 1}


@pytest.fixture(scope="module")
def duo(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return run(tmp_path_factory.mktemp("duo"), "duo")


def test_a_networked_run_shares_tracks_and_breaks_no_agreement(duo: Recording) -> None:
    assert duo.meta["release_violations"] == 0
    assert check_recording(duo.run_dir) == []
    assert picture_sources(duo, "JPN") == {"JPN", "USA"}
    assert picture_sources(duo, "USA") == {"JPN", "USA"}
    deliveries = duo.table("deliveries")
    assert deliveries.num_rows > 50
    assert pc.all(deliveries["accepted"]).as_py()
    events = duo.table("link_events")
    assert set(events["link"].to_pylist()) == {"USA-JPN"}
    assert duo.table("rejects").num_rows == 0
    # Every delivered message's reports reached the receiver's gate.
    delivered = pc.sum(pc.if_else(pc.is_nan(events["arrival_s"]), 0, events["reports"]))
    assert delivered.as_py() == deliveries.num_rows


def test_the_invariant_checker_catches_a_tampered_audit(duo: Recording, tmp_path: Path) -> None:
    import shutil

    import pyarrow.parquet as pq

    copy = tmp_path / "copy"
    shutil.copytree(duo.run_dir, copy)
    part = sorted((copy / "tables" / "audit").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    # Pretend the guard released an item that its own label kept at home.
    home_only = pa.array(np.full(table.num_rows, 1, np.uint64))  # bit 0: USA only
    table = table.set_column(table.schema.get_field_index("rel_to"), "rel_to", home_only)
    pq.write_table(table, part)
    kinds = {v.kind for v in check_recording(copy)}
    assert ViolationKind.NOT_IN_REL_TO in kinds


def test_a_sensor_kept_at_home_never_reaches_the_partner(tmp_path: Path) -> None:
    text = DUO_TEXT.replace(
        "    false_alarms_per_scan: 0.2\n",
        "    false_alarms_per_scan: 0.2\n    releasability: {rel_to: []}\n",
    )
    recording = run(tmp_path, "home", text)
    assert recording.meta["release_violations"] == 0
    assert picture_sources(recording, "JPN") == {"JPN"}
    assert picture_sources(recording, "USA") == {"JPN", "USA"}
    audit = recording.table("audit")
    from_usa = audit.filter(pc.equal(audit["node"], "USA"))
    assert from_usa.num_rows > 0
    assert set(from_usa["reason"].to_pylist()) == {DenyReason.NOT_IN_REL_TO}
    deliveries = recording.table("deliveries")
    assert "USA" not in set(deliveries["originator"].to_pylist())


def test_the_national_variant_sends_nothing(tmp_path: Path) -> None:
    recording = run(tmp_path, "national", variant="national", duration_s=120.0)
    assert recording.meta["variant"] == "national"
    for table in ("audit", "deliveries", "link_events", "track_reports"):
        assert recording.table(table).num_rows == 0
    assert picture_sources(recording, "JPN") <= {"JPN"}
    assert check_recording(recording.run_dir) == []


def test_a_link_outage_drops_messages_and_the_pictures_part(tmp_path: Path) -> None:
    text = DUO_TEXT.replace(
        "loss_probability: 0.01}",
        "loss_probability: 0.01, outages: [{start_s: 0, end_s: 400}]}",
    )
    recording = run(tmp_path, "outage", text)
    events = recording.table("link_events")
    assert events.num_rows > 0
    assert set(events["drop_reason"].to_pylist()) == {"OUTAGE"}
    assert recording.table("deliveries").num_rows == 0
    assert picture_sources(recording, "JPN") == {"JPN"}


def commonality_of(recording: Recording) -> dict[str, object]:
    from iamd.sim import summarise

    network = summarise(recording.run_dir)["network"]
    assert network is not None
    common: dict[str, object] = network["commonality"]
    return common


def test_commonality_is_one_with_a_perfect_link(tmp_path: Path) -> None:
    text = DUO_TEXT.replace(
        "{a: USA, b: JPN, latency_s: 0.5, jitter_s: 0.05, loss_probability: 0.01}",
        "{a: USA, b: JPN}",
    )
    common = commonality_of(run(tmp_path, "perfect", text))
    assert common["object_times"] > 500  # both nations hold the ballistic missiles for long
    assert common["commonality"] == 1.0
    assert set(common["numbers_per_object"].values()) == {1}  # type: ignore[attr-defined]


def test_commonality_drops_when_the_link_fails_as_the_raid_starts(tmp_path: Path) -> None:
    text = DUO_TEXT.replace(
        "loss_probability: 0.01}",
        "loss_probability: 0.01, outages: [{start_s: 0, end_s: 200}]}",
    )
    common = commonality_of(run(tmp_path, "cut", text))
    assert common["commonality"] < 0.6  # type: ignore[operator]


def test_missile_warnings_reach_the_partner_with_a_launch_area_and_rising_updates(
    duo: Recording,
) -> None:
    warnings = duo.table("warnings").to_pylist()
    assert warnings
    assert {w["node"] for w in warnings} <= {"USA", "JPN"}
    assert all(w["node"] != w["originator"] for w in warnings)
    by_missile: dict[tuple[str, int], list[dict[str, object]]] = {}
    for w in warnings:
        by_missile.setdefault((str(w["originator"]), int(w["network_track_number"])), []).append(w)
    for rows in by_missile.values():
        updates = [int(r["update_number"]) for r in rows]  # type: ignore[call-overload]
        assert updates == sorted(updates)
        assert updates[0] >= 1
    # Late updates (midcourse) put the launch area near the real launch points (38.3 N
    # 131.0 E and 37.2 N 132.0 E).
    late = [w for w in warnings if int(w["update_number"]) >= 4]  # type: ignore[call-overload]
    assert late
    launches = [(38.30, 131.00), (37.20, 132.00)]
    error = [
        min(
            abs(float(w["launch_lat_deg"]) - a) + abs(float(w["launch_lon_deg"]) - b)
            for a, b in launches
        )  # type: ignore[arg-type]
        for w in late
    ]
    # Track noise flown back over minutes spreads them: a few km typically, more from tracks
    # in the terminal phase, where the drag the fly-back ignores bends the path.
    assert float(np.median(error)) < 0.15
    assert float(np.quantile(error, 0.8)) < 0.5
    audit = duo.table("audit")
    kinds = set(audit["kind"].to_pylist())
    assert {"track", "warning"} <= kinds
    summary = __import__("iamd.sim", fromlist=["summarise"]).summarise(duo.run_dir)
    receipts = {r["node"]: r for r in summary["network"]["warnings"]}
    assert receipts["JPN"]["threats_warned"] >= 2
    assert receipts["JPN"]["mean_lead_s"] > 100.0
