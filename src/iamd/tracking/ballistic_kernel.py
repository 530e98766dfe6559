r"""Compiled (numba) kernels of the ballistic model: RK4 propagation and flight to the ground.

:class:`~iamd.tracking.motion.Ballistic` integrates small batches (a track's sigma points,
the ``n`` complex-step copies of an IMM mode) thousands of times per scenario; in NumPy each
acceleration costs ~90 µs of call overhead on arrays of a few rows. These kernels do the
same arithmetic one row at a time in compiled loops, with the same operations in the same
order as the NumPy reference (:meth:`Ballistic.acceleration` and ``Ballistic._propagate``),
so the two agree to rounding (the atmosphere's ``exp`` and the ``sqrt`` may differ in the
last bit between NumPy's and the C library's implementations).

* :func:`rk4_propagate` is ``Ballistic._propagate``: every row of a call takes the same
  number of sub-steps (the caller's ``count``), each of its own length. It is compiled for
  real and for complex states (the complex-step Jacobian).
* :func:`fly_to_ground` is the stepping loop of :func:`iamd.tracking.impact._fly_to_ground`
  without a carried covariance: each row is flown with the same choice of step lengths
  until a step ends at or below the ground, leaves the horizon, or stops being finite. The
  rows are independent there (all fine steps share one length, and a long step is a single
  RK4 step), so flying them one at a time gives the batched loop's results.

The module is compiled on first use (a few seconds per signature) and cached on disk
(``cache=True``); ``fastmath`` stays off and the error model is NumPy's (a division by zero
gives ``inf`` or NaN, it does not raise), so that results keep NumPy's IEEE semantics.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import numba
import numpy as np

from iamd.core.typing import AnyArray, BoolArray, FloatArray
from iamd.geo.constants import WGS84_A_M, WGS84_B_M

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(function: _F) -> _F:
    """``numba.njit`` with the project's settings, keeping the Python signature for mypy."""
    return cast(
        _F, numba.njit(cache=True, fastmath=False, nogil=True, error_model="numpy")(function)
    )


class BallisticConstants(NamedTuple):
    """Physical constants of one :class:`~iamd.tracking.motion.Ballistic` model (SI units)."""

    mu_m3_s2: float
    j2: float
    j2_radius_m: float
    rotation_rad_s: float
    sea_level_density_kg_m3: float
    scale_height_m: float


@_compiled
def _acceleration(
    x: Any,
    y: Any,
    z: Any,
    vx: Any,
    vy: Any,
    vz: Any,
    inverse_beta: Any,
    drag: bool,
    constants: BallisticConstants,
) -> tuple[Any, Any, Any]:
    """One row of :meth:`Ballistic.acceleration` (real or complex scalars), m/s²."""
    r2 = x * x + y * y + z * z
    r = np.sqrt(r2)
    k = -constants.mu_m3_s2 / (r2 * r)
    f = 1.5 * constants.j2 * constants.j2_radius_m**2 / r2
    zz = 5.0 * z * z / r2
    horizontal = k * (1.0 + f * (1.0 - zz))
    w = constants.rotation_rad_s
    ax = horizontal * x + w * w * x + 2.0 * w * vy
    ay = horizontal * y + w * w * y - 2.0 * w * vx
    az = k * (1.0 + f * (3.0 - zz)) * z
    if drag:
        sin2 = z * z / r2
        surface = 1.0 / np.sqrt((1.0 - sin2) / WGS84_A_M**2 + sin2 / WGS84_B_M**2)
        height = r - surface
        # As in the reference: no overflow of exp() far underground, decided on the real
        # part so that the complex-step derivative stays analytic.
        floor = -10.0 * constants.scale_height_m
        if height.real < floor:
            height = floor + 0.0 * height
        density = constants.sea_level_density_kg_m3 * np.exp(-height / constants.scale_height_m)
        speed = np.sqrt(vx * vx + vy * vy + vz * vz)
        coefficient = 0.5 * density * speed * inverse_beta
        ax = ax - coefficient * vx
        ay = ay - coefficient * vy
        az = az - coefficient * vz
    return ax, ay, az


