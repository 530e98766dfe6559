"""Ballistic missiles: boost guidance, batched flight integration and the trajectory solver.

A missile is flown in three regimes, all integrated in ECEF by
:func:`~iamd.world.dynamics.rk4_step` on an ``(N, 6)`` array that holds every missile being
flown at once (each row with its own step length and clock):

1. **Vertical rise.** Thrust along the local (geocentric) vertical for a few seconds
   (:func:`vertical_rise_s`), as missiles leave the launcher.
2. **Guided boost.** Constant thrust acceleration ``a_T = v_bo/T + g0`` (``v_bo`` the spec's
   full burnout speed, ``T`` its burn time: enough to reach ``v_bo`` even climbing
   vertically), steered along the *velocity to be gained* ``v_g = v_req(r) − v`` (Battin,
   *An Introduction to the Mathematics and Methods of Astrodynamics*, rev. ed., §14.8),
   where ``v_req`` is the vacuum Kepler velocity that would carry the missile from where it
   is to its guidance aim point on the path its ``loft`` asks for (:func:`required_velocity`).
   The motor is cut off when the speed reaches ``|v_req|`` (found inside the step by regula
   falsi on re-integrated partial steps) or after ``T`` seconds of burning. Drag is
   neglected while the motor burns: the booster is far denser than the re-entry vehicle
   whose ballistic coefficient the spec gives, and its drag loss is part of the notional
   thrust.
3. **Free flight.** Gravity with J2, Coriolis and centrifugal terms and exponential-atmosphere
   drag with the spec's ballistic coefficient, until the height above the ellipsoid comes
   down through the aim point's height (impact, found inside the step on the Hermite cubic
   of the step).

The Kepler law ignores drag, J2, the boost's own path and the Earth's rotation, so a missile
steered at its target lands kilometres (for long flights hundreds of kilometres) away.
:func:`solve_ballistic` therefore moves each missile's *guidance aim point* with a batched
quasi-Newton iteration (Broyden's method with step halving) until the flown impact point is
within ``tolerance_m`` of the real aim point. This is the aim-point offset of real
ballistic-missile guidance, and it keeps the trajectory shape (minimum energy, lofted,
depressed) defined by closed forms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.ids import ThreatId
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo.constants import EARTH_RADIUS_MEAN_M, STANDARD_GRAVITY_M_S2
from iamd.geo.frames import geodetic_to_ecef
from iamd.world.dynamics import Dynamics, Thrust, rk4_step
from iamd.world.kepler import flight_path_angle, minimum_energy, speed_parameter
from iamd.world.knots import KnotTable
from iamd.world.reach import max_range_m

MIN_RANGE_M = 20_000.0
"""Shortest ground range the solver accepts, m: below it the azimuth from the launch point is
ill-conditioned and a guided boost makes no sense."""

TERMINAL_ALTITUDE_M = 100_000.0
"""A descending missile is in the terminal phase below this height, m (notional; the edge of
the sensible atmosphere, where endo-atmospheric interceptors take over)."""

ATMOSPHERE_CEILING_M = 120_000.0
"""Above this height drag is negligible (ρ < 10⁻⁷ kg/m³) and free flight takes longer steps, m."""

MIDCOURSE_STEP_S = 10.0
"""Longest integration step above :data:`ATMOSPHERE_CEILING_M`, s. RK4 on a Kepler arc with
this step errs by micrometres per step, and Hermite interpolation between such knots by
less than a millimetre."""

MAX_FLIGHT_S = 4.0 * 3600.0
"""A flight that has not come down after this time counts as a failure (orbit or escape), s."""

MISS_LIMIT_M = 100.0
"""Largest miss distance the solver may leave; more raises :class:`ConfigurationError`, m."""

VERTICAL_RISE_FRACTION = 0.1
"""Longest vertical rise, as a fraction of the burn time."""

GUIDANCE_BLEND = 0.05
"""Share of the required velocity added to the velocity to be gained when steering: keeps the
thrust direction smooth as ``v_g`` vanishes near cut-off (see :func:`_steering`)."""

CUTOFF_ITERATIONS = 8
"""Regula falsi iterations that place the thrust cut-off inside its step (to ~10⁻⁹ m/s)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BallisticThreatSpec:
    """A ballistic missile: where it is launched from, where it aims, and its performance.

    Parameters
    ----------
    threat_id : ThreatId
        Unique name of the threat.
    launch_lat_deg, launch_lon_deg : float
        Geodetic latitude and longitude of the launch point, degrees.
    launch_alt_m : float
        Launch height above the WGS-84 ellipsoid, m.
    aim_lat_deg, aim_lon_deg : float
        Geodetic latitude and longitude of the aim point, degrees.
    aim_alt_m : float
        Aim height above the WGS-84 ellipsoid, m; the missile impacts when it descends
        through this height.
    launch_time_s : float
        Launch time, s since the scenario epoch.
    burnout_speed_mps : float
        Full-energy burnout speed relative to the Earth (ECEF), m/s
        (see :func:`iamd.world.reach.class_burnout_speed_mps`).
    burn_time_s : float
        Longest motor burn, s; a full-energy boost ends close to it, a shorter shot earlier.
    loft : float
        Trajectory shape in [−1, 1] (see :func:`commanded_burnout`): 0 minimum energy, +1 the
        lofted path at full burnout speed, −1 the depressed path at full burnout speed (but no
        flatter than half the minimum-energy flight-path angle); in between, the burnout
        kinetic energy is interpolated linearly.
    rcs_m2 : float
        Mean radar cross section, m².
    ballistic_coefficient_kg_m2 : float
        ``β = m/(C_D·A)`` of the re-entering body, kg/m², for drag after burnout.
    """

    threat_id: ThreatId
    launch_lat_deg: float
    launch_lon_deg: float
    launch_alt_m: float = 0.0
    aim_lat_deg: float
    aim_lon_deg: float
    aim_alt_m: float = 0.0
    launch_time_s: float
    burnout_speed_mps: float
    burn_time_s: float = 60.0
    loft: float = 0.0
    rcs_m2: float = 0.5
    ballistic_coefficient_kg_m2: float = 10_000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BallisticFlight:
    """The flown trajectories of N missiles (one row each); times in s since the epoch.

    Attributes
    ----------
    launch_time_s, burnout_time_s, impact_time_s : ndarray, shape (N,)
        Launch, thrust cut-off and impact times, s (impact NaN if it never came down).
    burnout_speed_mps : ndarray, shape (N,)
        Speed relative to the Earth at cut-off, m/s.
    impact_ecef_m, impact_velocity_ecef_mps : ndarray, shape (N, 3)
        Impact position (m) and velocity (m/s), ECEF.
    apogee_time_s, apogee_height_m, terminal_time_s : ndarray, shape (N,)
        Time and height (above the ellipsoid, m) of the highest point, and start of the
        terminal phase (descending through :data:`TERMINAL_ALTITUDE_M`, or the apogee if it
        is lower); NaN unless the knots were recorded.
    knots : KnotTable or None
        The recorded trajectories, if asked for.
    """

    launch_time_s: FloatArray
    burnout_time_s: FloatArray
    burnout_speed_mps: FloatArray
    impact_time_s: FloatArray
    impact_ecef_m: FloatArray
    impact_velocity_ecef_mps: FloatArray
    apogee_time_s: FloatArray
    apogee_height_m: FloatArray
    terminal_time_s: FloatArray
    knots: KnotTable | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BallisticSolution:
    """Solved trajectories: the flight, the guidance aim points and the remaining misses.

    Attributes
    ----------
    flight : BallisticFlight
        The trajectories flown with the solved guidance aim points (knots recorded).
    guidance_aim_ecef : ndarray, shape (N, 3)
        Unit vectors (ECEF) of the guidance aim points the boost steered for.
    miss_m : ndarray, shape (N,)
        Distance from impact to aim point, m.
    iterations : int
        Solver iterations used (flights of the batch, not counting the final recorded one).
    """

    flight: BallisticFlight
    guidance_aim_ecef: FloatArray
    miss_m: FloatArray
    iterations: int


