"""Fixtures of the sensor tests; the builders live in ``sensor_fixtures``."""

from __future__ import annotations

import pytest
from sensor_fixtures import GEO_ALTITUDE_M, SITE_ALT_M, SITE_LAT_DEG, SITE_LON_DEG, platform_at

from iamd.messages import PlatformState


@pytest.fixture
def site() -> PlatformState:
    return platform_at(SITE_LAT_DEG, SITE_LON_DEG, SITE_ALT_M)


@pytest.fixture
def geo_satellite() -> PlatformState:
    """A geostationary satellite over 60° E."""
    return platform_at(0.0, 60.0, GEO_ALTITUDE_M)
