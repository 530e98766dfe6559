r"""Equations of motion of a point mass flying over the rotating Earth, written in ECEF.

Every state is a row ``[x, y, z, vx, vy, vz]`` of an ``(N, 6)`` array: position in m and
velocity relative to the rotating Earth in m/s, both in Earth-centred, Earth-fixed (ECEF)
axes. The acceleration in that rotating frame is (Vallado, *Fundamentals of Astrodynamics and
Applications*, 4th ed., §3.7 for the frame terms and §8.6.1 for J2)

.. math::

    \ddot{\mathbf r} = \mathbf g_{J2}(\mathbf r)
        - 2\,\boldsymbol\omega\times\dot{\mathbf r}
        - \boldsymbol\omega\times(\boldsymbol\omega\times\mathbf r)
        - \frac{\rho(h)\,\lvert\dot{\mathbf r}\rvert}{2\beta}\,\dot{\mathbf r}
        + \mathbf a_\text{thrust},

with ``ω = (0, 0, Ω)``, the exponential atmosphere ``ρ(h) = ρ0·exp(−h/H)`` and the ballistic
coefficient ``β = m / (C_D·A)``. The atmosphere turns with the Earth (no wind), so the air
speed is the ECEF speed. Each term can be switched off through :class:`Dynamics` (set its
constant to zero), which is how the tests compare with vacuum closed forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iamd.core.typing import FloatArray
from iamd.geo.constants import (
    EARTH_J2,
    EARTH_MU_M3_S2,
    EARTH_RADIUS_MEAN_M,
    EARTH_ROTATION_RAD_S,
    WGS84_A_M,
    WGS84_B_M,
)

SEA_LEVEL_DENSITY_KG_M3 = 1.225
"""Air density at sea level of the exponential atmosphere, kg/m³ (US Standard Atmosphere)."""

SCALE_HEIGHT_M = 7_200.0
"""Density scale height of the exponential atmosphere, m (fits 0–100 km within a factor 2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dynamics:
    """Physical constants of the equations of motion; a zero switches a term off.

    Parameters
    ----------
    mu_m3_s2 : float
        Gravitational parameter GM, m³/s².
    j2 : float
        Second zonal harmonic (0: point-mass gravity).
    j2_radius_m : float
        Reference radius of the J2 term, m (the WGS-84 equatorial radius).
    rotation_rad_s : float
        Earth's rotation rate about the ECEF z axis, rad/s (0: non-rotating Earth, no Coriolis
        or centrifugal term).
    sea_level_density_kg_m3 : float
        ``ρ0`` of the exponential atmosphere, kg/m³ (0: vacuum).
    scale_height_m : float
        Scale height ``H`` of the exponential atmosphere, m.
    sphere_radius_m : float or None
        If given, heights (for the air density and for impact) are measured above a sphere of
        this radius, m, instead of the WGS-84 ellipsoid.

    Examples
    --------
    >>> Dynamics.vacuum_sphere().j2
    0.0
    """

    mu_m3_s2: float = EARTH_MU_M3_S2
    j2: float = EARTH_J2
    j2_radius_m: float = WGS84_A_M
    rotation_rad_s: float = EARTH_ROTATION_RAD_S
    sea_level_density_kg_m3: float = SEA_LEVEL_DENSITY_KG_M3
    scale_height_m: float = SCALE_HEIGHT_M
    sphere_radius_m: float | None = None

    @classmethod
    def vacuum_sphere(cls, radius_m: float = EARTH_RADIUS_MEAN_M) -> Dynamics:
        """Point-mass gravity over a non-rotating sphere in vacuum: the textbook closed forms."""
        return cls(
            j2=0.0, rotation_rad_s=0.0, sea_level_density_kg_m3=0.0, sphere_radius_m=radius_m
        )

    def height_m(self, position_ecef_m: FloatArray) -> FloatArray:
        """Height above the reference surface along the geocentric radius, m.

        Parameters
        ----------
        position_ecef_m : ndarray, shape (N, 3)
            ECEF positions, m.

        Returns
        -------
        ndarray, shape (N,)
            ``|r| − R_s(r̂)``, where ``R_s(r̂)`` is the distance from the centre to the
            ellipsoid (or sphere) along the direction of ``r``.

        Notes
        -----
        This is cheaper than the geodetic height (no iteration, no trigonometry) and equals it
        on the surface itself; above it the two differ by less than ``6·10⁻⁶·h`` (the radius
        and the ellipsoid normal are at most 0.19° apart): 0.6 m at 100 km, 5 m at 1000 km.
        It is used for the air density and to find the impact, never reported as altitude.
        """
        p = np.asarray(position_ecef_m, float)
        r = np.sqrt(np.einsum("ij,ij->i", p, p))
        if self.sphere_radius_m is not None:
            return np.asarray(r - self.sphere_radius_m)
        sin2 = (p[:, 2] / r) ** 2
        surface = 1.0 / np.sqrt((1.0 - sin2) / WGS84_A_M**2 + sin2 / WGS84_B_M**2)
        return np.asarray(r - surface)

    def gravity(self, position_ecef_m: FloatArray) -> FloatArray:
        """Gravitational acceleration with the J2 term, ECEF axes, m/s², shape (N, 3)."""
        p = np.asarray(position_ecef_m, float)
        x, y, z = p[:, 0], p[:, 1], p[:, 2]
        r2 = x * x + y * y + z * z
        r = np.sqrt(r2)
        k = -self.mu_m3_s2 / (r2 * r)
        out = np.empty_like(p)
        if self.j2 == 0.0:
            out[:] = k[:, None] * p
            return out
        f = 1.5 * self.j2 * self.j2_radius_m**2 / r2
        zz = 5.0 * z * z / r2
        horizontal = k * (1.0 + f * (1.0 - zz))
        out[:, 0] = horizontal * x
        out[:, 1] = horizontal * y
        out[:, 2] = k * (1.0 + f * (3.0 - zz)) * z
        return out

    def density_kg_m3(self, height_m: FloatArray) -> FloatArray:
        """Air density of the exponential atmosphere at ``height_m``, kg/m³."""
        # Below the surface (a step that ends underground) the density keeps growing smoothly;
        # the clip only guards exp() against overflow in a run-away case.
        h = np.maximum(np.asarray(height_m, float), -10.0 * self.scale_height_m)
        return np.asarray(self.sea_level_density_kg_m3 * np.exp(-h / self.scale_height_m))

    def acceleration(
        self,
        position_ecef_m: FloatArray,
        velocity_ecef_mps: FloatArray,
        *,
        inverse_beta_m2_kg: FloatArray,
        thrust_mps2: FloatArray | None = None,
    ) -> FloatArray:
        """Acceleration relative to the rotating Earth, ECEF axes, m/s².

        Parameters
        ----------
        position_ecef_m : ndarray, shape (N, 3)
            ECEF position, m.
        velocity_ecef_mps : ndarray, shape (N, 3)
            Velocity relative to the rotating Earth (= air velocity), ECEF axes, m/s.
        inverse_beta_m2_kg : ndarray, shape (N,)
            ``1/β = C_D·A/m``, m²/kg; 0 switches drag off for that row (e.g. while boosting).
        thrust_mps2 : ndarray, shape (N, 3), optional
            Thrust acceleration, ECEF axes, m/s².

        Returns
        -------
        ndarray, shape (N, 3)
        """
        v = np.asarray(velocity_ecef_mps, float)
        a = self.gravity(position_ecef_m)
        if self.rotation_rad_s != 0.0:
            w = self.rotation_rad_s
            # −2ω×v (Coriolis) and −ω×(ω×r) (centrifugal) with ω along +z.
            a[:, 0] += w * w * position_ecef_m[:, 0] + 2.0 * w * v[:, 1]
            a[:, 1] += w * w * position_ecef_m[:, 1] - 2.0 * w * v[:, 0]
        if self.sea_level_density_kg_m3 != 0.0:
            rho = self.density_kg_m3(self.height_m(position_ecef_m))
            speed = np.sqrt(np.einsum("ij,ij->i", v, v))
            a -= (0.5 * rho * speed * inverse_beta_m2_kg)[:, None] * v
        if thrust_mps2 is not None:
            a += thrust_mps2
        return a

    def potential_m2_s2(self, position_ecef_m: FloatArray) -> FloatArray:
        """Effective potential per unit mass in the rotating frame (gravity + centrifugal), J/kg.

        ``V = −μ/r + μ·J2·R²/(2r³)·(3z²/r² − 1) − Ω²(x² + y²)/2``; its negative gradient is the
        gravity and centrifugal acceleration of :meth:`acceleration`.
        """
        p = np.asarray(position_ecef_m, float)
        r2 = np.einsum("ij,ij->i", p, p)
        r = np.sqrt(r2)
        potential = -self.mu_m3_s2 / r
        potential += (
            self.mu_m3_s2
            * self.j2
            * self.j2_radius_m**2
            / (2.0 * r2 * r)
            * (3.0 * p[:, 2] ** 2 / r2 - 1.0)
        )
        potential -= 0.5 * self.rotation_rad_s**2 * (p[:, 0] ** 2 + p[:, 1] ** 2)
        return np.asarray(potential)

    def jacobi_energy_m2_s2(
        self, position_ecef_m: FloatArray, velocity_ecef_mps: FloatArray
    ) -> FloatArray:
        """Specific energy in the rotating frame (Jacobi integral), J/kg, shape (N,).

        ``E = |v|²/2 + V(r)``: constant along any flight without drag and thrust, because the
        Coriolis force does no work and the gravity field is fixed in ECEF (Vallado §3.7).
        """
        v = np.asarray(velocity_ecef_mps, float)
        return np.asarray(0.5 * np.einsum("ij,ij->i", v, v) + self.potential_m2_s2(position_ecef_m))


Thrust = Callable[[FloatArray], FloatArray]
"""A steering law: thrust acceleration (N, 3), ECEF, m/s², as a function of the (N, 6) state."""


def rk4_step(
    dynamics: Dynamics,
    state: FloatArray,
    dt_s: FloatArray | float,
    *,
    inverse_beta_m2_kg: FloatArray,
    thrust_mps2: Thrust | None = None,
) -> FloatArray:
    """Advance ``(N, 6)`` ECEF states by one classical Runge–Kutta step each.

    Parameters
    ----------
    dynamics : Dynamics
        The equations of motion.
    state : ndarray, shape (N, 6)
        ECEF position (m) and velocity relative to the Earth (m/s).
    dt_s : float or ndarray, shape (N,)
        Step length of each row, s (rows may step by different amounts).
    inverse_beta_m2_kg : ndarray, shape (N,)
        Inverse ballistic coefficient per row, m²/kg (0: no drag).
    thrust_mps2 : callable, optional
        Steering law, evaluated at every stage: maps ``(N, 6)`` states to the thrust
        acceleration ``(N, 3)``, ECEF axes, m/s².

    Returns
    -------
    ndarray, shape (N, 6)
        The states one step later.

    Notes
    -----
    Fourth-order, fixed step (Press et al., *Numerical Recipes*, 3rd ed., §17.1). The thrust
    is a smooth function of the state evaluated at every stage (not held over the step), so
    a flight is a smooth function of the guidance inputs: that is what lets the trajectory
    solver converge to centimetres.
    """
    dt = np.broadcast_to(np.asarray(dt_s, float), state.shape[:1])[:, None]

    def derivative(s: FloatArray) -> FloatArray:
        out = np.empty_like(s)
        out[:, :3] = s[:, 3:]
        out[:, 3:] = dynamics.acceleration(
            s[:, :3],
            s[:, 3:],
            inverse_beta_m2_kg=inverse_beta_m2_kg,
            thrust_mps2=None if thrust_mps2 is None else thrust_mps2(s),
        )
        return out

    k1 = derivative(state)
    k2 = derivative(state + 0.5 * dt * k1)
    k3 = derivative(state + 0.5 * dt * k2)
    k4 = derivative(state + dt * k3)
    return np.asarray(state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4))
