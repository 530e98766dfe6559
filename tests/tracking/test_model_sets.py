"""Per-category model sets: classification, set switching, drag estimation in the loop."""

from __future__ import annotations

import numpy as np
import pytest

from iamd.core import ConfigurationError, NationCode, SensorId
from iamd.geo import ecef_to_aer, ecef_to_enu_matrix, ecef_to_geodetic, geodetic_to_ecef
from iamd.messages import Detections, MeasurementKind, ThreatCategory, TrackStatus
from iamd.sim.build import tracker_config
from iamd.tracking import (
    Augmented,
    Ballistic,
    CoordinatedTurn,
    GnnAssociator,
    ModelSet,
    NearlyConstantVelocity,
    RadarTracker,
    TrackerConfig,
    predict_impact,
)

SIGMA = np.array([20.0, 5e-4, 5e-4])
EVERYWHERE = lambda p: np.ones(len(p), bool)  # noqa: E731


def _scan(time_s: float, positions: np.ndarray, site: tuple[float, float], rng) -> Detections:
    lat, lon = site
    origin = geodetic_to_ecef(lat, lon, 20.0)
    aer = ecef_to_aer(positions, origin, lat, lon)
    z = (
        np.column_stack([aer[:, 2], aer[:, 0], aer[:, 1]])
        + rng.standard_normal((len(aer), 3)) * SIGMA
    )
    return Detections(
        sensor=SensorId("R"),
        nation=NationCode("JPN"),
        kind=MeasurementKind.RADAR_RAE,
        valid_at=time_s,
        sensor_position_ecef_m=origin,
        sensor_lat_deg=lat,
        sensor_lon_deg=lon,
        measurements=z,
        covariances=np.tile(np.diag(SIGMA**2), (len(z), 1, 1)),
        truth_index=np.arange(len(z)),
        snr_db=np.full(len(z), 20.0),
    )


def _flight(lat: float, lon: float, height_m: float, speed_mps: float) -> np.ndarray:
    """A 6-D ECEF state flying north at ``speed_mps``."""
    state = np.zeros(6)
    state[:3] = geodetic_to_ecef(lat, lon, height_m)
    state[3:] = speed_mps * ecef_to_enu_matrix(lat, lon)[1]
    return state


def test_an_aircraft_is_classified_and_held_through_a_turn() -> None:
    rng = np.random.default_rng(1)
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    truth = _flight(36.0, 135.0, 9_000.0, 240.0)[None]
    straight = NearlyConstantVelocity(acceleration_psd_m2_s3=0.0)
    left = CoordinatedTurn(turn_rate_rad_s=np.deg2rad(3.0), acceleration_psd_m2_s3=0.0)
    numbers: set[int] = set()
    turn_weight = []
    for k in range(70):
        time_s = 2.0 * k
        if k:
            truth = (left if 30 <= k < 45 else straight).propagate(truth, 2.0)
        report = tracker.step(_scan(time_s, truth[:, :3], (35.0, 135.0), rng), EVERYWHERE)
        numbers.update(report.track_number[report.status == TrackStatus.CONFIRMED].tolist())
        if tracker.category[0] == ThreatCategory.AIRCRAFT:
            turn_weight.append(tracker.mode_probability[0, 1])
    assert tracker.category.tolist() == [ThreatCategory.AIRCRAFT]
    assert len(numbers) == 1
    # The air set's left-turn mode takes over in the turn and lets go after it.
    turn_weight = np.asarray(turn_weight)
    assert turn_weight.max() > 0.8
    assert turn_weight[-1] < 0.3
    assert np.linalg.norm(tracker.state[0, :3] - truth[0, :3]) < 300.0


def test_a_sea_skimmer_is_a_cruise_missile() -> None:
    rng = np.random.default_rng(2)
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    truth = _flight(35.3, 135.0, 30.0, 250.0)[None]
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=0.0)
    for k in range(15):
        truth = model.propagate(truth, 2.0 if k else 0.0)
        tracker.step(_scan(2.0 * k, truth[:, :3], (35.0, 135.0), rng), EVERYWHERE)
    assert tracker.category.tolist() == [ThreatCategory.CRUISE_MISSILE]


