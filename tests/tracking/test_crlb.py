"""Statistical efficiency and consistency of the filters against truth, by Monte Carlo.

* Posterior Cramér–Rao lower bound (Tichavsky, Muravchik & Nehorai 1998) for one radar
  tracking a nearly-constant-velocity target in the benign regime: the EKF's position RMSE
  must sit within 20 % of the bound at steady state.
* NEES consistency (Bar-Shalom, Li & Kirubarajan 2001, §5.4.2): the run-averaged NEES at
  each time inside its two-sided 95 % χ² interval, for the EKF and the UKF on that target
  and for the EKF with the Ballistic model on a midcourse and a re-entry target.

Every Monte Carlo run is one row of the batched filters, so M runs cost one call per scan.

Seeds are fixed, so each test is deterministic. The "≥ 90 % of scans inside the 95 %
interval" criterion is noisy even for a perfectly consistent filter, because successive
scans share most of their error: over ten seeds, the consistent CV filters meet it 9 times
in 10, the midcourse filter 8 in 10 and the (short, 18-scan) re-entry filter 6 in 10, while
the time-averaged NEES was inside its interval for every seed. A mistuned filter (Q off by
a factor of two, a wrong noise, a wrong Jacobian) fails both by a wide margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.stats import chi2

from iamd.core.gaussian import mahalanobis_squared
from iamd.geo import aer_to_ecef, ecef_to_enu_matrix, enu_to_ecef_vector, geodetic_to_ecef
from iamd.tracking import (
    Ballistic,
    NearlyConstantVelocity,
    RadarMeasurement,
    ekf_predict,
    ekf_update,
    ukf_predict,
    ukf_update,
)
from iamd.tracking.base import MotionModel

RUNS = 300
SITE_LAT, SITE_LON = 35.0, 135.0
SITE = geodetic_to_ecef(SITE_LAT, SITE_LON, 30.0)
RADAR = RadarMeasurement(site_ecef_m=SITE, site_lat_deg=SITE_LAT, site_lon_deg=SITE_LON)


@dataclass(frozen=True)
class MonteCarlo:
    """Truth and estimates of M runs over K scans: arrays (K, M, n) and (K, M, n, n)."""

    truth: np.ndarray
    estimate: np.ndarray
    covariance: np.ndarray

    def nees(self) -> np.ndarray:
        """Run-averaged NEES at each scan, shape (K,)."""
        return mahalanobis_squared(self.estimate - self.truth, self.covariance).mean(axis=1)

    def position_rmse(self) -> np.ndarray:
        error = self.estimate[..., :3] - self.truth[..., :3]
        return np.sqrt((error**2).sum(axis=-1).mean(axis=1))


def radar_noise(range_m: float, angle_mrad: float) -> np.ndarray:
    return np.diag([range_m**2, (angle_mrad * 1e-3) ** 2, (angle_mrad * 1e-3) ** 2])


def simulate(
    *,
    truth_model: MotionModel,
    filter_model: MotionModel,
    x0: np.ndarray,
    P0: np.ndarray,
    dt: float,
    scans: int,
    R: np.ndarray,
    seed: int,
    unscented: bool = False,
) -> MonteCarlo:
    """Truth with process noise drawn from the filter's own Q; one radar; Pd = 1."""
    rng = np.random.default_rng(seed)
    n = x0.size
    truth = np.broadcast_to(x0, (RUNS, n)).copy()
    estimate = truth + rng.multivariate_normal(np.zeros(n), P0, size=RUNS)
    covariance = np.broadcast_to(P0, (RUNS, n, n)).copy()
    chol_r = np.linalg.cholesky(R)
    truths, estimates, covariances = [], [], []
    for _ in range(scans):
        noise = np.linalg.cholesky(filter_model.process_noise(truth, dt))
        truth = (
            truth_model.propagate(truth, dt) + (noise @ rng.standard_normal((RUNS, n, 1)))[..., 0]
        )
        z = RADAR.predict(truth) + rng.standard_normal((RUNS, 3)) @ chol_r.T
        if unscented:
            estimate, covariance = ukf_predict(estimate, covariance, dt, filter_model)
            estimate, covariance, _, _ = ukf_update(estimate, covariance, z, R, RADAR)
        else:
            estimate, covariance = ekf_predict(estimate, covariance, dt, filter_model)
            estimate, covariance, _, _ = ekf_update(estimate, covariance, z, R, RADAR)
        truths.append(truth)
        estimates.append(estimate)
        covariances.append(covariance)
    return MonteCarlo(np.array(truths), np.array(estimates), np.array(covariances))