def _rows(a: FloatArray) -> FloatArray:
    return np.asarray(np.sqrt(np.einsum("ij,ij->i", a, a)))


def _unit(a: FloatArray) -> FloatArray:
    return np.asarray(a / _rows(a)[:, None])


def commanded_burnout(
    nu_full: FloatArray, radius_ratio: FloatArray, range_angle_rad: FloatArray, loft: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Speed parameter and flight-path angle that the loft rule asks for.

    Parameters
    ----------
    nu_full : ndarray, shape (N,)
        ``ν_full = v_bo²·r1/μ`` of the full burnout speed at the current radius ``r1``.
    radius_ratio : ndarray, shape (N,)
        ``ρ = r1/r2``, current radius over aim radius.
    range_angle_rad : ndarray, shape (N,)
        Range angle to the aim point, rad.
    loft : ndarray, shape (N,)
        Loft parameter in [−1, 1].

    Returns
    -------
    nu : ndarray, shape (N,)
        ``ν = v²·r1/μ`` to fly.
    gamma_rad : ndarray, shape (N,)
        Flight-path angle to fly, rad.

    Notes
    -----
    The definition of ``loft``, with ``ν_min`` and ``γ*`` of the minimum-energy path
    (:func:`iamd.world.kepler.minimum_energy`):

    * ``ν = ν_min + |loft|·(ν_cap − ν_min)`` (kinetic energy interpolated linearly),
    * ``ν_cap = ν_full`` for ``loft > 0`` (the lofted path at full burnout speed);
    * ``ν_cap = min(ν_full, ν(γ*/2))`` for ``loft < 0``: the depressed path at full speed,
      but never flatter than half the minimum-energy angle, because flatter boosts would fly
      most of their range inside the dense atmosphere (or overfly a short-range aim point
      while still burning), where this notional model stops meaning anything;
    * ``γ`` is the lofted root for ``loft > 0`` and the depressed one for ``loft < 0``.

    If the aim is beyond the full-energy reach (``ν_min > ν_full``) the minimum-energy path is
    commanded; the motor then burns out before reaching it and the shot falls short.
    """
    nu_min, gamma_star = minimum_energy(radius_ratio, range_angle_rad)
    lofted = loft > 0.0
    nu_flattest = speed_parameter(radius_ratio, range_angle_rad, 0.5 * gamma_star)
    cap = np.where(lofted, nu_full, np.minimum(nu_full, nu_flattest))
    nu = nu_min + np.abs(loft) * np.maximum(cap - nu_min, 0.0)
    return np.asarray(nu), flight_path_angle(nu, radius_ratio, range_angle_rad, lofted)


def required_velocity(
    position_ecef_m: FloatArray,
    aim_unit: FloatArray,
    aim_radius_m: FloatArray,
    full_speed_mps: FloatArray,
    loft: FloatArray,
    mu_m3_s2: float,
) -> FloatArray:
    """Vacuum Kepler velocity from the current position to the aim, with the loft rule.

    Parameters
    ----------
    position_ecef_m : ndarray, shape (N, 3)
        Current positions, ECEF, m.
    aim_unit : ndarray, shape (N, 3)
        Unit vectors towards the (guidance) aim points, ECEF.
    aim_radius_m : ndarray, shape (N,)
        Distance of the aim points from the Earth's centre, m.
    full_speed_mps : ndarray, shape (N,)
        Full-energy burnout speed, m/s.
    loft : ndarray, shape (N,)
        Loft parameter in [−1, 1] (see :func:`commanded_burnout`).
    mu_m3_s2 : float
        Gravitational parameter, m³/s².

    Returns
    -------
    ndarray, shape (N, 3)
        Required velocity in ECEF axes, m/s, in the plane of the position and the aim point.
        The ECEF frame is treated as inertial here; the solver's aim-point offset absorbs
        the error.
    """
    r1 = _rows(position_ecef_m)
    up = position_ecef_m / r1[:, None]
    normal = np.cross(up, aim_unit)
    sin_phi = _rows(normal)
    phi = np.arctan2(sin_phi, np.einsum("ij,ij->i", up, aim_unit))
    along = np.cross(normal, up) / np.maximum(sin_phi, 1e-12)[:, None]
    nu_full = full_speed_mps**2 * r1 / mu_m3_s2
    nu, gamma = commanded_burnout(nu_full, r1 / aim_radius_m, phi, loft)
    speed = np.sqrt(nu * mu_m3_s2 / r1)
    return np.asarray(
        speed[:, None] * (np.cos(gamma)[:, None] * along + np.sin(gamma)[:, None] * up)
    )


def vertical_rise_s(
    reference_speed_mps: FloatArray, thrust_mps2: FloatArray, burn_time_s: FloatArray, step_s: float
) -> FloatArray:
    """Duration of the vertical rise, s: a whole number of steps.

    A quarter of the time the motor needs to give the reference (launch-point required)
    speed, at most :data:`VERTICAL_RISE_FRACTION` of the burn time, rounded to whole steps so
    that the pitch-over starts on a step boundary. It depends only on the spec, never on
    the solver's iterate, so that the flight stays a smooth function of the aim point.
    """
    raw = np.minimum(0.25 * reference_speed_mps / thrust_mps2, VERTICAL_RISE_FRACTION * burn_time_s)
    return np.asarray(step_s * np.floor(raw / step_s + 0.5))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Missiles:
    """Per-missile arrays prepared once from the specs (all ECEF, SI)."""

    launch_ecef: FloatArray
    launch_time: FloatArray
    up: FloatArray
    north: FloatArray
    east: FloatArray
    aim_ecef: FloatArray
    aim_radius: FloatArray
    impact_height: FloatArray
    full_speed: FloatArray
    burn_time: FloatArray
    thrust: FloatArray
    loft: FloatArray
    inverse_beta: FloatArray
    vertical_time: FloatArray
    target_ground: FloatArray

    def take(self, rows: IntArray) -> _Missiles:
        """The same arrays restricted to some rows."""
        return _Missiles(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def _ground(up: FloatArray, north: FloatArray, east: FloatArray, points: FloatArray) -> FloatArray:
    """Points in the azimuthal equidistant projection about the launch points, m.

    Returns ``R·Ψ·(cos α, sin α)`` (north, east) for range angle ``Ψ`` and azimuth ``α`` on
    the mean-radius sphere: Cartesian, so the solver may move an aim point across the launch
    point (a near-vertical lofted shot that the Earth's rotation carries away) without the
    singularity of polar coordinates.
    """
    u = _unit(points)
    horizontal = np.stack([np.einsum("ij,ij->i", north, u), np.einsum("ij,ij->i", east, u)], -1)
    sin_range = _rows(horizontal)
    psi = np.arctan2(sin_range, np.einsum("ij,ij->i", up, u))
    factor = EARTH_RADIUS_MEAN_M * psi / np.maximum(sin_range, 1e-15)
    return np.asarray(horizontal * factor[:, None])


def _from_ground(m: _Missiles, ground: FloatArray) -> FloatArray:
    """Unit vectors (ECEF) of points given in the launch-centred projection of :func:`_ground`."""
    distance = _rows(ground)
    psi = (distance / EARTH_RADIUS_MEAN_M)[:, None]
    direction = ground / np.maximum(distance, 1e-9)[:, None]
    horizontal = direction[:, 0:1] * m.north + direction[:, 1:2] * m.east
    return np.asarray(np.cos(psi) * m.up + np.sin(psi) * horizontal)


def _prepare(specs: Sequence[BallisticThreatSpec], dynamics: Dynamics, step_s: float) -> _Missiles:
    """Check the specs (every value finite and in range) and lay them out as arrays."""
    problems = []
    for spec in specs:
        checks = {
            "burnout_speed_mps": spec.burnout_speed_mps > 0.0,
            "burn_time_s": spec.burn_time_s > 0.0,
            "ballistic_coefficient_kg_m2": spec.ballistic_coefficient_kg_m2 > 0.0,
            "loft": -1.0 <= spec.loft <= 1.0,
            "rcs_m2": spec.rcs_m2 > 0.0,
            "launch_lat_deg": abs(spec.launch_lat_deg) <= 90.0,
            "aim_lat_deg": abs(spec.aim_lat_deg) <= 90.0,
            "launch_lon_deg": True,
            "aim_lon_deg": True,
            "launch_alt_m": True,
            "aim_alt_m": True,
            "launch_time_s": True,
        }
        for name, ok in checks.items():
            if not ok or not math.isfinite(getattr(spec, name)):
                problems.append(f"{spec.threat_id}: {name} out of range ({getattr(spec, name)})")
    if problems:
        raise ConfigurationError("invalid ballistic threats: " + "; ".join(problems))

    def column(name: str) -> FloatArray:
        return np.array([getattr(spec, name) for spec in specs], float)

    lat, lon = column("launch_lat_deg"), column("launch_lon_deg")
    launch = geodetic_to_ecef(lat, lon, column("launch_alt_m")).reshape(-1, 3)
    aim = geodetic_to_ecef(
        column("aim_lat_deg"), column("aim_lon_deg"), column("aim_alt_m")
    ).reshape(-1, 3)
    up = _unit(launch)
    # Spherical north and east at the launch point (axes of the solver's projection).
    east = np.cross(np.array([0.0, 0.0, 1.0]), up)
    polar_launch = _rows(east) < 1e-9
    east[polar_launch] = np.array([0.0, 1.0, 0.0])
    east = _unit(east)
    north = np.cross(up, east)
    full_speed = column("burnout_speed_mps")
    burn_time = column("burn_time_s")
    thrust = full_speed / burn_time + STANDARD_GRAVITY_M_S2
    loft = column("loft")
    aim_radius = _rows(aim)
    reference = _rows(
        required_velocity(launch, _unit(aim), aim_radius, full_speed, loft, dynamics.mu_m3_s2)
    )
    missiles = _Missiles(
        launch_ecef=launch,
        launch_time=column("launch_time_s"),
        up=up,
        north=north,
        east=east,
        aim_ecef=aim,
        aim_radius=aim_radius,
        impact_height=dynamics.height_m(aim),
        full_speed=full_speed,
        burn_time=burn_time,
        thrust=thrust,
        loft=loft,
        inverse_beta=1.0 / column("ballistic_coefficient_kg_m2"),
        vertical_time=vertical_rise_s(reference, thrust, burn_time, step_s),
        target_ground=_ground(up, north, east, aim),
    )
    ground_range = _rows(missiles.target_ground)
    short = np.flatnonzero(ground_range < MIN_RANGE_M)
    if short.size:
        names = ", ".join(
            f"{specs[i].threat_id} ({ground_range[i] / 1e3:.1f} km)" for i in short[:10]
        )
        raise ConfigurationError(
            f"ballistic threats aimed closer than the minimum range of "
            f"{MIN_RANGE_M / 1e3:.0f} km: {names}"
        )
    return missiles


def _impact_in_step(
    dynamics: Dynamics,
    start: FloatArray,
    end: FloatArray,
    dt: FloatArray,
    surface_height: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Fraction of the step and Hermite state where the height crosses the surface."""
    p0, p1 = start[:, :3], end[:, :3]
    v0, v1 = start[:, 3:] * dt[:, None], end[:, 3:] * dt[:, None]
    g0 = dynamics.height_m(p0) - surface_height
    g1 = dynamics.height_m(p1) - surface_height
    s = np.clip(g0 / (g0 - g1), 0.0, 1.0)[:, None]
    for _ in range(4):
        s2, s3 = s * s, s * s * s
        p = (
            (2 * s3 - 3 * s2 + 1) * p0
            + (s3 - 2 * s2 + s) * v0
            + (3 * s2 - 2 * s3) * p1
            + (s3 - s2) * v1
        )
        dp = (6 * s2 - 6 * s) * (p0 - p1) + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1
        g = dynamics.height_m(p) - surface_height
        slope = np.einsum("ij,ij->i", dp, _unit(p))
        s = np.clip(s - (g / np.where(slope < 0, slope, -1.0))[:, None], 0.0, 1.0)
    s2, s3 = s * s, s * s * s
    p = (
        (2 * s3 - 3 * s2 + 1) * p0
        + (s3 - 2 * s2 + s) * v0
        + (3 * s2 - 2 * s3) * p1
        + (s3 - s2) * v1
    )
    dp = (6 * s2 - 6 * s) * (p0 - p1) + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1
    return s[:, 0], np.concatenate([p, dp / dt[:, None]], axis=1)


def _steering(
    p: _Missiles, aim: FloatArray, rows: IntArray, vertical: BoolArray, mu_m3_s2: float
) -> Thrust:
    """The thrust law of some rows: radial while rising vertically, else along ``v_g``."""

    def thrust(states: FloatArray) -> FloatArray:
        up = _unit(states[:, :3])
        required = required_velocity(
            states[:, :3],
            aim[rows],
            p.aim_radius[rows],
            p.full_speed[rows],
            p.loft[rows],
            mu_m3_s2,
        )
        # Velocity to be gained, plus a small share of the required velocity itself: as v_g
        # shrinks to nothing near cut-off its direction would swing wildly; the blend makes
        # the thrust point along v_req there instead, smoothly.
        gained = required - states[:, 3:] + GUIDANCE_BLEND * required
        direction = np.where(vertical[:, None], up, _unit(gained))
        return np.asarray(p.thrust[rows, None] * direction)

    return thrust


def _speed_short(
    p: _Missiles, aim: FloatArray, rows: IntArray, states: FloatArray, mu_m3_s2: float
) -> FloatArray:
    """Speed still to gain before cut-off, m/s (commanded speed minus current speed)."""
    required = required_velocity(
        states[:, :3], aim[rows], p.aim_radius[rows], p.full_speed[rows], p.loft[rows], mu_m3_s2
    )
    return _rows(required) - _rows(states[:, 3:])


def _fly(
    m: _Missiles, aim_unit: FloatArray, dynamics: Dynamics, step_s: float, record: bool
) -> BallisticFlight:
    """Integrate every missile from launch to impact at once (rows step independently)."""
    n = m.launch_ecef.shape[0]
    mu = dynamics.mu_m3_s2
    burnout_t = np.full(n, np.nan)
    burnout_speed = np.full(n, np.nan)
    impact_t = np.full(n, np.nan)
    impact_state = np.full((n, 6), np.nan)
    records: list[tuple[IntArray, FloatArray, FloatArray]] = []

    # Compact working set: the rows still flying, and their parameters.
    active = np.arange(n)
    p, aim = m, aim_unit
    state = np.zeros((n, 6))
    state[:, :3] = m.launch_ecef
    t = np.zeros(n)
    boosting = np.ones(n, bool)
    if record:
        records.append((active.copy(), t.copy(), state.copy()))
    while active.size:
        k = active.size
        dt = np.full(k, step_s)
        new = np.empty_like(state)
        boost = np.flatnonzero(boosting)
        coast = np.flatnonzero(~boosting)
        done = np.zeros(k, bool)
        if boost.size:
            vertical = t[boost] < p.vertical_time[boost] - 1e-9
            # Steps end exactly at the end of the vertical rise and at the end of the burn.
            limit = np.where(vertical, p.vertical_time[boost], p.burn_time[boost])
            dt[boost] = np.clip(limit - t[boost], 0.0, step_s)
            law = _steering(p, aim, boost, vertical, mu)
            no_drag = np.zeros(boost.size)
            new[boost] = rk4_step(
                dynamics, state[boost], dt[boost], inverse_beta_m2_kg=no_drag, thrust_mps2=law
            )
            short = np.where(vertical, np.inf, _speed_short(p, aim, boost, new[boost], mu))
            reached = short <= 0.0
            exhausted = ~vertical & (t[boost] + dt[boost] >= p.burn_time[boost] - 1e-9)
            if reached.any():
                # The cut-off lies inside the step: find it by the Illinois variant of regula
                # falsi on re-integrated partial steps, so that the burnout speed is exact and
                # the flight a smooth function of the aim point.
                rows = boost[reached]
                sub_law = _steering(p, aim, rows, np.zeros(rows.size, bool), mu)
                lo, hi = np.zeros(rows.size), dt[rows].copy()
                f_lo = np.maximum(_speed_short(p, aim, rows, state[rows], mu), 0.0)
                f_hi = short[reached]
                side = np.zeros(rows.size)
                tau, trial = hi, new[rows]
                for _ in range(CUTOFF_ITERATIONS):
                    tau = lo + (hi - lo) * f_lo / np.where(f_lo > f_hi, f_lo - f_hi, 1.0)
                    trial = rk4_step(
                        dynamics,
                        state[rows],
                        tau,
                        inverse_beta_m2_kg=no_drag[reached],
                        thrust_mps2=sub_law,
                    )
                    f_tau = _speed_short(p, aim, rows, trial, mu)
                    below = f_tau <= 0.0
                    hi, f_hi = np.where(below, tau, hi), np.where(below, f_tau, f_hi)
                    lo, f_lo = np.where(below, lo, tau), np.where(below, f_lo, f_tau)
                    # Illinois: halve the stale end's value when the same end moves twice.
                    f_lo = np.where(below & (side > 0), 0.5 * f_lo, f_lo)
                    f_hi = np.where(~below & (side < 0), 0.5 * f_hi, f_hi)
                    side = np.where(below, 1.0, -1.0)
                new[rows] = trial
                dt[rows] = tau
            cut = boost[reached | exhausted]
            boosting[cut] = False
            burnout_t[active[cut]] = t[cut] + dt[cut]
            burnout_speed[active[cut]] = _rows(new[cut, 3:])
        if coast.size:
            height = dynamics.height_m(state[coast, :3])
            climb = np.einsum("ij,ij->i", state[coast, 3:], _unit(state[coast, :3]))
            # Above the atmosphere step long, but never far past the ceiling on the way down.
            to_ceiling = (height - ATMOSPHERE_CEILING_M) / np.maximum(-climb, 1e-3)
            long_step = np.clip(to_ceiling, step_s, max(MIDCOURSE_STEP_S, step_s))
            dt[coast] = np.where(height > ATMOSPHERE_CEILING_M, long_step, step_s)
            new[coast] = rk4_step(
                dynamics, state[coast], dt[coast], inverse_beta_m2_kg=p.inverse_beta[coast]
            )
        # Impact: coming down through the aim point's height, in free flight or (a failed
        # shot) while still boosting.
        g0 = dynamics.height_m(state[:, :3]) - p.impact_height
        g1 = dynamics.height_m(new[:, :3]) - p.impact_height
        hit = np.flatnonzero((g0 > 0.0) & (g1 <= 0.0))
        if hit.size:
            fraction, at_impact = _impact_in_step(
                dynamics, state[hit], new[hit], dt[hit], p.impact_height[hit]
            )
            new[hit] = at_impact
            dt[hit] *= fraction
            impact_t[active[hit]] = t[hit] + dt[hit]
            impact_state[active[hit]] = at_impact
            done[hit] = True
            # A shot that comes down before its cut-off ends its boost at the impact.
            ids = active[hit]
            unburnt = ~(burnout_t[ids] <= impact_t[ids])
            burnout_t[ids[unburnt]] = impact_t[ids[unburnt]]
            burnout_speed[ids[unburnt]] = _rows(at_impact[unburnt, 3:])
        t = t + dt
        done |= t > MAX_FLIGHT_S
        state = new
        if record:
            records.append((active.copy(), t.copy(), state.copy()))
        if done.any():
            keep = np.flatnonzero(~done)
            active, state, t, boosting = active[keep], state[keep], t[keep], boosting[keep]
            p, aim = p.take(keep), aim[keep]

    launch_time = m.launch_time
    apogee_t = np.full(n, np.nan)
    apogee_h = np.full(n, np.nan)
    terminal_t = np.full(n, np.nan)
    knots = None
    if record:
        rows = np.concatenate([r[0] for r in records])
        times = np.concatenate([r[1] for r in records]) + launch_time[rows]
        states = np.concatenate([r[2] for r in records])
        knots = KnotTable(rows, times, states[:, :3], states[:, 3:], n)
        apogee_t, apogee_h, terminal_t = _apogee_and_terminal(
            knots, dynamics, burnout_t + launch_time
        )
    return BallisticFlight(
        launch_time_s=launch_time.copy(),
        burnout_time_s=burnout_t + launch_time,
        burnout_speed_mps=burnout_speed,
        impact_time_s=impact_t + launch_time,
        impact_ecef_m=impact_state[:, :3],
        impact_velocity_ecef_mps=impact_state[:, 3:],
        apogee_time_s=apogee_t,
        apogee_height_m=apogee_h,
        terminal_time_s=terminal_t,
        knots=knots,
    )


def _apogee_and_terminal(
    knots: KnotTable, dynamics: Dynamics, burnout_time_s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Apogee time and height, and start of the terminal phase, from the recorded knots."""
    n = knots.n_rows
    rows, times = knots.rows, knots.time_s
    height = dynamics.height_m(knots.position_ecef_m)
    climb = np.einsum("ij,ij->i", knots.velocity_ecef_mps, _unit(knots.position_ecef_m))
    same = rows[:-1] == rows[1:]
    after_burnout = times[:-1] >= burnout_time_s[rows[:-1]]
    # Apogee: the climb rate changes sign from + to − (linear interpolation of the rate).
    top = np.flatnonzero(same & after_burnout & (climb[:-1] > 0.0) & (climb[1:] <= 0.0))
    apogee_t = np.full(n, np.nan)
    fraction = climb[top] / (climb[top] - climb[top + 1])
    apogee_t[rows[top]] = times[top] + fraction * (times[top + 1] - times[top])
    # Rows that never climb after burnout (cut-off past the apogee): apogee at burnout.
    missing = np.isnan(apogee_t)
    apogee_t[missing] = burnout_time_s[missing]
    apogee_h = np.full(n, np.nan)
    if n:
        position, _ = knots.evaluate(apogee_t)
        apogee_h = dynamics.height_m(position)
    # Terminal phase: descending through TERMINAL_ALTITUDE_M after the apogee.
    down = np.flatnonzero(
        same & (height[:-1] >= TERMINAL_ALTITUDE_M) & (height[1:] < TERMINAL_ALTITUDE_M)
    )
    terminal_t = np.full(n, -np.inf)
    fraction = (height[down] - TERMINAL_ALTITUDE_M) / (height[down] - height[down + 1])
    np.maximum.at(terminal_t, rows[down], times[down] + fraction * (times[down + 1] - times[down]))
    low = apogee_h < TERMINAL_ALTITUDE_M
    terminal_t = np.where(low | ~np.isfinite(terminal_t), apogee_t, terminal_t)
    return apogee_t, apogee_h, terminal_t


def fly_ballistic(
    specs: Sequence[BallisticThreatSpec],
    guidance_aim_ecef: FloatArray | None = None,
    *,
    dynamics: Dynamics | None = None,
    step_s: float = 1.0,
    record: bool = True,
) -> BallisticFlight:
    """Fly missiles steering for given guidance aim points (no solving).

    Parameters
    ----------
    specs : sequence of BallisticThreatSpec
        The missiles (N).
    guidance_aim_ecef : ndarray, shape (N, 3), optional
        Directions (ECEF, any length) of the points the boost steers for; the specs' aim
        points by default, which misses by the effects of drag, J2 and rotation.
    dynamics : Dynamics, optional
        Equations of motion; the full model by default.
    step_s : float
        Integration step in the boost and in the atmosphere, s.
    record : bool
        Whether to keep the knots (and compute apogee and terminal phase).

    Returns
    -------
    BallisticFlight
    """
    dynamics = Dynamics() if dynamics is None else dynamics
    m = _prepare(specs, dynamics, step_s)
    aim = m.aim_ecef if guidance_aim_ecef is None else np.asarray(guidance_aim_ecef, float)
    return _fly(m, _unit(aim.reshape(-1, 3)), dynamics, step_s, record)


def solve_ballistic(
    specs: Sequence[BallisticThreatSpec],
    *,
    dynamics: Dynamics | None = None,
    step_s: float = 1.0,
    tolerance_m: float = 1.0,
    max_iterations: int = 40,
    check: bool = True,
) -> BallisticSolution:
    """Find each missile's guidance aim point so that it impacts on its real aim point.

    Parameters
    ----------
    specs : sequence of BallisticThreatSpec
        The missiles (N); solved all at once as arrays.
    dynamics : Dynamics, optional
        Equations of motion; the full model (J2, rotation, drag) by default.
    step_s : float
        Integration step in the boost and in the atmosphere, s (> 0; at most 1 s advised).
    tolerance_m : float
        Stop iterating on a missile once it lands this close to its aim point, m.
    max_iterations : int
        Most flights of the batch before giving up.
    check : bool
        Raise if a missile misses by more than :data:`MISS_LIMIT_M` (else just report it in
        ``miss_m``, NaN if it never came down).

    Returns
    -------
    BallisticSolution

    Raises
    ------
    ConfigurationError
        A spec is invalid, or an aim point is closer than :data:`MIN_RANGE_M`, or some
        missile still misses by more than :data:`MISS_LIMIT_M` (the message names the
        threats with their range and the reach of their burnout speed).

    Notes
    -----
    Unknowns per missile: the guidance aim point in the azimuthal equidistant projection
    about the launch point (north and east, m; Cartesian, so an aim point may cross the
    launch point, as a near-vertical lofted shot needs when the Earth's rotation carries it
    further than its range); residual: the impact minus the real aim point in the same
    projection. Start from the real aim point with an identity Jacobian; each iteration
    flies all unfinished missiles once as one batch, updates each one's 2×2 Jacobian with
    Broyden's rank-one formula (Broyden 1965, *Math. Comp.* 19, 577) and accepts the step if
    the miss shrank, else halves it. Typically 6–10 batch flights reach 1 m.
    """
    dynamics = Dynamics() if dynamics is None else dynamics
    if not step_s > 0.0:
        raise ConfigurationError(f"step_s must be > 0 (got {step_s})")
    m = _prepare(specs, dynamics, step_s)
    n = m.launch_ecef.shape[0]
    target = m.target_ground

    def evaluate(rows: IntArray, aim: FloatArray) -> tuple[FloatArray, FloatArray]:
        sub = m.take(rows)
        flight = _fly(sub, _from_ground(sub, aim), dynamics, step_s, record=False)
        landed = np.asarray(np.isfinite(flight.impact_ecef_m).all(axis=1))
        impact = np.where(landed[:, None], flight.impact_ecef_m, sub.aim_ecef)
        residual = _ground(sub.up, sub.north, sub.east, impact) - target[rows]
        miss = _rows(impact - sub.aim_ecef)
        residual[~landed] = np.nan
        miss[~landed] = np.inf
        return residual, miss

    aim = target.copy()
    residual, miss = evaluate(np.arange(n), aim)
    iterations = 1
    jacobian = np.broadcast_to(np.eye(2), (n, 2, 2)).copy()
    damping = np.ones(n)
    largest_step = np.maximum(_rows(target), 300e3)
    while iterations < max_iterations:
        todo = np.flatnonzero((miss > tolerance_m) & (damping > 1e-4))
        if not todo.size:
            break
        usable = np.isfinite(residual[todo]).all(axis=1)
        step = np.zeros((todo.size, 2))
        step[usable] = -np.linalg.solve(jacobian[todo[usable]], residual[todo[usable], :, None])[
            :, :, 0
        ]
        length = _rows(step)
        step *= np.minimum(1.0, largest_step[todo] / np.maximum(length, 1e-12))[:, None]
        step *= damping[todo, None]
        trial = aim[todo] + step
        trial_residual, trial_miss = evaluate(todo, trial)
        iterations += 1
        change = trial_residual - residual[todo]
        update = np.isfinite(change).all(axis=1) & (np.einsum("ij,ij->i", step, step) > 0)
        if update.any():
            rows = todo[update]
            dx, df = step[update], change[update]
            predicted = np.einsum("kij,kj->ki", jacobian[rows], dx)
            jacobian[rows] += (
                np.einsum("ki,kj->kij", df - predicted, dx)
                / np.einsum("ij,ij->i", dx, dx)[:, None, None]
            )
        better = np.asarray(trial_miss < miss[todo])
        accepted = todo[better]
        aim[accepted] = trial[better]
        residual[accepted] = trial_residual[better]
        miss[accepted] = trial_miss[better]
        damping[accepted] = 1.0
        damping[todo[~better]] *= 0.5

    flight = _fly(m, _from_ground(m, aim), dynamics, step_s, record=True)
    miss = _rows(flight.impact_ecef_m - m.aim_ecef)
    bad = np.flatnonzero(~(miss <= MISS_LIMIT_M))
    if check and bad.size:
        lines = []
        for i in bad[:10]:
            spec = specs[i]
            reach = max_range_m(spec.burnout_speed_mps)
            lines.append(
                f"{spec.threat_id} (ground range {_rows(target)[i] / 1e3:.0f} km, "
                f"reach {reach / 1e3:.0f} km at {spec.burnout_speed_mps:.0f} m/s, "
                f"burn {spec.burn_time_s:g} s, loft {spec.loft:+.2f}, miss {miss[i]:.0f} m)"
            )
        more = f" and {bad.size - 10} more" if bad.size > 10 else ""
        raise ConfigurationError(
            "no trajectory reaches the aim point of ballistic threat(s) " + "; ".join(lines) + more
        )
    return BallisticSolution(
        flight=flight,
        guidance_aim_ecef=_from_ground(m, aim),
        miss_m=miss,
        iterations=iterations,
    )
