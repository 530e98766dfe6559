"""Sensor models: ground and ship radars, space-based infrared early warning.

Every sensor implements :class:`Sensor`: given the truth and its platform at one instant, it
returns the :class:`~iamd.messages.Detections` of one scan or frame. :data:`SENSOR_KINDS`
maps a scenario's sensor ``kind`` to the class that builds the sensor from its config.
"""

from collections.abc import Callable

from iamd.core.registry import Registry
from iamd.sensors.base import Sensor, check_sensor
from iamd.sensors.infrared import InfraredConfig, SpaceInfraredSensor, line_of_sight_angles
from iamd.sensors.radar import (
    RadarConfig,
    RadarSensor,
    radar_snr_db,
    swerling1_detection_probability,
)

SensorFactory = Callable[..., Sensor]
"""Builds a sensor from its config object (``RadarConfig`` → ``RadarSensor``, …)."""

SENSOR_KINDS: Registry[SensorFactory] = Registry("sensor")
"""Sensor factories by scenario ``kind``: ``"radar"`` and ``"infrared.space"``."""

SENSOR_KINDS.register("radar")(RadarSensor)
SENSOR_KINDS.register("infrared.space")(SpaceInfraredSensor)

__all__ = [
    "SENSOR_KINDS",
    "InfraredConfig",
    "RadarConfig",
    "RadarSensor",
    "Sensor",
    "SensorFactory",
    "SpaceInfraredSensor",
    "check_sensor",
    "line_of_sight_angles",
    "radar_snr_db",
    "swerling1_detection_probability",
]
