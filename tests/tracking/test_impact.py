"""Impact point prediction: truth, Monte Carlo coverage, ellipse geometry, failures, variants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from iamd.core.gaussian import mahalanobis_squared
from iamd.core.ids import ThreatId
from iamd.geo import ecef_to_enu_matrix, ecef_to_geodetic, geodetic_to_ecef
from iamd.tracking import (
    Ballistic,
    ImpactPrediction,
    ImpactStatus,
    error_ellipse,
    predict_impact,
    predict_impact_linearised,
)
from iamd.world import BallisticThreatSpec, Truth

MRBM = BallisticThreatSpec(
    threat_id=ThreatId("mrbm"),
    launch_lat_deg=39.0,
    launch_lon_deg=125.0,
    aim_lat_deg=35.0,
    aim_lon_deg=135.0,
    launch_time_s=0.0,
    burnout_speed_mps=3500.0,
    ballistic_coefficient_kg_m2=5000.0,
)
SRBM = BallisticThreatSpec(
    threat_id=ThreatId("srbm"),
    launch_lat_deg=39.0,
    launch_lon_deg=125.0,
    aim_lat_deg=37.0,
    aim_lon_deg=127.5,
    aim_alt_m=300.0,
    launch_time_s=10.0,
    burnout_speed_mps=2200.0,
    loft=0.5,
    ballistic_coefficient_kg_m2=1500.0,
)
SPECS = (MRBM, SRBM)
DRAG = Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True)
VACUUM = Ballistic(acceleration_psd_m2_s3=0.0)


@pytest.fixture(scope="module")
def truth() -> Truth:
    """The two missiles flown and solved onto their aim points by the world (J2, drag)."""
    return Truth(SPECS)


def track_state(truth: Truth, row: int, time_s: float) -> np.ndarray:
    """Noise-free 7-D state of a missile at a time: the world's position, velocity and 1/β."""
    state = truth.state_at(time_s)
    spec = SPECS[row]
    return np.concatenate(
        [
            state.position_ecef_m[row],
            state.velocity_ecef_mps[row],
            [1.0 / spec.ballistic_coefficient_kg_m2],
        ]
    )


def in_flight(truth: Truth, row: int, fraction: float) -> float:
    """A time at ``fraction`` of the free flight, between burnout and impact, s."""
    start, end = truth.burnout_time_s[row], truth.end_time_s[row]
    return float(start + fraction * (end - start))


def correlated_covariance(rng: np.random.Generator, sigmas: np.ndarray) -> np.ndarray:
    """A covariance with the given standard deviations and random, strong correlations."""
    a = rng.normal(size=(sigmas.size, sigmas.size))
    correlation = a @ a.T + 0.5 * sigmas.size * np.eye(sigmas.size)
    d = 1.0 / np.sqrt(np.diag(correlation))
    return np.asarray(correlation * np.outer(d, d) * np.outer(sigmas, sigmas))


