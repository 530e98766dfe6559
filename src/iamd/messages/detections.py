"""Detections: the measurements one sensor produced at one instant."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from iamd.core.ids import NationCode, SensorId
from iamd.core.typing import FloatArray, IntArray


class MeasurementKind(enum.IntEnum):
    """The measurement model of a batch of detections (stored as its integer value)."""

    RADAR_RAE = 1
    """Slant range (m), azimuth (rad, clockwise from true north), elevation (rad), all in the
    sensor site's local East-North-Up frame."""

    LINE_OF_SIGHT = 2
    """Two angles of the line of sight from the sensor to the object, in ECEF axes: azimuth
    ``atan2(u_y, u_x)`` (rad) and elevation ``asin(u_z)`` (rad) of the unit vector ``u``."""


FALSE_ALARM = -1
"""``truth_index`` of a detection that no threat caused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Detections:
    """All detections of one sensor at one scan or frame time.

    Attributes
    ----------
    sensor : SensorId
        The sensor that measured.
    nation : NationCode
        The nation that owns the sensor.
    kind : MeasurementKind
        Which measurement model ``measurements`` follow.
    valid_at : float
        Measurement time, seconds since the scenario epoch.
    sensor_position_ecef_m : ndarray, shape (3,)
        Sensor position at ``valid_at``, ECEF, m (the origin of the measurement frame).
    sensor_lat_deg, sensor_lon_deg : float
        Geodetic latitude and longitude of the sensor, degrees (define the ENU frame of
        radar measurements).
    measurements : ndarray, shape (K, m)
        One row per detection; ``m`` = 3 for :attr:`MeasurementKind.RADAR_RAE`, 2 for
        :attr:`MeasurementKind.LINE_OF_SIGHT`.
    covariances : ndarray, shape (K, m, m)
        Measurement noise covariance of each row, in the units of ``measurements``.
    truth_index : ndarray of int, shape (K,)
        Row of the world's threat that caused each detection, or ``FALSE_ALARM`` (-1). For
        analysis only: trackers must not read it.
    snr_db : ndarray, shape (K,)
        Signal-to-noise ratio of each detection, dB (NaN where the model has none).
    """

    sensor: SensorId
    nation: NationCode
    kind: MeasurementKind
    valid_at: float
    sensor_position_ecef_m: FloatArray
    sensor_lat_deg: float
    sensor_lon_deg: float
    measurements: FloatArray
    covariances: FloatArray
    truth_index: IntArray
    snr_db: FloatArray

    def __len__(self) -> int:
        return int(self.measurements.shape[0])
