"""The public API of ``iamd.scenario`` is pinned: changing it is a deliberate act."""

from __future__ import annotations

from pathlib import Path

import iamd.scenario

EXPECTED_API = [
    "DEFAULT_SCENARIO",
    "AimAsset",
    "AirBreathingThreat",
    "BallisticThreat",
    "Coverage",
    "DefendedAsset",
    "GeoPoint",
    "InfraredSensor",
    "InterceptorType",
    "Nation",
    "RadarSensor",
    "Salvo",
    "Scenario",
    "Sensor",
    "Shooter",
    "Site",
    "SiteKind",
    "Threat",
    "Waypoint",
    "builtin_names",
    "load_scenario",
    "load_scenario_text",
    "resolve_scenario",
]


def test_public_api_is_pinned() -> None:
    assert iamd.scenario.__all__ == EXPECTED_API
    for name in EXPECTED_API:
        assert hasattr(iamd.scenario, name)


def test_default_scenario_is_a_builtin() -> None:
    assert iamd.scenario.DEFAULT_SCENARIO == "western-pacific"
    assert iamd.scenario.DEFAULT_SCENARIO in iamd.scenario.builtin_names()


def test_schema_field_names_are_pinned() -> None:
    # sim/build.py is written against these names.
    from iamd.scenario import (
        AirBreathingThreat,
        BallisticThreat,
        DefendedAsset,
        InfraredSensor,
        InterceptorType,
        RadarSensor,
        Scenario,
        Shooter,
        Site,
    )

    assert list(Scenario.model_fields) == [
        "name",
        "description",
        "epoch",
        "duration_s",
        "seed",
        "nations",
        "sites",
        "sensors",
        "interceptor_types",
        "shooters",
        "defended_assets",
        "threats",
        "links",
        "sharing_agreements",
        "rules_of_engagement",
    ]
    assert list(Site.model_fields) == [
        "name",
        "nation",
        "kind",
        "lat_deg",
        "lon_deg",
        "altitude_m",
        "speed_mps",
        "waypoints",
    ]
    assert list(RadarSensor.model_fields) == [
        "name",
        "kind",
        "site",
        "boresight_azimuth_deg",
        "azimuth_extent_deg",
        "elevation_min_deg",
        "elevation_max_deg",
        "range_min_m",
        "range_max_m",
        "revisit_period_s",
        "range_noise_m",
        "azimuth_noise_mrad",
        "elevation_noise_mrad",
        "reference_range_m",
        "reference_rcs_m2",
        "reference_snr_db",
        "false_alarm_probability",
        "false_alarms_per_scan",
    ]
    assert list(InfraredSensor.model_fields) == [
        "name",
        "kind",
        "nation",
        "orbit_lon_deg",
        "orbit_altitude_m",
        "coverage",
        "frame_period_s",
        "line_of_sight_noise_urad",
        "detection_probability",
        "false_alarms_per_frame",
    ]
    assert list(InterceptorType.model_fields) == [
        "name",
        "min_range_m",
        "max_range_m",
        "min_intercept_altitude_m",
        "max_intercept_altitude_m",
        "mean_speed_mps",
        "single_shot_pk",
    ]
    assert list(Shooter.model_fields) == [
        "name",
        "site",
        "interceptor",
        "inventory",
        "fire_channels",
    ]
    assert list(DefendedAsset.model_fields) == [
        "name",
        "nation",
        "lat_deg",
        "lon_deg",
        "altitude_m",
        "radius_m",
        "value",
    ]
    assert list(BallisticThreat.model_fields) == [
        "name",
        "kind",
        "launch",
        "aim",
        "launch_time_s",
        "range_class",
        "burnout_speed_mps",
        "burn_time_s",
        "loft",
        "rcs_m2",
        "ballistic_coefficient_kg_m2",
        "salvo",
    ]
    assert list(AirBreathingThreat.model_fields) == [
        "name",
        "kind",
        "waypoints",
        "speed_mps",
        "altitude_m",
        "launch_time_s",
        "rcs_m2",
        "salvo",
    ]


def test_every_field_has_a_description() -> None:
    from pydantic import BaseModel

    def models() -> list[type[BaseModel]]:
        return [
            getattr(iamd.scenario, name)
            for name in iamd.scenario.__all__
            if isinstance(getattr(iamd.scenario, name), type)
            and issubclass(getattr(iamd.scenario, name), BaseModel)
        ]

    for model in models():
        for field_name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{field_name} has no description"


DOCS = Path(__file__).parents[2] / "docs" / "scenario-format.md"


def test_format_document_names_every_field() -> None:
    from pydantic import BaseModel

    text = DOCS.read_text(encoding="utf-8")
    for name in iamd.scenario.__all__:
        model = getattr(iamd.scenario, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            for field_name in model.model_fields:
                assert f"`{field_name}`" in text, f"{name}.{field_name} is not documented"


def test_format_document_example_is_valid() -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("## A complete small example")[1].split("```yaml\n")[1].split("```")[0]
    scenario = iamd.scenario.load_scenario_text(example)
    assert scenario.name == "my-raid"