def nees_interval(runs: int, dim: int) -> tuple[float, float]:
    low, high = chi2.ppf([0.025, 0.975], runs * dim) / runs
    return float(low), float(high)


def assert_consistent(mc: MonteCarlo, *, skip: int = 0) -> tuple[float, float]:
    """≥ 90 % of scans inside the 95 % interval, and the time-averaged NEES inside it too.

    The time average of correlated NEES values varies no more than one scan's average, so
    the per-scan interval is a conservative bound for it.
    """
    nees = mc.nees()[skip:]
    low, high = nees_interval(RUNS, mc.truth.shape[-1])
    inside = float(np.mean((nees >= low) & (nees <= high)))
    assert inside >= 0.9, f"NEES inside [{low:.2f}, {high:.2f}] at {inside:.0%} of scans"
    assert low <= nees.mean() <= high, f"mean NEES {nees.mean():.3f} not in [{low}, {high}]"
    return inside, float(nees.mean())


# --- nearly constant velocity target, 100–300 km from one radar --------------------------

CV_Q = 0.5  # m²/s³: a mildly wandering aircraft
CV_DT = 2.0
CV_SCANS = 100
CV_R = radar_noise(20.0, 1.0)
CV_P0 = np.diag([300.0**2] * 3 + [30.0**2] * 3)


def cv_initial_state() -> np.ndarray:
    # 180 km out at 60° azimuth, 9 km up (0.6° elevation, well above the horizon), flying
    # 250 m/s north-west: the range stays between 140 and 200 km over the 200 s.
    position = aer_to_ecef(np.array([np.radians(60.0), 0.05, 180e3]), SITE, SITE_LAT, SITE_LON)
    velocity = enu_to_ecef_vector(np.array([-200.0, 150.0, 0.0]), SITE_LAT, SITE_LON)
    return np.concatenate([position, velocity])


def pcrlb_position(mc: MonteCarlo, model: NearlyConstantVelocity, P0: np.ndarray) -> np.ndarray:
    """sqrt(trace) of the position block of the PCRLB at each scan (Tichavsky et al. 1998).

    ``J_{k+1} = D22 − D21 (J_k + D11)⁻¹ D12`` with, for additive Gaussian noises,
    ``D11 = Fᵀ Q⁻¹ F``, ``D12 = −Fᵀ Q⁻¹``, ``D22 = Q⁻¹ + E[Hᵀ R⁻¹ H]``; the expectation is
    the Monte Carlo average of the measurement information at the true states.
    """
    x = mc.truth[0]
    F = model.jacobian(x[:1], CV_DT)[0]
    Q_inv = np.linalg.inv(model.process_noise(x[:1], CV_DT)[0])
    R_inv = np.linalg.inv(CV_R)
    D11 = F.T @ Q_inv @ F
    D12 = -F.T @ Q_inv
    J = np.linalg.inv(P0)
    bounds = []
    for truth in mc.truth:
        H = RADAR.jacobian(truth)
        information = np.mean(np.swapaxes(H, -1, -2) @ R_inv @ H, axis=0)
        D22 = Q_inv + information
        J = D22 - D12.T @ np.linalg.solve(J + D11, D12)
        bounds.append(np.sqrt(np.trace(np.linalg.inv(J)[:3, :3])))
    return np.array(bounds)


@pytest.fixture(scope="module")
def cv_ekf() -> MonteCarlo:
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=CV_Q)
    return simulate(
        truth_model=model,
        filter_model=model,
        x0=cv_initial_state(),
        P0=CV_P0,
        dt=CV_DT,
        scans=CV_SCANS,
        R=CV_R,
        seed=11,
    )


def test_geometry_is_benign(cv_ekf: MonteCarlo) -> None:
    delta = cv_ekf.truth[..., :3] - SITE
    ranges = np.linalg.norm(delta, axis=-1)
    assert ranges.min() > 100e3
    assert ranges.max() < 300e3
    up = (delta @ ecef_to_enu_matrix(SITE_LAT, SITE_LON).T)[..., 2]
    assert np.all(up > 0)


