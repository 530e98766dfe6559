"""GNN and JPDA association: brute-force joint events, Stone Soup as the reference peer.

Stone Soup (test-only dependency) is the reference for both associators on the same
predicted tracks and detections:

* GNN: ``GNNWith2DAssignment`` with a ``DistanceHypothesiser``, once with the Mahalanobis
  distance (checked against :func:`assign_sparse` with that cost) and once with a Stone Soup
  ``Measure`` that returns our likelihood-ratio cost (checked against :class:`GnnAssociator`).
  Stone Soup's PDA hypothesiser is not used for GNN: its 2-D assignment *adds* the per-track
  normalised probabilities instead of multiplying likelihood ratios, a different objective.
* JPDA: ``JPDA`` with ``PDAHypothesiser`` given the clutter density. In Stone Soup 1.9.1
  ``JPDA.enumerate_JPDA_hypotheses`` enumerates every joint event with
  ``itertools.product`` (its EHM variant is the separate class ``JPDAwithEHM``, not used);
  events are weighted by the product of ``P_D N / λ`` per detected track and ``1 − P_D P_G``
  per missed one, which is our ``ℓ`` after dividing every event by ``(1 − P_D P_G)^n``.
"""

from __future__ import annotations

import itertools
import math
import time
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stonesoup.base import Property
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.dataassociator.probability import JPDA
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.hypothesiser.probability import PDAHypothesiser
from stonesoup.measures import Mahalanobis, Measure, SquaredMahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.types.track import Track
from stonesoup.updater.kalman import KalmanUpdater

from iamd.core import ConfigurationError
from iamd.core.assignment import UNASSIGNED, assign_sparse
from iamd.core.gating import chi2_gate_threshold, innovation_statistics
from iamd.tracking import GnnAssociator, JpdaAssociator

PD, PG = 0.9, 0.99


# --- brute force ---------------------------------------------------------------------------


def likelihood_ratio(d2: float, log_det: float, dim: int, lam: float) -> float:
    """``ℓ = P_D N / (λ (1 − P_D P_G))`` in the linear domain, written independently."""
    density = math.exp(-0.5 * d2) / math.sqrt((2.0 * math.pi) ** dim * math.exp(log_det))
    return PD * density / (lam * (1.0 - PD * PG))


def brute_force_events(
    pairs: np.ndarray, ratios: np.ndarray, n_tracks: int
) -> list[tuple[tuple[int, ...], float]]:
    """Every feasible joint event over all tracks (no clusters), with its weight Π ℓ.

    An event is a tuple with, per track, the index of its pair or -1.
    """
    options = [[-1, *np.flatnonzero(pairs[:, 0] == i).tolist()] for i in range(n_tracks)]
    events = []
    for event in itertools.product(*options):
        taken = [int(pairs[k, 1]) for k in event if k >= 0]
        if len(taken) == len(set(taken)):
            events.append((event, math.prod(float(ratios[k]) for k in event if k >= 0)))
    return events


def brute_force_weights(
    pairs: np.ndarray, ratios: np.ndarray, n_tracks: int
) -> tuple[np.ndarray, np.ndarray]:
    events = brute_force_events(pairs, ratios, n_tracks)
    total = math.fsum(w for _, w in events)
    pair_weights = np.zeros(len(pairs))
    missed = np.zeros(n_tracks)
    for event, weight in events:
        for track, k in enumerate(event):
            if k >= 0:
                pair_weights[k] += weight / total
            else:
                missed[track] += weight / total
    return pair_weights, missed


