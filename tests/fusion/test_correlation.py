"""Track-to-track correlation: bias allowance, hand-computed costs, pre-gate equivalence,
position against position-velocity, sequential multi-source association."""

from __future__ import annotations

import numpy as np
import pytest

from iamd.core.errors import ConfigurationError
from iamd.core.gating import chi2_gate_threshold
from iamd.fusion.correlation import (
    CorrelationConfig,
    CorrelationSpace,
    TrackSet,
    correlate,
    correlate_sources,
    correlation_statistics,
    gated_pairs,
)
from iamd.geo import ecef_to_enu_matrix, geodetic_to_ecef

LAT, LON = 35.0, 139.0
ENU_TO_ECEF = ecef_to_enu_matrix(LAT, LON).T
ORIGIN = geodetic_to_ecef(LAT, LON, 9000.0)


def random_covariances(rng: np.random.Generator, count: int, sigmas: np.ndarray) -> np.ndarray:
    """Correlated SPD matrices with the given standard deviations."""
    dim = sigmas.size
    a = rng.normal(size=(count, dim, dim))
    correlation = a @ np.swapaxes(a, -1, -2) + dim * np.eye(dim)
    d = 1.0 / np.sqrt(np.einsum("kii->ki", correlation))
    c = correlation * (d * sigmas)[:, :, None] * (d * sigmas)[:, None, :]
    return np.asarray(0.5 * (c + np.swapaxes(c, -1, -2)))


def ecef_states(position_enu_m: np.ndarray, velocity_enu_m_s: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [ORIGIN + position_enu_m @ ENU_TO_ECEF.T, velocity_enu_m_s @ ENU_TO_ECEF.T], axis=1
    )


def observe(
    rng: np.random.Generator,
    truth: np.ndarray,
    *,
    bias_enu_m: np.ndarray,
    allowance_m: float,
    sigmas: np.ndarray | None = None,
) -> TrackSet:
    """One source's tracks of the truth: its own constant position bias, plus track noise."""
    sigmas = np.array([30.0] * 3 + [5.0] * 3) if sigmas is None else sigmas
    covariances = random_covariances(rng, truth.shape[0], sigmas)
    noise = np.einsum("kij,kj->ki", np.linalg.cholesky(covariances), rng.normal(size=truth.shape))
    states = truth + noise
    states[:, :3] += ENU_TO_ECEF @ bias_enu_m
    return TrackSet(states, covariances, allowance_m)


def subset(tracks: TrackSet, index: np.ndarray) -> TrackSet:
    bias = np.broadcast_to(np.asarray(tracks.position_bias_sigma_m, float), (tracks.size,))
    return TrackSet(tracks.states[index], tracks.covariances[index], bias[index])


# --- bias allowance ---------------------------------------------------------------------------

BIAS_A = np.array([250.0, -200.0, 100.0])
BIAS_B = np.array([-200.0, 250.0, -150.0])


def separated_targets(rng: np.random.Generator, count: int) -> np.ndarray:
    """Aircraft on a 4 km grid with 500 m jitter and random headings, 9 km up."""
    side = int(np.ceil(np.sqrt(count)))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), axis=-1).reshape(-1, 2)[:count]
    position = np.column_stack([4000.0 * grid, np.zeros(count)])
    position += rng.uniform(-500.0, 500.0, (count, 3))
    heading = rng.uniform(0.0, 2 * np.pi, count)
    velocity = 250.0 * np.column_stack([np.sin(heading), np.cos(heading), np.zeros(count)])
    return ecef_states(position, velocity)


def pair_sources(
    rng: np.random.Generator, truth: np.ndarray, allowance_m: float, config: CorrelationConfig
) -> tuple[int, int]:
    """Correlate two biased sources' tracks of the truth: (right pairs, wrong pairs)."""
    shuffle = rng.permutation(truth.shape[0])
    system = observe(rng, truth, bias_enu_m=BIAS_A, allowance_m=allowance_m)
    incoming = subset(observe(rng, truth, bias_enu_m=BIAS_B, allowance_m=allowance_m), shuffle)
    result = correlate(system, incoming, config=config)
    right = shuffle[result.pairs[:, 1]] == result.pairs[:, 0]
    return int(right.sum()), int((~right).sum())


