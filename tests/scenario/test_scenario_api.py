"""The public API of ``iamd.scenario`` is pinned: changing it is a deliberate act."""

from __future__ import annotations

from pathlib import Path

import iamd.scenario

EXPECTED_API = [
    "AS_WRITTEN",
    "DEFAULT_SCENARIO",
    "AgreementRef",
    "AgreementSpec",
    "AimAsset",
    "AirBreathingThreat",
    "BallisticThreat",
    "CategoryName",
    "CaveatName",
    "ClassificationName",
    "Coverage",
    "DefendedAsset",
    "Doctrine",
    "DoctrineMode",
    "Exchange",
    "ExchangeMode",
    "GeoPoint",
    "InfraredSensor",
    "InterceptorType",
    "KillAssessment",
    "LinkSpec",
    "LinkTemplate",
    "Nation",
    "OutageWindow",
    "Production",
    "RadarSensor",
    "Releasability",
    "RulesOfEngagement",
    "Salvo",
    "SanitisationSpec",
    "Scenario",
    "Sensor",
    "Shooter",
    "Site",
    "SiteKind",
    "SlotBudgetSpec",
    "Threat",
    "TopologyKind",
    "TopologySpec",
    "TreeBranch",
    "Variant",
    "Waypoint",
    "apply_variant",
    "builtin_names",
    "load_scenario",
    "load_scenario_text",
    "resolve_scenario",
    "variant_names",
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
        "topology",
        "sharing_agreements",
        "exchange",
        "variants",
        "production",
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
        "releasability",
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
        "releasability",
    ]
    assert list(InterceptorType.model_fields) == [
        "name",
        "min_range_m",
        "max_range_m",
        "min_intercept_altitude_m",
        "max_intercept_altitude_m",
        "mean_speed_mps",
        "single_shot_pk",
        "divert_radius_m",
        "reaction_time_s",
    ]
    assert list(iamd.scenario.RulesOfEngagement.model_fields) == [
        "nation",
        "defends",
        "engage_on_remote",
        "doctrine",
        "c2_period_s",
        "kill_assessment",
        "requests_to",
        "accepts_from",
        "decision_delay_s",
        "request_timeout_s",
    ]
    assert list(iamd.scenario.Doctrine.model_fields) == [
        "mode",
        "salvo",
        "layered",
        "reserve_fraction",
        "reserve_value",
    ]
    assert list(iamd.scenario.KillAssessment.model_fields) == [
        "delay_s",
        "false_kill_probability",
        "missed_kill_probability",
    ]
    assert list(Shooter.model_fields) == [
        "name",
        "site",
        "interceptor",
        "inventory",
        "fire_channels",
        "salvo",
        "depot",
        "reload_time_s",
    ]
    assert list(iamd.scenario.Production.model_fields) == [
        "interceptor",
        "rounds_per_day",
        "nations",
        "start_s",
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


def test_network_field_names_are_pinned() -> None:
    # The simulation builder turns these into LinkConfig, Topology and ReleasePolicy.
    from iamd.scenario import (
        AgreementRef,
        AgreementSpec,
        Exchange,
        LinkSpec,
        LinkTemplate,
        Nation,
        OutageWindow,
        Releasability,
        SanitisationSpec,
        SlotBudgetSpec,
        TopologySpec,
        TreeBranch,
        Variant,
    )

    assert list(Nation.model_fields) == ["code", "name", "clearance"]
    assert list(Releasability.model_fields) == ["classification", "rel_to", "caveats"]
    parameters = [
        "directed",
        "latency_s",
        "jitter_s",
        "loss_probability",
        "capacity_reports_per_s",
        "slot_budget",
        "outages",
        "queue_during_outage",
        "max_queue_reports",
        "max_queue_delay_s",
    ]
    assert list(LinkTemplate.model_fields) == parameters
    assert list(LinkSpec.model_fields) == [*parameters, "a", "b"]
    assert list(SlotBudgetSpec.model_fields) == [
        "frame_s",
        "slots_per_frame",
        "slots_per_report",
        "offset_s",
    ]
    assert list(OutageWindow.model_fields) == ["start_s", "end_s"]
    assert list(TopologySpec.model_fields) == [
        "kind",
        "nations",
        "hub",
        "spokes",
        "tree",
        "template",
    ]
    assert list(TreeBranch.model_fields) == ["parent", "children"]
    assert list(AgreementSpec.model_fields) == [
        "provider",
        "recipient",
        "max_classification",
        "categories",
        "caveats_allowed",
        "sanitise",
        "fire_control",
    ]
    assert list(SanitisationSpec.model_fields) == [
        "position_quantum_m",
        "min_position_sigma_m",
        "strip_sensor_identity",
        "delay_s",
    ]
    assert list(AgreementRef.model_fields) == ["provider", "recipient"]
    assert list(Variant.model_fields) == [
        "name",
        "description",
        "links",
        "topology",
        "remove_agreements",
        "add_agreements",
        "exchange",
        "rules_of_engagement",
    ]
    assert list(Exchange.model_fields) == ["mode", "composite_delay_s"]


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


def _example(heading: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    return text.split(heading)[1].split("```yaml\n")[1].split("```")[0]


def test_format_document_example_is_valid() -> None:
    scenario = iamd.scenario.load_scenario_text(_example("## A complete small example"))
    assert scenario.name == "my-raid"


def test_format_document_network_example_is_valid() -> None:
    scenario = iamd.scenario.load_scenario_text(_example("## A networked example"))
    assert scenario.name == "my-network"
    assert scenario.sharing_agreements
    names = iamd.scenario.variant_names(scenario)
    assert len(names) > 1
    for name in names:
        iamd.scenario.apply_variant(scenario, name)


def test_format_document_lists_every_vocabulary_name() -> None:
    from iamd.scenario import CategoryName, CaveatName, ClassificationName, TopologyKind

    text = DOCS.read_text(encoding="utf-8")
    for vocabulary in (ClassificationName, CaveatName, CategoryName, TopologyKind):
        for member in vocabulary:
            assert f"`{member.value}`" in text, f"{member.value} is not documented"