def reference_impacts(
    x: np.ndarray, ground_m: float, model: Ballistic, step_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Time to go (s) and ECEF impact point (m) of each state, by brute force.

    Independent of the module's search: fixed steps until the geodetic height is below the
    ground, then bisection on partial steps re-integrated from the last state above it.
    """
    m = x.shape[0]
    time = np.full(m, np.nan)
    point = np.full((m, 3), np.nan)
    active = np.arange(m)
    state, t = x.copy(), np.zeros(m)
    while active.size:
        new = model.propagate(state, step_s)
        height = ecef_to_geodetic(new[:, :3])[2] - ground_m
        down = height <= 0.0
        if down.any():
            start = state[down]
            lo, hi = np.zeros(start.shape[0]), np.full(start.shape[0], step_s)
            for _ in range(40):
                middle = 0.5 * (lo + hi)
                above = ecef_to_geodetic(model.propagate(start, middle)[:, :3])[2] > ground_m
                lo, hi = np.where(above, middle, lo), np.where(above, hi, middle)
            time[active[down]] = t[down] + hi
            point[active[down]] = model.propagate(start, hi)[:, :3]
        keep = ~down & np.isfinite(height) & (t < 3600.0)
        active, state, t = active[keep], new[keep], t[keep] + step_s
    return time, point


def east_north_offsets(points: np.ndarray, prediction: ImpactPrediction, row: int) -> np.ndarray:
    """Offsets (east, north) of ECEF points from a row's predicted impact, m."""
    rotation = ecef_to_enu_matrix(prediction.impact_lat_deg[row], prediction.impact_lon_deg[row])
    return np.asarray((points - prediction.impact_ecef_m[row]) @ rotation[:2].T)


# (1) A noise-free estimate on a real, solved trajectory lands where the world's missile does.


def test_noise_free_estimates_land_on_the_solved_impact_points(truth: Truth) -> None:
    fractions = (0.05, 0.5, 0.9, 0.97)  # after burnout, apogee, re-entry, 10–20 km
    rows = np.repeat([0, 1], len(fractions))
    times = np.array([in_flight(truth, r, f) for r in (0, 1) for f in fractions])
    x = np.stack([track_state(truth, r, t) for r, t in zip(rows, times, strict=True)])
    P = np.zeros((x.shape[0], 7, 7))
    ground = np.array([SPECS[r].aim_alt_m for r in rows])  # 0 m and 300 m, per row
    for predict in (predict_impact, predict_impact_linearised):
        result = predict(x, P, DRAG, time_s=times, ground_altitude_m=ground)
        assert (result.status == ImpactStatus.PREDICTED).all()
        miss = np.linalg.norm(result.impact_ecef_m - truth.end_ecef_m[rows], axis=1)
        late = result.impact_time_s - truth.end_time_s[rows]
        # Measured: ≤ 2.4 cm and ≤ 0.2 ms (the world's knots and steps, not the search).
        assert miss.max() < 1.0
        assert np.abs(late).max() < 0.01
        np.testing.assert_allclose(
            ecef_to_geodetic(result.impact_ecef_m)[2], ground, atol=1e-6, rtol=0.0
        )
        np.testing.assert_allclose(result.covariance_en_m2, 0.0, atol=1e-6)
        np.testing.assert_allclose(result.ellipse_semi_major_m, 0.0, atol=1e-2)


def test_a_drag_free_model_misses_the_re_entry(truth: Truth) -> None:
    # The converse of the test above: the comparison is sensitive to the model.
    t = in_flight(truth, 1, 0.9)
    x = track_state(truth, 1, t)[None]
    vacuum = predict_impact(x[:, :6], np.zeros((1, 6, 6)), VACUUM, time_s=t, ground_altitude_m=300)
    miss = np.linalg.norm(vacuum.impact_ecef_m[0] - truth.end_ecef_m[1])
    # Measured: 780 m short of the aim point and 22 s early.
    assert miss > 300.0
    assert truth.end_time_s[1] - vacuum.impact_time_s[0] > 10.0


# (2) Monte Carlo: the 95 % ellipse holds 95 % of the impacts of states drawn from (x̂, P).


@pytest.mark.parametrize(
    ("row", "fraction", "sigmas", "seed"),
    [
        # Midcourse at 225 km, 330 s to go: 200 m, 20 m/s, 1/β ± 30 %.
        (0, 0.3, (200.0, 20.0, 0.3), 1),
        # Re-entry at 51 km, 50 s to go, with an uncertain drag: 100 m, 10 m/s, ± 30 %.
        (1, 0.88, (100.0, 10.0, 0.3), 2),
    ],
    ids=["midcourse", "re-entry"],
)
def test_monte_carlo_coverage_of_the_95_percent_ellipse(
    truth: Truth, row: int, fraction: float, sigmas: tuple[float, float, float], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    t = in_flight(truth, row, fraction)
    x = track_state(truth, row, t)
    position, velocity, drag = sigmas
    P = correlated_covariance(rng, np.array([position] * 3 + [velocity] * 3 + [drag * x[6]]))
    ground = SPECS[row].aim_alt_m
    result = predict_impact(x[None], P[None], DRAG, time_s=t, ground_altitude_m=ground)
    assert result.status[0] == ImpactStatus.PREDICTED

    samples = rng.multivariate_normal(x, P, size=1000)
    time_to_go, points = reference_impacts(
        samples, ground, Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True, max_step_s=0.5)
    )
    assert np.isfinite(time_to_go).all()
    offsets = east_north_offsets(points, result, 0)
    covariance = result.covariance_en_m2[0]
    inside = mahalanobis_squared(offsets, covariance) <= chi2.ppf(0.95, 2)
    # Binomial: 1000 draws at p = 0.95 fall in [0.936, 0.963] with 95 % probability. An
    # ellipse 10 % too large (small) in σ would hold 0.973 (0.912).
    assert 0.92 <= inside.mean() <= 0.98
    error = t + time_to_go - result.impact_time_s[0]
    within = np.abs(error) <= 1.959964 * result.impact_time_sigma_s[0]
    assert 0.92 <= within.mean() <= 0.98
    # The predicted mean is the sample mean, to within its own 99.9 % confidence region.
    mean = offsets.mean(axis=0)
    assert mahalanobis_squared(mean, covariance / samples.shape[0]) <= chi2.ppf(0.999, 2)
    assert abs(error.mean()) <= 3.3 * result.impact_time_sigma_s[0] / np.sqrt(samples.shape[0])
    # And the ellipse is the spread of the samples, not merely one that happens to cover it:
    # whitened by the prediction, their covariance is the identity (the extreme eigenvalues
    # of 1000 draws scatter by about ±0.05 each). Measured: 0.94–1.03 and 0.88–1.09; an
    # ellipse 10 % too large or small in σ would give 0.83 or 1.23 times those.
    factor = np.linalg.cholesky(covariance)
    whitened = np.linalg.solve(factor, offsets.T)
    assert np.all(np.abs(np.linalg.eigvalsh(np.cov(whitened)) - 1.0) < 0.15)


# (3) Ellipse geometry.


@pytest.mark.parametrize("orientation_deg", [0.0, 30.0, 90.0, 135.0, 179.0])
def test_error_ellipse_of_a_hand_made_covariance(orientation_deg: float) -> None:
    theta = np.radians(orientation_deg)
    major_axis = np.array([np.sin(theta), np.cos(theta)])  # (east, north), clockwise from N
    minor_axis = np.array([np.cos(theta), -np.sin(theta)])
    C = 400.0**2 * np.outer(major_axis, major_axis) + 150.0**2 * np.outer(minor_axis, minor_axis)
    major, minor, orientation = error_ellipse(C)
    k = np.sqrt(chi2.ppf(0.95, 2))  # 2.4477
    assert float(major) == pytest.approx(400.0 * k, rel=1e-12)
    assert float(minor) == pytest.approx(150.0 * k, rel=1e-12)
    assert float(orientation) == pytest.approx(orientation_deg, abs=1e-9)


def test_error_ellipse_special_cases_and_probability() -> None:
    stack = np.array(
        [
            np.diag([100.0, 100.0]),  # a circle: orientation 0 by convention
            np.diag([0.0, 25.0]),  # a segment along north
            np.diag([25.0, 0.0]),  # a segment along east
            np.diag([4.0, 1.0]) + 1e-30 * np.array([[0.0, -1.0], [-1.0, 0.0]]),  # just below 90
        ]
    )
    major, minor, orientation = error_ellipse(stack, probability=0.5)
    k = np.sqrt(2.0 * np.log(2.0))  # χ²₂(0.5) = 2 ln 2
    np.testing.assert_allclose(major, k * np.array([10.0, 5.0, 5.0, 2.0]), rtol=1e-12)
    np.testing.assert_allclose(minor, k * np.array([10.0, 0.0, 0.0, 1.0]), rtol=1e-12)
    np.testing.assert_allclose(orientation, [0.0, 0.0, 90.0, 90.0], atol=1e-9)
    assert ((orientation >= 0.0) & (orientation < 180.0)).all()
    with pytest.raises(ValueError, match=r"probability must be in \(0, 1\)"):
        error_ellipse(np.eye(2), probability=1.0)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2, 2\)"):
        error_ellipse(np.eye(3))


