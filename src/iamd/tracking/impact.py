r"""Impact point prediction (IPP) of ballistic tracks: where, when, and how uncertain.

Given ``N`` ballistic track estimates ``(x, P)`` (ECEF, at one time ``t`` or each at its
own), predict for each the time and the point where it comes down through a ground
altitude, and the uncertainty of both: a 2 × 2 covariance in the local east–north plane at
the impact point, its error ellipse, and the standard deviation of the impact time.

Method
------
:func:`predict_impact` applies the unscented transform ([1]_, with the scaled sigma points
of :func:`~iamd.tracking.unscented.sigma_points`) to the map "state now ↦ (impact point,
impact time)": the ``2n+1`` sigma points of every track are flown with the
:class:`~iamd.tracking.motion.Ballistic` model as one ``(2n+1)·N`` stack, each row until its
geodetic height comes down through the ground altitude; the crossing is placed inside the
last step by Newton's method on the cubic Hermite interpolant of the step's end positions
and velocities; the weighted sigma-point impacts give the mean impact point and time and
their covariance. :func:`predict_impact_linearised` is the classical first-order
counterpart (ballistic impact prediction and its error analysis: [2]_): the state
transition matrix ``Φ`` is accumulated along the estimate's own trajectory and
the covariance at the impact time is projected onto the ground along the velocity,

.. math::

    δ\mathbf p_\text{impact} = \Bigl(I - \frac{\mathbf v\,\hat{\mathbf n}^\mathsf T}
        {\hat{\mathbf n}^\mathsf T\mathbf v}\Bigr)\,δ\mathbf p(t_i), \qquad
    δt_i = -\frac{\hat{\mathbf n}^\mathsf T δ\mathbf p(t_i)}{\hat{\mathbf n}^\mathsf T\mathbf v},

(``n̂`` the ellipsoid normal and ``v`` the velocity at impact; the implicit-function theorem
on ``h(p(t_i)) = h_ground``). Both agree for small covariances; the unscented one stays
consistent when the state uncertainty, mapped over minutes of flight, makes the impact a
visibly curved function of the state (long time to go, uncertain drag).

Integration
-----------
Where drag matters (a 7-D model, below the height at which the row's drag would reach
:data:`DRAG_FREE_ACCELERATION_M_S2` at its current speed and ``1/β``), rows take steps of
``step_s``, split by the model into RK4 sub-steps of at most its ``max_step_s``. Elsewhere,
and everywhere for a drag-free 6-D model, the forces vary slowly and rows take single RK4
steps of up to ``midcourse_step_s`` (10 s: millimetres on a ballistic arc), timed on the way
down to end near that height; drag is still evaluated there, just with the longer step.
Rows that have come down leave the working set, so the cost follows the remaining flight
time of each row rather than the longest one.

The impact is where the *geodetic* height equals the ground altitude (the ground is a
surface parallel to the WGS-84 ellipsoid). The Hermite cubic matches the step's end
positions and velocities, so its error is fourth order in the step: noise-free states on
the world's solved trajectories land within 2.4 cm and 0.2 ms of the world's own impacts
(tests; the world integrates and interpolates independently).

**Process noise.** By default only the state uncertainty is carried to the ground: after
burnout the object *is* ballistic, and a tracking filter's white acceleration is tuning for
its own updates (the simulation's ballistic tracker uses q = 50 m²/s³ to ride out boost
manoeuvres, which over five minutes of free flight would spread the impact over tens of
kilometres). With ``process_noise=True`` the model's ``Q`` is added along the way: to the
linearised covariance step by step (``P ← F P Fᵀ + Q``), and to the unscented one through
its linearisation along the central sigma point's trajectory — the usual split for a large
nonlinear term plus a small, independent additive one.

Status
------
Every row gets an :class:`ImpactStatus`. Rows that are not ``PREDICTED`` have NaN results,
except ``PARTIAL`` rows, which carry the impact point and time of the estimate itself (the
central sigma point) but no covariance.

References
----------
.. [1] S. J. Julier and J. K. Uhlmann, "Unscented filtering and nonlinear estimation",
   *Proceedings of the IEEE* 92(3), 2004, pp. 401–422.
.. [2] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA Progress in
   Astronautics and Aeronautics 239, 2012 (ballistic targets: flight to impact and the
   propagation of its errors).
.. [3] E. A. Wan and R. van der Merwe, "The unscented Kalman filter for nonlinear
   estimation", *Proc. IEEE AS-SPCC Symposium*, 2000, pp. 153–158 (scaled sigma points
   and weights).
"""

from __future__ import annotations

import enum
import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.gaussian import symmetrize
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo.frames import ecef_to_enu_matrix, ecef_to_geodetic, geodetic_to_ecef
from iamd.tracking.ballistic_kernel import fly_to_ground
from iamd.tracking.motion import Ballistic
from iamd.tracking.unscented import SigmaPointParameters, sigma_points

