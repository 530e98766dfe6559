"""Track quality: bins as documented, monotone in covariance and in age."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from iamd.tracking import position_error_radius_95_m, position_sigma_m, track_quality
from iamd.tracking.quality import QUALITY_EDGES_M

R95_PER_SIGMA = math.sqrt(chi2.ppf(0.95, 3))


def isotropic(radius_95_m: float) -> np.ndarray:
    """A position covariance whose 95 % radius is ``radius_95_m``."""
    return np.eye(3) * (radius_95_m / R95_PER_SIGMA) ** 2


def test_bin_edges_are_log_spaced_from_6_m_to_18_km() -> None:
    assert QUALITY_EDGES_M[0] == pytest.approx(6.0)
    assert QUALITY_EDGES_M[-1] == pytest.approx(18_000.0)
    np.testing.assert_allclose(np.diff(np.log(QUALITY_EDGES_M)), math.log(3000.0) / 14.0)


@pytest.mark.parametrize(
    ("radius_m", "quality"),
    [
        (1.0, 15),
        (5.99, 15),
        (6.01, 14),
        (10.0, 14),
        (100.0, 10),
        (1000.0, 6),
        (17_000.0, 1),
        (18_001.0, 0),
        (1e7, 0),
    ],
)
def test_quality_of_a_fresh_track(radius_m: float, quality: int) -> None:
    assert int(track_quality(isotropic(radius_m), 0.0)) == quality


def test_every_bin_is_reached_in_order() -> None:
    radii = np.sqrt(QUALITY_EDGES_M[:-1] * QUALITY_EDGES_M[1:])  # bin centres
    covariances = np.stack([isotropic(r) for r in np.r_[3.0, radii, 30_000.0]])
    assert track_quality(covariances, 0.0).tolist() == list(range(15, -1, -1))


def test_extrapolation_formula() -> None:
    p = np.diag([9.0, 4.0, 1.0, 4.0, 1.0, 1.0])  # σp = 3 m, σv = 2 m/s
    radius = position_error_radius_95_m(p, 10.0, acceleration_psd_m2_s3=0.5)
    expected = R95_PER_SIGMA * math.sqrt((3.0 + 10.0 * 2.0) ** 2 + 0.5 * 1000.0 / 3.0)
    assert float(radius) == pytest.approx(expected, rel=1e-12)
    # A position-only covariance grows by the process noise alone.
    radius3 = position_error_radius_95_m(p[:3, :3], 10.0, acceleration_psd_m2_s3=0.5)
    assert float(radius3) == pytest.approx(R95_PER_SIGMA * math.sqrt(9.0 + 500.0 / 3.0))
    assert float(position_sigma_m(p)) == 3.0


def random_state_covariance(rng: np.random.Generator) -> np.ndarray:
    a = rng.normal(size=(6, 6)) * np.r_[10.0 ** rng.uniform(0, 3, 3), 10.0 ** rng.uniform(-1, 2, 3)]
    return a.T @ a + 1e-6 * np.eye(6)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_quality_is_monotone_in_covariance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = random_state_covariance(rng)
    b = rng.normal(size=(6, 6)) * 10.0 ** rng.uniform(-2, 3)
    larger = p + b @ b.T  # larger in the Loewner order
    age = rng.uniform(0.0, 120.0, 8)
    assert (track_quality(larger, age) <= track_quality(p, age)).all()
    assert (position_error_radius_95_m(larger, age) >= position_error_radius_95_m(p, age)).all()


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), q=st.sampled_from([0.0, 0.1, 10.0]))
def test_quality_is_monotone_in_age(seed: int, q: float) -> None:
    rng = np.random.default_rng(seed)
    p = random_state_covariance(rng)
    # Negative position–velocity correlation would let the exact extrapolation shrink at
    # first; the documented bound never does.
    p[:3, 3:] *= -1.0
    p[3:, :3] *= -1.0
    age = np.sort(rng.uniform(0.0, 600.0, 50))
    quality = track_quality(p, age, acceleration_psd_m2_s3=q)
    assert (np.diff(quality) <= 0).all()
    assert (np.diff(position_error_radius_95_m(p, age, acceleration_psd_m2_s3=q)) >= 0).all()


def test_bound_contains_the_exact_extrapolation() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        p = random_state_covariance(rng)
        tau = float(rng.uniform(0, 100))
        f = np.hstack([np.eye(3), tau * np.eye(3)])
        exact = math.sqrt(np.linalg.eigvalsh(f @ p @ f.T)[-1])
        assert R95_PER_SIGMA * exact <= float(
            position_error_radius_95_m(p, tau, acceleration_psd_m2_s3=0.0)
        ) * (1 + 1e-12)


def test_non_finite_covariance_is_quality_zero() -> None:
    p = np.stack([np.eye(6), np.full((6, 6), np.nan), np.diag([1.0, 1, 1, np.inf, 1, 1])])
    assert track_quality(p, [0.0, 0.0, 0.0]).tolist() == [15, 0, 15]
    assert track_quality(p, [1.0, 1.0, 1.0]).tolist()[1:] == [0, 0]


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\) or \(\.\.\., 6, 6\)"):
        track_quality(np.eye(4), 0.0)
    with pytest.raises(ValueError, match="age_s must be ≥ 0"):
        track_quality(np.eye(3), -1.0)
    with pytest.raises(ValueError, match="acceleration_psd_m2_s3 must be ≥ 0"):
        track_quality(np.eye(3), 1.0, acceleration_psd_m2_s3=-1.0)
