"""Fusion rules: CI optimality against SciPy, consistency by Monte Carlo, information-
decorrelated fusion against central fusion in a two-radar scene, Stone Soup agreement,
registry conformance and positive definiteness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar
from stonesoup.mixturereducer.gaussianmixture import CovarianceIntersection
from stonesoup.types.state import GaussianState

from iamd.core.errors import RegistryError
from iamd.core.gaussian import is_positive_definite
from iamd.fusion.combine import (
    DEFAULT_FUSION_RULE,
    FUSION_RULES,
    CiCriterion,
    CommonPrior,
    FastCiMethod,
    bar_shalom_campo,
    check_fusion_rule,
    covariance_intersection,
    covariance_intersection_group,
    covariance_intersection_weight,
    fast_covariance_intersection,
    fast_covariance_intersection_weights,
    independent_fusion,
    information_decorrelated_fusion,
    weighted_fusion,
)
from iamd.geo import ecef_to_enu_matrix, geodetic_to_ecef
from iamd.tracking import NearlyConstantVelocity, PositionMeasurement, ekf_predict, ekf_update


def random_covariances(
    rng: np.random.Generator, shape: tuple[int, ...], sigmas: np.ndarray
) -> np.ndarray:
    """Correlated SPD matrices with the given standard deviations (last axis of sigmas)."""
    dim = sigmas.shape[-1]
    a = rng.normal(size=(*shape, dim, dim))
    correlation = a @ np.swapaxes(a, -1, -2) + dim * np.eye(dim)
    d = 1.0 / np.sqrt(np.einsum("...ii->...i", correlation))
    scale = sigmas * d
    c = correlation * scale[..., :, None] * scale[..., None, :]
    return np.asarray(0.5 * (c + np.swapaxes(c, -1, -2)))


def track_sigmas(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Position σ 10 m–3 km, velocity σ 1–30 m/s, as ECEF tracks have."""
    return np.concatenate(
        [rng.uniform(10.0, 3000.0, (*shape, 3)), rng.uniform(1.0, 30.0, (*shape, 3))], axis=-1
    )


def ci_objective(information: np.ndarray, weights: np.ndarray, criterion: str) -> float:
    fused = np.einsum("n,nij->ij", weights, information)
    if criterion == "trace":
        return float(np.trace(np.linalg.inv(fused)))
    return float(-np.linalg.slogdet(fused)[1])


def sample(rng: np.random.Generator, covariance: np.ndarray) -> np.ndarray:
    """One zero-mean Gaussian draw per covariance of a stack."""
    factor = np.linalg.cholesky(covariance)
    return np.asarray(np.einsum("...ij,...j->...i", factor, rng.normal(size=covariance.shape[:-1])))


