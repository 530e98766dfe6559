"""Interfaces of the estimation core: motion models, measurement models, filter results.

Everything is batched. A *stack* of ``N`` estimates is a state array ``x`` of shape
``(N, n)`` and a covariance array ``P`` of shape ``(N, n, n)``, in Earth-centred, Earth-fixed
(ECEF) axes and SI units. Models accept any leading axes (``(..., n)``), which is how the
unscented filter pushes all its sigma points ``(2n+1, N, n)`` through a model in one call.

State layouts
-------------
======  ===========================================================  ==========
index   component                                                     unit
======  ===========================================================  ==========
0–2     position ``x, y, z``, ECEF                                    m
3–5     velocity relative to the rotating Earth, ECEF axes            m/s
6       inverse ballistic coefficient ``1/β = C_D·A/m`` (only the     m²/kg
        :class:`~iamd.tracking.motion.Ballistic` model with
        ``estimate_drag=True``)
======  ===========================================================  ==========

Measurement models read only the position (and ignore any extra state), so one measurement
model serves the 6- and 7-state models alike.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from iamd.core.typing import FloatArray


class MotionModel(Protocol):
    """A discrete-time motion model ``x_{k+1} = f(x_k, Δt) + w_k``, ``w_k ~ N(0, Q)``.

    Every method takes states of shape ``(..., n)`` and a step ``dt`` in seconds that is a
    scalar or broadcasts against ``x.shape[:-1]`` (one step per track: tracks are revisited
    at different times). Steps are non-negative (prediction forward in time).
    """

    @property
    def state_dim(self) -> int:
        """Length ``n`` of the state vector this model propagates."""
        ...

    def propagate(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """States ``f(x, Δt)`` after the step, shape ``(..., n)``."""
        ...

    def jacobian(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """State-transition Jacobian ``F = ∂f/∂x`` at ``x``, shape ``(..., n, n)``."""
        ...

    def process_noise(self, x: FloatArray, dt: FloatArray | float) -> FloatArray:
        """Covariance ``Q`` of the process noise over the step, shape ``(..., n, n)``."""
        ...


class MeasurementModel(Protocol):
    """A measurement model ``z = h(x) + v``, ``v ~ N(0, R)`` (``R`` is given per detection).

    Implementations hold the sensor geometry as arrays that are either shared (e.g. a site
    position of shape ``(3,)``) or given per row (shape ``(N, 3)``), broadcasting against the
    leading axes of the states: one call then updates ``N`` tracks each seen by its own
    sensor. Angle components are listed in :attr:`angular`: residuals wrap them to
    ``(−π, π]`` and sigma-point means average them on the circle.
    """

    @property
    def measurement_dim(self) -> int:
        """Length ``m`` of a measurement vector."""
        ...

    @property
    def angular(self) -> tuple[bool, ...]:
        """For each of the ``m`` components, whether it is an angle in radians."""
        ...

    def predict(self, x: FloatArray) -> FloatArray:
        """Noise-free measurements ``h(x)`` of states ``(..., n)``, shape ``(..., m)``."""
        ...

    def jacobian(self, x: FloatArray) -> FloatArray:
        """Measurement Jacobian ``H = ∂h/∂x`` at ``x``, shape ``(..., m, n)``."""
        ...

    def residual(self, z: FloatArray, z_predicted: FloatArray) -> FloatArray:
        """``z − z_predicted`` with angle components wrapped to ``(−π, π]``, shape ``(..., m)``."""
        ...


class KalmanUpdate(NamedTuple):
    """Result of a Kalman-type measurement update of ``N`` tracks.

    Attributes
    ----------
    state : ndarray, shape (N, n)
        Posterior states, ECEF, SI units.
    covariance : ndarray, shape (N, n, n)
        Posterior covariances (symmetric positive definite).
    innovation : ndarray, shape (N, m)
        Innovations ``ν = z − ẑ`` (angles wrapped to ``(−π, π]``), measurement units.
    innovation_covariance : ndarray, shape (N, m, m)
        Innovation covariances ``S``, measurement units squared.
    """

    state: FloatArray
    covariance: FloatArray
    innovation: FloatArray
    innovation_covariance: FloatArray
