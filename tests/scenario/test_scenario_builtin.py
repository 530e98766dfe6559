"""The built-in scenarios load, pass every check, and have the shape their docs promise."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from iamd.cli import app
from iamd.core.errors import ScenarioError
from iamd.geo import great_circle_distance_m
from iamd.messages import Caveat
from iamd.scenario import (
    DEFAULT_SCENARIO,
    AirBreathingThreat,
    BallisticThreat,
    CategoryName,
    CaveatName,
    ClassificationName,
    InfraredSensor,
    RadarSensor,
    Scenario,
    SiteKind,
    apply_variant,
    builtin_names,
    load_scenario_text,
    resolve_scenario,
    variant_names,
)


def test_builtin_names() -> None:
    assert builtin_names() == ["test-duo", "test-tiny", "western-pacific"]


@pytest.mark.parametrize("name", ["test-duo", "test-tiny", "western-pacific"])
def test_builtin_loads_by_name(name: str) -> None:
    scenario, text, origin = resolve_scenario(name)
    assert scenario.name == name
    assert origin == f"<builtin:{name}>"
    assert load_scenario_text(text, origin) == scenario
    assert "NOTIONAL" in text


@pytest.mark.parametrize("name", ["test-duo", "test-tiny", "western-pacific"])
def test_every_ballistic_threat_passes_the_reach_check(name: str) -> None:
    scenario, _, _ = resolve_scenario(name)
    for threat in scenario.expanded_threats():
        if isinstance(threat, BallisticThreat):
            aim = scenario.aim_point(threat)
            distance = float(
                great_circle_distance_m(
                    threat.launch.lat_deg, threat.launch.lon_deg, aim.lat_deg, aim.lon_deg
                )
            )
            assert 10_000.0 < distance <= threat.reach_m
        assert threat.launch_time_s < scenario.duration_s


def _count(scenario: Scenario) -> dict[str, int]:
    threats = scenario.expanded_threats()
    return {
        "ballistic": sum(isinstance(t, BallisticThreat) for t in threats),
        "air": sum(isinstance(t, AirBreathingThreat) for t in threats),
        "radar": sum(isinstance(s, RadarSensor) for s in scenario.sensors),
        "infrared": sum(isinstance(s, InfraredSensor) for s in scenario.sensors),
    }


def test_western_pacific_is_the_promised_scenario() -> None:
    scenario, _, _ = resolve_scenario(DEFAULT_SCENARIO)
    codes = {nation.code for nation in scenario.nations}
    assert {"USA", "JPN", "AUS"} <= codes
    assert 600.0 <= scenario.duration_s <= 1200.0
    counts = _count(scenario)
    assert 20 <= counts["ballistic"] + counts["air"] <= 40
    assert counts["ballistic"] >= 10
    assert counts["air"] >= 4
    assert counts["infrared"] >= 1
    land_radars_in_japan = [
        s
        for s in scenario.sensors
        if isinstance(s, RadarSensor)
        and scenario.site(s.site).nation == "JPN"
        and scenario.site(s.site).kind is SiteKind.LAND
    ]
    assert 2 <= len(land_radars_in_japan) <= 4
    ships = {site.nation for site in scenario.sites if site.kind is SiteKind.SHIP}
    assert {"USA", "AUS"} <= ships
    assert all(site.waypoints for site in scenario.sites if site.kind is SiteKind.SHIP)
    us_ship_radars = [
        s
        for s in scenario.sensors
        if isinstance(s, RadarSensor)
        and scenario.site(s.site).kind is SiteKind.SHIP
        and scenario.sensor_nation(s) == "USA"
    ]
    assert us_ship_radars
    space = [s for s in scenario.sensors if isinstance(s, InfraredSensor)]
    assert any(s.nation == "USA" and 120.0 <= s.orbit_lon_deg <= 170.0 for s in space)
    assert {"Tokyo", "Guam-Andersen", "Kadena"} <= {a.name for a in scenario.defended_assets}
    assert any(t.salvo is not None for t in scenario.threats)


def test_western_pacific_radars_are_plausible() -> None:
    scenario, _, _ = resolve_scenario(DEFAULT_SCENARIO)
    for sensor in scenario.sensors:
        if isinstance(sensor, RadarSensor):
            assert 100e3 <= sensor.reference_range_m <= 1500e3
            assert 10.0 <= sensor.range_noise_m <= 100.0
            assert 0.2 <= sensor.azimuth_noise_mrad <= 3.0


def test_test_tiny_is_tiny() -> None:
    scenario, _, _ = resolve_scenario("test-tiny")
    assert len(scenario.nations) == 1
    assert scenario.duration_s <= 300.0
    assert _count(scenario) == {"ballistic": 1, "air": 1, "radar": 1, "infrared": 0}
    radar = scenario.sensors[0]
    assert isinstance(radar, RadarSensor)
    assert scenario.site(radar.site).kind is SiteKind.LAND
    ballistic = [t for t in scenario.threats if isinstance(t, BallisticThreat)]
    assert all(
        t.range_class is not None and t.range_class.value in {"crbm", "srbm"} for t in ballistic
    )


def test_test_duo_is_small() -> None:
    scenario, _, _ = resolve_scenario("test-duo")
    assert len(scenario.nations) == 2
    assert scenario.duration_s <= 400.0
    counts = _count(scenario)
    assert counts["radar"] == 2
    assert counts["infrared"] == 1
    assert 3 <= counts["ballistic"] + counts["air"] <= 5
    ballistic = [t for t in scenario.threats if isinstance(t, BallisticThreat)]
    assert all(
        t.range_class is not None and t.range_class.value in {"crbm", "srbm"} for t in ballistic
    )


def test_resolve_by_path(tmp_path: Path) -> None:
    _, text, _ = resolve_scenario("test-tiny")
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace("name: test-tiny", "name: mine"), encoding="utf-8")
    scenario, read_text, origin = resolve_scenario(str(path))
    assert scenario.name == "mine"
    assert origin == str(path)
    assert read_text == path.read_text(encoding="utf-8")


def test_resolve_unknown_name_suggests_a_builtin() -> None:
    with pytest.raises(ScenarioError) as caught:
        resolve_scenario("western-pacfic")
    assert str(caught.value) == (
        "western-pacfic: <root>: no built-in scenario or file of this name; did you mean "
        "'western-pacific'? (built-in scenarios: test-duo, test-tiny, western-pacific)"
    )


def test_resolve_unknown_path_lists_the_builtins() -> None:
    with pytest.raises(
        ScenarioError, match=r"no built-in scenario or file of this name \(built-in"
    ):
        resolve_scenario("no/such/file.yaml")


def test_resolve_invalid_file_reports_its_issues(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:1: epoch: required field is missing"):
        resolve_scenario(str(path))


def test_western_pacific_network_is_a_hub_and_spoke_around_the_usa() -> None:
    scenario, _, _ = resolve_scenario(DEFAULT_SCENARIO)
    links = scenario.expanded_links()
    assert scenario.topology is None
    assert {frozenset((link.a, link.b)) for link in links} == {
        frozenset(("USA", spoke)) for spoke in ("JPN", "AUS", "PHL")
    }
    assert all(link.a == "USA" and not link.directed for link in links)
    assert all(0.5 <= link.latency_s <= 2.0 for link in links)
    assert all(0.0 < link.loss_probability <= 0.05 for link in links)
    with_outages = [link for link in links if link.outages]
    assert len(with_outages) == 1
    assert len(with_outages[0].outages) == 1
    window = with_outages[0].outages[0]
    assert 0.0 < window.start_s < window.end_s < scenario.duration_s


def test_western_pacific_agreements() -> None:
    scenario, _, _ = resolve_scenario(DEFAULT_SCENARIO)
    agreements = {(a.provider, a.recipient): a for a in scenario.sharing_agreements}
    assert set(agreements) == {
        ("USA", "JPN"),
        ("JPN", "USA"),
        ("USA", "AUS"),
        ("AUS", "USA"),
        ("USA", "PHL"),
        ("PHL", "USA"),
    }
    full = [agreements[pair] for pair in [("USA", "JPN"), ("JPN", "USA")]]
    assert all(a.categories == () and a.sanitise is None for a in full)
    assert all(set(a.caveats_allowed) == set(CaveatName) for a in full)
    to_phl = agreements["USA", "PHL"]
    assert to_phl.categories == (CategoryName.BALLISTIC_MISSILE,)
    assert to_phl.sanitise is not None
    assert to_phl.sanitise.strip_sensor_identity
    assert to_phl.sanitise.position_quantum_m >= 1000.0
    assert ("JPN", "AUS") not in agreements
    assert ("AUS", "JPN") not in agreements
    # Every sensor's tracks are marked for Australia, so only the missing agreement keeps
    # Japan's tracks from it: the jpn-aus-agreement variant is the one change needed.
    jpn_sensors = [s for s in scenario.sensors if scenario.sensor_nation(s) == "JPN"]
    assert all("AUS" in scenario.sensor_releasability(s).rel_to for s in jpn_sensors)
    assert variant_names(scenario) == [
        "as-written",
        "national",
        "networked",
        "jpn-aus-agreement",
        "full-mesh",
        "measurements",
    ]
    assert ("JPN", "AUS") in {
        (a.provider, a.recipient)
        for a in apply_variant(scenario, "jpn-aus-agreement").sharing_agreements
    }
    assert apply_variant(scenario, "national").expanded_links() == ()


def test_western_pacific_labels_and_clearances() -> None:
    scenario, _, _ = resolve_scenario(DEFAULT_SCENARIO)
    clearances = {n.code: n.clearance for n in scenario.nations}
    assert clearances["USA"] is ClassificationName.TOP_SECRET
    assert all(clearances[code] is ClassificationName.SECRET for code in ("JPN", "AUS", "PHL"))
    space = next(s for s in scenario.sensors if isinstance(s, InfraredSensor))
    label = scenario.sensor_releasability(space)
    assert label.rel_to == {"USA", "JPN", "AUS"}
    assert label.caveats == Caveat.SENSOR_SOURCE | Caveat.ORIGINATOR_CONTROLLED


def test_test_duo_network() -> None:
    scenario, _, _ = resolve_scenario("test-duo")
    assert [link.label for link in scenario.expanded_links()] == ["USA-JPN"]
    assert {(a.provider, a.recipient) for a in scenario.sharing_agreements} == {
        ("USA", "JPN"),
        ("JPN", "USA"),
    }
    assert variant_names(scenario) == [
        "as-written",
        "national",
        "networked",
        "measurements",
        "defended",
    ]


def test_test_tiny_has_no_network() -> None:
    scenario, _, _ = resolve_scenario("test-tiny")
    assert scenario.expanded_links() == ()
    assert scenario.sharing_agreements == scenario.variants == ()


@pytest.mark.parametrize("name", ["test-duo", "test-tiny", "western-pacific"])
def test_iamd_validate_accepts_every_builtin_file(name: str) -> None:
    path = Path(__file__).parents[2] / "src" / "iamd" / "scenario" / "builtin" / f"{name}.yaml"
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"ok ({name}:" in result.output
