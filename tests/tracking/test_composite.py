"""Composite tracking from shared measurements: same scans, same tracks, whatever the order."""

from __future__ import annotations

import numpy as np
import pytest

from iamd.core import ConfigurationError, NationCode, SensorId
from iamd.geo import geodetic_to_ecef
from iamd.messages import Detections, MeasurementKind, TrackStatus
from iamd.messages.picture import SystemTracks
from iamd.sim.build import tracker_config
from iamd.tracking.composite import NATION_NUMBER_BASE, CompositeTracker
from iamd.tracking.measurement import RadarMeasurement
from iamd.tracking.tracker import Coverage, RadarTracker

USA, JPN = NationCode("USA"), NationCode("JPN")
NATIONS = (USA, JPN)
SITES = {
    SensorId("usa-r"): (USA, 35.0, 133.0, 3.0),
    SensorId("jpn-r"): (JPN, 35.6, 134.2, 2.0),
}
NOISE = np.diag([30.0, 2e-3, 2e-3]) ** 2


def everywhere(sensor: SensorId, time_s: float) -> Coverage:
    return lambda positions: np.ones(len(positions), bool)


def target(time_s: float) -> np.ndarray:
    """An aircraft flying east at 250 m/s, 9 km up, over the two radars."""
    start = geodetic_to_ecef(35.2, 133.2, 9000.0)
    east = np.array([-np.sin(np.radians(133.2)), np.cos(np.radians(133.2)), 0.0])
    return np.concatenate([start + 250.0 * time_s * east, 250.0 * east])


def scans(
    duration_s: float, seed: int = 0, blind: tuple[float, float] = (0.0, 0.0)
) -> list[tuple[NationCode, int, Detections]]:
    """Every scan of both radars in time order, with noise and a false alarm now and then;
    the target goes undetected during ``blind`` (start, end), s."""
    rng = np.random.default_rng(seed)
    out = []
    for number, (sensor, (nation, lat, lon, period)) in enumerate(SITES.items(), start=1):
        site = geodetic_to_ecef(lat, lon, 20.0)
        radar = RadarMeasurement(site_ecef_m=site, site_lat_deg=lat, site_lon_deg=lon)
        for time_s in np.arange(0.5 * number, duration_s, period):
            truth = radar.predict(target(float(time_s))[None])
            rows = [truth[0] + rng.multivariate_normal(np.zeros(3), NOISE)]
            if rng.random() < 0.3:
                rows.append(truth[0] + np.array([rng.uniform(-2e4, 2e4), 0.2, 0.02]))
            if rng.random() < 0.1 or blind[0] <= time_s < blind[1]:
                rows = rows[1:]  # a missed detection
            k = len(rows)
            out.append(
                (
                    nation,
                    number,
                    Detections(
                        sensor=sensor,
                        nation=nation,
                        kind=MeasurementKind.RADAR_RAE,
                        valid_at=float(time_s),
                        sensor_position_ecef_m=site,
                        sensor_lat_deg=lat,
                        sensor_lon_deg=lon,
                        measurements=np.array(rows).reshape(k, 3),
                        covariances=np.tile(NOISE, (k, 1, 1)),
                        truth_index=np.zeros(k, np.int64),
                        snr_db=np.full(k, np.nan),
                    ),
                )
            )
    out.sort(key=lambda scan: (scan[2].valid_at, NATIONS.index(scan[0]), scan[1]))
    return out


def composite(node: NationCode, delay_s: float = 2.0, **kwargs: float) -> CompositeTracker:
    return CompositeTracker(
        node, NATIONS, tracker_config(), coverage_of=everywhere, delay_s=delay_s, **kwargs
    )


def feed(
    tracker: CompositeTracker,
    batches: list[tuple[NationCode, int, Detections]],
    arrival_s: np.ndarray,
    snapshot_times: np.ndarray,
) -> list[SystemTracks]:
    """Deliver scans at their arrival times and snapshot at the given times."""
    order = np.argsort(arrival_s, kind="stable")
    snapshots, i = [], 0
    for now in snapshot_times:
        while i < order.size and arrival_s[order[i]] <= now:
            nation, number, detections = batches[order[i]]
            local = np.arange(len(detections), dtype=np.int64) + 100 * order[i] + 1
            tracker.add(
                detections, originator=nation, sensor_number=number, local_track_number=local
            )
            i += 1
        snapshots.append(tracker.snapshot(float(now)))
    return snapshots


@pytest.fixture(scope="module")
def batches() -> list[tuple[NationCode, int, Detections]]:
    return scans(120.0)


def test_two_nodes_with_the_same_scans_hold_identical_tracks_whatever_the_arrival_order(
    batches: list[tuple[NationCode, int, Detections]],
) -> None:
    valid = np.array([d.valid_at for _, _, d in batches])
    rng = np.random.default_rng(4)
    # Each node receives every scan after its own random delay, well within the 2 s wait.
    early = valid + rng.uniform(0.0, 1.5, valid.size)
    late = valid + rng.uniform(0.0, 1.9, valid.size)
    times = np.arange(1.0, 124.0, 1.0)
    a = feed(composite(USA), batches, early, times)
    b = feed(composite(JPN), batches, late, times)
    shown = 0
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.network_track_number, y.network_track_number)
        np.testing.assert_array_equal(x.state, y.state)
        np.testing.assert_array_equal(x.covariance, y.covariance)
        np.testing.assert_array_equal(x.status, y.status)
        shown += int(np.sum(x.status == TrackStatus.CONFIRMED))
    assert shown > 80  # the aircraft is held most of the time
    # The two pictures differ only by which node they belong to.
    assert a[-1].nations == (USA, JPN)
    assert b[-1].nations == (JPN, USA)


