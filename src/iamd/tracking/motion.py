r"""Motion models of the trackers: nearly constant velocity, coordinated turn, ballistic.

All models work on ECEF states (position in m, velocity relative to the rotating Earth in
m/s; see :mod:`iamd.tracking.base` for the layouts), batched over any leading axes, with one
time step per row. They implement :class:`~iamd.tracking.base.MotionModel`.

=======================  =====  ============================================================
model                    n      use
=======================  =====  ============================================================
NearlyConstantVelocity   6      aircraft and cruise missiles between manoeuvres; IMM base mode
CoordinatedTurn          6      a turn at a known rate in the local horizontal plane; IMM mode
Ballistic                6, 7   unpowered flight: J2 gravity, Coriolis, centrifugal, and
                                optionally drag with an estimated inverse ballistic coefficient
Augmented                n + k  any of the above on a longer state whose extra components
                                it carries as random walks (to share an IMM with a 7-D model)
=======================  =====  ============================================================

The kinematic models (the first two) neglect gravity, Coriolis (``2Ω·v`` ≈ 0.04 m/s² at
250 m/s) and the Earth's curvature (``v²/R`` ≈ 0.01 m/s²): an air-breather's lift cancels
gravity, and the rest is far below the white-noise acceleration they carry. All models
keep the same 6-D layout so they can be mixed in one IMM.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §6.2.2 (continuous Wiener process acceleration model) and
   §11.7.1 (coordinated turn).
.. [2] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed., Microcode
   Press, 2013, §3.7 (rotating-frame terms) and §8.6.1 (J2 acceleration).
.. [3] J. R. R. A. Martins, P. Sturdza and J. J. Alonso, "The complex-step derivative
   approximation", *ACM Trans. Math. Softw.* 29(3), 2003, pp. 245–262.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.kinematics import white_acceleration_noise
from iamd.core.typing import FloatArray
from iamd.geo.constants import (
    EARTH_J2,
    EARTH_MU_M3_S2,
    EARTH_ROTATION_RAD_S,
    WGS84_A_M,
    WGS84_B_M,
)
from iamd.tracking.ballistic_kernel import BallisticConstants, rk4_propagate
from iamd.tracking.base import MotionModel

SEA_LEVEL_DENSITY_KG_M3 = 1.225
"""Sea-level air density of the filter's exponential atmosphere, kg/m³."""

SCALE_HEIGHT_M = 7_200.0
"""Density scale height of the filter's exponential atmosphere, m."""

_COMPLEX_STEP = 1e-20
"""Imaginary perturbation of the complex-step derivative (any tiny value is exact, [3]_)."""


def _steps(x: FloatArray, dt: FloatArray | float) -> FloatArray:
    """Time steps broadcast to one per state row, shape ``x.shape[:-1]``."""
    return np.broadcast_to(np.asarray(dt, dtype=float), x.shape[:-1])