@_compiled
def _rk4_row(
    source: Any,
    target: Any,
    h: float,
    count: int,
    drag: bool,
    constants: BallisticConstants,
) -> None:
    """``count`` RK4 sub-steps of length ``h`` from one state row into another."""
    x, y, z = source[0], source[1], source[2]
    vx, vy, vz = source[3], source[4], source[5]
    inverse_beta = source[6] if drag else 0.0 * source[0]
    half = 0.5 * h
    sixth = h / 6.0
    for _ in range(count):
        a1x, a1y, a1z = _acceleration(x, y, z, vx, vy, vz, inverse_beta, drag, constants)
        v2x, v2y, v2z = vx + half * a1x, vy + half * a1y, vz + half * a1z
        a2x, a2y, a2z = _acceleration(
            x + half * vx,
            y + half * vy,
            z + half * vz,
            v2x,
            v2y,
            v2z,
            inverse_beta,
            drag,
            constants,
        )
        v3x, v3y, v3z = vx + half * a2x, vy + half * a2y, vz + half * a2z
        a3x, a3y, a3z = _acceleration(
            x + half * v2x,
            y + half * v2y,
            z + half * v2z,
            v3x,
            v3y,
            v3z,
            inverse_beta,
            drag,
            constants,
        )
        v4x, v4y, v4z = vx + h * a3x, vy + h * a3y, vz + h * a3z
        a4x, a4y, a4z = _acceleration(
            x + h * v3x,
            y + h * v3y,
            z + h * v3z,
            v4x,
            v4y,
            v4z,
            inverse_beta,
            drag,
            constants,
        )
        x = x + sixth * (vx + 2.0 * v2x + 2.0 * v3x + v4x)
        y = y + sixth * (vy + 2.0 * v2y + 2.0 * v3y + v4y)
        z = z + sixth * (vz + 2.0 * v2z + 2.0 * v3z + v4z)
        vx = vx + sixth * (a1x + 2.0 * a2x + 2.0 * a3x + a4x)
        vy = vy + sixth * (a1y + 2.0 * a2y + 2.0 * a3y + a4y)
        vz = vz + sixth * (a1z + 2.0 * a2z + 2.0 * a3z + a4z)
    target[0], target[1], target[2] = x, y, z
    target[3], target[4], target[5] = vx, vy, vz
    # Components past the sixth (1/β) have a zero derivative: carried unchanged.
    for j in range(6, source.shape[0]):
        target[j] = source[j]


@_compiled
def _rk4_rows(
    states: Any,
    steps: Any,
    count: int,
    drag: bool,
    constants: BallisticConstants,
    out: Any,
) -> None:
    for i in range(states.shape[0]):
        _rk4_row(states[i], out[i], steps[i] / count, count, drag, constants)


def rk4_propagate(
    states: AnyArray,
    steps: FloatArray,
    count: int,
    drag: bool,
    constants: BallisticConstants,
) -> AnyArray:
    """RK4 over states ``(M, n)`` with ``count`` equal sub-steps of each row's step.

    Parameters
    ----------
    states : ndarray of float64 or complex128, shape (M, n)
        ECEF states (m, m/s[, m²/kg]), ``n`` ≥ 6; with ``drag`` the 7th component is ``1/β``.
    steps : ndarray, shape (M,)
        Each row's step, s (any sign; zero leaves the row unchanged).
    count : int
        Number of RK4 sub-steps of every row (≥ 1).
    drag : bool
        Whether to apply the exponential-atmosphere drag with the 7th component as ``1/β``.
    constants : BallisticConstants
        The model's constants.

    Returns
    -------
    ndarray, shape (M, n), the dtype of ``states``
    """
    if states.ndim != 2 or states.shape[1] < (7 if drag else 6):
        raise ValueError(f"states must have shape (M, {7 if drag else 6}+) (got {states.shape})")
    states = np.ascontiguousarray(states)
    out = np.empty_like(states)
    _rk4_rows(states, np.ascontiguousarray(steps, dtype=np.float64), count, drag, constants, out)
    return out


@_compiled
def _ellipsoid_height(x: float, y: float, z: float) -> float:
    """Geodetic height above WGS-84, m: the scalar form of :func:`iamd.geo.ecef_to_geodetic`.

    Heikkinen's closed form, operation for operation as there (which documents it).
    """
    a, b = WGS84_A_M, WGS84_B_M
    e2 = 1.0 - (b * b) / (a * a)
    p = math.hypot(x, y)
    z2 = z * z
    f = 54.0 * b * b * z2
    g = p * p + (1.0 - e2) * z2 - e2 * (a * a - b * b)
    c = e2 * e2 * f * p * p / (g * g * g)
    s = np.cbrt(1.0 + c + np.sqrt(c * c + 2.0 * c))
    k = s + 1.0 + 1.0 / s
    pp = f / (3.0 * k * k * g * g)
    q = np.sqrt(1.0 + 2.0 * e2 * e2 * pp)
    r0 = -pp * e2 * p / (1.0 + q) + np.sqrt(
        max(
            0.5 * a * a * (1.0 + 1.0 / q)
            - pp * (1.0 - e2) * z2 / (q * (1.0 + q))
            - 0.5 * pp * p * p,
            0.0,
        )
    )
    u = math.hypot(p - e2 * r0, z)
    v = np.sqrt((p - e2 * r0) ** 2 + (1.0 - e2) * z2)
    return float(u * (1.0 - b * b / (a * v)))


@_compiled
def ellipsoid_heights(positions: FloatArray) -> FloatArray:
    """Geodetic heights (m) of ECEF positions ``(M, 3)`` (m), as :func:`ecef_to_geodetic`."""
    out = np.empty(positions.shape[0])
    for i in range(positions.shape[0]):
        out[i] = _ellipsoid_height(positions[i, 0], positions[i, 1], positions[i, 2])
    return out