def test_drag_is_estimated_in_reentry_and_the_impact_prediction_uses_it() -> None:
    """A re-entry vehicle with β = 4,000 kg/m² seen by a terminal radar every second."""
    rng = np.random.default_rng(3)
    physics = Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True, max_step_s=0.05)
    truth = np.zeros((1, 7))
    truth[0, :6] = _flight(34.0, 135.0, 70_000.0, 2_000.0)
    up = truth[0, :3] / np.linalg.norm(truth[0, :3])
    truth[0, 3:6] -= 1_500.0 * up
    truth[0, 6] = 1.0 / 4_000.0
    impact = predict_impact(truth, np.zeros((1, 7, 7)) + np.eye(7) * 1e-12, physics, time_s=0.0)
    impact_time = float(impact.impact_time_s[0])
    tracker = RadarTracker(NationCode("JPN"), tracker_config())
    time_s = 0.0
    while True:
        heights = ecef_to_geodetic(truth[:, :3])[2]
        if heights[0] < 8_000.0:
            break
        tracker.step(_scan(time_s, truth[:, :3], (34.3, 135.3), rng), EVERYWHERE)
        truth = physics.propagate(truth, 1.0)
        time_s += 1.0
    assert tracker.category.tolist() == [ThreatCategory.BALLISTIC_MISSILE]
    assert tracker.state[0, 6] == pytest.approx(1.0 / 4_000.0, rel=0.25)
    report = tracker.step(_scan(time_s, truth[:, :3], (34.3, 135.3), rng), EVERYWHERE)
    assert abs(float(report.impact_time_s[0]) - impact_time) < 0.5
    # A drag-free prediction from the same state lands seconds early.
    vacuum = predict_impact(
        tracker.state[:, :6],
        tracker.covariance[:, :6, :6],
        Ballistic(acceleration_psd_m2_s3=0.0),
        time_s=time_s,
    )
    assert impact_time - float(vacuum.impact_time_s[0]) > 1.0


def _set(*modes: object, dim_note: str = "") -> ModelSet:
    count = len(modes)
    return ModelSet(
        modes=modes,  # type: ignore[arg-type]
        mode_sojourn_s=(60.0,) * count,
        initial_mode_probabilities=(1.0 / count,) * count,
    )


def test_model_set_configuration_is_checked() -> None:
    ncv = NearlyConstantVelocity(acceleration_psd_m2_s3=10.0)
    drag = Ballistic(acceleration_psd_m2_s3=1.0, estimate_drag=True)
    gnn = GnnAssociator(detection_probability=0.9, gate_probability=0.99, clutter_density=1e-7)
    with pytest.raises(ConfigurationError, match="same state dimension"):
        _set(ncv, drag)
    with pytest.raises(ConfigurationError, match="sum to 1"):
        ModelSet(modes=(ncv,), mode_sojourn_s=(1.0,), initial_mode_probabilities=(0.5,))
    with pytest.raises(ConfigurationError, match="unclassified set"):
        TrackerConfig(model_sets={1: _set(ncv)}, associator=gnn, cued_mode_probabilities=(1.0,))
    with pytest.raises(ConfigurationError, match="ThreatCategory values"):
        TrackerConfig(
            model_sets={0: _set(ncv), 9: _set(ncv)}, associator=gnn, cued_mode_probabilities=(1.0,)
        )
    with pytest.raises(ConfigurationError, match="same state dimension, 6 or 7"):
        TrackerConfig(
            model_sets={0: _set(ncv), 1: _set(drag)}, associator=gnn, cued_mode_probabilities=(1.0,)
        )
    with pytest.raises(ConfigurationError, match="one value per mode of the ballistic set"):
        TrackerConfig(
            model_sets={0: _set(ncv), 1: _set(ncv, ncv)},
            associator=gnn,
            cued_mode_probabilities=(1.0,),
        )
    with pytest.raises(ConfigurationError, match="impact_model works on 6-D"):
        TrackerConfig(
            model_sets={0: _set(Augmented(model=ncv), drag)},
            associator=gnn,
            cued_mode_probabilities=(0.5, 0.5),
        )


def test_augmented_model_is_the_wrapped_model_plus_a_random_walk() -> None:
    base = CoordinatedTurn(turn_rate_rad_s=0.05, acceleration_psd_m2_s3=3.0)
    model = Augmented(model=base, extra_psd=2.0)
    x = np.zeros((4, 7))
    x[:, :6] = _flight(30.0, 130.0, 5_000.0, 200.0)
    x[:, 6] = np.arange(4)
    dt = np.array([0.5, 1.0, 2.0, 4.0])
    assert np.array_equal(model.propagate(x, dt)[:, :6], base.propagate(x[:, :6], dt))
    assert np.array_equal(model.propagate(x, dt)[:, 6], x[:, 6])
    F, Q = model.jacobian(x, dt), model.process_noise(x, dt)
    assert np.array_equal(F[:, :6, :6], base.jacobian(x[:, :6], dt))
    assert np.array_equal(F[:, 6], np.eye(7)[np.full(4, 6)])
    assert np.array_equal(Q[:, 6, 6], 2.0 * dt)
    assert np.array_equal(Q[:, :6, 6], np.zeros((4, 6)))
    with pytest.raises(ConfigurationError, match="extra_dims"):
        Augmented(model=base, extra_dims=0)