def test_error_ellipse_matches_an_eigen_decomposition() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(200, 2, 2)) * rng.uniform(1.0, 1e4, size=(200, 1, 1))
    C = a @ np.swapaxes(a, -1, -2)
    major, minor, orientation = error_ellipse(C, probability=0.99)
    values, vectors = np.linalg.eigh(C)
    k2 = chi2.ppf(0.99, 2)
    np.testing.assert_allclose(major, np.sqrt(k2 * values[:, 1]), rtol=1e-9)
    np.testing.assert_allclose(minor, np.sqrt(k2 * values[:, 0]), rtol=1e-6)
    expected = np.mod(np.degrees(np.arctan2(vectors[:, 0, 1], vectors[:, 1, 1])), 180.0)
    difference = np.mod(orientation - expected + 90.0, 180.0) - 90.0
    np.testing.assert_allclose(difference, 0.0, atol=1e-6)


# (4) Rows that never come down, or are down already.


def test_rows_that_do_not_impact_are_nan_and_flagged(truth: Truth) -> None:
    t = in_flight(truth, 0, 0.5)
    good = track_state(truth, 0, t)
    up = good[:3] / np.linalg.norm(good[:3])
    escaping = good.copy()
    escaping[3:6] = 12_000.0 * up  # above escape speed, straight up
    underground = good.copy()
    underground[:3] = geodetic_to_ecef(*ecef_to_geodetic(good[:3])[:2], -50.0)
    broken = good.copy()
    broken[4] = np.nan
    x = np.stack([escaping, good, underground, broken])
    P = np.broadcast_to(np.diag([1e4] * 3 + [1e2] * 3 + [1e-10]), (4, 7, 7)).copy()
    expected = [
        ImpactStatus.NO_IMPACT,
        ImpactStatus.PREDICTED,
        ImpactStatus.BELOW_GROUND,
        ImpactStatus.INVALID,
    ]
    alone = predict_impact(good[None], P[:1], DRAG, time_s=t)
    for predict in (predict_impact, predict_impact_linearised):
        result = predict(x, P, DRAG, time_s=t)
        assert result.status.tolist() == expected
        failed = result.status != ImpactStatus.PREDICTED
        for field in result._fields[1:]:
            value = getattr(result, field)
            assert np.isnan(value[failed]).all(), field
            assert np.isfinite(value[~failed]).all(), field
    # The good row is unaffected by its neighbours.
    batch = predict_impact(x, P, DRAG, time_s=t)
    for field in result._fields:
        np.testing.assert_allclose(getattr(batch, field)[1], getattr(alone, field)[0], rtol=1e-12)
    # A horizon shorter than the flight: no impact either.
    short = predict_impact(good[None], P[:1], DRAG, time_s=t, horizon_s=60.0)
    assert short.status.tolist() == [ImpactStatus.NO_IMPACT]