def _cross_matrix(u: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Skew-symmetric matrices ``[u]×`` with ``[u]× w = u × w``, shape ``(..., 3, 3)``."""
    out = np.zeros((*u.shape, 3), dtype=u.dtype)
    out[..., 0, 1] = -u[..., 2]
    out[..., 0, 2] = u[..., 1]
    out[..., 1, 0] = u[..., 2]
    out[..., 1, 2] = -u[..., 0]
    out[..., 2, 0] = -u[..., 1]
    out[..., 2, 1] = u[..., 0]
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class NearlyConstantVelocity:
    """Nearly constant velocity: white-noise acceleration in every ECEF axis.

    ``p ← p + Δt·v``, ``v ← v``, with the continuous Wiener process acceleration noise of
    power spectral density ``q`` ([1]_ §6.2.2): over a step, the velocity random walk has a
    variance of ``q·Δt`` per axis.

    Parameters
    ----------
    acceleration_psd_m2_s3 : float
        Power spectral density ``q`` of the white acceleration noise, m²/s³, per axis (≥ 0).
        A rule of thumb ([1]_ §6.2.2): ``q ≈ a²·Δt`` for accelerations of magnitude ``a``.

    Raises
    ------
    ConfigurationError
        If ``acceleration_psd_m2_s3`` is negative or not finite.

    Examples
    --------
    >>> model = NearlyConstantVelocity(acceleration_psd_m2_s3=1.0)
    >>> x = np.array([[7e6, 0.0, 0.0, 100.0, 50.0, 0.0]])
    >>> model.propagate(x, 2.0)[0, :3]
    array([7.0002e+06, 1.0000e+02, 0.0000e+00])
    >>> model.process_noise(x, 2.0)[0, 0, [0, 3]]
    array([2.66666667, 2.        ])
    """

    acceleration_psd_m2_s3: float

    def __post_init__(self) -> None:
        q = self.acceleration_psd_m2_s3
        if not (math.isfinite(q) and q >= 0.0):
            raise ConfigurationError(
                f"NearlyConstantVelocity: acceleration_psd_m2_s3 must be finite and >= 0 "
                f"(got {q!r})"
            )

    @property
    def state_dim(self) -> int:
        """Six: ECEF position and velocity."""
        return 6

    def propagate(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Move each position along its velocity for its step.

        Parameters
        ----------
        x : ndarray, shape (..., 6)
            ECEF states (m, m/s).
        dt : float or ndarray, shape broadcastable to (...)
            Steps, s.

        Returns
        -------
        ndarray, shape (..., 6)
        """
        x = np.asarray(x, dtype=float)
        out = x.copy()
        out[..., :3] += _steps(x, dt)[..., None] * x[..., 3:6]
        return out

    def jacobian(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """``F = [[I, Δt·I], [0, I]]``, shape ``(..., 6, 6)`` (independent of ``x``)."""
        x = np.asarray(x, dtype=float)
        step = _steps(x, dt)
        f = np.broadcast_to(np.eye(6), (*step.shape, 6, 6)).copy()
        f[..., [0, 1, 2], [3, 4, 5]] = step[..., None]
        return f

    def process_noise(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Wiener process acceleration noise ``Q`` ([1]_ eq. 6.2.2-12), shape ``(..., 6, 6)``."""
        x = np.asarray(x, dtype=float)
        return white_acceleration_noise(_steps(x, dt), self.acceleration_psd_m2_s3, 6)


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinatedTurn:
    r"""Coordinated turn at a known rate in the local horizontal plane of the track.

    The velocity turns at the constant rate ``ω`` about the local vertical ``û = p/|p|``
    (geocentric up at the position at the start of the step), keeping its vertical component
    and speed; the position follows the arc exactly. With ``K = [û]×``, ``θ = ω·Δt``
    (Rodrigues' formula; the 3-D form of [1]_ eq. 11.7.1-4):

    .. math::

        v' &= \bigl(I + \sin θ\,K + (1-\cos θ)\,K^2\bigr)\,v, \\
        p' &= p + \Bigl(Δt\,I + \frac{1-\cos θ}{ω}K + \frac{θ-\sin θ}{ω}K^2\Bigr)\,v.

    A positive rate turns counter-clockwise seen from above: a left turn. The process noise
    is the white-noise acceleration of :class:`NearlyConstantVelocity`. With a few fixed
    rates (e.g. ±3°/s) next to a nearly-constant-velocity mode, all on the same 6-D state,
    this is the usual manoeuvre set of an IMM.

    Parameters
    ----------
    turn_rate_rad_s : float
        Turn rate ``ω`` about the local up axis, rad/s (non-zero: a zero rate is
        :class:`NearlyConstantVelocity`).
    acceleration_psd_m2_s3 : float
        Power spectral density of the white acceleration noise, m²/s³ (≥ 0).

    Raises
    ------
    ConfigurationError
        If the turn rate is zero or not finite, or the noise density is negative.

    Examples
    --------
    A quarter turn to the left at the north pole, flying along +x (ECEF):

    >>> model = CoordinatedTurn(turn_rate_rad_s=np.pi / 20, acceleration_psd_m2_s3=0.0)
    >>> x = np.array([[0.0, 0.0, 6.4e6, 100.0, 0.0, 0.0]])
    >>> after = model.propagate(x, 10.0)[0]
    >>> np.round(after[3:], 9) + 0.0
    array([  0., 100.,   0.])
    >>> np.round(after[:2], 3)
    array([636.62, 636.62])
    """

    turn_rate_rad_s: float
    acceleration_psd_m2_s3: float

    def __post_init__(self) -> None:
        w, q = self.turn_rate_rad_s, self.acceleration_psd_m2_s3
        if not (math.isfinite(w) and w != 0.0):
            raise ConfigurationError(
                f"CoordinatedTurn: turn_rate_rad_s must be finite and non-zero (got {w!r}); "
                "use NearlyConstantVelocity for straight flight"
            )
        if not (math.isfinite(q) and q >= 0.0):
            raise ConfigurationError(
                f"CoordinatedTurn: acceleration_psd_m2_s3 must be finite and >= 0 (got {q!r})"
            )

    @property
    def state_dim(self) -> int:
        """Six: ECEF position and velocity."""
        return 6

    def _coefficients(
        self, step: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """``sin θ``, ``1−cos θ``, ``(1−cos θ)/ω`` and ``(θ−sin θ)/ω``, each ``(..., 1, 1)``."""
        w = self.turn_rate_rad_s
        theta = w * step
        s = np.sin(theta)
        # 1−cos θ = 2 sin²(θ/2) keeps its relative precision for small turns.
        one_minus_c = 2.0 * np.sin(0.5 * theta) ** 2
        a = one_minus_c / w
        b = (theta - s) / w
        return (
            s[..., None, None],
            one_minus_c[..., None, None],
            a[..., None, None],
            b[..., None, None],
        )

    def propagate(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """States after turning for ``dt``, shape ``(..., 6)``; see the class docstring."""
        x = np.asarray(x, dtype=float)
        step = _steps(x, dt)
        p, v = x[..., :3], x[..., 3:6]
        k = _cross_matrix(p / np.linalg.norm(p, axis=-1, keepdims=True))
        s, one_minus_c, a, b = self._coefficients(step)
        k2 = k @ k
        eye = np.eye(3)
        out = x.copy()
        out[..., 3:6] = ((eye + s * k + one_minus_c * k2) @ v[..., None])[..., 0]
        out[..., :3] = p + ((step[..., None, None] * eye + a * k + b * k2) @ v[..., None])[..., 0]
        return out

    def jacobian(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Exact Jacobian of :meth:`propagate`, shape ``(..., 6, 6)``.

        Includes the (small, ``O(|v|·Δt/|p|)``) dependence of the turn axis ``û = p/|p|`` on
        the position: with ``N = (I − ûûᵀ)/|p|``, ``∂(Kv)/∂p = −[v]× N`` and
        ``∂(K²v)/∂p = ((û·v) I + û vᵀ) N``.
        """
        x = np.asarray(x, dtype=float)
        step = _steps(x, dt)
        p, v = x[..., :3], x[..., 3:6]
        radius = np.linalg.norm(p, axis=-1)
        u = p / radius[..., None]
        k = _cross_matrix(u)
        k2 = k @ k
        eye = np.eye(3)
        s, one_minus_c, a, b = self._coefficients(step)
        tangent = (eye - u[..., :, None] * u[..., None, :]) / radius[..., None, None]
        d_kv = -_cross_matrix(v) @ tangent
        u_dot_v = np.einsum("...i,...i->...", u, v)[..., None, None]
        d_k2v = (u_dot_v * eye + u[..., :, None] * v[..., None, :]) @ tangent
        f = np.zeros((*step.shape, 6, 6))
        f[..., :3, :3] = eye + a * d_kv + b * d_k2v
        f[..., :3, 3:] = step[..., None, None] * eye + a * k + b * k2
        f[..., 3:, :3] = s * d_kv + one_minus_c * d_k2v
        f[..., 3:, 3:] = eye + s * k + one_minus_c * k2
        return f

    def process_noise(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """White-noise acceleration ``Q`` as :class:`NearlyConstantVelocity`, ``(..., 6, 6)``."""
        x = np.asarray(x, dtype=float)
        return white_acceleration_noise(_steps(x, dt), self.acceleration_psd_m2_s3, 6)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ballistic:
    r"""Unpowered flight over the rotating Earth: J2 gravity, Coriolis, centrifugal, drag.

    The acceleration relative to the rotating Earth, in ECEF axes ([2]_ §3.7, §8.6.1):

    .. math::

        \ddot{\mathbf r} = \mathbf g_{J2}(\mathbf r)
            - 2\,\boldsymbol\omega\times\dot{\mathbf r}
            - \boldsymbol\omega\times(\boldsymbol\omega\times\mathbf r)
            - \tfrac12\,\rho(h)\,\lvert\dot{\mathbf r}\rvert\,\dot{\mathbf r}\,/\beta,

    with ``ω = (0, 0, Ω)`` and the exponential atmosphere ``ρ(h) = ρ0·exp(−h/H)`` turning
    with the Earth; ``h`` is the height above the WGS-84 ellipsoid along the geocentric
    radius. It is integrated with classical Runge–Kutta (RK4) sub-steps of at most
    ``max_step_s``; all rows of a call take the same number of sub-steps, each row its own
    sub-step length.

    **State.** With ``estimate_drag=False`` the state is 6-D and there is no drag (the
    exo-atmospheric midcourse). With ``estimate_drag=True`` it is 7-D: the 7th component is
    the inverse ballistic coefficient ``b = 1/β = C_D·A/m`` in m²/kg, a random walk. ``b``
    rather than ``β`` or ``log β`` because the drag is *linear* in it, so the linearisation
    of the filter is exact in that direction; the estimate may dip below zero early in a
    track, which the dynamics tolerate (a negative drag).

    **Jacobian.** By complex-step differentiation of the discrete RK4 map itself ([3]_):
    ``F[:, k] = Im f(x + i·h·e_k) / h``. It is exact to rounding (no step-size trade-off
    as with finite differences), it is the derivative of exactly what :meth:`propagate`
    computes (sub-steps included), and it needs no hand-derived gradient of J2 and of the
    atmosphere, which is where analytic variational equations go wrong. It costs ``n``
    complex propagations (about ``4n`` real ones), all in one batched call.

    **Process noise.** White acceleration (as :class:`NearlyConstantVelocity`) for the
    unmodelled forces (higher harmonics, atmosphere errors, integration error), small; and a
    random walk ``q_b·Δt`` on ``b``.

    **Speed.** The model is integrated on small batches (a track's sigma points, the ``n``
    complex-step copies of an IMM mode) many thousand times per scenario, where NumPy's call
    overhead on arrays of a few rows dominates (~90 µs per :meth:`acceleration`). By default
    the RK4 loop therefore runs in a compiled numba kernel
    (:mod:`iamd.tracking.ballistic_kernel`) that repeats the NumPy arithmetic row by row and
    agrees with it to rounding; ``compiled=False`` selects the NumPy reference.

    Parameters
    ----------
    acceleration_psd_m2_s3 : float
        Power spectral density of the white acceleration noise, m²/s³ (≥ 0).
    estimate_drag : bool
        Whether the state carries ``1/β`` (7-D, with drag) or not (6-D, vacuum).
    inverse_beta_psd_m4_kg2_s : float
        Power spectral density of the random walk of ``1/β``, (m²/kg)²/s (≥ 0).
    max_step_s : float
        Longest RK4 sub-step, s (> 0). 1 s is far inside the accuracy needs of midcourse
        flight; in dense air the drag time scale ``2β/(ρ·v)`` can drop to a second, so use
        0.25–0.5 s for low re-entry.
    mu_m3_s2, j2, j2_radius_m, rotation_rad_s : float
        Gravitational parameter (m³/s²), second zonal harmonic, its reference radius (m) and
        the Earth's rotation rate (rad/s).
    sea_level_density_kg_m3, scale_height_m : float
        ``ρ0`` (kg/m³) and ``H`` (m) of the exponential atmosphere.
    compiled : bool
        Integrate with the numba kernel (the default) rather than the NumPy reference; the
        two agree to rounding.

    Raises
    ------
    ConfigurationError
        If a noise density is negative, or a step, scale height or ``μ`` is not positive.

    Examples
    --------
    A body at rest over the equator falls with gravity plus the centrifugal term:

    >>> model = Ballistic(acceleration_psd_m2_s3=0.0)
    >>> x = np.array([[6_478_137.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    >>> fall = x[0, 0] - model.propagate(x, 1.0)[0, 0]
    >>> round(float(fall), 3)
    4.739
    >>> model.jacobian(x, 1.0).shape
    (1, 6, 6)
    """

    acceleration_psd_m2_s3: float
    estimate_drag: bool = False
    inverse_beta_psd_m4_kg2_s: float = 0.0
    max_step_s: float = 1.0
    mu_m3_s2: float = EARTH_MU_M3_S2
    j2: float = EARTH_J2
    j2_radius_m: float = WGS84_A_M
    rotation_rad_s: float = EARTH_ROTATION_RAD_S
    sea_level_density_kg_m3: float = SEA_LEVEL_DENSITY_KG_M3
    scale_height_m: float = SCALE_HEIGHT_M
    compiled: bool = True

    def __post_init__(self) -> None:
        for name in ("acceleration_psd_m2_s3", "inverse_beta_psd_m4_kg2_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigurationError(
                    f"Ballistic: {name} must be finite and >= 0 (got {value!r})"
                )
        for name in ("max_step_s", "scale_height_m", "mu_m3_s2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigurationError(
                    f"Ballistic: {name} must be finite and > 0 (got {value!r})"
                )

    @property
    def state_dim(self) -> int:
        """Seven with ``estimate_drag`` (position, velocity, ``1/β``), otherwise six."""
        return 7 if self.estimate_drag else 6

    def acceleration(
        self,
        position: npt.NDArray[Any],
        velocity: npt.NDArray[Any],
        inverse_beta: npt.NDArray[Any] | None = None,
    ) -> npt.NDArray[Any]:
        """Acceleration relative to the rotating Earth, ECEF axes, m/s².

        Written with analytic operations only (no ``abs`` or ``maximum``; the one comparison
        looks at the real part), so complex arguments give the complex-step derivative.

        Parameters
        ----------
        position : ndarray, shape (M, 3)
            ECEF positions, m (real or complex).
        velocity : ndarray, shape (M, 3)
            Velocities relative to the Earth, ECEF axes, m/s.
        inverse_beta : ndarray, shape (M,), optional
            ``1/β``, m²/kg; ``None`` for vacuum.

        Returns
        -------
        ndarray, shape (M, 3)
        """
        x, y, z = position[:, 0], position[:, 1], position[:, 2]
        r2 = x * x + y * y + z * z
        r = np.sqrt(r2)
        k = -self.mu_m3_s2 / (r2 * r)
        f = 1.5 * self.j2 * self.j2_radius_m**2 / r2
        zz = 5.0 * z * z / r2
        horizontal = k * (1.0 + f * (1.0 - zz))
        w = self.rotation_rad_s
        out = np.empty_like(velocity)
        out[:, 0] = horizontal * x + w * w * x + 2.0 * w * velocity[:, 1]
        out[:, 1] = horizontal * y + w * w * y - 2.0 * w * velocity[:, 0]
        out[:, 2] = k * (1.0 + f * (3.0 - zz)) * z
        if inverse_beta is not None and self.sea_level_density_kg_m3 != 0.0:
            sin2 = z * z / r2
            surface = 1.0 / np.sqrt((1.0 - sin2) / WGS84_A_M**2 + sin2 / WGS84_B_M**2)
            height = r - surface
            # A step that ends far underground must not overflow exp(); the test is on the
            # real part, so the complex-step derivative stays analytic.
            floor = -10.0 * self.scale_height_m
            height = np.where(height.real < floor, floor + 0.0 * height, height)
            density = self.sea_level_density_kg_m3 * np.exp(-height / self.scale_height_m)
            speed = np.sqrt(np.einsum("ij,ij->i", velocity, velocity))
            out -= (0.5 * density * speed * inverse_beta)[:, None] * velocity
        return out

    @property
    def drag_applies(self) -> bool:
        """Whether :meth:`propagate` applies drag (a 7-D state and a non-zero ``ρ0``)."""
        return self.estimate_drag and self.sea_level_density_kg_m3 != 0.0

    @property
    def constants(self) -> BallisticConstants:
        """The physical constants, as the compiled kernels take them."""
        return BallisticConstants(
            float(self.mu_m3_s2),
            float(self.j2),
            float(self.j2_radius_m),
            float(self.rotation_rad_s),
            float(self.sea_level_density_kg_m3),
            float(self.scale_height_m),
        )

    def sub_steps(self, step: FloatArray) -> int:
        """RK4 sub-steps of every row of a call with steps ``step`` (s).

        The longest step split into pieces of at most ``max_step_s``; at least one.
        """
        largest = float(np.max(np.abs(step))) if step.size else 0.0
        return max(1, math.ceil(largest / self.max_step_s - 1e-9))

    def _propagate(self, x: npt.NDArray[Any], step: FloatArray) -> npt.NDArray[Any]:
        """RK4 over ``(M, n)`` states (real or complex) with steps ``(M,)``."""
        count = self.sub_steps(step)
        if self.compiled:
            return rk4_propagate(x, step, count, self.drag_applies, self.constants)
        return self._propagate_reference(x, step, count)

    def _propagate_reference(
        self, x: npt.NDArray[Any], step: FloatArray, count: int
    ) -> npt.NDArray[Any]:
        """The NumPy form of :meth:`_propagate`, ``count`` sub-steps per row."""
        h = (step / count)[:, None]
        drag = self.estimate_drag

        def derivative(s: npt.NDArray[Any]) -> npt.NDArray[Any]:
            out = np.zeros_like(s)
            out[:, :3] = s[:, 3:6]
            out[:, 3:6] = self.acceleration(s[:, :3], s[:, 3:6], s[:, 6] if drag else None)
            return out

        state = x
        for _ in range(count):
            k1 = derivative(state)
            k2 = derivative(state + 0.5 * h * k1)
            k3 = derivative(state + 0.5 * h * k2)
            k4 = derivative(state + h * k3)
            state = state + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return state

    def propagate(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """States after ``dt`` of ballistic flight (RK4 sub-steps), shape ``(..., n)``.

        Parameters
        ----------
        x : ndarray, shape (..., n)
            ECEF states (m, m/s[, m²/kg]), ``n`` = :attr:`state_dim`.
        dt : float or ndarray, shape broadcastable to (...)
            Steps, s.
        """
        x = np.asarray(x, dtype=float)
        step = _steps(x, dt)
        flat = self._propagate(x.reshape(-1, x.shape[-1]), step.reshape(-1))
        return np.asarray(flat.reshape(x.shape), dtype=float)

    def jacobian(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Complex-step Jacobian of :meth:`propagate` ([3]_), shape ``(..., n, n)``."""
        x = np.asarray(x, dtype=float)
        n = x.shape[-1]
        step = _steps(x, dt).reshape(-1)
        flat = x.reshape(-1, n)
        # All n perturbed copies of every row go through the integrator in one call.
        perturbed = flat[None, :, :] + 1j * _COMPLEX_STEP * np.eye(n)[:, None, :]
        moved = self._propagate(perturbed.reshape(-1, n), np.tile(step, n))
        columns = moved.imag.reshape(n, -1, n) / _COMPLEX_STEP
        return np.asarray(np.moveaxis(columns, 0, -1).reshape(*x.shape, n), dtype=float)

    def process_noise(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """White acceleration on position/velocity and a random walk on ``1/β``, ``(..., n, n)``."""
        x = np.asarray(x, dtype=float)
        step = _steps(x, dt)
        q = white_acceleration_noise(step, self.acceleration_psd_m2_s3, self.state_dim)
        if self.estimate_drag:
            q[..., 6, 6] = self.inverse_beta_psd_m4_kg2_s * step
        return q


@dataclass(frozen=True, slots=True, kw_only=True)
class Augmented:
    """A motion model carried on a longer state: the extra components are random walks.

    An IMM mixes its modes' states component by component, so all of its modes need one
    layout. To fly a 6-D kinematic mode next to the 7-D ``Ballistic(estimate_drag=True)``,
    the kinematic mode is augmented with the inverse ballistic coefficient, which it leaves
    unchanged (it has no physics for it) apart from an optional random walk.

    Parameters
    ----------
    model : MotionModel
        The model of the leading ``model.state_dim`` components.
    extra_dims : int
        Number of trailing components carried unchanged (≥ 1).
    extra_psd : float
        Power spectral density of the random walk of each extra component, (unit)²/s (≥ 0).

    Examples
    --------
    >>> model = Augmented(model=NearlyConstantVelocity(acceleration_psd_m2_s3=0.0))
    >>> x = np.array([[7e6, 0.0, 0.0, 100.0, 0.0, 0.0, 2e-4]])
    >>> model.propagate(x, 1.0)[0, [0, 6]]
    array([7.0001e+06, 2.0000e-04])
    >>> model.jacobian(x, 1.0).shape
    (1, 7, 7)
    """

    model: MotionModel
    extra_dims: int = 1
    extra_psd: float = 0.0

    def __post_init__(self) -> None:
        if self.extra_dims < 1:
            raise ConfigurationError(f"Augmented: extra_dims must be >= 1 (got {self.extra_dims})")
        if not (math.isfinite(self.extra_psd) and self.extra_psd >= 0.0):
            raise ConfigurationError(
                f"Augmented: extra_psd must be finite and >= 0 (got {self.extra_psd!r})"
            )

    @property
    def state_dim(self) -> int:
        """The wrapped model's dimension plus :attr:`extra_dims`."""
        return self.model.state_dim + self.extra_dims

    def propagate(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """The wrapped model on the leading components; the rest unchanged, ``(..., n)``."""
        x = np.asarray(x, dtype=float)
        n = self.model.state_dim
        out = x.copy()
        out[..., :n] = self.model.propagate(x[..., :n], dt)
        return out

    def jacobian(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Block diagonal: the wrapped model's Jacobian and an identity, ``(..., n, n)``."""
        x = np.asarray(x, dtype=float)
        n = self.model.state_dim
        f = np.zeros((*x.shape, x.shape[-1]))
        f[..., :n, :n] = self.model.jacobian(x[..., :n], dt)
        extra = np.arange(n, x.shape[-1])
        f[..., extra, extra] = 1.0
        return f

    def process_noise(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Block diagonal: the wrapped model's noise and ``extra_psd·Δt`` per extra component."""
        x = np.asarray(x, dtype=float)
        n = self.model.state_dim
        q = np.zeros((*x.shape, x.shape[-1]))
        q[..., :n, :n] = self.model.process_noise(x[..., :n], dt)
        extra = np.arange(n, x.shape[-1])
        q[..., extra, extra] = (self.extra_psd * _steps(x, dt))[..., None]
        return q
