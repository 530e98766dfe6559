"""Hand-built truth, platforms and configs for the sensor tests (no dependency on iamd.world)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iamd.core.ids import NationCode, SensorId
from iamd.geo import aer_to_ecef, ecef_to_geodetic, geodetic_to_ecef
from iamd.messages import PlatformState, ThreatPhase, TruthState
from iamd.sensors import InfraredConfig, RadarConfig

GEO_ALTITUDE_M = 35_786_000.0

# A land radar site (notional), and the elevation of its antenna.
SITE_LAT_DEG, SITE_LON_DEG, SITE_ALT_M = 35.0, 139.0, 50.0


def platform_at(
    lat_deg: float, lon_deg: float, alt_m: float, *, time_s: float = 0.0, heading_deg: float = 0.0
) -> PlatformState:
    return PlatformState(
        time_s=time_s,
        lat_deg=lat_deg,
        lon_deg=lon_deg,
        alt_m=alt_m,
        position_ecef_m=geodetic_to_ecef(lat_deg, lon_deg, alt_m),
        heading_deg=heading_deg,
    )


def truth_at(
    position_ecef_m: np.ndarray,
    *,
    phase: ThreatPhase | Sequence[int] = ThreatPhase.MIDCOURSE,
    rcs_m2: float | np.ndarray = 1.0,
    time_s: float = 0.0,
) -> TruthState:
    """Truth for threats at the given ECEF positions; NaN rows stay NaN (inactive threats)."""
    position = np.atleast_2d(np.asarray(position_ecef_m, float)).reshape(-1, 3)
    count = position.shape[0]
    if count:
        _, _, altitude = ecef_to_geodetic(position)
    else:
        altitude = np.empty(0)
    return TruthState(
        time_s=time_s,
        position_ecef_m=position,
        velocity_ecef_mps=np.zeros_like(position),
        altitude_m=np.asarray(altitude, float).reshape(count),
        phase=np.broadcast_to(np.asarray(phase, np.int64), (count,)).copy(),
        rcs_m2=np.broadcast_to(np.asarray(rcs_m2, float), (count,)).copy(),
    )


def aer_positions(
    platform: PlatformState, azimuth_deg: Any, elevation_deg: Any, range_m: Any
) -> np.ndarray:
    """ECEF positions at given azimuth/elevation (degrees) and slant range (m) from a platform."""
    az, el, rng = np.broadcast_arrays(
        np.radians(azimuth_deg), np.radians(elevation_deg), np.asarray(range_m, float)
    )
    aer = np.stack([az, el, rng], axis=-1).reshape(-1, 3)
    return aer_to_ecef(aer, platform.position_ecef_m, platform.lat_deg, platform.lon_deg)


def radar_config(**overrides: Any) -> RadarConfig:
    """A notional radar; with the defaults every target in coverage is detected (Pd ≈ 1)."""
    values: dict[str, Any] = {
        "sensor_id": SensorId("JPN-R1"),
        "nation": NationCode("JPN"),
        "range_min_m": 1_000.0,
        "range_max_m": 800_000.0,
        "range_noise_m": 30.0,
        "azimuth_noise_mrad": 1.0,
        "elevation_noise_mrad": 1.5,
        "reference_range_m": 200_000.0,
        "reference_snr_db": 150.0,
        "elevation_min_deg": 0.0,
    }
    values.update(overrides)
    return RadarConfig(**values)


def infrared_config(**overrides: Any) -> InfraredConfig:
    values: dict[str, Any] = {
        "sensor_id": SensorId("USA-IR1"),
        "nation": NationCode("USA"),
        "coverage_lat_deg": (20.0, 45.0),
        "coverage_lon_deg": (35.0, 75.0),
        "detection_probability": 1.0,
    }
    values.update(overrides)
    return InfraredConfig(**values)


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Wrap angles (rad) to [-π, π)."""
    return np.mod(angle + np.pi, 2.0 * np.pi) - np.pi