DRAG_FREE_ACCELERATION_M_S2 = 0.01
"""Drag below which a row takes long midcourse steps, m/s².

Over a 10 s step such a drag moves the body by half a metre, and varies too little for a
single RK4 step to misplace more than a small fraction of that. The height where it is
reached, ``H·ln(ρ0·v²/(2aβ))``, is 84 km for β = 5000 kg/m² at 3 km/s and 107 km for
β = 1000 kg/m² at 7 km/s: well below the ~120 km edge of the sensible atmosphere for most
bodies, which is where the long steps save their time."""

_HERMITE_NEWTON_ITERATIONS = 4
"""Newton iterations on the Hermite cubic from the secant start: two leave under a
micrometre of height, four reach rounding (nanometres; measured)."""


class ImpactStatus(enum.IntEnum):
    """Outcome of an impact prediction for one track (stored as its integer value)."""

    PREDICTED = 1
    """Every sigma point (the estimate, for the linearised variant) comes down within the
    horizon: all results are given."""

    BELOW_GROUND = 2
    """The estimate is at or below the ground altitude already; results are NaN."""

    NO_IMPACT = 3
    """The estimate does not come down within the horizon (it climbs out, orbits, or the
    horizon is too short); results are NaN."""

    PARTIAL = 4
    """The estimate comes down, but some sigma point does not (it stays up beyond the
    horizon, started more than one step below the ground, or ran away: a negative ``1/β``
    accelerates in dense air): the impact point and time are the estimate's own; their
    covariance, ellipse and time σ are NaN."""

    INVALID = 5
    """The state or covariance has a non-finite entry; results are NaN."""


class ImpactPrediction(NamedTuple):
    """Predicted impacts of ``N`` ballistic tracks.

    Attributes
    ----------
    status : ndarray of int, shape (N,)
        :class:`ImpactStatus` values.
    impact_time_s : ndarray, shape (N,)
        Mean impact time, s since the scenario epoch (the input time plus the time to go).
    impact_time_sigma_s : ndarray, shape (N,)
        Standard deviation of the impact time, s.
    impact_ecef_m : ndarray, shape (N, 3)
        Mean impact point on the ground surface, ECEF, m.
    impact_lat_deg, impact_lon_deg : ndarray, shape (N,)
        Geodetic latitude and longitude of the mean impact point, degrees (its height is the
        ground altitude).
    covariance_en_m2 : ndarray, shape (N, 2, 2)
        Covariance of the impact point in the local (east, north) plane at the mean impact
        point, m².
    ellipse_semi_major_m, ellipse_semi_minor_m : ndarray, shape (N,)
        Semi-axes of the error ellipse of the requested probability (95 % by default), m.
    ellipse_orientation_deg : ndarray, shape (N,)
        Direction of the semi-major axis, degrees clockwise from north, in [0, 180).
    """

    status: IntArray
    impact_time_s: FloatArray
    impact_time_sigma_s: FloatArray
    impact_ecef_m: FloatArray
    impact_lat_deg: FloatArray
    impact_lon_deg: FloatArray
    covariance_en_m2: FloatArray
    ellipse_semi_major_m: FloatArray
    ellipse_semi_minor_m: FloatArray
    ellipse_orientation_deg: FloatArray


