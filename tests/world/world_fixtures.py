"""Shared builders of the world tests."""

from __future__ import annotations

import pymap3d.vincenty as vincenty

from iamd.core import ThreatId
from iamd.world import BallisticThreatSpec, RangeClass, class_burnout_speed_mps


def aimed(
    name: str,
    *,
    lat: float,
    lon: float,
    range_m: float,
    azimuth_deg: float,
    speed_mps: float | None = None,
    range_class: RangeClass = RangeClass.SRBM,
    loft: float = 0.0,
    launch_time_s: float = 0.0,
    **extra: float,
) -> BallisticThreatSpec:
    """A ballistic threat launched from (lat, lon) at a point range_m away along an azimuth."""
    aim_lat, aim_lon = vincenty.vreckon(lat, lon, range_m, azimuth_deg)
    return BallisticThreatSpec(
        threat_id=ThreatId(name),
        launch_lat_deg=lat,
        launch_lon_deg=lon,
        aim_lat_deg=float(aim_lat),
        aim_lon_deg=float(aim_lon),
        launch_time_s=launch_time_s,
        burnout_speed_mps=(
            class_burnout_speed_mps(range_class) if speed_mps is None else speed_mps
        ),
        loft=loft,
        **extra,
    )