def nees(error: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    return np.einsum("...i,...i->...", error, np.linalg.solve(covariance, error[..., None])[..., 0])


# --- covariance intersection of pairs ---------------------------------------------------------


@pytest.mark.parametrize("criterion", list(CiCriterion))
def test_pair_weight_matches_scipy_minimize_scalar(criterion: CiCriterion) -> None:
    rng = np.random.default_rng(0)
    P = random_covariances(rng, (40, 2), track_sigmas(rng, (40, 2)))
    omega = covariance_intersection_weight(P[:, 0], P[:, 1], criterion=criterion)
    assert np.all((omega >= 0.0) & (omega <= 1.0))
    for k in range(P.shape[0]):
        information = np.linalg.inv(P[k])
        reference = minimize_scalar(
            lambda w, info=information: ci_objective(info, np.array([w, 1.0 - w]), criterion),
            bounds=(0.0, 1.0),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert abs(omega[k] - reference.x) <= 1e-6
        assert ci_objective(information, np.array([omega[k], 1 - omega[k]]), criterion) <= (
            reference.fun * (1 + 1e-12) if reference.fun > 0 else reference.fun + 1e-12
        )
    # Both ends occur in this sample, so the boundary logic is exercised, not just Newton.
    assert (omega == 0.0).any()
    assert (omega == 1.0).any()
    assert ((omega > 0) & (omega < 1)).any()


def test_pair_degenerate_cases() -> None:
    rng = np.random.default_rng(1)
    P = random_covariances(rng, (5,), track_sigmas(rng, (5,)))
    x = geodetic_to_ecef(35.0, 139.0, 9000.0) + np.zeros((5, 1))
    x = np.concatenate([x, rng.normal(0.0, 200.0, (5, 3))], axis=1)

    same = covariance_intersection(x, P, x, P)
    np.testing.assert_allclose(same.weights, 0.5)
    np.testing.assert_allclose(same.state, x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(same.covariance, P, rtol=1e-10)

    # One estimate better in every direction takes all the weight, exactly.
    better = P / 1e4
    y = x + sample(rng, P)
    fused = covariance_intersection(x, better, y, P)
    np.testing.assert_array_equal(fused.weights[:, 0], 1.0)
    np.testing.assert_allclose(fused.state, x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fused.covariance, better, rtol=1e-9)
    assert np.all(covariance_intersection_weight(P, better) == 0.0)

    # Swapping the inputs swaps the weights.
    Q = random_covariances(rng, (5,), track_sigmas(rng, (5,)))
    np.testing.assert_allclose(
        covariance_intersection_weight(P, Q), 1.0 - covariance_intersection_weight(Q, P), atol=1e-9
    )


def test_pair_rejects_weights_outside_the_unit_interval() -> None:
    P = np.eye(2)[None]
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        covariance_intersection([[0.0, 0.0]], P, [[1.0, 1.0]], P, weight=1.5)


# --- covariance intersection of groups --------------------------------------------------------


@pytest.mark.parametrize("criterion", list(CiCriterion))
def test_group_weights_match_scipy_on_the_simplex(criterion: CiCriterion) -> None:
    rng = np.random.default_rng(2)
    groups, sources = 12, 4
    P = random_covariances(rng, (groups, sources), track_sigmas(rng, (groups, sources)))
    fused = covariance_intersection_group(
        rng.normal(size=(groups, sources, 6)), P, criterion=criterion
    )
    np.testing.assert_allclose(fused.weights.sum(axis=1), 1.0, atol=1e-12)
    assert (fused.weights >= 0.0).all()
    for k in range(groups):
        information = np.linalg.inv(P[k])
        # SLSQP honours Σω = 1 only when the objective is of order one.
        scale = abs(ci_objective(information, np.full(sources, 1 / sources), criterion))
        starts = [np.full(sources, 1 / sources), *(0.1 / sources + 0.9 * np.eye(sources))]
        results = [
            minimize(
                lambda w, info=information, scale=scale: ci_objective(info, w, criterion) / scale,
                start,
                method="SLSQP",
                bounds=[(0.0, 1.0)] * sources,
                constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
                options={"ftol": 1e-15, "maxiter": 1000},
            )
            for start in starts
        ]
        best = min((r for r in results if abs(r.x.sum() - 1) < 1e-9), key=lambda r: r.fun)
        ours = ci_objective(information, fused.weights[k], criterion) / scale
        assert ours <= best.fun + 1e-12
        np.testing.assert_allclose(fused.weights[k], best.x, atol=1e-5)


def test_group_of_two_is_the_pair_solution() -> None:
    rng = np.random.default_rng(3)
    P = random_covariances(rng, (20, 2), track_sigmas(rng, (20, 2)))
    x = rng.normal(0.0, 100.0, (20, 2, 6))
    group = covariance_intersection_group(x, P)
    pair = covariance_intersection(x[:, 0], P[:, 0], x[:, 1], P[:, 1])
    np.testing.assert_allclose(group.weights, pair.weights, atol=1e-12)
    np.testing.assert_allclose(group.state, pair.state, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(group.covariance, pair.covariance, rtol=1e-9)


def test_n_ary_ci_is_no_worse_than_sequential_pairwise_and_usually_better() -> None:
    rng = np.random.default_rng(4)
    groups = 30
    P = random_covariances(rng, (groups, 3), track_sigmas(rng, (groups, 3)))
    x = rng.normal(0.0, 100.0, (groups, 3, 6))
    n_ary = covariance_intersection_group(x, P)
    first = covariance_intersection(x[:, 0], P[:, 0], x[:, 1], P[:, 1])
    sequential = covariance_intersection(first.state, first.covariance, x[:, 2], P[:, 2])
    n_ary_trace = np.einsum("kii->k", n_ary.covariance)
    sequential_trace = np.einsum("kii->k", sequential.covariance)
    assert np.all(n_ary_trace <= sequential_trace * (1 + 1e-12))
    assert np.mean(n_ary_trace < sequential_trace * (1 - 1e-3)) > 0.2


def test_absent_sources_are_ignored_by_every_rule() -> None:
    rng = np.random.default_rng(5)
    groups, sources = 6, 4
    P = random_covariances(rng, (groups, sources), track_sigmas(rng, (groups, sources)))
    x = rng.normal(0.0, 100.0, (groups, sources, 6))
    present = np.array([[1, 1, 0, 1]] * groups, dtype=bool)
    prior = CommonPrior(
        source_states=x + 10.0,
        source_covariances=4.0 * P,
        fused_state=x[:, 0] - 5.0,
        fused_covariance=P[:, 0] * 9.0,
    )
    holey_x = np.where(present[..., None], x, np.nan)
    holey_P = np.where(present[..., None, None], P, np.nan)
    keep = [0, 1, 3]
    kept_prior = prior._replace(
        source_states=prior.source_states[:, keep],
        source_covariances=prior.source_covariances[:, keep],
    )
    for kind in FUSION_RULES:
        rule = FUSION_RULES.get(kind)
        masked = rule(holey_x, holey_P, present=present, prior=prior)
        subset = rule(x[:, keep], P[:, keep], prior=kept_prior)
        np.testing.assert_allclose(masked.state, subset.state, rtol=1e-9, err_msg=kind)
        np.testing.assert_allclose(masked.covariance, subset.covariance, rtol=1e-9, err_msg=kind)
        assert np.all(masked.weights[:, 2] == 0.0)


# --- fast CI ----------------------------------------------------------------------------------


def test_improved_fast_ci_weights_match_the_two_source_closed_form() -> None:
    rng = np.random.default_rng(6)
    P = random_covariances(rng, (10, 2), track_sigmas(rng, (10, 2)))
    I_a, I_b = np.linalg.inv(P[:, 0]), np.linalg.inv(P[:, 1])
    det = np.linalg.det
    # Fränken and Hüpper (2005), two sources.
    expected = (det(I_a + I_b) - det(I_b) + det(I_a)) / (2.0 * det(I_a + I_b))
    weights = fast_covariance_intersection_weights(P)
    np.testing.assert_allclose(weights[:, 0], expected, rtol=1e-9)
    niehsen = fast_covariance_intersection_weights(P, method=FastCiMethod.TRACE)
    trace = np.einsum("knii->kn", P)
    np.testing.assert_allclose(niehsen[:, 0], trace[:, 1] / trace.sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize("method", list(FastCiMethod))
def test_fast_ci_is_never_tighter_than_optimal_ci(method: FastCiMethod) -> None:
    rng = np.random.default_rng(7)
    P = random_covariances(rng, (30, 3), track_sigmas(rng, (30, 3)))
    x = rng.normal(0.0, 100.0, (30, 3, 6))
    fast = fast_covariance_intersection(x, P, method=method)
    optimal = covariance_intersection_group(x, P)
    assert np.all(
        np.einsum("kii->k", fast.covariance)
        >= np.einsum("kii->k", optimal.covariance) * (1 - 1e-12)
    )


# --- consistency: estimates sharing a common error -------------------------------------------


def test_ci_is_consistent_and_naive_fusion_is_not_with_a_common_error() -> None:
    # Two estimates of each of 20,000 objects share a common process-noise error w (the
    # cross-covariance P_ab = Q is unknown to every rule but Bar-Shalom–Campo); each has
    # its own independent error too.
    rng = np.random.default_rng(8)
    count, dim = 20_000, 6
    Q = random_covariances(rng, (count,), np.array([200.0] * 3 + [20.0] * 3))
    R_a = random_covariances(rng, (count,), track_sigmas(rng, (count,)) / 4)
    R_b = random_covariances(rng, (count,), track_sigmas(rng, (count,)) / 4)
    common = sample(rng, Q)
    x_a = common + sample(rng, R_a)
    x_b = common + sample(rng, R_b)
    P_a, P_b = Q + R_a, Q + R_b
    states, covariances = np.stack([x_a, x_b], axis=1), np.stack([P_a, P_b], axis=1)

    ci = covariance_intersection(x_a, P_a, x_b, P_b)
    fast = fast_covariance_intersection(states, covariances)
    naive = independent_fusion(states, covariances)
    optimal = bar_shalom_campo(x_a, P_a, x_b, P_b, Q)
    figures = {
        name: float(nees(fused.state, fused.covariance).mean())
        for name, fused in [("ci", ci), ("fast-ci", fast), ("naive", naive), ("bc", optimal)]
    }
    print(f"\nmean NEES, n = {dim}, {count} samples: {figures}")
    assert figures["ci"] <= dim
    assert figures["fast-ci"] <= dim
    assert figures["naive"] > 1.3 * dim
    assert abs(figures["bc"] - dim) < 4 * np.sqrt(2 * dim / count)
    # CI bounds the optimal covariance: P_CI − P_BC is positive semi-definite.
    gap = np.linalg.eigvalsh(ci.covariance - optimal.covariance)
    scale = np.linalg.eigvalsh(ci.covariance)[:, -1]
    assert np.all(gap[:, 0] >= -1e-9 * scale)


def test_bar_shalom_campo_without_correlation_is_independent_fusion() -> None:
    rng = np.random.default_rng(9)
    P = random_covariances(rng, (8, 2), track_sigmas(rng, (8, 2)))
    x = rng.normal(0.0, 300.0, (8, 2, 6))
    optimal = bar_shalom_campo(x[:, 0], P[:, 0], x[:, 1], P[:, 1], np.zeros((8, 6, 6)))
    naive = independent_fusion(x, P)
    np.testing.assert_allclose(optimal.state, naive.state, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(optimal.covariance, naive.covariance, rtol=1e-9)


# --- two radars: distributed fusion against central fusion -----------------------------------


def radar_noise_enu(
    azimuth_deg: float, range_sigma_m: float, cross_sigma_m: float, up_sigma_m: float
) -> np.ndarray:
    """Cartesian noise covariance (ENU, m²) of a radar looking along a horizontal azimuth."""
    a = np.radians(azimuth_deg)
    along = np.array([np.sin(a), np.cos(a), 0.0])
    across = np.array([np.cos(a), -np.sin(a), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    return np.asarray(
        range_sigma_m**2 * np.outer(along, along)
        + cross_sigma_m**2 * np.outer(across, across)
        + up_sigma_m**2 * np.outer(up, up)
    )


def two_radar_scene(runs: int, scans: int, seed: int) -> dict[str, dict[str, float]]:
    """Monte Carlo of one target seen by two radars, every filter batched over the runs.

    The radars measure Cartesian position every 2 s: radar 1 looks towards azimuth 90° with
    σ = 20 m down-range, 250 m cross-range and 300 m vertical; radar 2 looks towards
    azimuth 30° with 40 m, 120 m and 200 m. Central fusion updates one Kalman filter with
    both measurements; each radar also runs its own filter, and its track is sent at every
    scan and fused by each rule. Position RMSE and 6-D NEES are taken after 10 scans.
    """
    rng = np.random.default_rng(seed)
    lat, lon, period = 35.0, 139.0, 2.0
    rotation = ecef_to_enu_matrix(lat, lon).T  # ENU → ECEF
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=2.0)
    sensor = PositionMeasurement()
    R = [
        rotation @ radar_noise_enu(90.0, 20.0, 250.0, 300.0) @ rotation.T,
        rotation @ radar_noise_enu(30.0, 40.0, 120.0, 200.0) @ rotation.T,
    ]
    truth = np.tile(
        np.concatenate([geodetic_to_ecef(lat, lon, 8000.0), rotation @ [200.0, 150.0, 0.0]]),
        (runs, 1),
    )
    P0 = np.tile(np.diag([1000.0**2] * 3 + [100.0**2] * 3), (runs, 1, 1))
    x0 = truth + sample(rng, P0)
    central = (x0, P0)
    local = [(x0, P0), (x0, P0)]
    decorrelated = (x0, P0)
    Q = model.process_noise(truth, period)
    errors: dict[str, list[np.ndarray]] = {}
    scores: dict[str, list[np.ndarray]] = {}

    def record(name: str, state: np.ndarray, covariance: np.ndarray) -> None:
        error = state - truth
        errors.setdefault(name, []).append(np.sum(error[:, :3] ** 2, axis=1))
        scores.setdefault(name, []).append(nees(error, covariance))

    for scan in range(scans):
        truth = model.propagate(truth, period) + sample(rng, Q)
        z = [truth[:, :3] + sample(rng, np.broadcast_to(r, (runs, 3, 3))) for r in R]
        x, P = ekf_predict(*central, period, model)
        for zi, Ri in zip(z, R, strict=True):
            x, P, _, _ = ekf_update(x, P, zi, Ri, sensor)
        central = (x, P)
        local_priors = [ekf_predict(*track, period, model) for track in local]
        local = [
            ekf_update(xp, Pp, zi, Ri, sensor)[:2]
            for (xp, Pp), zi, Ri in zip(local_priors, z, R, strict=True)
        ]
        states = np.stack([track[0] for track in local], axis=1)
        covariances = np.stack([track[1] for track in local], axis=1)
        fused_prior = ekf_predict(*decorrelated, period, model)
        prior = CommonPrior(
            source_states=np.stack([p[0] for p in local_priors], axis=1),
            source_covariances=np.stack([p[1] for p in local_priors], axis=1),
            fused_state=fused_prior[0],
            fused_covariance=fused_prior[1],
        )
        decorrelated = information_decorrelated_fusion(states, covariances, prior=prior)[:2]
        if scan < 10:
            continue
        record("central", *central)
        record("information-decorrelated", *decorrelated)
        record("covariance-intersection", *covariance_intersection_group(states, covariances)[:2])
        record("fast-ci", *fast_covariance_intersection(states, covariances)[:2])
        record("independent", *independent_fusion(states, covariances)[:2])
        record("radar 1 alone", *local[0])
        np.testing.assert_allclose(decorrelated[0], central[0], rtol=0, atol=1e-6)
    rmse_central = float(np.sqrt(np.mean(errors["central"])))
    return {
        name: {
            "rmse_m": float(np.sqrt(np.mean(errors[name]))),
            "ratio_to_central": float(np.sqrt(np.mean(errors[name]))) / rmse_central,
            "nees": float(np.mean(scores[name])),
        }
        for name in errors
    }


def test_information_decorrelated_fusion_matches_central_fusion_at_full_rate() -> None:
    figures = two_radar_scene(runs=300, scans=50, seed=10)
    print("\ntwo radars, tracks exchanged every scan (position RMSE, ratio, 6-D NEES):")
    for name, row in figures.items():
        print(
            f"  {name:26s} {row['rmse_m']:8.2f} m  {row['ratio_to_central']:6.3f}  "
            f"{row['nees']:6.2f}"
        )
    assert figures["information-decorrelated"]["ratio_to_central"] <= 1.05
    assert abs(figures["information-decorrelated"]["ratio_to_central"] - 1.0) < 1e-6
    # CI pays for not knowing the correlation, but stays consistent; naive fusion is
    # overconfident, since the two tracks share the target's process noise.
    assert 1.0 < figures["covariance-intersection"]["ratio_to_central"] < 2.0
    assert figures["covariance-intersection"]["nees"] <= 6.0
    assert figures["independent"]["nees"] > 6.0


def test_information_decorrelated_falls_back_to_ci_when_the_prior_does_not_fit() -> None:
    rng = np.random.default_rng(11)
    P = random_covariances(rng, (4, 2), track_sigmas(rng, (4, 2)))
    x = rng.normal(0.0, 100.0, (4, 2, 6))
    # A prior *tighter* than the reports: subtracting it leaves no positive information.
    prior = CommonPrior(
        source_states=x,
        source_covariances=P / 100.0,
        fused_state=x[:, 0],
        fused_covariance=P[:, 0],
    )
    fused = information_decorrelated_fusion(x, P, prior=prior)
    ci = covariance_intersection_group(x, P)
    np.testing.assert_allclose(fused.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(fused.state, ci.state, rtol=1e-12)
    assert is_positive_definite(fused.covariance).all()


# --- Stone Soup: covariance intersection with given weights ----------------------------------


def test_fusion_with_given_weights_matches_stonesoup_covariance_intersection() -> None:
    rng = np.random.default_rng(12)
    groups, sources = 5, 3
    P = random_covariances(rng, (groups, sources), track_sigmas(rng, (groups, sources)))
    x = rng.normal(0.0, 5000.0, (groups, sources, 6))
    optimal = covariance_intersection_group(x, P)
    pair = covariance_intersection(x[:, 0], P[:, 0], x[:, 1], P[:, 1])
    for k in range(groups):
        components = [GaussianState(x[k, i][:, None], P[k, i]) for i in range(sources)]
        for ours, count in [(optimal, sources), (pair, 2)]:
            reference = CovarianceIntersection.merge_components(
                *components[:count], weights=list(ours.weights[k, :count])
            )
            covar = np.asarray(reference.covar, dtype=float)
            state = np.asarray(reference.state_vector, dtype=float).ravel()
            sd = np.sqrt(np.diag(covar))
            assert np.all(np.abs(ours.state[k] - state) <= 1e-8 * sd)
            assert np.all(np.abs(ours.covariance[k] - covar) <= 1e-8 * np.outer(sd, sd))
    given = weighted_fusion(x, P, optimal.weights)
    np.testing.assert_allclose(given.covariance, optimal.covariance, rtol=1e-12)


# --- registry and conformance -----------------------------------------------------------------


def test_registry_names_the_rules_and_suggests_on_a_miss() -> None:
    assert list(FUSION_RULES) == [
        "covariance-intersection",
        "fast-ci",
        "independent",
        "information-decorrelated",
    ]
    assert DEFAULT_FUSION_RULE in FUSION_RULES
    with pytest.raises(RegistryError, match="did you mean 'covariance-intersection'"):
        FUSION_RULES.get("covariance-intersectoin")


def test_information_decorrelated_rule_requires_the_common_prior() -> None:
    rule = FUSION_RULES.get("information-decorrelated")
    with pytest.raises(ValueError, match="needs the common prior"):
        rule(np.zeros((1, 2, 3)), np.tile(np.eye(3), (1, 2, 1, 1)))


@pytest.mark.parametrize("kind", list(FUSION_RULES))
@pytest.mark.parametrize(("sources", "state_dim"), [(2, 6), (3, 6), (5, 3)])
def test_every_rule_passes_the_conformance_check(kind: str, sources: int, state_dim: int) -> None:
    check_fusion_rule(
        FUSION_RULES.get(kind), np.random.default_rng(13), sources=sources, state_dim=state_dim
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sources=st.integers(2, 5),
    dim=st.sampled_from([2, 3, 6]),
    spread=st.floats(0.0, 6.0),
    condition=st.floats(0.0, 6.0),
)
def test_fused_covariances_stay_positive_definite(
    seed: int, sources: int, dim: int, spread: float, condition: float
) -> None:
    rng = np.random.default_rng(seed)
    groups = 4
    # Sources up to 10^spread apart in size, each up to 10^condition from round.
    size = 10.0 ** rng.uniform(-spread / 2, spread / 2, (groups, sources, 1))
    axes = 10.0 ** rng.uniform(-condition / 2, condition / 2, (groups, sources, dim))
    P = random_covariances(rng, (groups, sources), 100.0 * size * axes)
    x = sample(rng, P) + rng.normal(0.0, 1.0, (groups, 1, dim))
    prior = CommonPrior(
        source_states=x + sample(rng, P),
        source_covariances=2.0 * P,
        fused_state=x[:, 0],
        fused_covariance=3.0 * P[:, 0],
    )
    for kind in FUSION_RULES:
        fused = FUSION_RULES.get(kind)(x, P, prior=prior)
        assert is_positive_definite(fused.covariance).all(), kind
        assert np.isfinite(fused.state).all(), kind
    for criterion in CiCriterion:
        assert is_positive_definite(
            covariance_intersection_group(x, P, criterion=criterion).covariance
        ).all()
    assert is_positive_definite(
        covariance_intersection(x[:, 0], P[:, 0], x[:, 1], P[:, 1]).covariance
    ).all()