def test_ekf_position_rmse_reaches_the_pcrlb(cv_ekf: MonteCarlo) -> None:
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=CV_Q)
    bound = pcrlb_position(cv_ekf, model, CV_P0)
    ratio = cv_ekf.position_rmse() / bound
    steady = ratio[CV_SCANS // 2 :]
    # The bound is a bound: no estimator beats it beyond Monte Carlo noise (≈ 4 % at 300 runs).
    assert steady.mean() >= 0.93
    assert steady.mean() <= 1.1, f"RMSE/PCRLB = {steady.mean():.3f} at steady state"
    assert ratio.max() <= 1.2


def test_ekf_is_consistent(cv_ekf: MonteCarlo) -> None:
    assert_consistent(cv_ekf)


def test_ukf_is_consistent_and_efficient() -> None:
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=CV_Q)
    mc = simulate(
        truth_model=model,
        filter_model=model,
        x0=cv_initial_state(),
        P0=CV_P0,
        dt=CV_DT,
        scans=CV_SCANS,
        R=CV_R,
        seed=12,
        unscented=True,
    )
    assert_consistent(mc)
    ratio = mc.position_rmse() / pcrlb_position(mc, model, CV_P0)
    assert ratio[CV_SCANS // 2 :].mean() <= 1.1


# --- ballistic targets --------------------------------------------------------------------


def flight_state(
    *,
    azimuth_deg: float,
    elevation_deg: float,
    range_m: float,
    speed_mps: float,
    heading_deg: float,
    flight_path_deg: float,
) -> np.ndarray:
    """ECEF state of a target placed by its AER from the site and flying with a heading
    (clockwise from north) and flight-path angle in its own local horizontal frame."""
    position = aer_to_ecef(
        np.array([np.radians(azimuth_deg), np.radians(elevation_deg), range_m]),
        SITE,
        SITE_LAT,
        SITE_LON,
    )
    lat = np.degrees(np.arcsin(position[2] / np.linalg.norm(position)))
    lon = np.degrees(np.arctan2(position[1], position[0]))
    heading, gamma = np.radians(heading_deg), np.radians(flight_path_deg)
    local = speed_mps * np.array(
        [np.cos(gamma) * np.sin(heading), np.cos(gamma) * np.cos(heading), np.sin(gamma)]
    )
    return np.concatenate([position, enu_to_ecef_vector(local, lat, lon)])


def midcourse_state() -> np.ndarray:
    # ~300 km up, 800 km from the radar, climbing gently at 3 km/s across its line of
    # sight: an MRBM near apogee.
    return flight_state(
        azimuth_deg=250.0,
        elevation_deg=17.0,
        range_m=800e3,
        speed_mps=3_000.0,
        heading_deg=340.0,
        flight_path_deg=5.0,
    )


def test_ballistic_midcourse_ekf_is_consistent() -> None:
    filter_model = Ballistic(acceleration_psd_m2_s3=0.05)
    truth_model = Ballistic(acceleration_psd_m2_s3=0.05, max_step_s=0.1)
    mc = simulate(
        truth_model=truth_model,
        filter_model=filter_model,
        x0=midcourse_state(),
        P0=np.diag([500.0**2] * 3 + [50.0**2] * 3),
        dt=5.0,
        scans=40,
        R=radar_noise(30.0, 1.0),
        seed=13,
    )
    altitude = np.linalg.norm(mc.truth[..., :3], axis=-1) - 6.37e6
    assert altitude.min() > 30e3  # still above the atmosphere the filter leaves out
    assert_consistent(mc)


def reentry_state() -> np.ndarray:
    # 45 km up, falling at 3 km/s, 35° below the horizon, towards the radar's side;
    # 1/β = 5·10⁻⁴ m²/kg (β = 2000 kg/m²): by 15 km the drag is ~10 g.
    state = flight_state(
        azimuth_deg=200.0,
        elevation_deg=25.0,
        range_m=100e3,
        speed_mps=3_000.0,
        heading_deg=20.0,
        flight_path_deg=-35.0,
    )
    return np.concatenate([state, [5e-4]])


def test_reentry_with_drag_estimation_is_consistent() -> None:
    kwargs = {
        "acceleration_psd_m2_s3": 0.5,
        "estimate_drag": True,
        "inverse_beta_psd_m4_kg2_s": 1e-10,
    }
    filter_model = Ballistic(**kwargs, max_step_s=0.25)
    truth_model = Ballistic(**kwargs, max_step_s=0.02)
    P0 = np.diag([200.0**2] * 3 + [40.0**2] * 3 + [1.5e-4**2])
    mc = simulate(
        truth_model=truth_model,
        filter_model=filter_model,
        x0=reentry_state(),
        P0=P0,
        dt=1.0,
        scans=18,
        R=radar_noise(15.0, 1.0),
        seed=14,
    )
    # The drag is felt: the truth decelerates by hundreds of m/s over the scans.
    speed = np.linalg.norm(mc.truth[..., 3:6], axis=-1)
    assert speed[-1].mean() < 0.8 * 3_000.0
    assert_consistent(mc)
    # and 1/β is learnt: its spread shrinks well below the prior's.
    assert np.sqrt(mc.covariance[-1, :, 6, 6]).mean() < 0.3 * 1.5e-4
