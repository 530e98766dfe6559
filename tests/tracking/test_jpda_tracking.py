"""JPDA in the tracking loop: the IMM-JPDA update and the node tracker run with JPDA."""

from __future__ import annotations

import dataclasses

import numpy as np
from test_tracker import EVERYWHERE, _scan, _targets

from iamd.core import NationCode
from iamd.messages import TrackStatus
from iamd.sim.build import tracker_config
from iamd.tracking import (
    ImmEstimate,
    JpdaAssociator,
    NearlyConstantVelocity,
    PositionMeasurement,
    RadarTracker,
    imm_pda_update,
    imm_predict,
    imm_update,
    markov_transition_matrix,
)

MODELS = (
    NearlyConstantVelocity(acceleration_psd_m2_s3=1.0),
    NearlyConstantVelocity(acceleration_psd_m2_s3=100.0),
)
PDA = {"detection_probability": 0.9, "gate_probability": 0.999, "clutter_density": 1e-9}


def _prediction(rng: np.random.Generator, n: int = 4) -> ImmEstimate:
    # Both modes start from one estimate, so that no spread of the modes enters the tests.
    x = np.repeat(rng.normal(size=(n, 1, 6)) * [100.0, 100.0, 100.0, 10.0, 10.0, 10.0], 2, 1)
    P = np.tile(np.diag([400.0, 400.0, 400.0, 25.0, 25.0, 25.0]), (n, 2, 1, 1))
    mu = np.tile([0.7, 0.3], (n, 1))
    return imm_predict(x, P, mu, 2.0, MODELS, markov_transition_matrix([60.0, 20.0], 2.0))


def test_one_certain_measurement_is_the_plain_imm_update() -> None:
    """With no clutter (λ → 0) the IMM-PDAF mode likelihood is the plain one."""
    rng = np.random.default_rng(1)
    prediction = _prediction(rng)
    z = prediction.state[:, :3] + rng.normal(size=(4, 3)) * 20.0
    R = np.tile(np.eye(3) * 400.0, (4, 1, 1))
    plain = imm_update(prediction, z, R, PositionMeasurement())
    pda = imm_pda_update(
        prediction,
        np.column_stack([np.arange(4), np.arange(4)]),
        np.ones(4),
        np.zeros(4),
        z,
        R,
        PositionMeasurement(),
        **(PDA | {"clutter_density": 1e-300}),
    )
    for a, b in zip(plain[:5], pda[:5], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9)


def test_a_certain_miss_keeps_the_prediction() -> None:
    rng = np.random.default_rng(2)
    prediction = _prediction(rng)
    z = np.zeros((1, 3))
    R = np.eye(3)[None] * 400.0
    pda = imm_pda_update(
        prediction, np.empty((0, 2), np.int64), np.empty(0), np.ones(4), z, R,
        PositionMeasurement(), **PDA,
    )  # fmt: skip
    for a, b in zip(prediction[:5], pda[:5], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


def test_two_ambiguous_measurements_widen_the_covariance_between_them() -> None:
    rng = np.random.default_rng(3)
    prediction = _prediction(rng, n=1)
    centre = prediction.state[0, :3]
    offset = np.array([60.0, 0.0, 0.0])
    z = np.stack([centre + offset, centre - offset])
    R = np.tile(np.eye(3) * 400.0, (2, 1, 1))
    pda = imm_pda_update(
        prediction, np.array([[0, 0], [0, 1]]), np.array([0.45, 0.45]), np.array([0.1]), z, R,
        PositionMeasurement(), **PDA,
    )  # fmt: skip
    single = imm_update(prediction, z[:1], R[:1], PositionMeasurement())
    other = imm_update(prediction, z[1:], R[1:], PositionMeasurement())
    # The spread of the two hypotheses (0.9 of the weight, ±d/2 apart) shows in x, not in y.
    half = (single.state[0, 0] - other.state[0, 0]) / 2.0
    assert half > 20.0
    assert pda.covariance[0, 0, 0] > single.covariance[0, 0, 0] + 0.8 * half**2
    assert abs(pda.state[0, 0] - prediction.state[0, 0]) < 1.0
    # In y only the 10 % missed hypothesis adds (its predicted variance); to 1 % because the
    # PDA's mode probabilities differ slightly from the plain update's.
    expected = 0.1 * prediction.covariance[0, 1, 1] + 0.9 * single.covariance[0, 1, 1]
    np.testing.assert_allclose(pda.covariance[0, 1, 1], expected, rtol=1e-2)


def _position_errors(config: object, seed: int) -> tuple[int, float, set[int]]:
    rng = np.random.default_rng(seed)
    tracker = RadarTracker(NationCode("JPN"), config)  # type: ignore[arg-type]
    start, velocity = _targets(5)
    errors = []
    numbers: set[int] = set()
    for k in range(30):
        truth = start + velocity * 5.0 * k
        report = tracker.step(_scan(5.0 * k, truth, rng, clutter=6), EVERYWHERE)
        numbers.update(report.track_number[report.status == TrackStatus.CONFIRMED].tolist())
        if k >= 10:
            firm = tracker.status == TrackStatus.CONFIRMED
            distance = np.linalg.norm(tracker.state[firm, None, :3] - truth[None], axis=2)
            errors.extend(distance.min(axis=1).tolist())
    firm = int((tracker.status != TrackStatus.TENTATIVE).sum())
    return firm, float(np.sqrt(np.mean(np.square(errors)))), numbers


def test_the_node_tracker_runs_with_jpda_as_well_as_with_gnn() -> None:
    gnn = tracker_config()
    jpda = dataclasses.replace(
        gnn,
        associator=JpdaAssociator(
            detection_probability=0.9, gate_probability=0.999, clutter_density=1e-7
        ),
    )
    for seed in (11, 12):
        firm_gnn, rmse_gnn, _ = _position_errors(gnn, seed)
        firm_jpda, rmse_jpda, numbers = _position_errors(jpda, seed)
        assert firm_gnn == firm_jpda == 5
        assert len(numbers) == 5
        assert rmse_jpda < 1.15 * rmse_gnn
