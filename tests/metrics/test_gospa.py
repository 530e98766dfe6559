import math

import numpy as np
import pytest

from iamd.core import ConfigurationError
from iamd.metrics import gospa, gospa_steps, ospa, ospa_steps

C = 100.0
NONE = np.empty((0, 3))


def _at(*xs: float) -> np.ndarray:
    return np.array([[x, 0.0, 0.0] for x in xs]).reshape(-1, 3)


def test_both_empty_is_zero() -> None:
    result = gospa(NONE, NONE, cutoff_m=C)
    assert (result.distance_m, result.localisation, result.missed, result.false) == (0, 0, 0, 0)
    assert ospa(NONE, NONE, cutoff_m=C) == 0.0


@pytest.mark.parametrize("order", [1.0, 2.0, 3.0])
def test_one_missed_target_costs_c_to_the_p_over_two(order: float) -> None:
    result = gospa(_at(0.0), NONE, cutoff_m=C, order=order)
    assert result.missed == C**order / 2
    assert (result.localisation, result.false) == (0.0, 0.0)
    assert (result.missed_targets, result.false_tracks, result.assigned) == (1, 0, 0)
    assert result.distance_m == pytest.approx((C**order / 2) ** (1 / order), rel=1e-15)
    assert ospa(_at(0.0), NONE, cutoff_m=C, order=order) == C


@pytest.mark.parametrize("order", [1.0, 2.0])
def test_false_tracks_cost_c_to_the_p_over_two_each(order: float) -> None:
    result = gospa(NONE, _at(0.0, 1e4, 2e4), cutoff_m=C, order=order)
    assert result.false == 3 * C**order / 2
    assert (result.false_tracks, result.missed) == (3, 0.0)


def test_localisation_is_the_distance_to_the_power_p() -> None:
    result = gospa(np.zeros((1, 3)), np.array([[3.0, 4.0, 0.0]]), cutoff_m=C, order=2.0)
    assert result.localisation == 25.0
    assert result.distance_m == 5.0
    assert result.assigned == 1


def test_pairs_at_or_beyond_the_cutoff_are_missed_plus_false() -> None:
    far = gospa(_at(0.0), _at(150.0), cutoff_m=C, order=1.0)
    assert (far.localisation, far.missed, far.false, far.distance_m) == (0.0, 50.0, 50.0, 100.0)
    at_cutoff = gospa(_at(0.0), _at(100.0), cutoff_m=C, order=1.0)
    assert (at_cutoff.assigned, at_cutoff.missed_targets, at_cutoff.false_tracks) == (0, 1, 1)


def test_assignment_is_optimal_not_greedy() -> None:
    # Greedy nearest pairing takes (10, 6) first and pays 4 + 16 = 20; optimal is 6 + 6.
    result = gospa(_at(0.0, 10.0), _at(6.0, 16.0), cutoff_m=C, order=1.0)
    assert result.localisation == 12.0
    assert result.distance_m == 12.0


def test_mixed_case_by_hand() -> None:
    # Two truths, three tracks: 0↔3 (3 m), 50↔54 (4 m), the track at 500 is false; p = 2.
    result = gospa(_at(0.0, 50.0), _at(3.0, 54.0, 500.0), cutoff_m=C, order=2.0)
    assert result.localisation == 9.0 + 16.0
    assert result.false == C**2 / 2
    assert result.distance_m == math.sqrt(25.0 + 5000.0)
    assert result.to_dict()["false_tracks"] == 1


def test_ospa_by_hand() -> None:
    truth, tracks = np.zeros((1, 3)), _at(30.0, 500.0)
    assert ospa(truth, tracks, cutoff_m=C, order=1.0) == 65.0
    assert ospa(truth, tracks, cutoff_m=C, order=2.0) == math.sqrt((900.0 + 1e4) / 2)


def test_gospa_and_ospa_agree_for_equal_cardinality_within_cutoff() -> None:
    rng = np.random.default_rng(3)
    truth = rng.uniform(0, 1000, (5, 3))
    tracks = truth + rng.normal(0, 5, (5, 3))
    g = gospa(truth, tracks, cutoff_m=C, order=2.0).distance_m
    assert g**2 == pytest.approx(5 * ospa(truth, tracks, cutoff_m=C, order=2.0) ** 2, rel=1e-12)


def test_batched_steps_equal_one_step_at_a_time() -> None:
    rng = np.random.default_rng(11)
    truth_step = np.sort(rng.integers(0, 30, 60))
    track_step = np.sort(rng.integers(0, 30, 80))
    truth = rng.uniform(0, 300, (60, 3))
    tracks = rng.uniform(0, 300, (80, 3))
    times = np.arange(30.0) * 2.0
    series = gospa_steps(times, truth_step, truth, track_step, tracks, cutoff_m=C, order=2.0)
    ospas = ospa_steps(times, truth_step, truth, track_step, tracks, cutoff_m=C, order=2.0)
    assert series.times_s.tolist() == times.tolist()
    for step in range(30):
        one = gospa(truth[truth_step == step], tracks[track_step == step], cutoff_m=C, order=2.0)
        assert series.distance_m[step] == pytest.approx(one.distance_m, abs=1e-9)
        assert series.localisation[step] == pytest.approx(one.localisation, abs=1e-9)
        assert series.missed[step] == one.missed
        assert series.false[step] == one.false
        assert series.assigned[step] == one.assigned
        single = ospa(truth[truth_step == step], tracks[track_step == step], cutoff_m=C, order=2.0)
        assert ospas[step] == pytest.approx(single, abs=1e-9)
    assert series.mean_distance_m == pytest.approx(float(np.mean(series.distance_m)))
    assert series.to_dict()["order"] == 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"cutoff_m": 0.0}, "cutoff_m must be finite and > 0"), ({"order": 0.5}, "order must be")],
)
def test_parameter_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        gospa(NONE, NONE, **kwargs)


def test_steps_must_be_sorted() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        gospa_steps(np.arange(2.0), np.array([1, 0]), np.zeros((2, 3)), np.empty(0), NONE)
