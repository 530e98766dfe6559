"""Scenario files: the schema, loading with line-numbered errors, and built-in scenarios.

A scenario is read once, at the boundary: :func:`load_scenario` parses the YAML, validates
it against :class:`Scenario` and then checks the rules that span the document (references,
unique names, reach, timing). Any problem raises :class:`~iamd.core.errors.ScenarioError`
listing every issue as ``FILE:LINE: dotted.path: message (got VALUE)``.
"""

from iamd.scenario.catalog import DEFAULT_SCENARIO, builtin_names
from iamd.scenario.loader import load_scenario, load_scenario_text, resolve_scenario
from iamd.scenario.schema import (
    AimAsset,
    AirBreathingThreat,
    BallisticThreat,
    Coverage,
    DefendedAsset,
    GeoPoint,
    InfraredSensor,
    InterceptorType,
    Nation,
    RadarSensor,
    Salvo,
    Scenario,
    Sensor,
    Shooter,
    Site,
    SiteKind,
    Threat,
    Waypoint,
)

__all__ = [
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