def error_ellipse(
    covariance_en: npt.ArrayLike, probability: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Error ellipse of 2-D Gaussian(s) in a local east–north plane.

    The ellipse ``dᵀ C⁻¹ d = k²`` holds the given probability for ``k² = −2 ln(1 − p)``
    (the χ² quantile with 2 degrees of freedom in closed form; 5.991 for 95 %). Its
    semi-axes are ``k·sqrt(λ)`` for the eigenvalues ``λ`` of ``C``, and the major axis points
    at ``θ = ½·atan2(2 C_en, C_nn − C_ee)`` clockwise from north (the angle that maximises
    the variance ``C_ee sin²θ + 2 C_en sinθ cosθ + C_nn cos²θ``); all in closed form.

    Parameters
    ----------
    covariance_en : array_like, shape (..., 2, 2)
        Covariances of (east, north) errors, m² (symmetric positive semi-definite).
    probability : float, optional
        Probability inside the ellipse, in (0, 1).

    Returns
    -------
    semi_major_m, semi_minor_m : ndarray, shape (...)
        Semi-axes, m.
    orientation_deg : ndarray, shape (...)
        Direction of the semi-major axis, degrees clockwise from north, in [0, 180)
        (0 for a circle).

    Raises
    ------
    ValueError
        If ``probability`` is not in (0, 1) or the covariance is not ``(..., 2, 2)``.

    Examples
    --------
    σ 300 m along north-east, 100 m across it:

    >>> c45, s45 = np.cos(np.pi / 4), np.sin(np.pi / 4)
    >>> rotation = np.array([[s45, -c45], [c45, s45]])  # columns: NE and NW (east, north)
    >>> C = rotation @ np.diag([300.0**2, 100.0**2]) @ rotation.T
    >>> major, minor, orientation = error_ellipse(C)
    >>> round(float(major), 1), round(float(minor), 1), round(float(orientation), 6)
    (734.3, 244.8, 45.0)
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be in (0, 1) (got {probability!r})")
    c = np.asarray(covariance_en, dtype=float)
    if c.ndim < 2 or c.shape[-2:] != (2, 2):
        raise ValueError(f"covariance_en must have shape (..., 2, 2) (got {c.shape})")
    k2 = -2.0 * math.log1p(-probability)
    ee, nn = c[..., 0, 0], c[..., 1, 1]
    en = 0.5 * (c[..., 0, 1] + c[..., 1, 0])
    mean = 0.5 * (ee + nn)
    radius = np.hypot(0.5 * (nn - ee), en)
    major = np.sqrt(k2 * np.maximum(mean + radius, 0.0))
    minor = np.sqrt(k2 * np.maximum(mean - radius, 0.0))
    orientation = np.mod(0.5 * np.degrees(np.arctan2(2.0 * en, nn - ee)), 180.0)
    # mod() of a tiny negative angle rounds up to exactly 180; keep the promised [0, 180).
    orientation = np.where(orientation >= 180.0, 0.0, orientation)
    return np.asarray(major), np.asarray(minor), np.asarray(orientation)


def predict_impact(
    x: FloatArray,
    P: FloatArray,
    model: Ballistic,
    *,
    time_s: npt.ArrayLike = 0.0,
    ground_altitude_m: npt.ArrayLike = 0.0,
    probability: float = 0.95,
    parameters: SigmaPointParameters | None = None,
    process_noise: bool = False,
    step_s: float = 2.0,
    midcourse_step_s: float = 10.0,
    horizon_s: float = 3600.0,
) -> ImpactPrediction:
    """Predict the impact of ``N`` ballistic tracks by the unscented transform ([1]_).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Track states, ECEF (m, m/s[, m²/kg]); ``n`` = ``model.state_dim`` (6, or 7 with
        ``1/β``).
    P : ndarray, shape (N, n, n)
        Their covariances (symmetric positive semi-definite; a zero covariance gives the
        deterministic impact and a zero ellipse).
    model : Ballistic
        The motion model to fly the sigma points with (its ``max_step_s`` bounds the RK4
        sub-steps inside the atmosphere).
    time_s : float or array_like, shape (N,), optional
        Time of the estimates, s since the scenario epoch.
    ground_altitude_m : float or array_like, shape (N,), optional
        Height of the ground above the WGS-84 ellipsoid, m, for all rows or per row.
    probability : float, optional
        Probability of the error ellipse, in (0, 1).
    parameters : SigmaPointParameters, optional
        ``α, β, κ``; the defaults of :class:`~iamd.tracking.unscented.SigmaPointParameters`
        (non-negative weights) if omitted.
    process_noise : bool, optional
        Whether to add the model's process noise over the flight (see the module notes).
    step_s : float, optional
        Step inside the atmosphere, s (> 0).
    midcourse_step_s : float, optional
        Longest step where drag is negligible (:data:`DRAG_FREE_ACCELERATION_M_S2`;
        everywhere for a 6-D model), s (≥ ``step_s``).
    horizon_s : float, optional
        Longest time to go that is searched, s (> 0).

    Returns
    -------
    ImpactPrediction
        Impact times, points and their uncertainty, with a status per row.

    Raises
    ------
    ValueError
        If the shapes do not match the model, or a step, horizon or probability is out of
        range.

    Notes
    -----
    The mean impact point is the weighted mean of the sigma points' impact points,
    accumulated as deviations from the central one, then moved along the ellipsoid normal
    onto the ground surface (a mean of points on a curved surface lies a little below it).
    The covariance is that of the sigma points' (east, north) offsets from it. A sigma point
    that starts below the ground (a low track with a wide covariance) is flown one step
    backwards to find where it crossed the ground: the map stays the same smooth function
    of the state on both sides.

    Examples
    --------
    A body 100 km above the equator, diving at 1 km/s while moving east at 2 km/s, with a
    100 m and 10 m/s uncertainty, at t = 50 s:

    >>> model = Ballistic(acceleration_psd_m2_s3=0.0)
    >>> x = np.array([[6_478_137.0, 0.0, 0.0, -1_000.0, 2_000.0, 0.0]])
    >>> P = np.diag([1e4, 1e4, 1e4, 1e2, 1e2, 1e2])[None]
    >>> impact = predict_impact(x, P, model, time_s=50.0)
    >>> ImpactStatus(int(impact.status[0])).name
    'PREDICTED'
    >>> float(impact.impact_time_s[0].round(2)), float(impact.impact_time_sigma_s[0].round(2))
    (125.42, 0.46)
    >>> float(impact.impact_lon_deg[0].round(4))
    1.3578
    >>> major, minor = impact.ellipse_semi_major_m[0], impact.ellipse_semi_minor_m[0]
    >>> round(float(major)), round(float(minor)), float(impact.ellipse_orientation_deg[0])
    (2965, 1859, 90.0)

    The ellipse is long in the direction of flight (east), where the uncertain speed and
    flight time spread the impact most.
    """
    parameters = SigmaPointParameters() if parameters is None else parameters
    x, P, t0, ground = _check(x, P, model, time_s, ground_altitude_m, probability)
    settings = _settings(step_s, midcourse_step_s, horizon_s)
    n_rows, n = x.shape
    status, rows = _triage(x, P, ground)
    out = _Results(n_rows)
    if rows.size == 0:
        return _finish(out, status, t0, probability)

    k = rows.size
    mean_weights, covariance_weights, _ = parameters.weights(n)
    points = sigma_points(x[rows], P[rows], parameters)  # (L, k, n)
    count = points.shape[0]
    ground_points = np.broadcast_to(ground[rows], (count, k)).reshape(-1)
    flight = _fly_to_ground(points.reshape(-1, n), ground_points, model, settings, backward=True)
    landed = flight.landed.reshape(count, k)
    times = flight.time_s.reshape(count, k)
    impacts = flight.state[:, :3].reshape(count, k, 3)

    central = landed[0]
    complete = landed.all(axis=0)
    status[rows[~central]] = ImpactStatus.NO_IMPACT
    status[rows[central & ~complete]] = ImpactStatus.PARTIAL

    # PARTIAL rows: the estimate's own impact, no covariance.
    partial = np.flatnonzero(central & ~complete)
    if partial.size:
        lat, lon, point = _on_ground(impacts[0, partial], ground[rows[partial]])
        out.time[rows[partial]] = times[0, partial]
        out.lat[rows[partial]], out.lon[rows[partial]] = lat, lon
        out.ecef[rows[partial]] = point

    done = np.flatnonzero(complete)
    if done.size:
        ids = rows[done]
        p = impacts[:, done]
        mean = p[0] + np.einsum("l,l...->...", mean_weights[1:], p[1:] - p[:1])
        lat, lon, point = _on_ground(mean, ground[ids])
        east_north = ecef_to_enu_matrix(lat, lon)[:, :2, :]  # (d, 2, 3)
        offsets = np.einsum("dij,ldj->ldi", east_north, p - point)  # (L, d, 2)
        offsets -= np.einsum("l,l...->...", mean_weights, offsets)
        covariance = np.einsum("l,ldi,ldj->dij", covariance_weights, offsets, offsets)
        tau = times[:, done]
        mean_tau = tau[0] + np.einsum("l,l...->...", mean_weights[1:], tau[1:] - tau[:1])
        time_variance = np.einsum("l,l...->...", covariance_weights, (tau - mean_tau) ** 2)
        if process_noise:
            # The noise enters along the way, independent of the initial error: its share
            # is linearised along the central sigma point's own flight and added.
            noise = _fly_to_ground(
                points[0, done],
                ground[ids],
                model,
                settings,
                covariance=np.zeros((done.size, n, n)),
                process_noise=True,
            )
            extra, extra_time = _project(noise, east_north)
            covariance = covariance + extra
            time_variance = time_variance + extra_time
            # A row whose linearisation failed (it should not: the same flight landed) keeps
            # no covariance rather than a wrong one.
            bad = ~noise.landed
            covariance[bad] = np.nan
            time_variance[bad] = np.nan
        out.time[ids] = mean_tau
        out.time_variance[ids] = time_variance
        out.lat[ids], out.lon[ids] = lat, lon
        out.ecef[ids] = point
        out.covariance[ids] = symmetrize(covariance)
    return _finish(out, status, t0, probability)


def predict_impact_linearised(
    x: FloatArray,
    P: FloatArray,
    model: Ballistic,
    *,
    time_s: npt.ArrayLike = 0.0,
    ground_altitude_m: npt.ArrayLike = 0.0,
    probability: float = 0.95,
    process_noise: bool = False,
    step_s: float = 2.0,
    midcourse_step_s: float = 10.0,
    horizon_s: float = 3600.0,
) -> ImpactPrediction:
    """Predict the impact of ``N`` ballistic tracks to first order ([2]_).

    The estimate itself is flown to the ground; its covariance is carried along by the
    model's (complex-step) Jacobians, ``P ← F P Fᵀ`` (``+ Q`` with ``process_noise``), the
    last step ending at the impact, and is then projected onto the ground along the impact
    velocity (the formula in the module notes). Parameters, returns and errors are those of
    :func:`predict_impact`, without the sigma-point ``parameters``; no row is ``PARTIAL``.

    Examples
    --------
    The example of :func:`predict_impact`, whose covariance is small enough for the two to
    agree to 0.02 % (the means differ by 5 m, a second-order effect the unscented transform
    keeps):

    >>> model = Ballistic(acceleration_psd_m2_s3=0.0)
    >>> x = np.array([[6_478_137.0, 0.0, 0.0, -1_000.0, 2_000.0, 0.0]])
    >>> P = np.diag([1e4, 1e4, 1e4, 1e2, 1e2, 1e2])[None]
    >>> impact = predict_impact_linearised(x, P, model, time_s=50.0)
    >>> float(impact.impact_time_s[0].round(2)), float(impact.impact_time_sigma_s[0].round(2))
    (125.42, 0.46)
    >>> major, minor = impact.ellipse_semi_major_m[0], impact.ellipse_semi_minor_m[0]
    >>> round(float(major)), round(float(minor)), float(impact.ellipse_orientation_deg[0])
    (2964, 1859, 90.0)
    """
    x, P, t0, ground = _check(x, P, model, time_s, ground_altitude_m, probability)
    settings = _settings(step_s, midcourse_step_s, horizon_s)
    status, rows = _triage(x, P, ground)
    out = _Results(x.shape[0])
    if rows.size:
        flight = _fly_to_ground(
            x[rows],
            ground[rows],
            model,
            settings,
            covariance=P[rows],
            process_noise=process_noise,
        )
        status[rows[~flight.landed]] = ImpactStatus.NO_IMPACT
        done = np.flatnonzero(flight.landed)
        ids = rows[done]
        lat, lon, point = _on_ground(flight.state[done, :3], ground[ids])
        east_north = ecef_to_enu_matrix(lat, lon)[:, :2, :]
        covariance, time_variance = _project(flight.take(done), east_north)
        out.time[ids] = flight.time_s[done]
        out.time_variance[ids] = time_variance
        out.lat[ids], out.lon[ids] = lat, lon
        out.ecef[ids] = point
        out.covariance[ids] = covariance
    return _finish(out, status, t0, probability)


class _Integration(NamedTuple):
    """Step settings shared by both predictions (checked by :func:`_settings`)."""

    step_s: float
    midcourse_step_s: float
    horizon_s: float


class _Flight(NamedTuple):
    """Where ``M`` states come down: the working result of :func:`_fly_to_ground`."""

    landed: BoolArray  # (M,)
    time_s: FloatArray  # (M,) time to go, s (≤ 0 for a backward crossing; NaN unless landed)
    state: FloatArray  # (M, n) state at the crossing (NaN unless landed)
    covariance: FloatArray | None  # (M, n, n) covariance carried to the crossing, if asked

    def take(self, rows: IntArray) -> _Flight:
        """The same result restricted to some rows."""
        cov = None if self.covariance is None else self.covariance[rows]
        return _Flight(self.landed[rows], self.time_s[rows], self.state[rows], cov)


class _Results:
    """Mutable per-row buffers filled before the final :class:`ImpactPrediction`."""

    def __init__(self, n: int) -> None:
        self.time = np.full(n, np.nan)
        self.time_variance = np.full(n, np.nan)
        self.ecef = np.full((n, 3), np.nan)
        self.lat = np.full(n, np.nan)
        self.lon = np.full(n, np.nan)
        self.covariance = np.full((n, 2, 2), np.nan)


def _check(
    x: FloatArray,
    P: FloatArray,
    model: Ballistic,
    time_s: npt.ArrayLike,
    ground_altitude_m: npt.ArrayLike,
    probability: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Arrays as float, shapes checked against the model, times and ground per row."""
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    n = model.state_dim
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"x must have shape (N, {n}) for this model (got {x.shape})")
    if P.shape != (x.shape[0], n, n):
        raise ValueError(f"P must have shape ({x.shape[0]}, {n}, {n}) (got {P.shape})")
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be in (0, 1) (got {probability!r})")
    try:
        t0 = np.broadcast_to(np.asarray(time_s, dtype=float), x.shape[:1]).copy()
        ground = np.broadcast_to(np.asarray(ground_altitude_m, dtype=float), x.shape[:1]).copy()
    except ValueError:
        raise ValueError(
            f"time_s and ground_altitude_m must be scalars or have shape ({x.shape[0]},)"
        ) from None
    return x, P, t0, ground


def _settings(step: float, midcourse: float, horizon: float) -> _Integration:
    """The step settings, checked."""
    if not (math.isfinite(step) and step > 0.0):
        raise ValueError(f"step_s must be finite and > 0 (got {step!r})")
    if not (math.isfinite(midcourse) and midcourse >= step):
        raise ValueError(f"midcourse_step_s must be finite and >= step_s (got {midcourse!r})")
    if not (math.isfinite(horizon) and horizon > 0.0):
        raise ValueError(f"horizon_s must be finite and > 0 (got {horizon!r})")
    return _Integration(step, midcourse, horizon)


def _triage(x: FloatArray, P: FloatArray, ground: FloatArray) -> tuple[IntArray, IntArray]:
    """Status of the rows that need no flight, and the indices of those that do."""
    status = np.full(x.shape[0], ImpactStatus.PREDICTED, dtype=np.int64)
    finite = np.isfinite(x).all(axis=1) & np.isfinite(P).all(axis=(1, 2)) & np.isfinite(ground)
    status[~finite] = ImpactStatus.INVALID
    height = np.full(x.shape[0], np.nan)
    height[finite] = ecef_to_geodetic(x[finite, :3])[2]
    below = finite & (height <= ground)
    status[below] = ImpactStatus.BELOW_GROUND
    return status, np.flatnonzero(finite & ~below)


def _finish(
    out: _Results, status: IntArray, t0: FloatArray, probability: float
) -> ImpactPrediction:
    major, minor, orientation = error_ellipse(out.covariance, probability)
    return ImpactPrediction(
        status=status,
        impact_time_s=t0 + out.time,
        impact_time_sigma_s=np.sqrt(np.maximum(out.time_variance, 0.0)),
        impact_ecef_m=out.ecef,
        impact_lat_deg=out.lat,
        impact_lon_deg=out.lon,
        covariance_en_m2=out.covariance,
        ellipse_semi_major_m=major,
        ellipse_semi_minor_m=minor,
        ellipse_orientation_deg=orientation,
    )


def _on_ground(
    position: FloatArray, ground: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Latitude, longitude (deg) and ECEF point (m) of positions moved onto the ground."""
    lat, lon, _ = ecef_to_geodetic(position)
    return lat, lon, geodetic_to_ecef(lat, lon, ground).reshape(-1, 3)


def _up(position: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Geodetic heights (m) and ellipsoid normals (ECEF unit vectors) at positions."""
    lat, lon, height = ecef_to_geodetic(position)
    la, lo = np.radians(lat), np.radians(lon)
    normal = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)
    return height, normal


def _project(flight: _Flight, east_north: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Impact covariance (east, north; m²) and time variance (s²) of a carried covariance.

    Along the impact velocity onto the ground plane: ``G = I − v n̂ᵀ/(n̂ᵀ v)`` on the
    position block, ``δt = −n̂ᵀ δp/(n̂ᵀ v)``.
    """
    assert flight.covariance is not None  # callers fly with a covariance
    position_covariance = flight.covariance[:, :3, :3]
    _, normal = _up(flight.state[:, :3])
    velocity = flight.state[:, 3:6]
    descent = np.einsum("di,di->d", normal, velocity)  # n̂ᵀv < 0 coming down
    G = np.eye(3) - velocity[:, :, None] * normal[:, None, :] / descent[:, None, None]
    A = east_north @ G
    covariance = symmetrize(A @ position_covariance @ np.swapaxes(A, -1, -2))
    time_variance = np.einsum("di,dij,dj->d", normal, position_covariance, normal) / descent**2
    return covariance, np.asarray(time_variance)


def _hermite(
    start: FloatArray, end: FloatArray, dt: FloatArray, s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Cubic Hermite position (m) and its derivative in ``s`` (m per step) at fractions ``s``.

    ``start`` and ``end`` are states ``(M, n)`` a step ``dt`` (M,) apart; ``s`` is ``(M, 1)``.
    """
    p0, p1 = start[:, :3], end[:, :3]
    v0, v1 = start[:, 3:6] * dt[:, None], end[:, 3:6] * dt[:, None]
    s2, s3 = s * s, s * s * s
    p = (
        (2 * s3 - 3 * s2 + 1) * p0
        + (s3 - 2 * s2 + s) * v0
        + (3 * s2 - 2 * s3) * p1
        + (s3 - s2) * v1
    )
    dp = (6 * s2 - 6 * s) * (p0 - p1) + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1
    return np.asarray(p), np.asarray(dp)


def _crossing(
    start: FloatArray, end: FloatArray, dt: FloatArray, ground: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Fraction ``s`` (M,) of each step where the height meets the ground, and the state there.

    Newton's method on the Hermite cubic of the step, from the secant of the heights; the
    slope ``dh/ds = n̂ · dp/ds`` uses the ellipsoid normal, the exact gradient of the
    geodetic height. Extra state components (``1/β``) are interpolated linearly.
    """
    g0 = ecef_to_geodetic(start[:, :3])[2] - ground
    g1 = ecef_to_geodetic(end[:, :3])[2] - ground
    denominator = g0 - g1
    s = np.clip(g0 / np.where(denominator != 0.0, denominator, 1.0), 0.0, 1.0)[:, None]
    for _ in range(_HERMITE_NEWTON_ITERATIONS):
        p, dp = _hermite(start, end, dt, s)
        height, normal = _up(p)
        slope = np.einsum("ij,ij->i", dp, normal)
        # A flat slope (grazing) leaves s where it is rather than jumping off the step.
        correction = (height - ground) / np.where(slope != 0.0, slope, np.inf)
        s = np.clip(s - correction[:, None], 0.0, 1.0)
    p, dp = _hermite(start, end, dt, s)
    rest = start[:, 6:] + s * (end[:, 6:] - start[:, 6:])
    state = np.concatenate([p, dp / dt[:, None], rest], axis=1)
    return s[:, 0], state


def _drag_free_height(model: Ballistic, state: FloatArray) -> FloatArray:
    """Height (m) above which each row's drag is below :data:`DRAG_FREE_ACCELERATION_M_S2`.

    ``½ρ0·e^(−h/H)·|v|²·|b| = a``  ⇔  ``h = H·ln(ρ0·|v|²·|b| / (2a))`` in the model's
    exponential atmosphere, at the row's current speed and ``1/β`` (−∞ without drag).
    """
    speed_squared = np.einsum("ij,ij->i", state[:, 3:6], state[:, 3:6])
    scale = model.sea_level_density_kg_m3 * speed_squared * np.abs(state[:, 6])
    with np.errstate(divide="ignore"):  # b = 0 or v = 0: no drag at any height
        return np.asarray(
            model.scale_height_m * np.log(scale / (2.0 * DRAG_FREE_ACCELERATION_M_S2))
        )


class _Steps(NamedTuple):
    """Steps that ended at or below the ground, kept for one batched crossing search."""

    rows: IntArray  # (K,) indices into the flown states
    start: FloatArray  # (K, n) states at the start of the step
    end: FloatArray  # (K, n) states at its end
    dt: FloatArray  # (K,) its length, s (negative for the backward step)
    t: FloatArray  # (K,) time of its start, s
    coarse: BoolArray  # (K,) whether it was a long midcourse step
    covariance: FloatArray  # (K, n, n) covariance carried to its start (empty if none)


def _fly_to_ground(
    x: FloatArray,
    ground: FloatArray,
    model: Ballistic,
    settings: _Integration,
    *,
    backward: bool = False,
    covariance: FloatArray | None = None,
    process_noise: bool = False,
) -> _Flight:
    """Fly ``M`` states ``(M, n)`` until their geodetic height comes down through ``ground``.

    Rows that start at or below the ground cross it in the past: with ``backward`` they are
    flown one ``step_s`` back, and if they were above the ground then their (negative)
    crossing time is found the same way; otherwise they do not land. With a ``covariance``
    ``(M, n, n)`` (not with ``backward``), it is carried along by the Jacobian of every step
    (plus ``Q`` with ``process_noise``), the last one ending at the crossing.
    """
    step_s, midcourse_step_s, horizon_s = settings
    m, n = x.shape
    carry = covariance is not None
    # One RK4 step of up to midcourse_step_s where the forces vary slowly (module notes).
    coarse_model = replace(model, max_step_s=midcourse_step_s)
    height = ecef_to_geodetic(x[:, :3])[2] - ground
    # The crossings are searched once, at the end, over all rows: one batch instead of a
    # small one after every step (the search is a few dozen array operations).
    pending: list[_Steps] = []

    if backward and not carry:
        below = np.flatnonzero(height <= 0.0)
        before = model.propagate(x[below], -step_s)
        was_above = ecef_to_geodetic(before[:, :3])[2] - ground[below] > 0.0
        rows = below[was_above]
        pending.append(
            _Steps(
                rows,
                x[rows],
                before[was_above],
                np.full(rows.size, -step_s),
                np.zeros(rows.size),
                np.zeros(rows.size, dtype=bool),
                np.empty((rows.size, 0, 0)),
            )
        )

    active = np.flatnonzero(height > 0.0)
    if model.compiled and not carry:
        # Without a covariance the rows are independent: the compiled kernel flies each one
        # to the ground with the steps of the loop below, which then has nothing left to do.
        pending.append(_fly_compiled(x[active], active, ground[active], model, settings))
        active = active[:0]
    state = x[active]
    g = height[active]
    surface = ground[active]
    t = np.zeros(active.size)
    carried = covariance[active] if covariance is not None else np.empty((active.size, 0, 0))
    # A sigma point with a negative 1/β (an early drag estimate) gains speed in dense air
    # and may overflow: it then never lands, which the caller reports; no warning needed.
    with np.errstate(over="ignore", invalid="ignore"):
        while active.size:
            if model.estimate_drag:
                altitude = g + surface
                limit = _drag_free_height(model, state)
                coarse = altitude > limit
                radius = np.linalg.norm(state[:, :3], axis=1)
                radial = np.einsum("ij,ij->i", state[:, 3:6], state[:, :3]) / radius
                # On the way down, end the long step near that height, not far below it.
                to_limit = (altitude - limit) / np.maximum(-radial, 1e-3)
                dt = np.where(coarse, np.clip(to_limit, step_s, midcourse_step_s), step_s)
            else:
                coarse = np.ones(active.size, dtype=bool)
                dt = np.full(active.size, midcourse_step_s)
            new = np.empty_like(state)
            for subset, group_model in ((coarse, coarse_model), (~coarse, model)):
                if subset.any():
                    new[subset] = group_model.propagate(state[subset], dt[subset])
            g_new = ecef_to_geodetic(new[:, :3])[2] - surface
            crossed = g_new <= 0.0
            hit = np.flatnonzero(crossed)
            if hit.size:
                pending.append(
                    _Steps(
                        active[hit],
                        state[hit],
                        new[hit],
                        dt[hit],
                        t[hit],
                        coarse[hit],
                        carried[hit],
                    )
                )
            t = t + dt
            keep = np.flatnonzero(~crossed & (t < horizon_s) & np.isfinite(g_new))
            if carry:
                carried = _carry(
                    carried[keep],
                    state[keep],
                    dt[keep],
                    coarse[keep],
                    model,
                    coarse_model,
                    process_noise,
                )
            active, state, g, surface, t = (
                active[keep],
                new[keep],
                g_new[keep],
                surface[keep],
                t[keep],
            )

    landed = np.zeros(m, dtype=bool)
    time = np.full(m, np.nan)
    final = np.full((m, n), np.nan)
    final_covariance = np.full((m, n, n), np.nan) if carry else None
    if pending:
        steps = _Steps(*(np.concatenate(parts) for parts in zip(*pending, strict=True)))
        s, at = _crossing(steps.start, steps.end, steps.dt, ground[steps.rows])
        tau = s * steps.dt
        arrival = steps.t + tau
        good = arrival <= horizon_s
        landed[steps.rows[good]] = True
        time[steps.rows[good]] = arrival[good]
        final[steps.rows[good]] = at[good]
        if final_covariance is not None:
            # The partial step from the start of the last step to the crossing.
            moved = _carry(
                steps.covariance, steps.start, tau, steps.coarse, model, coarse_model, process_noise
            )
            final_covariance[steps.rows[good]] = symmetrize(moved[good])
    return _Flight(landed, time, final, final_covariance)


def _fly_compiled(
    x: FloatArray, rows: IntArray, ground: FloatArray, model: Ballistic, settings: _Integration
) -> _Steps:
    """The forward loop of :func:`_fly_to_ground` without a covariance, compiled.

    ``x`` ``(K, n)`` are states above their ``ground`` ``(K,)``, rows ``rows`` of the flight.
    """
    flown = fly_to_ground(
        x,
        ground,
        step_s=settings.step_s,
        midcourse_step_s=settings.midcourse_step_s,
        horizon_s=settings.horizon_s,
        fine_count=model.sub_steps(np.array([settings.step_s])),
        drag=model.drag_applies,
        drag_free_acceleration=DRAG_FREE_ACCELERATION_M_S2,
        constants=model.constants,
    )
    hit = np.flatnonzero(flown.crossed)
    return _Steps(
        rows[hit],
        flown.start[hit],
        flown.end[hit],
        flown.dt[hit],
        flown.t[hit],
        flown.coarse[hit],
        np.empty((hit.size, 0, 0)),
    )


def _carry(
    covariance: FloatArray,
    state: FloatArray,
    dt: FloatArray,
    coarse: BoolArray,
    model: Ballistic,
    coarse_model: Ballistic,
    process_noise: bool,
) -> FloatArray:
    """``F P Fᵀ (+ Q)`` over each row's step ``dt`` from ``state``, shape ``(K, n, n)``.

    Each row's Jacobian comes from the model that flew it (long or short steps).
    """
    out = np.empty_like(covariance)
    for subset, group_model in ((coarse, coarse_model), (~coarse, model)):
        if subset.any():
            F = group_model.jacobian(state[subset], dt[subset])
            moved = F @ covariance[subset] @ np.swapaxes(F, -1, -2)
            if process_noise:
                moved = moved + group_model.process_noise(state[subset], dt[subset])
            out[subset] = moved
    return out


class LaunchEstimate(NamedTuple):
    """Where and when ballistic tracks left the ground, flown back (:func:`estimate_launch`)."""

    launch_time_s: FloatArray
    """Estimated launch time, s since the epoch (NaN: the track did not reach the ground
    within the horizon)."""
    launch_lat_deg: FloatArray
    """Estimated launch point latitude, degrees."""
    launch_lon_deg: FloatArray
    """Estimated launch point longitude, degrees."""


def estimate_launch(
    x: FloatArray,
    model: Ballistic,
    *,
    time_s: npt.ArrayLike,
    step_s: float = 5.0,
    horizon_s: float = 1800.0,
) -> LaunchEstimate:
    """Fly ballistic track states backward to the ground: the notional launch point and time.

    The states are propagated backward in time with ``model`` (drag and process noise
    off) in steps of ``step_s`` until their geodetic height goes below zero, and the
    crossing is interpolated linearly in height within the last step.

    The flight is taken as unpowered all the way down, so the boost is flown as if it were
    a coast: a coasting body falls back from the burnout state in less time than the motor
    took to climb there, so the launch time comes out late by a good part of the boost
    (about 24 s of a 40 s boost for ``test-duo``'s short-range missiles), while the launch
    point lands within a few kilometres (3 km there) — a warning-quality launch area. Tracks
    still in boost give poorer estimates than tracks in midcourse.

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Track states, ECEF (m, m/s[, m²/kg]); ``n`` = ``model.state_dim``.
    model : Ballistic
        The ballistic model (its gravity and Earth rotation are used; drag is turned off).
    time_s : float or array_like, shape (N,)
        Time of the states, s since the epoch.
    step_s, horizon_s : float
        Backward step and how far back to look, s (> 0).

    Returns
    -------
    LaunchEstimate
    """
    if not (step_s > 0.0 and horizon_s > 0.0):
        raise ConfigurationError("estimate_launch: step_s and horizon_s must be > 0")
    states = np.asarray(x, float)
    n = states.shape[0]
    times = np.broadcast_to(np.asarray(time_s, float), (n,))
    coast = replace(model, estimate_drag=False, acceleration_psd_m2_s3=0.0)
    if coast.state_dim != states.shape[1]:
        coast = replace(coast, estimate_drag=states.shape[1] == 7)
    launch_time = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    current = states.copy()
    height = ecef_to_geodetic(current[:, :3])[2]
    open_rows = np.flatnonzero(height > 0.0)
    elapsed = 0.0
    while open_rows.size and elapsed < horizon_s:
        before = coast.propagate(current[open_rows], -step_s)
        h0 = height[open_rows]
        h1 = ecef_to_geodetic(before[:, :3])[2]
        down = h1 <= 0.0
        if down.any():
            rows = open_rows[down]
            fraction = h0[down] / (h0[down] - h1[down])
            point = current[rows, :3] + fraction[:, None] * (before[down, :3] - current[rows, :3])
            launch_time[rows] = times[rows] - elapsed - fraction * step_s
            la, lo, _ = ecef_to_geodetic(point)
            lat[rows], lon[rows] = la, lo
        current[open_rows] = before
        height[open_rows] = h1
        open_rows = open_rows[~down]
        elapsed += step_s
    return LaunchEstimate(launch_time, lat, lon)
