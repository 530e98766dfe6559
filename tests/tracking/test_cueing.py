"""Space infrared launch cues and their hand-over to radar tracks."""

from __future__ import annotations

import numpy as np

from iamd.core import NationCode, SensorId
from iamd.geo import ecef_to_aer, geodetic_to_ecef
from iamd.messages import Detections, MeasurementKind, ThreatCategory, TrackStatus
from iamd.sim.build import tracker_config
from iamd.tracking.cueing import CuePolicy, InfraredCues, distance_to_rays_m
from iamd.tracking.tracker import RadarTracker

SATELLITE = geodetic_to_ecef(0.0, 140.0, 35_786e3)
SITE_LAT, SITE_LON = 35.0, 135.0
SITE = geodetic_to_ecef(SITE_LAT, SITE_LON, 50.0)
LOS_SIGMA = 50e-6


def _angles(points: np.ndarray) -> np.ndarray:
    u = points - SATELLITE
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return np.column_stack([np.arctan2(u[:, 1], u[:, 0]), np.arcsin(u[:, 2])])


def _infrared(time_s: float, points: np.ndarray) -> Detections:
    count = len(points)
    return Detections(
        sensor=SensorId("SAT"),
        nation=NationCode("USA"),
        kind=MeasurementKind.LINE_OF_SIGHT,
        valid_at=time_s,
        sensor_position_ecef_m=SATELLITE,
        sensor_lat_deg=0.0,
        sensor_lon_deg=140.0,
        measurements=_angles(points),
        covariances=np.tile(np.eye(2) * LOS_SIGMA**2, (count, 1, 1)),
        truth_index=np.arange(count),
        snr_db=np.full(count, np.nan),
    )


def _radar(time_s: float, points: np.ndarray) -> Detections:
    aer = ecef_to_aer(points, SITE, SITE_LAT, SITE_LON)
    count = len(points)
    sigma = np.array([30.0, 1e-3, 1e-3])
    return Detections(
        sensor=SensorId("R"),
        nation=NationCode("USA"),
        kind=MeasurementKind.RADAR_RAE,
        valid_at=time_s,
        sensor_position_ecef_m=SITE,
        sensor_lat_deg=SITE_LAT,
        sensor_lon_deg=SITE_LON,
        measurements=np.column_stack([aer[:, 2], aer[:, 0], aer[:, 1]]),
        covariances=np.tile(np.diag(sigma**2), (count, 1, 1)),
        truth_index=np.arange(count),
        snr_db=np.full(count, 20.0),
    )


def _boost(time_s: float) -> np.ndarray:
    """A missile climbing from (38 N, 132 E): 2 km/s up-range growth, 1.5 km/s climb."""
    return geodetic_to_ecef(38.0 - 0.018 * time_s / 2, 132.0, 1_500.0 * time_s)[None, :]


def test_distance_to_rays() -> None:
    origins = np.array([[0.0, 0.0, 0.0]])
    directions = np.array([[1.0, 0.0, 0.0]])
    points = np.array([[5.0, 3.0, 4.0], [-2.0, 0.0, 0.0]])
    np.testing.assert_allclose(distance_to_rays_m(points, origins, directions)[:, 0], [5.0, 2.0])


def test_a_cue_needs_two_frames_and_expires() -> None:
    cues = InfraredCues(CuePolicy(lifetime_s=30.0))
    cues.observe(10.0, SATELLITE, _angles(_boost(10.0)), np.tile(np.eye(2) * 1e-9, (1, 1, 1)))
    assert cues.match(12.0, _boost(12.0)).tolist() == [-1]  # one frame is not a cue yet
    cues.observe(12.0, SATELLITE, _angles(_boost(12.0)), np.tile(np.eye(2) * 1e-9, (1, 1, 1)))
    assert len(cues) == 1  # the second frame joined the first
    far = geodetic_to_ecef(30.0, 132.0, 20e3)[None, :]
    assert cues.match(13.0, far).tolist() == [-1]  # 900 km off the ray
    assert cues.match(14.0, _boost(14.0)).tolist() == [0]
    cues.observe(100.0, SATELLITE, np.empty((0, 2)), np.empty((0, 2, 2)))
    assert len(cues) == 0


def test_radar_track_on_a_cue_is_confirmed_at_once() -> None:
    cued = RadarTracker(NationCode("USA"), tracker_config())
    uncued = RadarTracker(NationCode("USA"), tracker_config())
    everywhere = lambda p: np.ones(len(p), bool)  # noqa: E731
    for time_s in (20.0, 22.0, 24.0):
        cued.step(_infrared(time_s, _boost(time_s)), everywhere)
    first_cued = cued.step(_radar(26.0, _boost(26.0)), everywhere)
    first_uncued = uncued.step(_radar(26.0, _boost(26.0)), everywhere)
    assert first_cued.status.tolist() == [TrackStatus.CONFIRMED]
    assert first_uncued.status.tolist() == [TrackStatus.TENTATIVE]
    # The cued track starts classified ballistic, in the boost mode of its IMM (the second
    # mode of the ballistic set), and follows the climb.
    assert first_cued.category.tolist() == [ThreatCategory.BALLISTIC_MISSILE]
    assert np.argmax(cued.mode_probability[0]) == 1
    for time_s in (28.0, 30.0, 32.0, 34.0):
        report = cued.step(_radar(time_s, _boost(time_s)), everywhere)
    assert report.status.tolist() == [TrackStatus.CONFIRMED]
    assert np.linalg.norm(report.state[0, :3] - _boost(34.0)[0]) < 1_000.0
