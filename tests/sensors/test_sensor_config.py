"""Impossible sensor configurations are refused with an error naming the sensor and field."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sensor_fixtures import infrared_config, radar_config

from iamd.core import ConfigurationError


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"sensor_id": ""}, "sensor_id must be non-empty"),
        ({"range_noise_m": -1.0}, "range_noise_m must be a positive number"),
        ({"range_noise_m": 0.0}, "range_noise_m must be a positive number"),
        ({"azimuth_noise_mrad": math.nan}, "azimuth_noise_mrad must be a positive number"),
        ({"elevation_noise_mrad": -0.1}, "elevation_noise_mrad must be a positive number"),
        ({"range_min_m": 500e3, "range_max_m": 500e3}, "range_min_m must be below range_max_m"),
        ({"range_min_m": 600e3, "range_max_m": 500e3}, "range_min_m must be below range_max_m"),
        ({"range_min_m": -1.0}, "range_min_m must be a non-negative number"),
        ({"range_max_m": math.inf}, "range_max_m must be a positive number"),
        ({"azimuth_extent_deg": 0.0}, r"azimuth_extent_deg must be in \(0, 360\]"),
        ({"azimuth_extent_deg": 361.0}, r"azimuth_extent_deg must be in \(0, 360\]"),
        ({"boresight_azimuth_deg": math.nan}, "boresight_azimuth_deg must be finite"),
        ({"elevation_min_deg": -91.0}, r"elevation_min_deg must be in \[-90, 90\]"),
        ({"elevation_max_deg": 95.0}, r"elevation_max_deg must be in \[-90, 90\]"),
        (
            {"elevation_min_deg": 30.0, "elevation_max_deg": 30.0},
            "elevation_min_deg must be below elevation_max_deg",
        ),
        ({"revisit_period_s": 0.0}, "revisit_period_s must be a positive number"),
        ({"reference_range_m": -5.0}, "reference_range_m must be a positive number"),
        ({"reference_rcs_m2": 0.0}, "reference_rcs_m2 must be a positive number"),
        ({"reference_snr_db": math.inf}, "reference_snr_db must be finite"),
        ({"false_alarm_probability": 0.0}, r"false_alarm_probability must be in \(0, 1\)"),
        ({"false_alarm_probability": 1.0}, r"false_alarm_probability must be in \(0, 1\)"),
        ({"false_alarm_probability": math.nan}, r"false_alarm_probability must be in \(0, 1\)"),
        ({"false_alarms_per_scan": -0.5}, "false_alarms_per_scan must be a non-negative number"),
    ],
)
def test_radar_config_errors(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as raised:
        radar_config(**overrides)
    assert isinstance(raised.value, ValueError)
    assert "(got " in str(raised.value)
    if "sensor_id" not in overrides:
        assert str(raised.value).startswith("radar 'JPN-R1': ")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"frame_period_s": -2.0}, "frame_period_s must be a positive number"),
        ({"line_of_sight_noise_urad": 0.0}, "line_of_sight_noise_urad must be a positive"),
        ({"detection_probability": 0.0}, r"detection_probability must be in \(0, 1\]"),
        ({"detection_probability": 1.01}, r"detection_probability must be in \(0, 1\]"),
        ({"false_alarms_per_frame": -1.0}, "false_alarms_per_frame must be a non-negative"),
        ({"coverage_lat_deg": (45.0, 20.0)}, "coverage_lat_deg must be"),
        ({"coverage_lat_deg": (-95.0, 20.0)}, "coverage_lat_deg must be"),
        ({"coverage_lat_deg": (10.0,)}, "coverage_lat_deg must be"),
        ({"coverage_lon_deg": (40.0, 40.0)}, "coverage_lon_deg must be"),
        ({"coverage_lon_deg": (-180.0, 400.0)}, "coverage_lon_deg must be"),
        ({"coverage_lon_deg": (0.0, math.nan)}, "coverage_lon_deg must be"),
    ],
)
def test_infrared_config_errors(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as raised:
        infrared_config(**overrides)
    assert str(raised.value).startswith("infrared sensor 'USA-IR1': ")


@pytest.mark.parametrize(
    "overrides",
    [
        {"detection_probability": 1.0},
        {"coverage_lon_deg": (170.0, -170.0)},  # across the antimeridian
        {"coverage_lon_deg": (-180.0, 180.0)},  # all longitudes
        {"coverage_lat_deg": (-90.0, 90.0)},
    ],
)
def test_infrared_config_edges_that_are_valid(overrides: dict[str, Any]) -> None:
    infrared_config(**overrides)


def test_radar_config_edges_that_are_valid() -> None:
    radar_config(azimuth_extent_deg=360.0, range_min_m=0.0, elevation_min_deg=-90.0)


def test_configs_are_frozen() -> None:
    config = radar_config()
    with pytest.raises(AttributeError):
        config.range_max_m = 1.0  # type: ignore[misc]
