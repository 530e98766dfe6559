"""What the radar can see: azimuth sector, elevation and range limits, horizon, moving ship."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sensor_fixtures import aer_positions, platform_at, radar_config, truth_at

from iamd.geo import ecef_to_aer, ecef_to_geodetic, geodetic_to_ecef, line_of_sight_clear
from iamd.messages import PlatformState, ThreatPhase
from iamd.sensors import RadarSensor


def seen(radar: RadarSensor, truth_positions: np.ndarray, platform: PlatformState) -> set[int]:
    truth = truth_at(truth_positions)
    return set(radar.observe(truth, platform, np.random.default_rng(0)).truth_index.tolist())


@pytest.mark.parametrize(
    ("boresight", "extent", "inside", "outside"),
    [
        # The sector 330° … 10° runs through north.
        (350.0, 40.0, [331.0, 350.0, 359.9, 0.0, 9.0], [329.0, 11.0, 170.0, 90.0, 270.0]),
        # Boresight given as a negative angle means the same sector.
        (-10.0, 40.0, [331.0, 0.0, 9.0], [329.0, 11.0, 180.0]),
        # A sector that does not wrap.
        (90.0, 120.0, [31.0, 90.0, 149.0], [29.0, 151.0, 270.0, 0.0]),
        # All round.
        (123.0, 360.0, [0.0, 90.0, 180.0, 303.0, 359.9], []),
    ],
)
def test_azimuth_sector_with_wrap_around(
    site: PlatformState,
    boresight: float,
    extent: float,
    inside: list[float],
    outside: list[float],
) -> None:
    radar = RadarSensor(radar_config(boresight_azimuth_deg=boresight, azimuth_extent_deg=extent))
    positions = aer_positions(site, np.array(inside + outside), 10.0, 100e3)
    assert seen(radar, positions, site) == set(range(len(inside)))


def test_elevation_limits(site: PlatformState) -> None:
    radar = RadarSensor(radar_config(elevation_min_deg=3.0, elevation_max_deg=60.0))
    elevations = np.array([3.1, 30.0, 59.9, 2.9, 60.1, 85.0, -1.0])
    assert seen(radar, aer_positions(site, 45.0, elevations, 50e3), site) == {0, 1, 2}


def test_range_limits(site: PlatformState) -> None:
    radar = RadarSensor(radar_config(range_min_m=20e3, range_max_m=300e3))
    ranges = np.array([20.5e3, 150e3, 299e3, 19e3, 301e3, 5e3])
    assert seen(radar, aer_positions(site, 200.0, 20.0, ranges), site) == {0, 1, 2}


def test_horizon_masks_a_low_target_and_not_the_same_target_higher() -> None:
    # A radar 10 m above the sea that may look 5° down (so the elevation limit is not what
    # decides). 400 km north, a target at 1 km is below the 4/3-Earth horizon (which lies at
    # 13 km + 130 km for those heights); at 20 km it is above it (13 km + 583 km).
    radar = RadarSensor(radar_config(elevation_min_deg=-5.0, range_max_m=1_000e3))
    site = platform_at(30.0, 130.0, 10.0)
    north_400_km = 30.0 + math.degrees(400e3 / 6_371e3)
    targets = geodetic_to_ecef(north_400_km, 130.0, np.array([1_000.0, 20_000.0]))
    # Both are inside the elevation limits; only the horizon tells them apart.
    elevation = ecef_to_aer(targets, site.position_ecef_m, 30.0, 130.0)[:, 1]
    assert np.all(np.degrees(elevation) > -5.0)
    assert seen(radar, targets, site) == {1}


def test_horizon_is_the_refracted_one() -> None:
    # 4/3-Earth refraction sees further than straight rays: at 10 m and 500 m the geometric
    # horizon is 11.3 km + 79.8 km = 91 km, the refracted one 13.0 km + 92.2 km = 105 km.
    radar = RadarSensor(radar_config(elevation_min_deg=-5.0))
    site = platform_at(0.0, 0.0, 10.0)
    ground_m = np.array([95e3, 100e3, 110e3])
    targets = geodetic_to_ecef(0.0, np.degrees(ground_m / 6_371_008.8), 500.0)
    assert seen(radar, targets, site) == {0, 1}


def test_inactive_threats_are_never_detected(site: PlatformState) -> None:
    positions = aer_positions(site, [10.0, 20.0, 30.0, 40.0], 10.0, 100e3)
    positions[0] = np.nan  # not launched yet: NaN kinematics
    phases = [
        ThreatPhase.NOT_LAUNCHED,
        ThreatPhase.IMPACTED,
        ThreatPhase.BOOST,
        ThreatPhase.TERMINAL,
    ]
    truth = truth_at(positions, phase=phases)
    scan = RadarSensor(radar_config()).observe(truth, site, np.random.default_rng(1))
    assert sorted(scan.truth_index.tolist()) == [2, 3]


def test_ship_radar_measures_in_its_own_enu_frame_at_each_instant() -> None:
    # A ship steaming east; one target fixed in ECEF. Each scan must be in the ENU frame of
    # where the ship is at that scan, and say where that was.
    radar = RadarSensor(
        radar_config(range_noise_m=0.01, azimuth_noise_mrad=1e-5, elevation_noise_mrad=1e-5)
    )
    target = geodetic_to_ecef(38.0, 134.0, 80e3)[None, :]
    rng = np.random.default_rng(2)
    measured = []
    for step, lon in enumerate([132.0, 132.5, 133.0]):
        ship = platform_at(37.0, lon, 25.0, time_s=10.0 * step, heading_deg=90.0)
        scan = radar.observe(truth_at(target, time_s=10.0 * step), ship, rng)
        assert scan.truth_index.tolist() == [0]
        assert scan.valid_at == 10.0 * step
        np.testing.assert_array_equal(scan.sensor_position_ecef_m, ship.position_ecef_m)
        assert (scan.sensor_lat_deg, scan.sensor_lon_deg) == (37.0, lon)
        az, el, slant = ecef_to_aer(target, ship.position_ecef_m, 37.0, lon)[0]
        error = scan.measurements[0] - [slant, az, el]
        assert np.all(np.abs(error) <= [0.1, 1e-7, 1e-7]), error
        measured.append(scan.measurements[0])
    # The ship moved towards the target: the range shrank scan after scan.
    assert measured[0][0] > measured[1][0] > measured[2][0]


def test_empty_and_all_hidden_truths_give_empty_detections(site: PlatformState) -> None:
    radar = RadarSensor(radar_config())
    rng = np.random.default_rng(3)
    for positions in (np.empty((0, 3)), aer_positions(site, 0.0, -10.0, 100e3)):
        scan = radar.observe(truth_at(positions), site, rng)
        assert len(scan) == 0
        assert scan.measurements.shape == (0, 3)
        assert scan.covariances.shape == (0, 3, 3)


@settings(max_examples=300, deadline=None)
@given(
    site_lat=st.floats(-89.0, 89.0),
    site_lon=st.floats(-180.0, 180.0),
    site_alt=st.floats(0.0, 5_000.0),
    azimuth=st.floats(0.0, 360.0),
    elevation=st.floats(1.0, 30.0),
    slant=st.floats(1e3, 6_000e3),
)
def test_targets_a_degree_above_the_horizontal_are_always_clear_of_the_horizon(
    site_lat: float,
    site_lon: float,
    site_alt: float,
    azimuth: float,
    elevation: float,
    slant: float,
) -> None:
    # RadarSensor runs the 4/3-Earth horizon test only below 1° of geometric elevation:
    # above that the full test must always pass, whatever the place and distance.
    site = platform_at(site_lat, site_lon, site_alt)
    target = aer_positions(site, azimuth, elevation, slant)
    _, _, altitude = ecef_to_geodetic(target)
    # The horizon model clamps heights below the ellipsoid to zero; keep to its domain.
    assume(altitude[0] >= 0.0)
    assert line_of_sight_clear(site.position_ecef_m, site_alt, target, altitude).all()
