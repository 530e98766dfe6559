"""The node tracker end to end on synthetic radar scans: confirm, follow, drop clutter."""

from __future__ import annotations

import numpy as np

from iamd.core import NationCode, SensorId
from iamd.geo import ecef_to_aer, ecef_to_enu_matrix, geodetic_to_ecef
from iamd.messages import Detections, MeasurementKind, TrackStatus
from iamd.sim.build import tracker_config
from iamd.tracking.tracker import RadarTracker

SITE_LAT, SITE_LON = 35.0, 135.0
SITE = geodetic_to_ecef(SITE_LAT, SITE_LON, 50.0)
SIGMA = np.array([30.0, 1e-3, 1e-3])
EVERYWHERE = lambda p: np.ones(len(p), bool)  # noqa: E731


def _targets(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets 150-250 km north of the site at 10 km altitude, flying east at 250 m/s."""
    lat = SITE_LAT + np.linspace(1.4, 2.2, count)
    position = geodetic_to_ecef(lat, np.full(count, SITE_LON), np.full(count, 10e3))
    east = ecef_to_enu_matrix(lat, np.full(count, SITE_LON))[:, 0, :]
    return position, 250.0 * east


def _scan(
    time_s: float, positions: np.ndarray, rng: np.random.Generator, clutter: int
) -> Detections:
    aer = ecef_to_aer(positions, SITE, SITE_LAT, SITE_LON)
    z = np.column_stack([aer[:, 2], aer[:, 0], aer[:, 1]])
    z = z + rng.standard_normal(z.shape) * SIGMA
    false = np.column_stack(
        [
            rng.uniform(100e3, 300e3, clutter),
            rng.uniform(-0.5, 0.5, clutter) % (2 * np.pi),
            rng.uniform(0.0, 0.2, clutter),
        ]
    )
    rows = np.concatenate([z, false])
    count = rows.shape[0]
    return Detections(
        sensor=SensorId("R"),
        nation=NationCode("JPN"),
        kind=MeasurementKind.RADAR_RAE,
        valid_at=time_s,
        sensor_position_ecef_m=SITE,
        sensor_lat_deg=SITE_LAT,
        sensor_lon_deg=SITE_LON,
        measurements=rows,
        covariances=np.tile(np.diag(SIGMA**2), (count, 1, 1)),
        truth_index=np.concatenate([np.arange(len(z)), np.full(clutter, -1)]),
        snr_db=np.full(count, 20.0),
    )


def test_tracks_every_target_once_and_drops_clutter() -> None:
    rng = np.random.default_rng(5)
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    start, velocity = _targets(5)
    numbers: dict[int, set[int]] = {i: set() for i in range(5)}
    for k in range(40):
        time_s = 5.0 * k
        truth = start + velocity * time_s
        report = tracker.step(_scan(time_s, truth, rng, clutter=3), lambda p: np.ones(len(p), bool))
        firm = report.status == TrackStatus.CONFIRMED
        for row in np.flatnonzero(firm):
            target = int(np.argmin(np.linalg.norm(truth - report.state[row, :3], axis=1)))
            numbers[target].add(int(report.track_number[row]))
    confirmed = tracker.status == TrackStatus.CONFIRMED
    assert confirmed.sum() == 5
    errors = np.linalg.norm(tracker.state[confirmed, None, :3] - truth[None], axis=2).min(axis=1)
    # One cross-range σ of the radar is 150-250 m at these ranges: a diverged track is km off.
    assert errors.max() < 600.0
    speed_errors = np.linalg.norm(tracker.state[confirmed, 3:6] - velocity[:1], axis=1)
    # The IMM's modes are tuned for missiles and manoeuvres, not for this steady target.
    assert speed_errors.max() < 60.0
    # One number per target for the whole run; clutter tracks never got confirmed.
    assert all(len(found) == 1 for found in numbers.values())
    assert len(tracker) <= 5 + 2 * 3  # at most the latest clutter tracks, still tentative


def test_tracks_outside_coverage_do_not_count_misses() -> None:
    rng = np.random.default_rng(6)
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    start, velocity = _targets(1)
    for k in range(6):
        tracker.step(
            _scan(5.0 * k, start + velocity * 5.0 * k, rng, 0), lambda p: np.ones(len(p), bool)
        )
    assert tracker.status.tolist() == [TrackStatus.CONFIRMED]
    nothing = _scan(30.0, start[:0], rng, 0)
    # The target left this radar's field of regard: no detection and no miss.
    tracker.step(nothing, lambda p: np.zeros(len(p), bool))
    assert tracker.status.tolist() == [TrackStatus.CONFIRMED]
    tracker.step(_scan(35.0, start[:0], rng, 0), lambda p: np.ones(len(p), bool))
    assert tracker.status.tolist() == [TrackStatus.COASTING]


def test_out_of_order_batches_are_refused() -> None:
    import pytest

    rng = np.random.default_rng(7)
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    start, _ = _targets(1)
    tracker.step(_scan(10.0, start, rng, 0), lambda p: np.ones(len(p), bool))
    with pytest.raises(ValueError, match="out of time order"):
        tracker.step(_scan(5.0, start, rng, 0), lambda p: np.ones(len(p), bool))


def _from(sensor: str, detections: Detections) -> Detections:
    """The same detections, labelled as coming from another radar."""
    from dataclasses import replace

    return replace(detections, sensor=SensorId(sensor))


def test_only_radars_that_detect_a_track_count_its_misses() -> None:
    """A far radar holds a track; a near radar covering it but never detecting it scans 3×
    as often. Its empty scans must not delete the track (they would: 2 misses kill a
    tentative track, 5 a confirmed one)."""
    rng = np.random.default_rng(8)
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    start, velocity = _targets(1)
    numbers: set[int] = set()
    for k in range(60):
        time_s = 2.0 * k
        if k % 3 == 0:
            report = tracker.step(
                _from("FAR", _scan(time_s, start + velocity * time_s, rng, 0)), EVERYWHERE
            )
            numbers.update(report.track_number.tolist())
        else:
            tracker.step(_from("NEAR", _scan(time_s, start[:0], rng, 0)), EVERYWHERE)
    assert tracker.status.tolist() == [TrackStatus.CONFIRMED]
    assert len(numbers) == 1
    # Once the far radar stops seeing it, its own misses end the track as before.
    for k in range(60, 80):
        tracker.step(_from("FAR", _scan(2.0 * k, start[:0], rng, 0)), EVERYWHERE)
    assert len(tracker) == 0
