"""Typed identifiers: plain strings at run time, distinct types for the type checker."""

from typing import NewType

NationCode = NewType("NationCode", str)
"""Short nation code, e.g. ``USA``, ``JPN`` (ISO 3166-1 alpha-3 by convention)."""

SiteId = NewType("SiteId", str)
SensorId = NewType("SensorId", str)
ShooterId = NewType("ShooterId", str)
AssetId = NewType("AssetId", str)
ThreatId = NewType("ThreatId", str)

__all__ = ["AssetId", "NationCode", "SensorId", "ShooterId", "SiteId", "ThreatId"]
