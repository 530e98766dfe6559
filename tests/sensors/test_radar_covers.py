"""`RadarSensor.covers`: the radar's visibility geometry, as trackers use it."""

import numpy as np

from iamd.core import NationCode, SensorId
from iamd.geo import aer_to_ecef, ecef_to_geodetic, geodetic_to_ecef
from iamd.messages import PlatformState, ThreatPhase, TruthState
from iamd.sensors import RadarConfig, RadarSensor


def test_covers_agrees_with_what_observe_can_see() -> None:
    """`covers` is the geometry of `observe`: points it rejects are never detected."""

    site = geodetic_to_ecef(35.0, 135.0, 100.0)
    platform = PlatformState(
        time_s=0.0, lat_deg=35.0, lon_deg=135.0, alt_m=100.0, position_ecef_m=site
    )
    radar = RadarSensor(
        RadarConfig(
            sensor_id=SensorId("R"),
            nation=NationCode("JPN"),
            boresight_azimuth_deg=0.0,
            azimuth_extent_deg=90.0,
            elevation_min_deg=0.0,
            elevation_max_deg=60.0,
            range_min_m=1e3,
            range_max_m=400e3,
            range_noise_m=10.0,
            azimuth_noise_mrad=1.0,
            elevation_noise_mrad=1.0,
            reference_range_m=1e7,
        )
    )
    rng = np.random.default_rng(1)
    aer = np.column_stack(
        [
            rng.uniform(-np.pi, np.pi, 400),
            rng.uniform(-0.05, 1.3, 400),
            rng.uniform(0.0, 500e3, 400),
        ]
    )
    points = aer_to_ecef(aer, site, 35.0, 135.0)
    covered = radar.covers(points, platform)
    assert 20 < covered.sum() < 380
    truth = TruthState(
        time_s=0.0,
        position_ecef_m=points,
        velocity_ecef_mps=np.zeros_like(points),
        altitude_m=ecef_to_geodetic(points)[2],
        phase=np.full(400, ThreatPhase.MIDCOURSE),
        rcs_m2=np.full(400, 10.0),
    )
    seen = radar.observe(truth, platform, rng).truth_index
    assert set(seen.tolist()) == set(np.flatnonzero(covered).tolist())