def test_the_composite_track_is_the_central_trackers_track(
    batches: list[tuple[NationCode, int, Detections]],
) -> None:
    """Measurement sharing is centralised tracking: a central tracker fed every scan in
    order ends with the very same estimates."""
    central = RadarTracker(USA, tracker_config())
    for _, _, detections in batches:
        central.step(detections, everywhere(detections.sensor, detections.valid_at))
    node = composite(JPN, delay_s=0.0)
    valid = np.array([d.valid_at for _, _, d in batches])
    feed(node, batches, valid, np.array([valid[-1]]))
    np.testing.assert_array_equal(node.tracker.number, central.number)
    np.testing.assert_array_equal(node.tracker.state, central.state)
    np.testing.assert_array_equal(node.tracker.covariance, central.covariance)


def test_a_track_is_numbered_from_the_detection_that_started_it(
    batches: list[tuple[NationCode, int, Detections]],
) -> None:
    node = composite(USA)
    valid = np.array([d.valid_at for _, _, d in batches])
    snapshot = feed(node, batches, valid, np.array([60.0]))[0]
    assert len(snapshot)
    origin, local = np.divmod(snapshot.network_track_number, NATION_NUMBER_BASE)
    assert set(origin.tolist()) <= {1, 2}  # (index of USA or JPN) + 1
    assert (local >= 1).all()
    # Both nations' radars update the aircraft's track.
    assert (snapshot.sources[snapshot.status == TrackStatus.CONFIRMED] == 0b11).any()


def test_an_object_keeps_its_number_across_a_gap_in_detection() -> None:
    """The track is dropped during 30 s without detections; its successor takes its number
    because their estimates gate, while false-alarm tracks far away get numbers of their
    own."""
    node = composite(USA, max_age_s=45.0)
    batches = scans(120.0, seed=2, blind=(40.0, 70.0))
    valid = np.array([d.valid_at for _, _, d in batches])
    times = np.arange(2.0, 121.0, 1.0)
    snapshots = feed(node, batches, valid, times)

    def aircraft_numbers(window: tuple[float, float]) -> set[int]:
        numbers = set()
        for time_s, snapshot in zip(times, snapshots, strict=True):
            if not window[0] <= time_s < window[1]:
                continue
            near = np.linalg.norm(snapshot.state[:, :3] - target(time_s)[:3], axis=1) < 3000.0
            live = snapshot.status != TrackStatus.DROPPED
            numbers |= set(snapshot.network_track_number[near & live].tolist())
        return numbers

    before, after = aircraft_numbers((20.0, 40.0)), aircraft_numbers((90.0, 120.0))
    assert len(before) == 1
    assert after == before
    # In between the track was really gone (dropped for its misses) and came back.
    dropped = [
        t
        for t, s in zip(times, snapshots, strict=True)
        if before <= set(s.network_track_number[s.status == TrackStatus.DROPPED].tolist())
    ]
    assert dropped
    assert 40.0 < dropped[0] < 90.0


def test_a_scan_after_its_turn_is_counted_and_dropped(
    batches: list[tuple[NationCode, int, Detections]],
) -> None:
    node = composite(USA, delay_s=1.0)
    first = batches[:40]
    valid = np.array([d.valid_at for _, _, d in first])
    feed(node, first, valid, np.array([valid[-1] + 5.0]))
    before = node.statistics
    assert before.scans == 40
    assert before.late_scans == 0
    nation, number, detections = first[-1]
    assert not node.add(
        detections,
        originator=nation,
        sensor_number=number,
        local_track_number=np.zeros(len(detections), np.int64),
    )
    after = node.statistics
    assert after.late_scans == 1
    assert after.late_measurements == len(detections)
    assert after.scans == 40


def test_a_track_without_updates_leaves_the_picture_after_the_maximum_age(
    batches: list[tuple[NationCode, int, Detections]],
) -> None:
    node = composite(USA, max_age_s=10.0)
    first = batches[: len(batches) // 2]
    valid = np.array([d.valid_at for _, _, d in first])
    last = float(valid[-1])
    held, gone = feed(node, first, valid, np.array([last + 2.0, last + 20.0]))
    live = held.network_track_number[held.status != TrackStatus.DROPPED]
    assert live.size
    ended = gone.network_track_number[gone.status == TrackStatus.DROPPED]
    assert set(live.tolist()) <= set(ended.tolist())
    assert not (gone.status != TrackStatus.DROPPED).any()


def test_bad_settings_and_inputs_are_refused(
    batches: list[tuple[NationCode, int, Detections]],
) -> None:
    with pytest.raises(ConfigurationError, match="delay_s"):
        composite(USA, delay_s=-1.0)
    with pytest.raises(ConfigurationError, match="max_age_s"):
        composite(USA, max_age_s=0.0)
    detections = batches[0][2]
    none = np.zeros(0, np.int64)
    node = composite(USA)
    with pytest.raises(ConfigurationError, match="unknown originator"):
        node.add(detections, originator=NationCode("KOR"), sensor_number=1, local_track_number=none)
    frame = Detections(
        sensor=SensorId("sbirs"),
        nation=USA,
        kind=MeasurementKind.LINE_OF_SIGHT,
        valid_at=1.0,
        sensor_position_ecef_m=np.zeros(3),
        sensor_lat_deg=0.0,
        sensor_lon_deg=0.0,
        measurements=np.zeros((0, 2)),
        covariances=np.zeros((0, 2, 2)),
        truth_index=np.zeros(0, np.int64),
        snr_db=np.zeros(0),
    )
    with pytest.raises(ConfigurationError, match="only radar"):
        node.add(frame, originator=USA, sensor_number=2, local_track_number=none)