def test_a_spread_beyond_the_horizon_keeps_the_estimate_but_no_covariance(truth: Truth) -> None:
    t = in_flight(truth, 0, 0.5)
    x = track_state(truth, 0, t)
    to_go = predict_impact(x[None], np.zeros((1, 7, 7)), DRAG).impact_time_s[0]
    up = x[:3] / np.linalg.norm(x[:3])
    P = np.diag([1e4] * 3 + [0.0] * 3 + [1e-12])
    P[3:6, 3:6] = 200.0**2 * np.outer(up, up)  # ± 490 m/s vertical sigma points
    result = predict_impact(x[None], P[None], DRAG, horizon_s=to_go + 10.0)
    assert result.status.tolist() == [ImpactStatus.PARTIAL]
    assert result.impact_time_s[0] == pytest.approx(to_go, abs=1e-9)
    assert np.isfinite(result.impact_ecef_m).all()
    assert np.isnan(result.covariance_en_m2).all()
    assert np.isnan(result.ellipse_semi_major_m).all()
    assert np.isnan(result.impact_time_sigma_s).all()


# (5) Unscented and linearised variants.


def test_unscented_and_linearised_agree_on_a_small_covariance(truth: Truth) -> None:
    rng = np.random.default_rng(3)
    rows = (0, 1)
    times = [in_flight(truth, 0, 0.3), in_flight(truth, 1, 0.9)]
    x = np.stack([track_state(truth, r, t) for r, t in zip(rows, times, strict=True)])
    P = np.stack(
        [correlated_covariance(rng, np.array([2.0] * 3 + [0.02] * 3 + [1e-7])) for _ in rows]
    )
    ground = [SPECS[r].aim_alt_m for r in rows]
    ut = predict_impact(x, P, DRAG, time_s=times, ground_altitude_m=ground)
    lin = predict_impact_linearised(x, P, DRAG, time_s=times, ground_altitude_m=ground)
    assert (ut.status == ImpactStatus.PREDICTED).all()
    assert (lin.status == ImpactStatus.PREDICTED).all()
    # Measured: 2e-5 m, 5e-7 s, 3e-6 relative; the spread is 2–10 m.
    assert np.linalg.norm(ut.impact_ecef_m - lin.impact_ecef_m, axis=1).max() < 1e-3
    np.testing.assert_allclose(ut.impact_time_s, lin.impact_time_s, atol=1e-5, rtol=0)
    np.testing.assert_allclose(ut.covariance_en_m2, lin.covariance_en_m2, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ut.impact_time_sigma_s, lin.impact_time_sigma_s, rtol=1e-4)
    np.testing.assert_allclose(ut.ellipse_orientation_deg, lin.ellipse_orientation_deg, atol=0.1)


