"""Intercept resolution: the kill rate is the kill probability inside the basket, and
nothing outside it; salvo and shoot-look-shoot arithmetic against 1 − (1 − p)^n."""

from __future__ import annotations

import numpy as np
import pytest

from iamd.core import ConfigurationError
from iamd.engagement import InterceptResult, assess_kills, flyout_positions, resolve_intercepts


def binomial_interval(p: float, n: int, z: float = 3.29) -> float:
    """Half-width of a 99.9 % normal interval on a proportion."""
    return float(z * np.sqrt(p * (1.0 - p) / n))


def test_flyout_is_a_straight_line_at_constant_speed() -> None:
    launch = np.array([[0.0, 0.0, 6.4e6]])
    aim = np.array([[30_000.0, 40_000.0, 6.4e6]])
    mid = flyout_positions(launch, aim, [10.0], [60.0], 35.0)
    np.testing.assert_allclose(mid, [[15_000.0, 20_000.0, 6.4e6]])
    assert np.isnan(flyout_positions(launch, aim, [10.0], [60.0], 5.0)).all()
    assert np.isnan(flyout_positions(launch, aim, [10.0], [60.0], 61.0)).all()


def test_the_kill_rate_is_the_kill_probability_inside_the_basket() -> None:
    rng = np.random.default_rng(1)
    n, pk = 20_000, 0.7
    threat = np.zeros((n, 3))
    aim = threat + np.array([5.0, 0.0, 0.0])
    result, miss = resolve_intercepts(aim, threat, 10.0, pk, rng)
    rate = float(np.mean(result == InterceptResult.KILL))
    assert abs(rate - pk) < binomial_interval(pk, n)
    assert set(result.tolist()) == {InterceptResult.KILL, InterceptResult.MISS}
    np.testing.assert_allclose(miss, 5.0)


def test_outside_the_basket_lost_or_gone_never_kills() -> None:
    rng = np.random.default_rng(2)
    threat = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [np.nan] * 3])
    aim = np.array([[50.0, 0.0, 0.0], [np.nan] * 3, [0.0, 0.0, 0.0]])
    result, _ = resolve_intercepts(aim, threat, 10.0, 1.0, rng)
    assert result.tolist() == [
        InterceptResult.OUTSIDE_BASKET,
        InterceptResult.TRACK_LOST,
        InterceptResult.TARGET_GONE,
    ]


@pytest.mark.parametrize(("shots", "pk"), [(1, 0.6), (2, 0.6), (3, 0.4)])
def test_a_salvo_kills_with_one_minus_the_product_of_misses(shots: int, pk: float) -> None:
    """n independent shots at one threat: P(kill) = 1 − (1 − p)^n."""
    rng = np.random.default_rng(shots)
    trials = 20_000
    threat = np.zeros((trials * shots, 3))
    result, _ = resolve_intercepts(threat, threat, 1.0, pk, rng)
    killed = (result == InterceptResult.KILL).reshape(trials, shots).any(axis=1)
    expected = 1.0 - (1.0 - pk) ** shots
    assert abs(float(killed.mean()) - expected) < binomial_interval(expected, trials)


def test_shoot_look_shoot_with_perfect_assessment() -> None:
    """Fire, look, fire again only if the first missed: P(kill) = 1 − (1 − p)² with, on
    average, 1 + (1 − p) shots instead of a salvo's 2."""
    rng = np.random.default_rng(7)
    trials, pk = 20_000, 0.6
    target = np.zeros((trials, 3))
    first, _ = resolve_intercepts(target, target, 1.0, pk, rng)
    seen = assess_kills(
        first == InterceptResult.KILL,
        false_kill_probability=0.0,
        missed_kill_probability=0.0,
        rng=rng,
    )
    again = ~seen
    second, _ = resolve_intercepts(target[again], target[again], 1.0, pk, rng)
    killed = first == InterceptResult.KILL
    killed[again] |= second == InterceptResult.KILL
    expected = 1.0 - (1.0 - pk) ** 2
    assert abs(float(killed.mean()) - expected) < binomial_interval(expected, trials)
    shots = trials + int(again.sum())
    assert abs(shots / trials - (2.0 - pk)) < 0.02


def test_kill_assessment_errs_both_ways_at_its_rates() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    killed = np.arange(n) % 2 == 0
    seen = assess_kills(killed, false_kill_probability=0.1, missed_kill_probability=0.2, rng=rng)
    assert abs(float(np.mean(~seen[killed])) - 0.2) < binomial_interval(0.2, n // 2)
    assert abs(float(np.mean(seen[~killed])) - 0.1) < binomial_interval(0.1, n // 2)


def test_bad_inputs_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigurationError, match="kill_probability"):
        resolve_intercepts(np.zeros((1, 3)), np.zeros((1, 3)), 1.0, 1.5, rng)
    with pytest.raises(ConfigurationError, match="divert_radius_m"):
        resolve_intercepts(np.zeros((1, 3)), np.zeros((1, 3)), -1.0, 0.5, rng)
    with pytest.raises(ConfigurationError, match="threat positions"):
        resolve_intercepts(np.zeros((2, 3)), np.zeros((1, 3)), 1.0, 0.5, rng)
    with pytest.raises(ConfigurationError, match="false_kill_probability"):
        assess_kills([True], false_kill_probability=2.0, missed_kill_probability=0.0, rng=rng)