@pytest.mark.parametrize("space", list(CorrelationSpace))
def test_biased_sources_pair_correctly_only_with_the_bias_allowance(
    space: CorrelationSpace,
) -> None:
    # Relative bias (450, −450, 250) m: d² ≈ 2.6 with 300 m allowed per source, ≈ 260
    # without, far outside the 99.9 % gate. On top of a fixed bias the track noise pushes
    # a few true pairs (~0.5 % in 6-D) past the gate: those stay unpaired, never mispaired.
    rng = np.random.default_rng(0)
    truth = separated_targets(rng, 200)
    config = CorrelationConfig(space=space)
    right, wrong = pair_sources(rng, truth, 300.0, config)
    assert right >= 198
    assert wrong == 0
    assert pair_sources(rng, truth, 0.0, config)[0] == 0


def test_without_the_allowance_a_neighbour_at_the_bias_offset_is_taken_instead() -> None:
    # Worst case: each leader's wingman flies where the relative bias moves the leader
    # (within 50 m). Without an allowance the leader's track pairs with the wingman's.
    # With it, only the global assignment tells them apart (the swapped pairing puts the
    # other pair at twice the bias). An allowance cannot tell which way the bias points,
    # so a few errors remain in this geometry.
    rng = np.random.default_rng(1)
    leaders = separated_targets(rng, 100)
    wingmen = leaders.copy()
    wingmen[:, :3] += (BIAS_A - BIAS_B + rng.uniform(-50.0, 50.0, (100, 3))) @ ENU_TO_ECEF.T
    truth = np.concatenate([leaders, wingmen])
    config = CorrelationConfig()
    right, wrong = pair_sources(rng, truth, 0.0, config)
    assert right == 0
    assert wrong >= 90
    right, wrong = pair_sources(rng, truth, 300.0, config)
    assert right >= 190


# --- costs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("space", list(CorrelationSpace))
def test_cost_matches_a_hand_computation(space: CorrelationSpace) -> None:
    rng = np.random.default_rng(1)
    sigmas = np.array([40.0, 50.0, 60.0, 3.0, 4.0, 5.0])
    truth = ecef_states(rng.normal(0.0, 1000.0, (2, 3)), rng.normal(0.0, 200.0, (2, 3)))
    system = TrackSet(
        truth + rng.normal(0.0, 50.0, (2, 6)), random_covariances(rng, 2, sigmas), 80.0
    )
    incoming = TrackSet(
        truth[::-1] + rng.normal(0.0, 50.0, (2, 6)),
        random_covariances(rng, 2, sigmas),
        np.array([150.0, 0.0]),
    )
    pairs = np.array([[0, 1], [1, 0], [0, 0]])
    stats = correlation_statistics(system, incoming, pairs, space=space)
    plain = correlation_statistics(system, incoming, pairs, space=space, log_det_cost=False)
    m = space.dim
    for k, (i, j) in enumerate(pairs):
        delta = system.states[i, :m] - incoming.states[j, :m]
        S = system.covariances[i, :m, :m] + incoming.covariances[j, :m, :m]
        bias = 80.0**2 + [150.0, 0.0][j] ** 2
        S[:3, :3] += bias * np.eye(3)
        d2 = delta @ np.linalg.inv(S) @ delta
        log_det = np.log(np.linalg.det(S))
        np.testing.assert_allclose(stats.d2[k], d2, rtol=1e-9)
        np.testing.assert_allclose(stats.log_det[k], log_det, rtol=1e-12)
        np.testing.assert_allclose(stats.cost[k], d2 + log_det, rtol=1e-9)
        np.testing.assert_allclose(plain.cost[k], d2, rtol=1e-9)