@st.composite
def association_problems(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, 5))
    m = draw(st.integers(0, 5))
    cells = [(i, j) for i in range(n) for j in range(m)]
    chosen = draw(st.lists(st.sampled_from(cells), unique=True) if cells else st.just([]))
    k = len(chosen)
    dim = draw(st.sampled_from([2, 3]))
    gate = chi2_gate_threshold(PG, dim)
    # Some pairs beyond the gate, to check that they get no weight.
    d2 = draw(st.lists(st.floats(0.0, 1.3 * gate), min_size=k, max_size=k))
    log_det = draw(st.lists(st.floats(-3.0, 6.0), min_size=k, max_size=k))
    lam = draw(st.sampled_from([1e-4, 1e-2, 1.0]))
    return {
        "pairs": np.array(chosen, dtype=np.int64).reshape(-1, 2),
        "d2": np.array(d2),
        "log_det": np.array(log_det),
        "shape": (n, m),
        "dim": dim,
        "lam": lam,
    }


@settings(max_examples=300, deadline=None)
@given(problem=association_problems())
def test_jpda_weights_equal_brute_force_enumeration(problem: dict[str, Any]) -> None:
    pairs, d2, log_det, lam = problem["pairs"], problem["d2"], problem["log_det"], problem["lam"]
    n, dim = problem["shape"][0], problem["dim"]
    jpda = JpdaAssociator(detection_probability=PD, gate_probability=PG, clutter_density=lam)
    weights = jpda.associate(pairs, d2, log_det, shape=problem["shape"], measurement_dim=dim)

    gated = d2 <= chi2_gate_threshold(PG, dim)
    ratios = np.array([likelihood_ratio(a, b, dim, lam) for a, b in zip(d2, log_det, strict=True)])
    expected_pairs, expected_missed = brute_force_weights(pairs[gated], ratios[gated], n)
    assert weights.enumerated.all()
    np.testing.assert_allclose(weights.pair_weights[gated], expected_pairs, rtol=0, atol=1e-12)
    assert (weights.pair_weights[~gated] == 0.0).all()
    np.testing.assert_allclose(weights.missed_weights, expected_missed, rtol=0, atol=1e-12)
    total = weights.missed_weights.copy()
    np.add.at(total, pairs[:, 0], weights.pair_weights)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(problem=association_problems())
def test_gnn_picks_the_most_likely_joint_event(problem: dict[str, Any]) -> None:
    pairs, d2, log_det, lam = problem["pairs"], problem["d2"], problem["log_det"], problem["lam"]
    n, dim = problem["shape"][0], problem["dim"]
    gnn = GnnAssociator(detection_probability=PD, gate_probability=PG, clutter_density=lam)
    result = gnn.associate(pairs, d2, log_det, shape=problem["shape"], measurement_dim=dim)

    gated = np.flatnonzero(d2 <= chi2_gate_threshold(PG, dim))
    ratios = np.array([likelihood_ratio(a, b, dim, lam) for a, b in zip(d2, log_det, strict=True)])
    events = brute_force_events(pairs[gated], ratios[gated], n)
    best = max(w for _, w in events)
    chosen = [
        int(np.flatnonzero((pairs[:, 0] == i) & (pairs[:, 1] == j))[0])
        for i, j in enumerate(result.row_to_col.tolist())
        if j != UNASSIGNED
    ]
    weight = math.prod(float(ratios[k]) for k in chosen)
    assert weight == pytest.approx(best, rel=1e-9)
    # The reported cost is −2 ln of the joint likelihood, up to the constant of "all missed".
    assert result.cost == pytest.approx(n * gnn.missed_cost - 2.0 * math.log(best), abs=1e-9)


def test_gnn_cost_is_the_documented_negative_log_likelihood_ratio() -> None:
    gnn = GnnAssociator(detection_probability=0.8, gate_probability=0.99, clutter_density=1e-3)
    cost = gnn.pair_costs([2.0], [1.5], 3)[0]
    expected = 2.0 + 1.5 + 3 * math.log(2 * math.pi) - 2 * math.log(0.8 / 1e-3)
    assert cost == pytest.approx(expected, rel=1e-14)
    assert gnn.missed_cost == pytest.approx(-2 * math.log(1 - 0.8 * 0.99), rel=1e-14)
    # Assigning a pair beats "missed + clutter" exactly when ℓ > 1.
    ratio = likelihood_ratio(2.0, 1.5, 3, 1e-3) * (1 - PD * PG) / (1 - 0.8 * 0.99) * 0.8 / PD
    assert (cost < gnn.missed_cost) == (ratio > 1.0)


