"""The schema models: defaults, immutability, salvo expansion and lookups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from iamd.core.errors import ScenarioError
from iamd.scenario import (
    AimAsset,
    AirBreathingThreat,
    BallisticThreat,
    GeoPoint,
    InfraredSensor,
    RadarSensor,
    Scenario,
    SiteKind,
    load_scenario_text,
    resolve_scenario,
)
from iamd.world.reach import RangeClass, class_burnout_speed_mps, max_range_m


def tiny() -> Scenario:
    return resolve_scenario("test-tiny")[0]


def tiny_text() -> str:
    return resolve_scenario("test-tiny")[1]


def test_defaults() -> None:
    text = tiny_text().replace("seed: 7\n", "")
    scenario = load_scenario_text(text)
    assert scenario.seed == 0
    assert scenario.links == scenario.sharing_agreements == scenario.rules_of_engagement == ()
    assert scenario.topology is None
    assert scenario.variants == ()
    radar = scenario.sensors[0]
    assert isinstance(radar, RadarSensor)
    assert radar.reference_rcs_m2 == 1.0
    assert radar.reference_snr_db == 13.0
    assert radar.false_alarm_probability == 1e-6
    assert radar.false_alarms_per_scan == 0.0
    ballistic = scenario.threats[0]
    assert isinstance(ballistic, BallisticThreat)
    assert ballistic.burn_time_s == 60.0
    assert ballistic.loft == 0.0
    assert ballistic.ballistic_coefficient_kg_m2 == 10_000.0
    assert ballistic.launch.altitude_m == 0.0
    assert ballistic.salvo is None
    assert scenario.sites[0].speed_mps is None
    assert scenario.sites[0].waypoints == ()


def test_infrared_defaults_to_geostationary() -> None:
    scenario = resolve_scenario("test-duo")[0]
    infrared = next(s for s in scenario.sensors if isinstance(s, InfraredSensor))
    assert infrared.orbit_altitude_m == 35_786_000.0
    assert infrared.false_alarms_per_frame == 0.0


def test_models_are_frozen() -> None:
    scenario = tiny()
    with pytest.raises(ValidationError):
        scenario.duration_s = 5.0  # type: ignore[misc]
    assert isinstance(scenario.threats, tuple)
    assert hash(scenario.nations[0]) == hash(scenario.nations[0].model_copy())


def test_epoch_is_utc() -> None:
    assert tiny().epoch == dt.datetime(2030, 6, 1, tzinfo=dt.UTC)
    quoted = tiny_text().replace(
        "epoch: 2030-06-01T00:00:00Z", 'epoch: "2030-06-01T00:00:00+00:00"'
    )
    assert load_scenario_text(quoted).epoch == dt.datetime(2030, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "section", ["links", "sharing_agreements", "variants", "rules_of_engagement"]
)
@pytest.mark.parametrize("empty", ["[]", "null", ""])
def test_list_sections_may_be_empty(section: str, empty: str) -> None:
    text = tiny_text() + f"{section}: {empty}\n"
    assert getattr(load_scenario_text(text), section) == ()


def test_rules_of_engagement_take_defaults_and_refuse_unknown_fields() -> None:
    scenario = resolve_scenario("western-pacific")[0]
    usa = next(r for r in scenario.rules_of_engagement if r.nation == "USA")
    assert usa.defends == ("USA", "JPN", "PHL")
    assert usa.doctrine.salvo == 2
    phl = next(r for r in scenario.rules_of_engagement if r.nation == "PHL")
    assert phl.defends is None
    assert phl.doctrine.mode == "salvo"
    assert phl.doctrine.salvo == 1
    assert phl.engage_on_remote
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(tiny_text() + "rules_of_engagement:\n  - {a: 1}\n", "t.yaml")
    lines = str(caught.value).splitlines()
    assert any(
        line.endswith("rules_of_engagement.0.nation: required field is missing") for line in lines
    )
    assert any(line.endswith("rules_of_engagement.0.a: unknown field (got 1)") for line in lines)


def test_salvo_expansion() -> None:
    scenario = resolve_scenario("western-pacific")[0]
    expanded = scenario.expanded_threats()
    tokyo = [t for t in expanded if t.name.startswith("BM-TOKYO")]
    assert [t.name for t in tokyo] == [f"BM-TOKYO-{k}" for k in range(1, 7)]
    assert [t.launch_time_s for t in tokyo] == [30.0, 45.0, 60.0, 75.0, 90.0, 105.0]
    assert all(t.salvo is None for t in expanded)
    original = scenario.threats[0]
    assert tokyo[0].model_copy(update={"name": original.name, "salvo": original.salvo}) == original
    assert len({t.name for t in expanded}) == len(expanded)
    # threats without a salvo keep their name, and the declaration order is kept
    lofted = [t for t in expanded if t.name == "BM-LOFTED"]
    assert lofted == [t for t in scenario.threats if t.name == "BM-LOFTED"]
    expected: list[str] = []
    for threat in scenario.threats:
        if threat.salvo is None:
            expected.append(threat.name)
        else:
            expected += [f"{threat.name}-{k}" for k in range(1, threat.salvo.count + 1)]
    assert [t.name for t in expanded] == expected


def test_salvo_of_one_is_renamed() -> None:
    text = tiny_text().replace(
        "    range_class: crbm\n", "    range_class: crbm\n    salvo: {count: 1, interval_s: 5}\n"
    )
    assert [t.name for t in load_scenario_text(text).expanded_threats()] == ["BM-01-1", "CM-01"]


def test_ballistic_speed_and_reach() -> None:
    threat = tiny().threats[0]
    assert isinstance(threat, BallisticThreat)
    assert threat.range_class is RangeClass.CRBM
    assert threat.effective_burnout_speed_mps == class_burnout_speed_mps(RangeClass.CRBM)
    assert threat.reach_m == pytest.approx(300e3)
    given = threat.model_copy(update={"range_class": None, "burnout_speed_mps": 2500.0})
    assert given.effective_burnout_speed_mps == 2500.0
    assert given.reach_m == max_range_m(2500.0)


def test_lookups() -> None:
    scenario = tiny()
    threat = scenario.threats[0]
    assert isinstance(threat, BallisticThreat)
    assert isinstance(threat.aim, AimAsset)
    assert scenario.aim_point(threat) == GeoPoint(lat_deg=35.47, lon_deg=133.06, altitude_m=0.0)
    point = threat.model_copy(update={"aim": GeoPoint(lat_deg=35.0, lon_deg=133.0)})
    assert scenario.aim_point(point) == GeoPoint(lat_deg=35.0, lon_deg=133.0)
    assert scenario.sensor_nation(scenario.sensors[0]) == "JPN"
    assert scenario.site("JPN-Matsue").kind is SiteKind.LAND
    assert scenario.asset("Matsue").value == 5.0
    assert scenario.interceptor_type("LOWER-TIER").single_shot_pk == 0.75
    with pytest.raises(KeyError, match="no site named 'nowhere'"):
        scenario.site("nowhere")
    duo = resolve_scenario("test-duo")[0]
    infrared = next(s for s in duo.sensors if isinstance(s, InfraredSensor))
    assert duo.sensor_nation(infrared) == "USA"


def test_aim_given_by_coordinates() -> None:
    text = tiny_text().replace(
        "aim: {asset: Matsue}", "aim: {lat_deg: 35.4, lon_deg: 133.1, altitude_m: 10}"
    )
    threat = load_scenario_text(text).threats[0]
    assert isinstance(threat, BallisticThreat)
    assert threat.aim == GeoPoint(lat_deg=35.4, lon_deg=133.1, altitude_m=10.0)


def test_aircraft_kind() -> None:
    text = tiny_text().replace("kind: cruise_missile", "kind: aircraft")
    threat = load_scenario_text(text).threats[1]
    assert isinstance(threat, AirBreathingThreat)
    assert threat.kind == "aircraft"


def test_python_construction_checks_object_rules() -> None:
    data: dict[str, Any] = tiny().model_dump()
    data["sensors"][0]["range_min_m"] = 1e7
    with pytest.raises(ValidationError, match="must be greater than range_min_m = 10000000"):
        Scenario.model_validate(data)


def test_strict_numbers() -> None:
    with pytest.raises(ScenarioError, match=r"duration_s: must be a number \(got '300'\)"):
        load_scenario_text(tiny_text().replace("duration_s: 300", "duration_s: '300'"))
    with pytest.raises(ScenarioError, match=r"seed: must be an integer \(got true\)"):
        load_scenario_text(tiny_text().replace("seed: 7", "seed: true"))
    with pytest.raises(ScenarioError, match=r"duration_s: must be a finite number \(got nan\)"):
        load_scenario_text(tiny_text().replace("duration_s: 300", "duration_s: .nan"))


def test_names_are_identifiers() -> None:
    with pytest.raises(ScenarioError, match=r"sites.0.name: must be 1 to 64 letters"):
        load_scenario_text(tiny_text().replace("{name: JPN-Matsue,", "{name: JPN Matsue,"))
