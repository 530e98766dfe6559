"""The air picture's coarse pre-gate radius bounds the exact gate radius of a prediction."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core.gating import gate_radii_m
from iamd.core.kinematics import predict_nearly_constant_velocity
from iamd.fusion.picture import _gate_reach_bound_m


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_bound_holds_the_exact_radius(seed: int) -> None:
    rng = np.random.default_rng(seed)
    count = 200
    factor = rng.normal(size=(count, 6, 6)) * rng.uniform(1.0, 300.0, (count, 1, 6))
    covariance = factor @ factor.transpose(0, 2, 1)
    covariance[::5] = np.diag([100.0**2] * 3 + [10.0**2] * 3)  # isotropic: the bound is tight
    dt = rng.uniform(-3.0, 5.0, count)
    bias = rng.uniform(0.0, 150.0, count)
    _, predicted = predict_nearly_constant_velocity(np.zeros((count, 6)), covariance, dt, 100.0)
    exact = gate_radii_m(predicted[:, :3, :3] + (bias**2)[:, None, None] * np.eye(3), 4.0)
    assert np.all(_gate_reach_bound_m(covariance, dt, 100.0, bias, 4.0) >= exact)


def test_non_finite_covariance_gives_non_finite_radius() -> None:
    covariance = np.tile(np.eye(6), (3, 1, 1))
    covariance[1, 4, 4] = np.nan
    covariance[2, 0, 1] = np.inf
    radius = _gate_reach_bound_m(covariance, np.ones(3), 100.0, np.zeros(3), 4.0)
    assert np.isfinite(radius).tolist() == [True, False, False]
