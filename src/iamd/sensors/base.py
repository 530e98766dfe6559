"""The sensor interface, and the conformance check every sensor implementation passes."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from iamd.core.ids import NationCode, SensorId
from iamd.messages.detections import FALSE_ALARM, Detections, MeasurementKind
from iamd.messages.truth import PlatformState, TruthState

_COLUMNS = {MeasurementKind.RADAR_RAE: 3, MeasurementKind.LINE_OF_SIGHT: 2}


@runtime_checkable
class Sensor(Protocol):
    """A sensor that turns the truth at one instant into the detections of one scan or frame.

    The simulation calls :meth:`observe` every :attr:`period_s` seconds with the truth and the
    sensor platform's state at the same instant, and the sensor's own random generator.

    Attributes
    ----------
    sensor_id : SensorId
        Unique name of the sensor in the scenario.
    nation : NationCode
        The nation that owns the sensor.
    period_s : float
        Revisit (radar) or frame (infrared) period, s.
    """

    sensor_id: SensorId
    nation: NationCode
    period_s: float

    def observe(
        self, truth: TruthState, platform: PlatformState, rng: np.random.Generator
    ) -> Detections:
        """Measure every object the sensor can see at ``truth.time_s``.

        Parameters
        ----------
        truth : TruthState
            True state of all N threats at the scan or frame instant (ECEF, m).
        platform : PlatformState
            The sensor platform (land site, ship or satellite) at the same instant.
        rng : numpy.random.Generator
            The sensor's own random stream; every draw of the scan comes from it.

        Returns
        -------
        Detections
            One row per detection (threat-caused or false alarm), in an order that carries
            no information about ``truth_index``; ``valid_at`` is ``truth.time_s``.
        """
        ...


def _require(condition: bool | np.bool_, rule: str) -> None:
    # An explicit raise, not ``assert``: the check must hold under ``python -O`` too.
    if not condition:
        raise AssertionError(rule)


def check_sensor(
    sensor: Sensor, truth: TruthState, platform: PlatformState, rng: np.random.Generator
) -> Detections:
    """Check that a sensor honours the :class:`Sensor` contract on one observation.

    The one conformance check that every implementation passes (in the spirit of
    Gymnasium's ``check_env``): identity fields, ``valid_at``, array shapes and dtypes,
    symmetric positive-definite covariances, finite measurements and a valid
    ``truth_index``.

    Parameters
    ----------
    sensor : Sensor
        The sensor under test.
    truth, platform, rng
        As for :meth:`Sensor.observe`.

    Returns
    -------
    Detections
        What the sensor returned, for further checks by the caller.

    Raises
    ------
    AssertionError
        On the first broken rule, with a message naming it.
    """
    _require(isinstance(sensor, Sensor), f"{type(sensor).__name__} does not implement Sensor")
    _require(sensor.period_s > 0.0, f"period_s must be positive (got {sensor.period_s})")
    detections = sensor.observe(truth, platform, rng)
    _require(isinstance(detections, Detections), "observe() must return Detections")
    _require(detections.sensor == sensor.sensor_id, "Detections.sensor is not the sensor's id")
    _require(detections.nation == sensor.nation, "Detections.nation is not the sensor's nation")
    _require(detections.valid_at == truth.time_s, "valid_at must be the truth's time_s")
    _require(detections.sensor_position_ecef_m.shape == (3,), "sensor position must be (3,)")
    count = len(detections)
    columns = _COLUMNS[detections.kind]
    _require(detections.measurements.shape == (count, columns), "measurements shape")
    _require(detections.covariances.shape == (count, columns, columns), "covariances shape")
    _require(detections.truth_index.shape == (count,), "truth_index shape")
    _require(detections.snr_db.shape == (count,), "snr_db shape")
    _require(detections.measurements.dtype == np.float64, "measurements must be float64")
    _require(detections.truth_index.dtype == np.int64, "truth_index must be int64")
    _require(np.all(np.isfinite(detections.measurements)), "measurements must be finite")
    covariances = detections.covariances
    _require(np.allclose(covariances, np.swapaxes(covariances, -1, -2)), "covariances symmetric")
    if count:
        _require(np.all(np.linalg.eigvalsh(covariances) > 0.0), "covariances positive definite")
    index = detections.truth_index
    threats = truth.position_ecef_m.shape[0]
    _require(np.all((index == FALSE_ALARM) | ((index >= 0) & (index < threats))), "truth_index")
    caused = index[index != FALSE_ALARM]
    _require(np.unique(caused).size == caused.size, "a threat was detected twice in one scan")
    _require(np.all(truth.active[caused]), "an inactive threat was detected")
    return detections