def test_empty_scenes() -> None:
    gnn = GnnAssociator(detection_probability=PD, gate_probability=PG, clutter_density=1e-3)
    jpda = JpdaAssociator(detection_probability=PD, gate_probability=PG, clutter_density=1e-3)
    for shape in [(0, 0), (3, 0), (0, 3), (3, 3)]:
        result = gnn.associate([], [], [], shape=shape, measurement_dim=3)
        assert (result.row_to_col == UNASSIGNED).all()
        weights = jpda.associate([], [], [], shape=shape, measurement_dim=3)
        assert weights.pair_weights.shape == (0,)
        assert weights.missed_weights.tolist() == [1.0] * shape[0]


def dense_cluster(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` tracks and ``n`` measurements, every pair gated."""
    rng = np.random.default_rng(seed)
    pairs = np.argwhere(np.ones((n, n), dtype=bool))
    return pairs, rng.uniform(0.0, 6.0, n * n), rng.uniform(-1.0, 1.0, n * n)


@pytest.mark.parametrize(
    ("n", "limits"),
    [(11, {"max_cluster_tracks": 10}), (6, {"max_joint_events": 10_000})],
)
def test_jpda_falls_back_to_gnn_beyond_its_limits(n: int, limits: dict[str, int]) -> None:
    pairs, d2, log_det = dense_cluster(n)
    # One more track alone with its own measurement: still enumerated (PDA closed form).
    pairs = np.vstack([pairs, [[n, n]]])
    d2, log_det = np.r_[d2, 1.0], np.r_[log_det, 0.0]
    parameters = {"detection_probability": PD, "gate_probability": PG, "clutter_density": 0.05}
    jpda = JpdaAssociator(**parameters, **limits)
    weights = jpda.associate(pairs, d2, log_det, shape=(n + 1, n + 1), measurement_dim=3)
    assert weights.enumerated.tolist() == [False] * n + [True]
    gnn = GnnAssociator(**parameters).associate(
        pairs, d2, log_det, shape=(n + 1, n + 1), measurement_dim=3
    )
    chosen = gnn.row_to_col[pairs[: n * n, 0]] == pairs[: n * n, 1]
    np.testing.assert_array_equal(weights.pair_weights[: n * n], chosen.astype(float))
    np.testing.assert_array_equal(weights.missed_weights[:n], gnn.row_to_col[:n] == UNASSIGNED)
    assert 0.0 < weights.missed_weights[n] < 1.0


def test_jpda_enumerates_a_cluster_at_the_default_limits_quickly() -> None:
    # 7 tracks sharing 7 measurements: 130,922 joint events, under the 200,000 cap.
    pairs, d2, log_det = dense_cluster(7)
    jpda = JpdaAssociator(detection_probability=PD, gate_probability=PG, clutter_density=0.05)
    start = time.perf_counter()
    weights = jpda.associate(pairs, d2, log_det, shape=(7, 7), measurement_dim=3)
    assert time.perf_counter() - start < 2.0
    assert weights.enumerated.all()
    total = weights.missed_weights.copy()
    np.add.at(total, pairs[:, 0], weights.pair_weights)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"detection_probability": 0.0}, "detection_probability must be in \\(0, 1\\]"),
        ({"gate_probability": 1.0}, "gate_probability must be in \\(0, 1\\)"),
        ({"clutter_density": 0.0}, "clutter_density must be positive and finite"),
        ({"max_cluster_tracks": 0}, "max_cluster_tracks must be at least 1"),
        ({"max_joint_events": 1}, "max_joint_events must be at least 2"),
    ],
)
def test_bad_parameters_are_configuration_errors(kwargs: dict[str, float], message: str) -> None:
    parameters: dict[str, float] = {
        "detection_probability": 0.9,
        "gate_probability": 0.99,
        "clutter_density": 1e-3,
    }
    parameters.update(kwargs)
    with pytest.raises(ConfigurationError, match=f"JpdaAssociator: {message}"):
        JpdaAssociator(**parameters)  # type: ignore[arg-type]
    if "max" not in next(iter(kwargs)):
        with pytest.raises(ConfigurationError, match=f"GnnAssociator: {message}"):
            GnnAssociator(**parameters)


def test_repeated_pairs_are_rejected() -> None:
    gnn = GnnAssociator(detection_probability=PD, gate_probability=PG, clutter_density=1e-3)
    with pytest.raises(ValueError, match="must not repeat"):
        gnn.associate([[0, 0], [0, 0]], [1.0, 1.0], [0.0, 0.0], shape=(1, 1), measurement_dim=3)


# --- Stone Soup as the reference peer ------------------------------------------------------


NOW = datetime(2030, 1, 1)
POSITION = (0, 2, 4)  # Stone Soup orders a 3-D constant-velocity state x, ẋ, y, ẏ, z, ż


class NegativeLogLikelihoodRatio(Measure):  # type: ignore[misc]
    """Our GNN pair cost as a Stone Soup measure (``inf`` outside the χ² gate)."""

    detection_probability: float = Property(doc="P_D")
    clutter_density: float = Property(doc="λ")
    gate_threshold: float = Property(doc="γ")

    def __call__(self, state1: Any, state2: Any) -> float:
        d2 = float(SquaredMahalanobis()(state1, state2))
        if d2 > self.gate_threshold:
            return math.inf
        log_det = float(np.linalg.slogdet(2.0 * math.pi * np.asarray(state1.covar))[1])
        return d2 + log_det - 2.0 * math.log(self.detection_probability / self.clutter_density)


def random_spd(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    a = rng.normal(size=(n, n))
    return sigma**2 * (a @ a.T / n + 0.2 * np.eye(n))


def stone_soup_scene(seed: int, n_tracks: int, n_detections: int, box_m: float) -> dict[str, Any]:
    """Predicted tracks and detections as Stone Soup objects and as our arrays."""
    rng = np.random.default_rng(seed)
    states = rng.uniform(-box_m, box_m, (n_tracks, 6))
    covariances = np.stack([random_spd(rng, 6, 8.0) for _ in range(n_tracks)])
    positions = rng.uniform(-box_m, box_m, (n_detections, 3))
    noise = np.stack([random_spd(rng, 3, 4.0) for _ in range(n_detections)])
    tracks = [
        Track([GaussianState(states[i][:, None], covariances[i], timestamp=NOW)])
        for i in range(n_tracks)
    ]
    detections = [
        Detection(
            positions[j][:, None],
            timestamp=NOW,
            measurement_model=LinearGaussian(6, POSITION, noise[j]),
        )
        for j in range(n_detections)
    ]
    pairs = np.argwhere(np.ones((n_tracks, n_detections), dtype=bool))
    h = np.zeros((3, 6))
    h[[0, 1, 2], POSITION] = 1.0
    innovations = positions[pairs[:, 1]] - states[pairs[:, 0]] @ h.T
    s = h @ covariances[pairs[:, 0]] @ h.T + noise[pairs[:, 1]]
    d2, log_det = innovation_statistics(innovations, s)
    return {
        "tracks": tracks,
        "detections": detections,
        "pairs": pairs,
        "d2": d2,
        "log_det": log_det,
        "shape": (n_tracks, n_detections),
    }


def stone_soup_parts() -> tuple[KalmanPredictor, KalmanUpdater]:
    # Detections at the tracks' own time: the prediction is the state itself (F = I, Q = 0).
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(0.0)] * 3)
    return KalmanPredictor(transition), KalmanUpdater(measurement_model=None)


def stone_soup_assignment(associations: dict[Any, Any], scene: dict[str, Any]) -> list[int]:
    index = {id(d): j for j, d in enumerate(scene["detections"])}
    result = []
    for track in scene["tracks"]:
        hypothesis = associations[track]
        result.append(index[id(hypothesis.measurement)] if hypothesis else UNASSIGNED)
    return result


SCENES = [(seed, 3 + seed % 4, 2 + (seed * 7) % 6) for seed in range(24)]


@pytest.mark.parametrize(("seed", "n_tracks", "n_detections"), SCENES)
def test_gnn_mahalanobis_equals_stone_soup(seed: int, n_tracks: int, n_detections: int) -> None:
    scene = stone_soup_scene(seed, n_tracks, n_detections, box_m=30.0)
    gate = math.sqrt(chi2_gate_threshold(PG, 3))
    predictor, updater = stone_soup_parts()
    hypothesiser = DistanceHypothesiser(predictor, updater, Mahalanobis(), missed_distance=gate)
    associations = GNNWith2DAssignment(hypothesiser).associate(
        set(scene["tracks"]), set(scene["detections"]), NOW
    )
    ours = assign_sparse(
        scene["pairs"], np.sqrt(scene["d2"]), scene["shape"], unassigned_row_cost=gate
    )
    assert ours.row_to_col.tolist() == stone_soup_assignment(associations, scene)


@pytest.mark.parametrize(("seed", "n_tracks", "n_detections"), SCENES)
@pytest.mark.parametrize("clutter_density", [1e-6, 1e-4])
def test_gnn_likelihood_cost_equals_stone_soup(
    seed: int, n_tracks: int, n_detections: int, clutter_density: float
) -> None:
    scene = stone_soup_scene(seed, n_tracks, n_detections, box_m=30.0)
    gnn = GnnAssociator(
        detection_probability=PD, gate_probability=PG, clutter_density=clutter_density
    )
    predictor, updater = stone_soup_parts()
    measure = NegativeLogLikelihoodRatio(
        detection_probability=PD,
        clutter_density=clutter_density,
        gate_threshold=chi2_gate_threshold(PG, 3),
    )
    hypothesiser = DistanceHypothesiser(
        predictor, updater, measure, missed_distance=gnn.missed_cost
    )
    associations = GNNWith2DAssignment(hypothesiser).associate(
        set(scene["tracks"]), set(scene["detections"]), NOW
    )
    ours = gnn.associate(
        scene["pairs"], scene["d2"], scene["log_det"], shape=scene["shape"], measurement_dim=3
    )
    assert ours.row_to_col.tolist() == stone_soup_assignment(associations, scene)


@pytest.mark.parametrize(("seed", "n_tracks", "n_detections"), SCENES[:12])
@pytest.mark.parametrize("clutter_density", [1e-5, 1e-3])
def test_jpda_weights_equal_stone_soup(
    seed: int, n_tracks: int, n_detections: int, clutter_density: float
) -> None:
    scene = stone_soup_scene(seed, n_tracks, n_detections, box_m=25.0)
    predictor, updater = stone_soup_parts()
    hypothesiser = PDAHypothesiser(
        predictor,
        updater,
        clutter_spatial_density=clutter_density,
        prob_detect=PD,
        prob_gate=PG,
    )
    reference = JPDA(hypothesiser).associate(set(scene["tracks"]), set(scene["detections"]), NOW)
    jpda = JpdaAssociator(
        detection_probability=PD, gate_probability=PG, clutter_density=clutter_density
    )
    ours = jpda.associate(
        scene["pairs"], scene["d2"], scene["log_det"], shape=scene["shape"], measurement_dim=3
    )
    index = {id(d): j for j, d in enumerate(scene["detections"])}
    n_detections = scene["shape"][1]
    for i, track in enumerate(scene["tracks"]):
        expected = np.zeros(n_detections)
        expected_missed = 0.0
        for hypothesis in reference[track]:
            if hypothesis:
                expected[index[id(hypothesis.measurement)]] = float(hypothesis.probability)
            else:
                expected_missed = float(hypothesis.probability)
        row = ours.pair_weights[i * n_detections : (i + 1) * n_detections]
        np.testing.assert_allclose(row, expected, rtol=0, atol=1e-12)
        assert ours.missed_weights[i] == pytest.approx(expected_missed, abs=1e-12)