def test_log_det_term_prefers_a_sharp_track_to_a_vague_one_at_a_similar_distance() -> None:
    # Incoming track at d² = 1.0 from a sharp system track (σ 20 m) and 0.9 from a vague
    # one (σ 2 km): the likelihood cost takes the sharp one, d² alone the vague one.
    x = ecef_states(np.zeros((1, 3)), np.zeros((1, 3)))[0]
    sharp, vague = 20.0, 2000.0
    incoming_sigma = 10.0
    s_sharp = np.sqrt(sharp**2 + incoming_sigma**2)
    s_vague = np.sqrt(vague**2 + incoming_sigma**2)
    east = ENU_TO_ECEF[:, 0]
    system_states = np.stack([x, x])
    system_states[0, :3] -= 1.0 * s_sharp * east
    system_states[1, :3] += np.sqrt(0.9) * s_vague * east
    system = TrackSet(system_states, np.stack([np.eye(6) * sharp**2, np.eye(6) * vague**2]))
    incoming = TrackSet(x[None], np.eye(6)[None] * incoming_sigma**2)
    likelihood = correlate(system, incoming, config=CorrelationConfig())
    distance = correlate(system, incoming, config=CorrelationConfig(log_det_cost=False))
    assert likelihood.pairs.tolist() == [[0, 0]]
    assert distance.pairs.tolist() == [[1, 0]]


# --- pre-gating -------------------------------------------------------------------------------


@pytest.mark.parametrize("space", list(CorrelationSpace))
def test_pregating_gives_the_same_result_as_comparing_every_pair(space: CorrelationSpace) -> None:
    rng = np.random.default_rng(2)
    count = 300
    # A dense scene: 300 targets in 40 × 40 km flying alike, so gates overlap in position
    # and velocity and clusters form.
    truth = ecef_states(
        np.column_stack([rng.uniform(0, 40e3, (count, 2)), rng.uniform(-500, 500, count)]),
        np.array([200.0, 100.0, 0.0]) + rng.normal(0.0, 10.0, (count, 3)),
    )
    sigmas = np.array([400.0] * 3 + [20.0] * 3)
    system = observe(rng, truth[:250], bias_enu_m=BIAS_A, allowance_m=300.0, sigmas=sigmas)
    incoming = observe(rng, truth[50:], bias_enu_m=BIAS_B, allowance_m=300.0, sigmas=sigmas)
    dense_config = CorrelationConfig(space=space, pregate=False)
    sparse_config = CorrelationConfig(space=space, pregate=True)
    dense_pairs, dense_stats = gated_pairs(system, incoming, config=dense_config)
    sparse_pairs, sparse_stats = gated_pairs(system, incoming, config=sparse_config)
    assert dense_pairs.shape[0] > 300  # overlapping gates, not a trivial one-to-one scene
    np.testing.assert_array_equal(sparse_pairs, dense_pairs)
    np.testing.assert_allclose(sparse_stats.cost, dense_stats.cost, rtol=1e-12)
    dense = correlate(system, incoming, config=dense_config)
    sparse = correlate(system, incoming, config=sparse_config)
    for a, b in zip(dense, sparse, strict=True):
        np.testing.assert_array_equal(a, b)
    # Only 200 targets are common to both sides.
    assert dense.pairs.shape[0] >= 195


# --- compared components ----------------------------------------------------------------------


def test_velocity_separates_crossing_targets_that_position_confuses() -> None:
    rng = np.random.default_rng(3)
    covariance = np.diag([30.0**2] * 3 + [5.0**2] * 3)
    east, north = ENU_TO_ECEF[:, 0], ENU_TO_ECEF[:, 1]
    system_states = ecef_states(
        np.array([[0.0, 0.0, 0.0], [60.0, 0.0, 0.0]]),
        np.array([[250.0, 0.0, 0.0], [0.0, 250.0, 0.0]]),
    )
    # Each target's incoming track lies nearer the *other* target's system track.
    incoming_states = system_states[::-1].copy()
    incoming_states[:, 3:] = system_states[:, 3:] + rng.normal(0.0, 3.0, (2, 3))
    incoming_states[:, :3] += 5.0 * east[None] + 5.0 * north[None]
    system = TrackSet(system_states, np.stack([covariance] * 2))
    incoming = TrackSet(incoming_states, np.stack([covariance] * 2))
    position = correlate(system, incoming, config=CorrelationConfig())
    both = correlate(
        system, incoming, config=CorrelationConfig(space=CorrelationSpace.POSITION_VELOCITY)
    )
    assert position.pairs.tolist() == [[0, 1], [1, 0]]
    assert both.pairs.tolist() == [[0, 0], [1, 1]]


