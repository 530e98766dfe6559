"""The public API of iamd.sensors, the registry, the conformance check and determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sensor_fixtures import (
    GEO_ALTITUDE_M,
    aer_positions,
    infrared_config,
    platform_at,
    radar_config,
    truth_at,
)

import iamd.sensors
from iamd.core import RegistryError
from iamd.geo import geodetic_to_ecef
from iamd.messages import Detections, PlatformState, ThreatPhase, TruthState
from iamd.messages.detections import FALSE_ALARM
from iamd.sensors import (
    SENSOR_KINDS,
    InfraredConfig,
    RadarConfig,
    RadarSensor,
    Sensor,
    SpaceInfraredSensor,
    check_sensor,
)


def test_public_api_is_pinned() -> None:
    assert sorted(iamd.sensors.__all__) == [
        "InfraredConfig",
        "RadarConfig",
        "RadarSensor",
        "SENSOR_KINDS",
        "Sensor",
        "SensorFactory",
        "SpaceInfraredSensor",
        "check_sensor",
        "line_of_sight_angles",
        "radar_snr_db",
        "swerling1_detection_probability",
    ]


def test_registry_builds_each_kind_from_its_config() -> None:
    assert list(SENSOR_KINDS) == ["infrared.space", "radar"]
    radar = SENSOR_KINDS.get("radar")(radar_config())
    infrared = SENSOR_KINDS.get("infrared.space")(infrared_config())
    assert isinstance(radar, RadarSensor)
    assert isinstance(infrared, SpaceInfraredSensor)
    with pytest.raises(RegistryError, match="did you mean 'radar'"):
        SENSOR_KINDS.get("rader")


def test_identity_and_period_come_from_the_config() -> None:
    radar = RadarSensor(radar_config(revisit_period_s=4.0))
    infrared = SpaceInfraredSensor(infrared_config(frame_period_s=1.5))
    assert (radar.sensor_id, radar.nation, radar.period_s) == ("JPN-R1", "JPN", 4.0)
    assert (infrared.sensor_id, infrared.nation, infrared.period_s) == ("USA-IR1", "USA", 1.5)
    # The config field names the sim is written against.
    assert {f.name for f in dataclasses.fields(RadarConfig)} >= {
        "sensor_id", "nation", "boresight_azimuth_deg", "azimuth_extent_deg",
        "elevation_min_deg", "elevation_max_deg", "range_min_m", "range_max_m",
        "revisit_period_s", "range_noise_m", "azimuth_noise_mrad", "elevation_noise_mrad",
        "reference_range_m", "reference_rcs_m2", "reference_snr_db",
        "false_alarm_probability", "false_alarms_per_scan",
    }  # fmt: skip
    assert {f.name for f in dataclasses.fields(InfraredConfig)} >= {
        "sensor_id", "nation", "frame_period_s", "line_of_sight_noise_urad",
        "detection_probability", "coverage_lat_deg", "coverage_lon_deg",
        "false_alarms_per_frame",
    }  # fmt: skip


def _radar_case(site: PlatformState) -> tuple[Sensor, TruthState, PlatformState]:
    radar = RadarSensor(
        radar_config(reference_snr_db=13.0, false_alarms_per_scan=3.0, reference_range_m=150e3)
    )
    positions = aer_positions(site, np.linspace(0, 360, 30, endpoint=False), 8.0, 120e3)
    positions[:3] = np.nan
    phase = [ThreatPhase.NOT_LAUNCHED] * 3 + [ThreatPhase.MIDCOURSE] * 27
    return radar, truth_at(positions, phase=phase, time_s=12.5), site


def _infrared_case() -> tuple[Sensor, TruthState, PlatformState]:
    sensor = SpaceInfraredSensor(
        infrared_config(detection_probability=0.9, false_alarms_per_frame=2.0)
    )
    rng = np.random.default_rng(0)
    positions = geodetic_to_ecef(rng.uniform(20, 45, 30), rng.uniform(35, 75, 30), 20e3)
    phase = [ThreatPhase.BOOST] * 20 + [ThreatPhase.MIDCOURSE] * 10
    satellite = platform_at(0.0, 60.0, GEO_ALTITUDE_M, time_s=12.5)
    return sensor, truth_at(positions, phase=phase, time_s=12.5), satellite


@pytest.fixture(params=["radar", "infrared.space"])
def case(
    request: pytest.FixtureRequest, site: PlatformState
) -> tuple[Sensor, TruthState, PlatformState]:
    return _radar_case(site) if request.param == "radar" else _infrared_case()


def test_every_sensor_passes_the_conformance_check(
    case: tuple[Sensor, TruthState, PlatformState],
) -> None:
    sensor, truth, platform = case
    rng = np.random.default_rng(21)
    sizes = [len(check_sensor(sensor, truth, platform, rng)) for _ in range(20)]
    assert max(sizes) > 0


def test_conformance_check_catches_a_broken_sensor(site: PlatformState) -> None:
    class LateRadar(RadarSensor):
        def observe(
            self, truth: TruthState, platform: PlatformState, rng: np.random.Generator
        ) -> Detections:
            return dataclasses.replace(super().observe(truth, platform, rng), valid_at=-1.0)

    _radar, truth, platform = _radar_case(site)
    with pytest.raises(AssertionError, match="valid_at"):
        check_sensor(LateRadar(radar_config()), truth, platform, np.random.default_rng(0))


def _same(a: Detections, b: Detections) -> bool:
    return all(
        np.array_equal(getattr(a, f.name), getattr(b, f.name), equal_nan=f.name == "snr_db")
        if isinstance(getattr(a, f.name), np.ndarray)
        else getattr(a, f.name) == getattr(b, f.name)
        for f in dataclasses.fields(Detections)
    )


def test_same_seed_gives_identical_detections(
    case: tuple[Sensor, TruthState, PlatformState],
) -> None:
    sensor, truth, platform = case
    first = [sensor.observe(truth, platform, rng) for rng in [np.random.default_rng(5)] * 10]
    second = [sensor.observe(truth, platform, rng) for rng in [np.random.default_rng(5)] * 10]
    assert all(_same(a, b) for a, b in zip(first, second, strict=True))
    other = [sensor.observe(truth, platform, rng) for rng in [np.random.default_rng(6)] * 10]
    assert not all(_same(a, b) for a, b in zip(first, other, strict=True))


def test_row_order_does_not_reveal_false_alarms(
    case: tuple[Sensor, TruthState, PlatformState],
) -> None:
    # Rows come in a random order: a false alarm is sometimes first, sometimes last, and the
    # true detections are not in threat order.
    sensor, truth, platform = case
    rng = np.random.default_rng(22)
    first_is_false, last_is_false, unsorted = 0, 0, 0
    for _ in range(200):
        index = sensor.observe(truth, platform, rng).truth_index
        if index.size:
            first_is_false += index[0] == FALSE_ALARM
            last_is_false += index[-1] == FALSE_ALARM
            caused = index[index != FALSE_ALARM]
            unsorted += bool(np.any(np.diff(caused) < 0))
    assert 10 < first_is_false < 190
    assert 10 < last_is_false < 190
    assert unsorted > 150