def test_sigma_points_below_the_ground_are_traced_back_to_it(truth: Truth) -> None:
    # A track 300 m up with 200 m of uncertainty: some sigma points start underground. Their
    # crossing lies a moment in the past, and the ellipse stays the linear one.
    knots_t = np.linspace(truth.end_time_s[0] - 3.0, truth.end_time_s[0] - 0.01, 300)
    heights = np.array([truth.state_at(k).altitude_m[0] for k in knots_t])
    t = float(knots_t[np.argmin(np.abs(heights - 300.0))])
    x = track_state(truth, 0, t)
    P = np.diag([200.0**2] * 3 + [5.0**2] * 3 + [(0.1 * x[6]) ** 2])
    ut = predict_impact(x[None], P[None], DRAG, time_s=t)
    lin = predict_impact_linearised(x[None], P[None], DRAG, time_s=t)
    assert ut.status.tolist() == [ImpactStatus.PREDICTED]
    assert np.linalg.norm(ut.impact_ecef_m[0] - truth.end_ecef_m[0]) < 5.0  # measured 0.4 m
    # Measured: 1e-4 relative (the map is nearly linear over 200 m).
    np.testing.assert_allclose(ut.covariance_en_m2, lin.covariance_en_m2, rtol=1e-3, atol=10.0)
    np.testing.assert_allclose(ut.impact_time_sigma_s, lin.impact_time_sigma_s, rtol=1e-3)


def test_process_noise_widens_both_variants_alike(truth: Truth) -> None:
    t = in_flight(truth, 0, 0.5)
    x = track_state(truth, 0, t)[None]
    P = np.diag([1.0] * 3 + [0.01] * 3 + [1e-12])[None]
    noisy = Ballistic(
        acceleration_psd_m2_s3=0.05, estimate_drag=True, inverse_beta_psd_m4_kg2_s=1e-12
    )
    results = {
        (predict.__name__, flag): predict(x, P, noisy, process_noise=flag)
        for predict in (predict_impact, predict_impact_linearised)
        for flag in (False, True)
    }
    quiet = results["predict_impact", False].covariance_en_m2
    loud = results["predict_impact", True].covariance_en_m2
    # q·T³/3 over 260 s to go is ~(550 m)² per axis, far above the 40 m of the state error.
    assert np.sqrt(np.trace(loud[0])) > 10.0 * np.sqrt(np.trace(quiet[0]))
    np.testing.assert_allclose(
        loud, results["predict_impact_linearised", True].covariance_en_m2, rtol=1e-3
    )
    np.testing.assert_allclose(
        results["predict_impact", True].impact_time_sigma_s,
        results["predict_impact_linearised", True].impact_time_sigma_s,
        rtol=1e-3,
    )


def test_arguments_are_checked() -> None:
    x, P = np.zeros((2, 7)), np.zeros((2, 7, 7))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 6\)"):
        predict_impact(x, P, VACUUM)
    with pytest.raises(ValueError, match=r"P must have shape \(2, 7, 7\)"):
        predict_impact(x, P[:1], DRAG)
    with pytest.raises(ValueError, match="time_s and ground_altitude_m"):
        predict_impact(x, P, DRAG, ground_altitude_m=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="probability"):
        predict_impact_linearised(x, P, DRAG, probability=0.0)
    with pytest.raises(ValueError, match="midcourse_step_s must be finite and >= step_s"):
        predict_impact(x, P, DRAG, step_s=5.0, midcourse_step_s=2.0)
    with pytest.raises(ValueError, match="horizon_s"):
        predict_impact(x, P, DRAG, horizon_s=float("inf"))