# --- several sources --------------------------------------------------------------------------


def test_sources_are_associated_in_turn_and_share_new_tracks() -> None:
    rng = np.random.default_rng(4)
    truth = ecef_states(
        np.column_stack([10e3 * np.arange(14), np.zeros(14), np.zeros(14)]),
        rng.normal(0.0, 200.0, (14, 3)),
    )
    # System: targets 0–9 and a stale track of 13 that nobody sees any more.
    system_targets = np.r_[np.arange(10), 13]
    system = observe(rng, truth[system_targets], bias_enu_m=np.zeros(3), allowance_m=0.0)
    # Source A sees 0–9 and two new targets 10, 11; source B sees 0–4, 10 and new 12.
    a_targets = rng.permutation(np.r_[np.arange(10), 10, 11])
    b_targets = rng.permutation(np.r_[np.arange(5), 10, 12])
    source_a = observe(rng, truth[a_targets], bias_enu_m=BIAS_A, allowance_m=300.0)
    source_b = observe(rng, truth[b_targets], bias_enu_m=BIAS_B, allowance_m=300.0)
    result = correlate_sources(system, [source_a, source_b], config=CorrelationConfig())

    n = system_targets.size
    # Target of every system track, existing then provisional in order of creation.
    starters = [a_targets, b_targets]
    provisional = [starters[s][t] for s, t in result.new_tracks]
    target_of = np.r_[system_targets, provisional]
    for targets, pairs in zip(starters, result.pairs, strict=True):
        np.testing.assert_array_equal(target_of[pairs[:, 0]], targets[pairs[:, 1]])
    assert sorted(provisional) == [10, 11, 12]
    # B's track of target 10 joins the provisional track A started, not a new one.
    assert n + provisional.index(10) in result.pairs[1][:, 0]
    assert sorted(a_targets[result.unassigned[0]]) == [10, 11]
    assert b_targets[result.unassigned[1]].tolist() == [12]
    assert result.unassigned_system.tolist() == [10]


def test_empty_sides() -> None:
    rng = np.random.default_rng(5)
    truth = ecef_states(rng.normal(0, 1e3, (3, 3)), rng.normal(0, 100, (3, 3)))
    tracks = observe(rng, truth, bias_enu_m=np.zeros(3), allowance_m=0.0)
    none = TrackSet(np.zeros((0, 6)), np.zeros((0, 6, 6)))
    for config in (CorrelationConfig(), CorrelationConfig(pregate=False)):
        result = correlate(none, tracks, config=config)
        assert result.pairs.shape == (0, 2)
        assert result.unassigned_incoming.tolist() == [0, 1, 2]
        result = correlate(tracks, none, config=config)
        assert result.unassigned_system.tolist() == [0, 1, 2]
    result = correlate_sources(tracks, [], config=CorrelationConfig())
    assert result.new_tracks.shape == (0, 2)
    assert result.unassigned_system.tolist() == [0, 1, 2]


def test_configuration_is_validated() -> None:
    with pytest.raises(ConfigurationError, match=r"gate_probability must be in \(0, 1\)"):
        CorrelationConfig(gate_probability=1.0)
    assert CorrelationConfig(space=CorrelationSpace.POSITION_VELOCITY).gate_threshold == (
        chi2_gate_threshold(0.999, 6)
    )
    with pytest.raises(ValueError, match="position_bias_sigma_m"):
        correlation_statistics(
            TrackSet(np.zeros((1, 3)), np.eye(3)[None], -1.0),
            TrackSet(np.zeros((1, 3)), np.eye(3)[None]),
            [[0, 0]],
        )
