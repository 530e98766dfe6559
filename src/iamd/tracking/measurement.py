r"""Measurement models: radar (range, azimuth, elevation), line of sight, Cartesian position.

Each model implements :class:`~iamd.tracking.base.MeasurementModel` over ECEF states
``(..., n)`` (``n`` ≥ 3; only the position is read). The conventions are those of
:class:`~iamd.messages.Detections`:

=======================  ===================================================================
model                    measurement vector
=======================  ===================================================================
RadarMeasurement         slant range (m), azimuth (rad, clockwise from true north), elevation
                         (rad, above the local horizontal plane), in the site's ENU frame
LineOfSightMeasurement   azimuth ``atan2(u_y, u_x)`` and elevation ``asin(u_z)`` (rad) of the
                         ECEF unit vector ``u`` from the sensor to the object
PositionMeasurement      ECEF position (m), e.g. a fused track report
=======================  ===================================================================

**Many sensors in one call.** Sensor geometry is held as arrays that are either shared or
given per row: a :class:`RadarMeasurement` with ``site_ecef_m`` of shape ``(N, 3)`` and
latitudes/longitudes of shape ``(N,)`` predicts the measurement of track ``i`` from site
``i``. To update ``N`` tracks seen by ``S`` radars, gather the per-sensor arrays with the
sensor index of each row (``sites[sensor_of_row]``) and make one call; :meth:`take`
selects rows of a per-row model. Arrays broadcast against all leading axes of the states,
so the same model also serves the sigma points ``(2n+1, N, n)`` of the unscented filter.

References
----------
.. [1] Y. Bar-Shalom, X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §10.3 (polar-to-Cartesian conversion of measurements).
.. [2] D. Lerro and Y. Bar-Shalom, "Tracking with debiased consistent converted
   measurements versus EKF", *IEEE Trans. Aerosp. Electron. Syst.* 29(3), 1993,
   pp. 1015–1022.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iamd.core.errors import ConfigurationError
from iamd.core.typing import FloatArray, IntArray
from iamd.geo.frames import ecef_to_enu_matrix
from iamd.messages.detections import Detections, MeasurementKind

_TWO_PI = 2.0 * np.pi


def wrap_angle(angle: FloatArray | float) -> FloatArray:
    """Angles wrapped to ``(−π, π]``, rad.

    Examples
    --------
    >>> wrap_angle(np.array([np.pi, -np.pi, 3 * np.pi / 2, 0.25]))
    array([ 3.14159265,  3.14159265, -1.57079633,  0.25      ])
    """
    a = np.asarray(angle, dtype=float)
    return np.asarray(np.pi - np.mod(np.pi - a, _TWO_PI))


def _wrap_components(difference: FloatArray, angular: tuple[bool, ...]) -> FloatArray:
    """Wrap the angle components (last axis) of a difference of measurement vectors."""
    out = np.array(difference, dtype=float, copy=True)
    for index, is_angle in enumerate(angular):
        if is_angle:
            out[..., index] = wrap_angle(out[..., index])
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RadarMeasurement:
    """Slant range, azimuth and elevation from a radar site, in the site's ENU frame.

    ``h(x) = (|e|, atan2(e_E, e_N), atan2(e_U, √(e_E² + e_N²)))`` with
    ``e = C·(p − s)``, ``C`` the ECEF-to-ENU rotation at the site and ``s`` its ECEF
    position. Predicted azimuths are in ``[0, 2π)`` as the radar reports them; compare them
    only through :meth:`residual`.

    Parameters
    ----------
    site_ecef_m : ndarray, shape (3,) or (N, 3)
        Site position(s), ECEF, m: one site for every row, or one per row.
    site_lat_deg, site_lon_deg : float or ndarray, shape (N,)
        Geodetic latitude and longitude of the site(s), degrees (define the ENU frames).

    Raises
    ------
    ConfigurationError
        If the shapes of the site arrays do not fit together.

    Examples
    --------
    A target 10 km north-east and 1 km up from a site on the equator at 0° E:

    >>> radar = RadarMeasurement(
    ...     site_ecef_m=np.array([6_378_137.0, 0.0, 0.0]), site_lat_deg=0.0, site_lon_deg=0.0
    ... )
    >>> x = np.array([[6_379_137.0, 10e3, 10e3, 0.0, 0.0, 0.0]])
    >>> z = radar.predict(x)
    >>> round(float(z[0, 0]), 1), np.degrees(z[0, 1:]).round(3)
    (14177.4, array([45.   ,  4.045]))
    >>> radar.jacobian(x).shape
    (1, 3, 6)
    """

    site_ecef_m: FloatArray
    site_lat_deg: FloatArray | float
    site_lon_deg: FloatArray | float
    ecef_to_enu: FloatArray = field(init=False, repr=False)
    """ECEF-to-ENU rotations of the site(s), shape ``(3, 3)`` or ``(N, 3, 3)``."""

    def __post_init__(self) -> None:
        site = np.asarray(self.site_ecef_m, dtype=float)
        lat = np.asarray(self.site_lat_deg, dtype=float)
        lon = np.asarray(self.site_lon_deg, dtype=float)
        if site.shape[-1:] != (3,) or site.ndim > 2:
            raise ConfigurationError(
                f"RadarMeasurement: site_ecef_m must have shape (3,) or (N, 3) (got {site.shape})"
            )
        try:
            rows = np.broadcast_shapes(site.shape[:-1], lat.shape, lon.shape)
        except ValueError:
            raise ConfigurationError(
                "RadarMeasurement: site_ecef_m, site_lat_deg and site_lon_deg must have "
                f"matching rows (got {site.shape}, {lat.shape}, {lon.shape})"
            ) from None
        object.__setattr__(self, "site_ecef_m", np.broadcast_to(site, (*rows, 3)))
        object.__setattr__(self, "site_lat_deg", lat)
        object.__setattr__(self, "site_lon_deg", lon)
        object.__setattr__(
            self, "ecef_to_enu", np.broadcast_to(ecef_to_enu_matrix(lat, lon), (*rows, 3, 3))
        )

    @classmethod
    def from_detections(cls, detections: Detections) -> RadarMeasurement:
        """The model of a radar's batch of detections (one site for all its rows).

        Raises
        ------
        ConfigurationError
            If the detections are not radar measurements.
        """
        if detections.kind is not MeasurementKind.RADAR_RAE:
            raise ConfigurationError(
                f"RadarMeasurement: detections of sensor {detections.sensor!r} are "
                f"{detections.kind.name}, not RADAR_RAE"
            )
        return cls(
            site_ecef_m=detections.sensor_position_ecef_m,
            site_lat_deg=detections.sensor_lat_deg,
            site_lon_deg=detections.sensor_lon_deg,
        )

    @property
    def measurement_dim(self) -> int:
        """Three: range, azimuth, elevation."""
        return 3

    @property
    def angular(self) -> tuple[bool, ...]:
        """Azimuth and elevation are angles; range is not."""
        return (False, True, True)

    def take(self, rows: IntArray | slice) -> RadarMeasurement:
        """The model restricted to ``rows`` (itself when the site is shared by all rows)."""
        if self.ecef_to_enu.ndim == 2:
            return self
        lat = np.broadcast_to(self.site_lat_deg, self.site_ecef_m.shape[:-1])
        lon = np.broadcast_to(self.site_lon_deg, self.site_ecef_m.shape[:-1])
        return RadarMeasurement(
            site_ecef_m=self.site_ecef_m[rows], site_lat_deg=lat[rows], site_lon_deg=lon[rows]
        )

    def _enu(self, x: FloatArray) -> FloatArray:
        delta = np.asarray(x, dtype=float)[..., :3] - self.site_ecef_m
        return np.asarray((self.ecef_to_enu @ delta[..., None])[..., 0])

    def predict(self, x: FloatArray) -> FloatArray:
        """Range (m), azimuth in ``[0, 2π)`` and elevation (rad), shape ``(..., 3)``."""
        enu = self._enu(x)
        horizontal = np.hypot(enu[..., 0], enu[..., 1])
        slant = np.hypot(horizontal, enu[..., 2])
        azimuth = np.mod(np.arctan2(enu[..., 0], enu[..., 1]), _TWO_PI)
        azimuth = np.where(azimuth >= _TWO_PI, 0.0, azimuth)
        elevation = np.arctan2(enu[..., 2], horizontal)
        return np.stack([slant, azimuth, elevation], axis=-1)

    def jacobian(self, x: FloatArray) -> FloatArray:
        """``∂(r, az, el)/∂x``, shape ``(..., 3, n)``; zero in the velocity columns.

        Singular at the zenith of the site (azimuth undefined) and at the site itself.
        """
        x = np.asarray(x, dtype=float)
        enu = self._enu(x)
        e, n, u = enu[..., 0], enu[..., 1], enu[..., 2]
        horizontal_sq = e * e + n * n
        horizontal = np.sqrt(horizontal_sq)
        slant_sq = horizontal_sq + u * u
        slant = np.sqrt(slant_sq)
        local = np.zeros((*enu.shape[:-1], 3, 3))
        local[..., 0, :] = enu / slant[..., None]
        local[..., 1, 0] = n / horizontal_sq
        local[..., 1, 1] = -e / horizontal_sq
        scale = u / (slant_sq * horizontal)
        local[..., 2, 0] = -e * scale
        local[..., 2, 1] = -n * scale
        local[..., 2, 2] = horizontal / slant_sq
        h = np.zeros((*enu.shape[:-1], 3, x.shape[-1]))
        h[..., :3] = local @ self.ecef_to_enu
        return h

    def residual(self, z: FloatArray, z_predicted: FloatArray) -> FloatArray:
        """``z − ẑ`` with azimuth and elevation wrapped to ``(−π, π]``, shape ``(..., 3)``."""
        return _wrap_components(np.asarray(z, float) - np.asarray(z_predicted, float), self.angular)

    def to_cartesian(self, z: FloatArray, R: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Convert radar measurements to ECEF positions with covariances, for initiation.

        By linearisation ([1]_ §10.3): ``p = s + Cᵀ e(z)`` and ``P = Cᵀ J R Jᵀ C`` with
        ``J = ∂e/∂z`` at the measurement. The conversion bias the debiased converted
        measurement removes ([2]_) is ``r·σ²/2`` along the line of sight: 0.3 m for 1.5 mrad
        at 300 km, far below the cross-range spread (450 m), so it is not worth the extra
        terms here.

        Parameters
        ----------
        z : ndarray, shape (N, 3)
            Range (m), azimuth (rad, clockwise from north), elevation (rad).
        R : ndarray, shape (N, 3, 3) or (3, 3)
            Measurement noise covariances, (m, rad, rad) units squared.

        Returns
        -------
        position : ndarray, shape (N, 3)
            ECEF positions, m.
        covariance : ndarray, shape (N, 3, 3)
            Their covariances, m².

        Examples
        --------
        >>> radar = RadarMeasurement(
        ...     site_ecef_m=np.array([6_378_137.0, 0.0, 0.0]), site_lat_deg=0.0, site_lon_deg=0.0
        ... )
        >>> x = np.array([[6_379_137.0, 10e3, 10e3, 0.0, 0.0, 0.0]])
        >>> position, covariance = radar.to_cartesian(radar.predict(x), np.diag([1.0, 0, 0]))
        >>> np.allclose(position, x[:, :3])
        True
        """
        z = np.asarray(z, dtype=float)
        r, az, el = z[..., 0], z[..., 1], z[..., 2]
        ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
        enu = np.stack([r * ce * sa, r * ce * ca, r * se], axis=-1)
        jac = np.zeros((*z.shape[:-1], 3, 3))
        jac[..., :, 0] = np.stack([ce * sa, ce * ca, se], axis=-1)
        jac[..., :, 1] = np.stack([r * ce * ca, -r * ce * sa, np.zeros_like(r)], axis=-1)
        jac[..., :, 2] = np.stack([-r * se * sa, -r * se * ca, r * ce], axis=-1)
        to_ecef = np.swapaxes(self.ecef_to_enu, -1, -2)
        position = self.site_ecef_m + (to_ecef @ enu[..., None])[..., 0]
        g = to_ecef @ jac
        covariance = g @ np.asarray(R, dtype=float) @ np.swapaxes(g, -1, -2)
        return np.asarray(position), np.asarray(
            0.5 * (covariance + np.swapaxes(covariance, -1, -2))
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LineOfSightMeasurement:
    """Two angles of the ECEF line of sight from a (space) sensor to the object.

    ``h(x) = (atan2(d_y, d_x), atan2(d_z, √(d_x² + d_y²)))`` with ``d = p − s``: the azimuth
    ``atan2(u_y, u_x)`` and elevation ``asin(u_z)`` of the unit vector ``u = d/|d|``.

    Parameters
    ----------
    sensor_ecef_m : ndarray, shape (3,) or (N, 3)
        Sensor position(s) at the measurement time, ECEF, m.

    Raises
    ------
    ConfigurationError
        If ``sensor_ecef_m`` is not of shape (3,) or (N, 3).

    Examples
    --------
    >>> sensor = LineOfSightMeasurement(sensor_ecef_m=np.array([42e6, 0.0, 0.0]))
    >>> x = np.array([[6.4e6, 0.0, 0.0, 0.0, 0.0, 0.0]])
    >>> sensor.predict(x)
    array([[3.14159265, 0.        ]])
    """

    sensor_ecef_m: FloatArray

    def __post_init__(self) -> None:
        sensor = np.asarray(self.sensor_ecef_m, dtype=float)
        if sensor.shape[-1:] != (3,) or sensor.ndim > 2:
            raise ConfigurationError(
                "LineOfSightMeasurement: sensor_ecef_m must have shape (3,) or (N, 3) "
                f"(got {sensor.shape})"
            )
        object.__setattr__(self, "sensor_ecef_m", sensor)

    @classmethod
    def from_detections(cls, detections: Detections) -> LineOfSightMeasurement:
        """The model of a line-of-sight sensor's batch of detections.

        Raises
        ------
        ConfigurationError
            If the detections are not line-of-sight measurements.
        """
        if detections.kind is not MeasurementKind.LINE_OF_SIGHT:
            raise ConfigurationError(
                f"LineOfSightMeasurement: detections of sensor {detections.sensor!r} are "
                f"{detections.kind.name}, not LINE_OF_SIGHT"
            )
        return cls(sensor_ecef_m=detections.sensor_position_ecef_m)

    @property
    def measurement_dim(self) -> int:
        """Two: azimuth and elevation."""
        return 2

    @property
    def angular(self) -> tuple[bool, ...]:
        """Both components are angles."""
        return (True, True)

    def take(self, rows: IntArray | slice) -> LineOfSightMeasurement:
        """The model restricted to ``rows`` (itself when the sensor is shared by all rows)."""
        if self.sensor_ecef_m.ndim == 1:
            return self
        return LineOfSightMeasurement(sensor_ecef_m=self.sensor_ecef_m[rows])

    def predict(self, x: FloatArray) -> FloatArray:
        """Azimuth in ``(−π, π]`` and elevation in ``[−π/2, π/2]``, rad, shape ``(..., 2)``."""
        d = np.asarray(x, dtype=float)[..., :3] - self.sensor_ecef_m
        azimuth = np.arctan2(d[..., 1], d[..., 0])
        elevation = np.arctan2(d[..., 2], np.hypot(d[..., 0], d[..., 1]))
        return np.stack([azimuth, elevation], axis=-1)

    def jacobian(self, x: FloatArray) -> FloatArray:
        """``∂(az, el)/∂x``, shape ``(..., 2, n)``; singular along the ECEF z axis."""
        x = np.asarray(x, dtype=float)
        d = x[..., :3] - self.sensor_ecef_m
        dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
        horizontal_sq = dx * dx + dy * dy
        horizontal = np.sqrt(horizontal_sq)
        slant_sq = horizontal_sq + dz * dz
        h = np.zeros((*d.shape[:-1], 2, x.shape[-1]))
        h[..., 0, 0] = -dy / horizontal_sq
        h[..., 0, 1] = dx / horizontal_sq
        scale = dz / (slant_sq * horizontal)
        h[..., 1, 0] = -dx * scale
        h[..., 1, 1] = -dy * scale
        h[..., 1, 2] = horizontal / slant_sq
        return h

    def residual(self, z: FloatArray, z_predicted: FloatArray) -> FloatArray:
        """``z − ẑ`` with both angles wrapped to ``(−π, π]``, shape ``(..., 2)``."""
        return _wrap_components(np.asarray(z, float) - np.asarray(z_predicted, float), self.angular)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PositionMeasurement:
    """The ECEF position itself (``H = [I 0]``): fused reports, tests, linear references.

    Examples
    --------
    >>> PositionMeasurement().jacobian(np.zeros((1, 6)))[0]
    array([[1., 0., 0., 0., 0., 0.],
           [0., 1., 0., 0., 0., 0.],
           [0., 0., 1., 0., 0., 0.]])
    """

    @property
    def measurement_dim(self) -> int:
        """Three: x, y, z."""
        return 3

    @property
    def angular(self) -> tuple[bool, ...]:
        """No angles."""
        return (False, False, False)

    def predict(self, x: FloatArray) -> FloatArray:
        """ECEF positions, m, shape ``(..., 3)``."""
        return np.array(np.asarray(x, dtype=float)[..., :3])

    def jacobian(self, x: FloatArray) -> FloatArray:
        """``[I₃ 0]``, shape ``(..., 3, n)``."""
        x = np.asarray(x, dtype=float)
        h = np.zeros((*x.shape[:-1], 3, x.shape[-1]))
        h[..., [0, 1, 2], [0, 1, 2]] = 1.0
        return h

    def residual(self, z: FloatArray, z_predicted: FloatArray) -> FloatArray:
        """``z − ẑ``, m, shape ``(..., 3)``."""
        return np.asarray(np.asarray(z, float) - np.asarray(z_predicted, float))