@_compiled
def _fly_rows(
    states: FloatArray,
    ground: FloatArray,
    step_s: float,
    midcourse_step_s: float,
    horizon_s: float,
    fine_count: int,
    drag: bool,
    drag_free_acceleration: float,
    constants: BallisticConstants,
    crossed: BoolArray,
    start: FloatArray,
    end: FloatArray,
    dt_out: FloatArray,
    t_out: FloatArray,
    coarse_out: BoolArray,
) -> None:
    rho0 = constants.sea_level_density_kg_m3
    scale_height = constants.scale_height_m
    n = states.shape[1]
    state = np.empty(n)
    new = np.empty(n)
    for i in range(states.shape[0]):
        state[:] = states[i]
        surface = ground[i]
        g = _ellipsoid_height(state[0], state[1], state[2]) - surface
        t = 0.0
        while True:
            if drag:
                altitude = g + surface
                # The height where this row's drag falls to drag_free_acceleration
                # (impact._drag_free_height); -inf without drag (log of zero).
                speed_squared = state[3] * state[3] + state[4] * state[4] + state[5] * state[5]
                scale = rho0 * speed_squared * abs(state[6])
                limit = scale_height * np.log(scale / (2.0 * drag_free_acceleration))
                coarse = altitude > limit
                radius = np.sqrt(state[0] * state[0] + state[1] * state[1] + state[2] * state[2])
                radial = (state[3] * state[0] + state[4] * state[1] + state[5] * state[2]) / radius
                to_limit = (altitude - limit) / max(-radial, 1e-3)
                if not coarse or to_limit < step_s:
                    dt = step_s
                elif to_limit > midcourse_step_s:
                    dt = midcourse_step_s
                else:
                    dt = to_limit  # NaN stays NaN, as with np.clip
            else:
                coarse = True
                dt = midcourse_step_s
            # A long step is one RK4 step (it never exceeds midcourse_step_s).
            count = 1 if coarse else fine_count
            _rk4_row(state, new, dt / count, count, drag, constants)
            g_new = _ellipsoid_height(new[0], new[1], new[2]) - surface
            if g_new <= 0.0:
                crossed[i] = True
                start[i] = state
                end[i] = new
                dt_out[i] = dt
                t_out[i] = t
                coarse_out[i] = coarse
                break
            t = t + dt
            if not (t < horizon_s and math.isfinite(g_new)):
                break
            state[:] = new
            g = g_new


class GroundSteps(NamedTuple):
    """Per row of :func:`fly_to_ground`: the step that ended at or below the ground."""

    crossed: BoolArray  # (M,) whether such a step was found (the rest are unset)
    start: FloatArray  # (M, n) state at the start of that step
    end: FloatArray  # (M, n) state at its end
    dt: FloatArray  # (M,) its length, s
    t: FloatArray  # (M,) time of its start, s
    coarse: BoolArray  # (M,) whether it was a long midcourse step


def fly_to_ground(
    states: FloatArray,
    ground: FloatArray,
    *,
    step_s: float,
    midcourse_step_s: float,
    horizon_s: float,
    fine_count: int,
    drag: bool,
    drag_free_acceleration: float,
    constants: BallisticConstants,
) -> GroundSteps:
    """Fly each state row until a step ends at or below its ground height.

    Parameters
    ----------
    states : ndarray, shape (M, n)
        ECEF states (m, m/s[, m²/kg]) above their ground.
    ground : ndarray, shape (M,)
        Ground height above the WGS-84 ellipsoid, m.
    step_s, midcourse_step_s, horizon_s : float
        Step in the atmosphere, longest step where drag is negligible, and horizon, s.
    fine_count : int
        RK4 sub-steps of a ``step_s`` step (the model's ``max_step_s`` split).
    drag : bool
        Whether the states carry ``1/β`` and the atmosphere is on; without it every step
        is a single RK4 step of ``midcourse_step_s``.
    drag_free_acceleration : float
        Drag below which a row takes long steps, m/s².
    constants : BallisticConstants
        The model's constants.

    Returns
    -------
    GroundSteps
        The last step of each row that came down within the horizon.
    """
    states = np.ascontiguousarray(states, dtype=np.float64)
    if states.ndim != 2 or states.shape[1] < (7 if drag else 6):
        raise ValueError(f"states must have shape (M, {7 if drag else 6}+) (got {states.shape})")
    m, n = states.shape
    out = GroundSteps(
        np.zeros(m, dtype=np.bool_),
        np.full((m, n), np.nan),
        np.full((m, n), np.nan),
        np.full(m, np.nan),
        np.full(m, np.nan),
        np.zeros(m, dtype=np.bool_),
    )
    _fly_rows(
        states,
        np.ascontiguousarray(ground, dtype=np.float64),
        step_s,
        midcourse_step_s,
        horizon_s,
        fine_count,
        drag,
        drag_free_acceleration,
        constants,
        *out,
    )
    return out
