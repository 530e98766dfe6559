"""The scenario schema: frozen pydantic models of every section of a scenario file.

Units are SI (metres, seconds, m/s, m²) unless the field name says otherwise (``_deg``,
``_mrad``, ``_urad``, ``_db``). Each model forbids unknown fields. Rules that involve two
fields of one object (``range_min_m < range_max_m``, ship-only fields, exactly one of
``range_class`` / ``burnout_speed_mps``) are checked here, on the later field, so that every
violation is reported at its own path; rules that span the document (references, unique
names, reach, timing) are checked by :mod:`iamd.scenario.validation`.

Closed vocabularies (classification, caveat and track category names) are checked with a
"did you mean" hint and held as string enumerations whose members map onto the message
layer's integer enumerations (:attr:`ClassificationName.level`, :attr:`CaveatName.flag`,
:attr:`CategoryName.code`), so that the simulation builder needs no name tables of its own.

The field-by-field reference is ``docs/scenario-format.md``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    Tag,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from iamd.core.ids import NationCode
from iamd.messages import (
    MAX_NATIONS,
    Caveat,
    Classification,
    ReleasabilityLabel,
    ThreatCategory,
)
from iamd.messages.reports import UNCLASSIFIED_CATEGORY
from iamd.scenario.issues import Path, did_you_mean, format_number
from iamd.world.reach import RangeClass, class_burnout_speed_mps, max_range_m

GEOSTATIONARY_ALTITUDE_M = 35_786_000.0
"""Height of the geostationary orbit above the equator, m."""

MAX_DURATION_S = 7 * 86_400.0
"""Longest scenario, s (seven days)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NATION_CODE = re.compile(r"[A-Z]{3}")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            "must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    return value


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value) or len(value) > 64:
        raise ValueError("must be a slug: lowercase letters and digits joined by single '-'")
    return value


def _check_nation_code(value: str) -> str:
    if not _NATION_CODE.fullmatch(value):
        raise ValueError("must be 3 uppercase letters, e.g. USA")
    return value


Real = Annotated[float, Strict()]
"""A finite number; integers are accepted, strings and booleans are not."""

Integer = Annotated[int, Strict()]
"""An integer; floats, strings and booleans are not accepted."""

Text = Annotated[str, Strict()]
Name = Annotated[str, Strict(), AfterValidator(_check_name)]
Slug = Annotated[str, Strict(), AfterValidator(_check_slug)]
NationCodeText = Annotated[str, Strict(), AfterValidator(_check_nation_code)]

Latitude = Annotated[Real, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[Real, Field(gt=-180.0, le=180.0)]
Altitude = Annotated[Real, Field(ge=-500.0, le=10_000.0)]


class SiteKind(enum.StrEnum):
    """Whether a site stays put or sails."""

    LAND = "land"
    SHIP = "ship"


class ClassificationName(enum.StrEnum):
    """A security classification, as written in a scenario file (least restricted first)."""

    UNCLASSIFIED = "unclassified"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"
    TOP_SECRET = "top_secret"

    @property
    def level(self) -> Classification:
        """The message layer's :class:`~iamd.messages.Classification` of this name."""
        return Classification[self.name]


class CaveatName(enum.StrEnum):
    """A handling caveat, as written in a scenario file."""

    SENSOR_SOURCE = "sensor_source"
    PRECISE_POSITION = "precise_position"
    ORIGINATOR_CONTROLLED = "originator_controlled"

    @property
    def flag(self) -> Caveat:
        """The message layer's :class:`~iamd.messages.Caveat` flag of this name."""
        return Caveat[self.name]


class CategoryName(enum.StrEnum):
    """A track category an agreement may release, as written in a scenario file.

    ``unclassified`` is a track the tracker has not classified yet (category 0); the others
    are the :class:`~iamd.messages.ThreatCategory` members.
    """

    UNCLASSIFIED = "unclassified"
    BALLISTIC_MISSILE = "ballistic_missile"
    CRUISE_MISSILE = "cruise_missile"
    AIRCRAFT = "aircraft"

    @property
    def code(self) -> int:
        """The category value carried by track reports (0 for ``unclassified``)."""
        if self is CategoryName.UNCLASSIFIED:
            return UNCLASSIFIED_CATEGORY
        return int(ThreatCategory[self.name])


def _closed(vocabulary: type[enum.StrEnum]) -> BeforeValidator:
    """Reject a name outside ``vocabulary`` with the closest name as a hint.

    Values that are not strings (and enumeration members) are left to the enumeration's
    own validation, which names the type that is expected.
    """
    names = [member.value for member in vocabulary]
    listed = ", ".join(repr(name) for name in names[:-1]) + f" or {names[-1]!r}"

    def check(value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, enum.Enum) and value not in names:
            raise ValueError(f"must be {listed}{did_you_mean(value.lower(), names)}")
        return value

    return BeforeValidator(check)


ClassificationText = Annotated[ClassificationName, _closed(ClassificationName)]
CaveatText = Annotated[CaveatName, _closed(CaveatName)]
CategoryText = Annotated[CategoryName, _closed(CategoryName)]
Flag = Annotated[bool, Strict()]
"""A YAML boolean (``true``/``false``); numbers and strings are not accepted."""


class _Model(BaseModel):
    """Common configuration: immutable, unknown fields rejected, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _require_above(info: ValidationInfo, lower_field: str, value: float) -> None:
    """Reject ``value`` unless it is above the (valid) value of ``lower_field``."""
    lower = info.data.get(lower_field)
    if lower is not None and value <= lower:
        raise ValueError(f"must be greater than {lower_field} = {format_number(lower)}")


class Nation(_Model):
    """An ally taking part in the scenario."""

    code: NationCodeText = Field(description="Three uppercase letters, e.g. USA; unique.")
    name: Text = Field(min_length=1, description="Human-readable name.")
    clearance: ClassificationText = Field(
        default=ClassificationName.SECRET,
        description="Highest classification the nation's network may hold; default secret.",
    )


class Releasability(_Model):
    """The label a sensor's owner puts on the tracks made from its data (REL TO, caveats)."""

    classification: ClassificationText = Field(
        default=ClassificationName.SECRET,
        description="Classification of the tracks; default secret.",
    )
    rel_to: tuple[NationCodeText, ...] | None = Field(
        default=None,
        description=(
            "Nations the tracks may be released to besides the owner (always implied); "
            "absent or null: every declared nation; []: the owner only."
        ),
    )
    caveats: tuple[CaveatText, ...] = Field(default=(), description="Handling caveats; none.")

    @property
    def caveat_flags(self) -> Caveat:
        """The caveats as one :class:`~iamd.messages.Caveat` value (no flag: none)."""
        return _combined_flags(self.caveats)


def _combined_flags(names: typing.Iterable[CaveatName]) -> Caveat:
    flags = Caveat(0)
    for name in names:
        flags |= name.flag
    return flags


class Waypoint(_Model):
    """A point of a route on the ground track."""

    lat_deg: Latitude = Field(description="Geodetic latitude, degrees, [-90, 90].")
    lon_deg: Longitude = Field(description="Longitude, degrees east, (-180, 180].")


class GeoPoint(_Model):
    """A geodetic position: a launch point, or an aim point given by coordinates."""

    lat_deg: Latitude = Field(description="Geodetic latitude, degrees, [-90, 90].")
    lon_deg: Longitude = Field(description="Longitude, degrees east, (-180, 180].")
    altitude_m: Altitude = Field(
        default=0.0, description="Height above the WGS-84 ellipsoid, m, [-500, 10000]."
    )


class AimAsset(_Model):
    """An aim point given as the position of a defended asset."""

    asset: Name = Field(description="Name of a declared defended asset.")


class Site(_Model):
    """A land site or a ship that carries sensors and/or shooters."""

    name: Name = Field(description="Unique among sites.")
    nation: NationCodeText = Field(description="Code of a declared nation.")
    kind: SiteKind = Field(description="land or ship.")
    lat_deg: Latitude = Field(description="Geodetic latitude at time 0, degrees, [-90, 90].")
    lon_deg: Longitude = Field(description="Longitude at time 0, degrees east, (-180, 180].")
    altitude_m: Altitude = Field(
        default=0.0, description="Height above the WGS-84 ellipsoid, m, [-500, 10000]."
    )
    speed_mps: Annotated[Real, Field(gt=0.0, lt=40.0)] | None = Field(
        default=None,
        validate_default=True,
        description="Ships only: speed over ground along the waypoints, m/s, (0, 40).",
    )
    waypoints: tuple[Waypoint, ...] = Field(
        default=(),
        validate_default=True,
        description="Ships only: route sailed from (lat_deg, lon_deg) through these points.",
    )

    @field_validator("speed_mps")
    @classmethod
    def _speed_only_for_ships(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("kind") is SiteKind.LAND:
            raise ValueError("only ships have speed_mps; this site is kind: land")
        return value

    @field_validator("waypoints")
    @classmethod
    def _waypoints_only_for_ships(
        cls, value: tuple[Waypoint, ...], info: ValidationInfo
    ) -> tuple[Waypoint, ...]:
        kind = info.data.get("kind")
        if value and kind is SiteKind.LAND:
            raise ValueError("only ships have waypoints; this site is kind: land")
        if kind is SiteKind.SHIP and "speed_mps" in info.data:
            if value and info.data["speed_mps"] is None:
                raise ValueError("a ship with waypoints needs speed_mps")
            if not value and info.data["speed_mps"] is not None:
                raise ValueError("a ship with speed_mps needs waypoints to sail through")
        return value


class RadarSensor(_Model):
    """A notional surface radar on a site; it belongs to the site's nation."""

    name: Name = Field(description="Unique among sensors.")
    kind: Literal["radar"] = Field(description="radar.")
    site: Name = Field(description="Name of a declared site.")
    boresight_azimuth_deg: Annotated[Real, Field(ge=0.0, lt=360.0)] = Field(
        description="Centre of the azimuth coverage, degrees clockwise from north, [0, 360)."
    )
    azimuth_extent_deg: Annotated[Real, Field(gt=0.0, le=360.0)] = Field(
        description="Full width of the azimuth coverage, degrees, (0, 360]."
    )
    elevation_min_deg: Annotated[Real, Field(ge=-5.0, lt=90.0)] = Field(
        description="Lowest elevation covered, degrees, [-5, 90)."
    )
    elevation_max_deg: Annotated[Real, Field(gt=-5.0, le=90.0)] = Field(
        description="Highest elevation covered, degrees, (-5, 90], > elevation_min_deg."
    )
    range_min_m: Annotated[Real, Field(ge=0.0)] = Field(
        description="Shortest instrumented slant range, m, >= 0."
    )
    range_max_m: Annotated[Real, Field(gt=0.0)] = Field(
        description="Longest instrumented slant range, m, > range_min_m."
    )
    revisit_period_s: Annotated[Real, Field(gt=0.0)] = Field(
        description="Time between two looks at the same direction, s, > 0."
    )
    range_noise_m: Annotated[Real, Field(gt=0.0)] = Field(
        description="Standard deviation of the range measurement, m, > 0."
    )
    azimuth_noise_mrad: Annotated[Real, Field(gt=0.0)] = Field(
        description="Standard deviation of the azimuth measurement, mrad, > 0."
    )
    elevation_noise_mrad: Annotated[Real, Field(gt=0.0)] = Field(
        description="Standard deviation of the elevation measurement, mrad, > 0."
    )
    reference_range_m: Annotated[Real, Field(gt=0.0)] = Field(
        description="Range at which a reference_rcs_m2 target gives reference_snr_db, m, > 0."
    )
    reference_rcs_m2: Annotated[Real, Field(gt=0.0)] = Field(
        default=1.0, description="Radar cross section of the reference target, m², > 0."
    )
    reference_snr_db: Real = Field(
        default=13.0, description="Signal-to-noise ratio at the reference range, dB."
    )
    false_alarm_probability: Annotated[Real, Field(gt=0.0, lt=1.0)] = Field(
        default=1e-6, description="Probability of false alarm per resolution cell, (0, 1)."
    )
    false_alarms_per_scan: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Mean number of false detections per revisit, >= 0."
    )
    releasability: Releasability = Field(
        default_factory=Releasability,
        description="Label of the tracks made from this sensor; default secret, REL TO all.",
    )

    @field_validator("elevation_max_deg")
    @classmethod
    def _elevation_order(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "elevation_min_deg", value)
        return value

    @field_validator("range_max_m")
    @classmethod
    def _range_order(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "range_min_m", value)
        return value


class Coverage(_Model):
    """A latitude-longitude box on the ground (it does not wrap across 180°)."""

    lat_min_deg: Latitude = Field(description="Southern edge, degrees, [-90, 90].")
    lat_max_deg: Latitude = Field(description="Northern edge, degrees, > lat_min_deg.")
    lon_min_deg: Annotated[Real, Field(ge=-180.0, le=180.0)] = Field(
        description="Western edge, degrees east, [-180, 180]."
    )
    lon_max_deg: Annotated[Real, Field(ge=-180.0, le=180.0)] = Field(
        description="Eastern edge, degrees east, > lon_min_deg."
    )

    @field_validator("lat_max_deg")
    @classmethod
    def _latitude_order(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "lat_min_deg", value)
        return value

    @field_validator("lon_max_deg")
    @classmethod
    def _longitude_order(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "lon_min_deg", value)
        return value


class InfraredSensor(_Model):
    """A notional space-based infrared sensor that sees boosting missiles (no site)."""

    name: Name = Field(description="Unique among sensors.")
    kind: Literal["infrared"] = Field(description="infrared.")
    nation: NationCodeText = Field(description="Code of a declared nation.")
    orbit_lon_deg: Longitude = Field(
        description="Longitude of the sub-satellite point, degrees east, (-180, 180]."
    )
    orbit_altitude_m: Annotated[Real, Field(ge=100_000.0, le=100_000_000.0)] = Field(
        default=GEOSTATIONARY_ALTITUDE_M,
        description="Height above the equator, m, [1e5, 1e8]; default geostationary.",
    )
    coverage: Coverage = Field(description="Ground box the sensor watches.")
    frame_period_s: Annotated[Real, Field(gt=0.0)] = Field(
        description="Time between two frames, s, > 0."
    )
    line_of_sight_noise_urad: Annotated[Real, Field(gt=0.0)] = Field(
        description="Standard deviation of each line-of-sight angle, µrad, > 0."
    )
    detection_probability: Annotated[Real, Field(gt=0.0, le=1.0)] = Field(
        description="Probability of detecting a boosting missile per frame, (0, 1]."
    )
    false_alarms_per_frame: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Mean number of false detections per frame, >= 0."
    )
    releasability: Releasability = Field(
        default_factory=Releasability,
        description="Label of the tracks made from this sensor; default secret, REL TO all.",
    )


Sensor = Annotated[RadarSensor | InfraredSensor, Field(discriminator="kind")]
"""A sensor of any kind, told apart by its ``kind`` field."""


class InterceptorType(_Model):
    """A notional interceptor: the envelope in which it can intercept, and how well."""

    name: Name = Field(description="Unique among interceptor types.")
    min_range_m: Annotated[Real, Field(ge=0.0)] = Field(
        description="Shortest intercept ground range from the shooter, m, >= 0."
    )
    max_range_m: Annotated[Real, Field(gt=0.0)] = Field(
        description="Longest intercept ground range from the shooter, m, > min_range_m."
    )
    min_intercept_altitude_m: Annotated[Real, Field(ge=0.0)] = Field(
        description="Lowest intercept altitude, m, >= 0."
    )
    max_intercept_altitude_m: Annotated[Real, Field(gt=0.0)] = Field(
        description="Highest intercept altitude, m, > min_intercept_altitude_m."
    )
    mean_speed_mps: Annotated[Real, Field(gt=0.0)] = Field(
        description="Mean speed over the flyout, m/s, > 0."
    )
    single_shot_pk: Annotated[Real, Field(gt=0.0, le=1.0)] = Field(
        description="Probability that one interceptor kills its target, (0, 1]."
    )
    divert_radius_m: Annotated[Real, Field(ge=0.0)] = Field(
        default=1000.0,
        description=(
            "Largest error of the guiding track at intercept that the seeker and divert can "
            "take out, m, >= 0; a larger error misses whatever the kill probability."
        ),
    )
    reaction_time_s: Annotated[Real, Field(ge=0.0, le=600.0)] = Field(
        default=5.0, description="Time from the firing decision to the launch, s, [0, 600]."
    )

    @field_validator("max_range_m")
    @classmethod
    def _range_order(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "min_range_m", value)
        return value

    @field_validator("max_intercept_altitude_m")
    @classmethod
    def _altitude_order(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "min_intercept_altitude_m", value)
        return value


class Shooter(_Model):
    """A battery of one interceptor type at a site; it belongs to the site's nation."""

    name: Name = Field(description="Unique among shooters.")
    site: Name = Field(description="Name of a declared site.")
    interceptor: Name = Field(description="Name of a declared interceptor type.")
    inventory: Annotated[Integer, Field(ge=0)] = Field(
        description="Interceptors ready to fire at time 0, >= 0."
    )
    fire_channels: Annotated[Integer, Field(ge=1)] = Field(
        description="Interceptors that can be guided at once, >= 1."
    )
    salvo: Annotated[Integer, Field(ge=1, le=8)] | None = Field(
        default=None,
        description="This battery's salvo, overriding its nation's doctrine, [1, 8].",
    )
    depot: Annotated[Integer, Field(ge=0)] = Field(
        default=0, description="Reload rounds held at the site, >= 0."
    )
    reload_time_s: Annotated[Real, Field(gt=0.0, le=604800.0)] = Field(
        default=1800.0,
        description=(
            "Time to refill the launchers from the depot up to `inventory`, s, "
            "(0, 604800]; a reload starts when a round is fired and the depot holds some."
        ),
    )


class DefendedAsset(_Model):
    """A place with a value that threats aim at and shooters defend."""

    name: Name = Field(description="Unique among defended assets.")
    nation: NationCodeText = Field(description="Code of a declared nation.")
    lat_deg: Latitude = Field(description="Geodetic latitude, degrees, [-90, 90].")
    lon_deg: Longitude = Field(description="Longitude, degrees east, (-180, 180].")
    altitude_m: Altitude = Field(
        default=0.0, description="Height above the WGS-84 ellipsoid, m, [-500, 10000]."
    )
    radius_m: Annotated[Real, Field(gt=0.0)] = Field(
        description="Radius of the defended area around the point, m, > 0."
    )
    value: Annotated[Real, Field(gt=0.0)] = Field(description="Relative worth, > 0.")


class Production(_Model):
    """Notional (co-)production of one interceptor type, delivered to depots over days."""

    interceptor: Name = Field(description="Name of a declared interceptor type.")
    rounds_per_day: Annotated[Real, Field(gt=0.0, le=10000.0)] = Field(
        description="Rounds delivered per day, one at a time at an even rate, (0, 10000]."
    )
    nations: tuple[NationCodeText, ...] = Field(
        min_length=1,
        description=(
            "Nations whose batteries of that type share the output (co-production); each "
            "round goes to the battery with the fewest rounds (ready plus depot)."
        ),
    )
    start_s: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="When the first deliveries begin, s, >= 0."
    )


class Salvo(_Model):
    """Several identical threats launched one after another from the same point."""

    count: Annotated[Integer, Field(ge=1, le=1000)] = Field(
        description="Number of rounds, [1, 1000]."
    )
    interval_s: Annotated[Real, Field(gt=0.0)] = Field(
        description="Time between two launches, s, > 0."
    )


def _aim_tag(value: Any) -> str:
    """Tell the two forms of ``aim`` apart: ``{asset: NAME}`` or a coordinate point."""
    if isinstance(value, dict) and "asset" in value:
        return "asset"
    if isinstance(value, AimAsset):
        return "asset"
    return "point"


Aim = Annotated[
    Annotated[AimAsset, Tag("asset")] | Annotated[GeoPoint, Tag("point")], Discriminator(_aim_tag)
]
"""Where a ballistic threat is aimed: a defended asset or a coordinate point."""


class BallisticThreat(_Model):
    """A notional ballistic missile flying from a launch point to an aim point."""

    name: Name = Field(description="Unique among threats (after salvo expansion).")
    kind: Literal["ballistic"] = Field(description="ballistic.")
    launch: GeoPoint = Field(description="Launch point.")
    aim: Aim = Field(description="{asset: NAME} or {lat_deg, lon_deg, altitude_m}.")
    launch_time_s: Annotated[Real, Field(ge=0.0)] = Field(
        description="Launch time after the epoch, s, [0, duration_s)."
    )
    range_class: RangeClass | None = Field(
        default=None, description="crbm, srbm, mrbm or irbm; or give burnout_speed_mps."
    )
    # Below 1 km/s a notional motor cannot climb out of the atmosphere; above 6.5 km/s the
    # reach margin is no longer met in every direction (docs/world-model.md).
    burnout_speed_mps: Annotated[Real, Field(ge=1_000.0, le=6_500.0)] | None = Field(
        default=None,
        validate_default=True,
        description="Speed at burnout, m/s, [1000, 6500]; or give range_class.",
    )
    # Shorter burns lose range to drag and the reach check would no longer be a promise that
    # the trajectory solver keeps (see docs/world-model.md).
    burn_time_s: Annotated[Real, Field(ge=60.0, le=600.0)] = Field(
        default=60.0, description="Duration of the boost phase, s, [60, 600]."
    )
    loft: Annotated[Real, Field(ge=-1.0, le=1.0)] = Field(
        default=0.0,
        description="Trajectory shape, [-1, 1]: 0 minimum energy, > 0 lofted, < 0 depressed.",
    )
    rcs_m2: Annotated[Real, Field(gt=0.0)] = Field(description="Mean radar cross section, m², > 0.")
    ballistic_coefficient_kg_m2: Annotated[Real, Field(gt=0.0)] = Field(
        default=10_000.0, description="Mass over drag coefficient times area, kg/m², > 0."
    )
    salvo: Salvo | None = Field(default=None, description="Optional salvo; see expansion.")

    @field_validator("burnout_speed_mps")
    @classmethod
    def _exactly_one_speed(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "range_class" not in info.data:
            return value  # range_class itself is invalid and reported
        given = info.data["range_class"] is not None
        if given == (value is not None):
            both = "both are given" if given else "neither is given"
            raise ValueError(f"give exactly one of range_class or burnout_speed_mps; {both}")
        return value

    @property
    def effective_burnout_speed_mps(self) -> float:
        """Burnout speed, m/s: ``burnout_speed_mps`` or the notional speed of the class."""
        if self.burnout_speed_mps is not None:
            return self.burnout_speed_mps
        assert self.range_class is not None  # guaranteed by _exactly_one_speed
        return class_burnout_speed_mps(self.range_class)

    @property
    def reach_m(self) -> float:
        """Longest ground range this missile may be asked to fly, m (the reach check)."""
        return max_range_m(self.effective_burnout_speed_mps)


class AirBreathingThreat(_Model):
    """A cruise missile or aircraft flying a waypoint route at constant speed and altitude."""

    name: Name = Field(description="Unique among threats (after salvo expansion).")
    kind: Literal["cruise_missile", "aircraft"] = Field(description="cruise_missile or aircraft.")
    waypoints: tuple[Waypoint, ...] = Field(
        min_length=2, description="Route, from launch point to target, >= 2 points."
    )
    speed_mps: Annotated[Real, Field(gt=0.0, le=3_000.0)] = Field(
        description="Speed over ground, m/s, (0, 3000]."
    )
    altitude_m: Annotated[Real, Field(ge=0.0, le=30_000.0)] = Field(
        description="Cruise height above the WGS-84 ellipsoid, m, [0, 30000]."
    )
    launch_time_s: Annotated[Real, Field(ge=0.0)] = Field(
        description="Launch (or route start) time after the epoch, s, [0, duration_s)."
    )
    rcs_m2: Annotated[Real, Field(gt=0.0)] = Field(description="Mean radar cross section, m², > 0.")
    salvo: Salvo | None = Field(default=None, description="Optional salvo; see expansion.")


Threat = Annotated[BallisticThreat | AirBreathingThreat, Field(discriminator="kind")]
"""A threat of any kind, told apart by its ``kind`` field."""


class SlotBudgetSpec(_Model):
    """A TDMA-like transmit schedule: the sender owns a few evenly spaced slots per frame."""

    frame_s: Annotated[Real, Field(gt=0.0)] = Field(
        default=12.0, description="Frame duration, s, > 0; default 12."
    )
    slots_per_frame: Annotated[Integer, Field(ge=1)] = Field(
        description="Slots the sender owns in each frame, >= 1."
    )
    slots_per_report: Annotated[Integer, Field(ge=1)] = Field(
        default=1, description="Owned slots one track report needs, >= 1; default 1."
    )
    offset_s: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Start of the first owned slot in the frame, s, [0, frame_s)."
    )

    @field_validator("offset_s")
    @classmethod
    def _offset_within_frame(cls, value: float, info: ValidationInfo) -> float:
        frame_s = info.data.get("frame_s")
        if frame_s is not None and value >= frame_s:
            raise ValueError(f"must be less than frame_s = {format_number(frame_s)}")
        return value


class OutageWindow(_Model):
    """A time window ``[start_s, end_s)`` during which a link is down."""

    start_s: Annotated[Real, Field(ge=0.0)] = Field(
        description="Start, s after the epoch, >= 0 and before duration_s."
    )
    end_s: Annotated[Real, Field(gt=0.0)] = Field(
        description="End (exclusive), s after the epoch, > start_s."
    )

    @field_validator("end_s")
    @classmethod
    def _end_after_start(cls, value: float, info: ValidationInfo) -> float:
        _require_above(info, "start_s", value)
        return value


class LinkTemplate(_Model):
    """The parameters of a link without its endpoints (a topology's template).

    The defaults make a perfect link: no delay, no loss, unlimited capacity, never down.
    """

    directed: Flag = Field(
        default=False, description="One-way a -> b; default false (full duplex)."
    )
    latency_s: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Fixed delay, s, >= 0."
    )
    jitter_s: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Mean of the exponential extra delay, s, >= 0."
    )
    loss_probability: Annotated[Real, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0, description="Probability that a message is lost, [0, 1)."
    )
    capacity_reports_per_s: Annotated[Real, Field(gt=0.0)] | None = Field(
        default=None, description="Track reports sent per second, > 0; null: unlimited."
    )
    slot_budget: SlotBudgetSpec | None = Field(
        default=None, description="TDMA-like slot schedule; exclusive with the capacity."
    )
    outages: tuple[OutageWindow, ...] = Field(
        default=(), description="Windows when the link is down, sorted, not overlapping."
    )
    queue_during_outage: Flag = Field(
        default=False,
        description="Hold messages during an outage (true) or lose them (false, default).",
    )
    max_queue_reports: Annotated[Integer, Field(ge=0)] | None = Field(
        default=None, description="Most reports waiting on one channel, >= 0; null: no limit."
    )
    max_queue_delay_s: Annotated[Real, Field(ge=0.0)] | None = Field(
        default=None, description="Longest wait before transmission, s, >= 0; null: no limit."
    )

    @field_validator("slot_budget")
    @classmethod
    def _one_capacity(
        cls, value: SlotBudgetSpec | None, info: ValidationInfo
    ) -> SlotBudgetSpec | None:
        if value is not None and info.data.get("capacity_reports_per_s") is not None:
            raise ValueError(
                "give capacity_reports_per_s or slot_budget, not both "
                "(the slot budget is the capacity)"
            )
        return value

    @field_validator("max_queue_reports", "max_queue_delay_s")
    @classmethod
    def _limit_needs_a_queue(cls, value: float | None, info: ValidationInfo) -> float | None:
        data = info.data
        known = ("capacity_reports_per_s", "slot_budget", "outages", "queue_during_outage")
        if value is None or not all(name in data for name in known):
            return value  # no limit, or a field it depends on is invalid and reported
        queues = (
            data["capacity_reports_per_s"] is not None
            or data["slot_budget"] is not None
            or (data["queue_during_outage"] and bool(data["outages"]))
        )
        if not queues:
            raise ValueError(
                "must be left out on a link that never queues: set capacity_reports_per_s or "
                "slot_budget, or queue_during_outage with outages"
            )
        return value


class LinkSpec(LinkTemplate):
    """A simulated data link between two nations (notional parameters only)."""

    a: NationCodeText = Field(description="Code of a declared nation (the sender if directed).")
    b: NationCodeText = Field(description="Code of another declared nation.")

    @field_validator("b")
    @classmethod
    def _not_a_self_link(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("a"):
            raise ValueError(f"must be a nation other than a = {value}")
        return value

    @property
    def label(self) -> str:
        """``A-B`` (undirected) or ``A->B`` (directed), as :attr:`LinkConfig.label`."""
        return f"{self.a}->{self.b}" if self.directed else f"{self.a}-{self.b}"

    def directions(self) -> tuple[tuple[str, str], ...]:
        """The (sender, receiver) pairs the link carries."""
        if self.directed:
            return ((self.a, self.b),)
        return ((self.a, self.b), (self.b, self.a))


class TopologyKind(enum.StrEnum):
    """The shape of a topology shorthand."""

    FULL_MESH = "full_mesh"
    HUB_AND_SPOKE = "hub_and_spoke"
    HIERARCHICAL = "hierarchical"


class TreeBranch(_Model):
    """One parent of a hierarchical topology and its children."""

    parent: NationCodeText = Field(description="Code of a declared nation.")
    children: tuple[NationCodeText, ...] = Field(
        min_length=1, description="Codes of declared nations linked to the parent, >= 1."
    )


_TOPOLOGY_FIELDS = {
    "nations": TopologyKind.FULL_MESH,
    "hub": TopologyKind.HUB_AND_SPOKE,
    "spokes": TopologyKind.HUB_AND_SPOKE,
    "tree": TopologyKind.HIERARCHICAL,
}
"""Fields of a topology shorthand that belong to one kind only."""


class TopologySpec(_Model):
    """A shorthand for a regular set of links that share one template."""

    kind: Annotated[TopologyKind, _closed(TopologyKind)] = Field(
        description="full_mesh, hub_and_spoke or hierarchical."
    )
    nations: tuple[NationCodeText, ...] | None = Field(
        default=None,
        description="full_mesh only: the nations linked to each other; default all declared.",
    )
    hub: NationCodeText | None = Field(
        default=None, validate_default=True, description="hub_and_spoke only, required: the hub."
    )
    spokes: tuple[NationCodeText, ...] | None = Field(
        default=None,
        description="hub_and_spoke only: nations linked to the hub; default all the others.",
    )
    tree: tuple[TreeBranch, ...] | None = Field(
        default=None,
        validate_default=True,
        description="hierarchical only, required: each parent with its children.",
    )
    template: LinkTemplate = Field(
        default_factory=LinkTemplate, description="Parameters of every link; default perfect."
    )

    @field_validator("nations", "hub", "spokes", "tree")
    @classmethod
    def _fields_of_the_kind(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        name = info.field_name or ""
        owner = _TOPOLOGY_FIELDS[name]
        if kind is None:
            return value  # kind itself is invalid and reported
        if value is not None and kind is not owner:
            raise ValueError(f"only {owner.value} has {name}; this topology is kind: {kind.value}")
        if value is None and kind is owner and name in {"hub", "tree"}:
            raise ValueError(f"a {owner.value} topology needs {name}")
        return value

    def pairs(self, declared: typing.Sequence[str]) -> tuple[tuple[str, str], ...]:
        """The (a, b) endpoint pairs the shorthand stands for, in a fixed order.

        Parameters
        ----------
        declared : sequence of str
            The scenario's nation codes, in declaration order (the default members).

        Returns
        -------
        tuple of (str, str)
            full_mesh: every two members in member order; hub_and_spoke: (hub, spoke);
            hierarchical: (parent, child) in tree order. The same order as
            :class:`iamd.network.Topology`'s presets.
        """
        if self.kind is TopologyKind.FULL_MESH:
            members = list(self.nations if self.nations is not None else declared)
            return tuple((x, y) for i, x in enumerate(members) for y in members[i + 1 :])
        if self.kind is TopologyKind.HUB_AND_SPOKE:
            assert self.hub is not None  # guaranteed by _fields_of_the_kind
            hub = self.hub
            spokes = self.spokes if self.spokes is not None else [n for n in declared if n != hub]
            return tuple((hub, spoke) for spoke in spokes)
        assert self.tree is not None  # guaranteed by _fields_of_the_kind
        return tuple((branch.parent, child) for branch in self.tree for child in branch.children)

    def links(self, declared: typing.Sequence[str]) -> tuple[LinkSpec, ...]:
        """The links the shorthand stands for: the template between each pair.

        A directed template gives two one-way links per pair (a -> b, then b -> a), as
        :class:`iamd.network.Topology`'s presets do.
        """
        parameters = self.template.model_dump()
        result: list[LinkSpec] = []
        for first, second in self.pairs(declared):
            result.append(LinkSpec.model_validate({**parameters, "a": first, "b": second}))
            if self.template.directed:
                result.append(LinkSpec.model_validate({**parameters, "a": second, "b": first}))
        return tuple(result)


class SanitisationSpec(_Model):
    """How an agreement degrades tracks before they are released."""

    position_quantum_m: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Grid of released ECEF positions, m, >= 0 (0: not snapped)."
    )
    min_position_sigma_m: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Floor on the released position sigma, m, >= 0 (0: none)."
    )
    strip_sensor_identity: Flag = Field(
        default=True, description="Withhold the sensor id; default true."
    )
    delay_s: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0, description="Age a track must reach before release, s, >= 0."
    )


class AgreementRef(_Model):
    """A sharing agreement named by its direction (to remove it in a variant)."""

    provider: NationCodeText = Field(description="Code of the providing nation.")
    recipient: NationCodeText = Field(description="Code of the receiving nation.")


class AgreementSpec(_Model):
    """What ``provider`` may give ``recipient`` (directed: the reverse needs its own)."""

    provider: NationCodeText = Field(
        description="Code of a declared nation: the originator of the tracks."
    )
    recipient: NationCodeText = Field(description="Code of another declared nation.")
    max_classification: ClassificationText = Field(
        default=ClassificationName.SECRET,
        description="Highest classification released; default secret.",
    )
    categories: tuple[CategoryText, ...] = Field(
        default=(), description="Track categories released; empty (default): every category."
    )
    caveats_allowed: tuple[CaveatText, ...] = Field(
        default=(), description="Caveats a track may carry and still be released; default none."
    )
    sanitise: SanitisationSpec | None = Field(
        default=None, description="Degrade released tracks this way; null (default): as they are."
    )
    fire_control: bool = Field(
        default=True,
        description=(
            "The recipient may launch or engage on this data (false: for its picture and "
            "warning only; its battle manager needs another source of the track)."
        ),
    )

    @field_validator("recipient")
    @classmethod
    def _not_to_itself(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("provider"):
            raise ValueError("must differ from provider (own data always flows)")
        return value

    @property
    def caveat_flags(self) -> Caveat:
        """``caveats_allowed`` as one :class:`~iamd.messages.Caveat` value."""
        return _combined_flags(self.caveats_allowed)

    @property
    def category_codes(self) -> frozenset[int]:
        """``categories`` as track category values (empty: every category)."""
        return frozenset(category.code for category in self.categories)


def _explicit_list(value: Any) -> Any:
    """Refuse an explicit null where null would be ambiguous (a variant's ``links``)."""
    if value is None:
        raise ValueError(
            "must be a list: [] for no links; leave links out to keep the scenario's network"
        )
    return value


def _null_as_empty(value: Any) -> Any:
    """Read an empty section (``links:`` with nothing after it) as an empty list."""
    return () if value is None else value


def _one_network(topology: TopologySpec | None, links: object) -> None:
    if topology is not None and links:
        raise ValueError("give links or topology, not both")


class DoctrineMode(enum.StrEnum):
    """How a nation fires at one threat."""

    SALVO = "salvo"
    SHOOT_LOOK_SHOOT = "shoot_look_shoot"


class Doctrine(_Model):
    """Shot doctrine: how many interceptors go at a threat, and whether to look first."""

    mode: Annotated[DoctrineMode, _closed(DoctrineMode)] = Field(
        default=DoctrineMode.SALVO,
        description=(
            "salvo: fire `salvo` interceptors together; shoot_look_shoot: fire `salvo`, wait "
            "for the kill assessment, fire again if the threat lives and time remains."
        ),
    )
    salvo: Annotated[Integer, Field(ge=1, le=8)] = Field(
        default=1, description="Interceptors fired together at one threat, [1, 8]."
    )
    layered: bool = Field(
        default=False,
        description=(
            "Upper tier first: a lower-tier battery (lower ceiling) is held while a higher "
            "tier can still engage the threat."
        ),
    )
    reserve_fraction: Annotated[Real, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0,
        description=(
            "Share of each battery's starting rounds kept for threats to high-value assets, [0, 1)."
        ),
    )
    reserve_value: Annotated[Real, Field(ge=0.0)] = Field(
        default=0.0,
        description="Asset value from which a threat may use the reserved rounds, >= 0.",
    )


class KillAssessment(_Model):
    """How a nation learns whether its shots killed: after a delay, and not always right."""

    delay_s: Annotated[Real, Field(ge=0.0, le=600.0)] = Field(
        default=5.0, description="From the intercept to the assessment, s, [0, 600]."
    )
    false_kill_probability: Annotated[Real, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0, description="A miss judged a kill, [0, 1)."
    )
    missed_kill_probability: Annotated[Real, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0, description="A kill judged a miss, [0, 1)."
    )


class RulesOfEngagement(_Model):
    """What one nation's battle manager may engage, and how it fires."""

    nation: NationCodeText = Field(description="Code of a declared nation (one entry each).")
    defends: tuple[NationCodeText, ...] | None = Field(
        default=None,
        description=(
            "Nations whose defended assets it engages threats to; default its own only. "
            "Listing others is the collective-defense condition."
        ),
    )
    engage_on_remote: bool = Field(
        default=True,
        description="May fire on a track no own sensor contributes to (false: own tracks only).",
    )
    doctrine: Doctrine = Field(default_factory=Doctrine, description="Shot doctrine.")
    c2_period_s: Annotated[Real, Field(gt=0.0, le=60.0)] = Field(
        default=2.0, description="Interval between planning cycles, s, (0, 60]."
    )
    kill_assessment: KillAssessment = Field(
        default_factory=KillAssessment, description="Delay and errors of kill assessment."
    )
    requests_to: tuple[NationCodeText, ...] = Field(
        default=(),
        description="Nations whose shooters it may ask to engage (cross-nation requests).",
    )
    accepts_from: tuple[NationCodeText, ...] = Field(
        default=(),
        description="Nations whose requests to engage with its own shooters it considers.",
    )
    decision_delay_s: Annotated[Real, Field(ge=0.0, le=600.0)] = Field(
        default=10.0, description="Time it takes to answer a request, s, [0, 600]."
    )
    request_timeout_s: Annotated[Real, Field(gt=0.0, le=600.0)] = Field(
        default=30.0,
        description="A request without an answer after this long is given up, s, (0, 600].",
    )


class ExchangeMode(enum.StrEnum):
    """What the nodes share."""

    TRACKS = "tracks"
    MEASUREMENTS = "measurements"


class Exchange(_Model):
    """What the nodes share: tracks (the default) or radar measurements.

    With tracks, each node fuses the tracks it receives; with measurements, each runs one
    composite tracker over all the scans it holds (CEC-style).
    """

    mode: Annotated[ExchangeMode, _closed(ExchangeMode)] = Field(
        default=ExchangeMode.TRACKS, description="tracks or measurements."
    )
    composite_delay_s: Annotated[Real, Field(ge=0.0, le=60.0)] = Field(
        default=2.0,
        description=(
            "measurements only: how long a scan waits for the others of its time before the "
            "composite tracker takes it, s, [0, 60]; later scans are dropped."
        ),
    )


AS_WRITTEN = "as-written"
"""Name of the variant every scenario has implicitly: the scenario as written."""


class Variant(_Model):
    """A named change of the network (links, agreements, what is shared) for comparisons."""

    name: Slug = Field(description=f"Slug, unique among variants; not {AS_WRITTEN!r}.")
    description: Text = Field(min_length=1, description="What the variant changes, and why.")
    links: Annotated[tuple[LinkSpec, ...] | None, BeforeValidator(_explicit_list)] = Field(
        default=None, description="Replace the network with these links ([]: no links)."
    )
    topology: TopologySpec | None = Field(
        default=None, description="Replace the network with this shorthand."
    )
    remove_agreements: tuple[AgreementRef, ...] = Field(
        default=(), description="Agreements of the scenario to drop, by direction."
    )
    add_agreements: tuple[AgreementSpec, ...] = Field(
        default=(), description="Agreements to add (after the removals)."
    )
    exchange: Exchange | None = Field(
        default=None, description="Replace what the nodes share (default: keep it)."
    )
    rules_of_engagement: tuple[RulesOfEngagement, ...] | None = Field(
        default=None,
        description="Replace every nation's rules of engagement ([]: all hold fire).",
    )

    @field_validator("topology")
    @classmethod
    def _links_or_topology(
        cls, value: TopologySpec | None, info: ValidationInfo
    ) -> TopologySpec | None:
        if value is not None and info.data.get("links") is not None:
            raise ValueError("give links or topology, not both")
        return value

    @model_serializer(mode="wrap")
    def _leave_out_the_kept_network(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An explicit null is refused on input, so a kept network is dumped as no key at all,
        # the way a file says it; model_dump() then validates back to the same variant.
        data: dict[str, Any] = handler(self)
        for name in ("links", "topology", "exchange", "rules_of_engagement"):
            if data.get(name, ()) is None:
                del data[name]
        return data

    @property
    def replaces_network(self) -> bool:
        """Whether the variant gives links or a topology of its own."""
        return self.links is not None or self.topology is not None


class Scenario(_Model):
    """A whole scenario: nations, their forces, assets, threats, network and its variants."""

    name: Slug = Field(description="Slug naming the scenario, e.g. western-pacific.")
    description: Text = Field(default="", description="Free text.")
    epoch: dt.datetime = Field(description="UTC date and time of simulation time 0.")
    duration_s: Annotated[Real, Field(gt=0.0, le=MAX_DURATION_S)] = Field(
        description="Simulated time span, s, (0, 604800]."
    )
    seed: Annotated[Integer, Field(ge=0, lt=2**63)] = Field(
        default=0, description="Root seed of every random stream, >= 0."
    )
    nations: tuple[Nation, ...] = Field(
        min_length=1,
        max_length=MAX_NATIONS,
        description=f"At least one nation, at most {MAX_NATIONS} (a REL TO mask has 64 bits).",
    )
    sites: tuple[Site, ...] = Field(default=(), description="Land sites and ships.")
    sensors: tuple[Sensor, ...] = Field(default=(), description="Radars and space sensors.")
    interceptor_types: tuple[InterceptorType, ...] = Field(
        default=(), description="Notional interceptor envelopes."
    )
    shooters: tuple[Shooter, ...] = Field(default=(), description="Interceptor batteries.")
    defended_assets: tuple[DefendedAsset, ...] = Field(default=(), description="Places to defend.")
    threats: tuple[Threat, ...] = Field(default=(), description="The raid.")
    links: Annotated[tuple[LinkSpec, ...], BeforeValidator(_null_as_empty)] = Field(
        default=(), description="Data links between nations; none: every nation alone."
    )
    topology: TopologySpec | None = Field(
        default=None, description="Shorthand for regular links; exclusive with links."
    )
    sharing_agreements: Annotated[tuple[AgreementSpec, ...], BeforeValidator(_null_as_empty)] = (
        Field(default=(), description="Directed provider -> recipient release rules.")
    )
    exchange: Exchange = Field(
        default_factory=Exchange, description="What the nodes share: tracks or measurements."
    )
    variants: Annotated[tuple[Variant, ...], BeforeValidator(_null_as_empty)] = Field(
        default=(), description="Named changes of the network for architecture comparisons."
    )
    production: Annotated[tuple[Production, ...], BeforeValidator(_null_as_empty)] = Field(
        default=(), description="Interceptor (co-)production that refills depots over time."
    )
    rules_of_engagement: Annotated[
        tuple[RulesOfEngagement, ...], BeforeValidator(_null_as_empty)
    ] = Field(
        default=(),
        description="Per nation: what its battle manager engages; a nation without holds fire.",
    )

    @field_validator("topology")
    @classmethod
    def _links_or_topology(
        cls, value: TopologySpec | None, info: ValidationInfo
    ) -> TopologySpec | None:
        _one_network(value, info.data.get("links"))
        return value

    @field_validator("epoch")
    @classmethod
    def _epoch_is_utc(cls, value: dt.datetime) -> dt.datetime:
        offset = value.utcoffset()
        if offset is None or offset != dt.timedelta(0):
            raise ValueError("must be a UTC time ending in Z, e.g. 2030-06-01T00:00:00Z")
        return value.astimezone(dt.UTC)

    def expanded_threats(self) -> tuple[BallisticThreat | AirBreathingThreat, ...]:
        """Threats with every salvo expanded into its rounds, in declaration order.

        A threat ``NAME`` with ``salvo: {count: N, interval_s: T}`` becomes ``N`` threats
        named ``NAME-1`` … ``NAME-N``, identical to it except that round ``k`` launches at
        ``launch_time_s + (k - 1)·T`` and has no salvo. Threats without a salvo are kept as
        they are.

        Returns
        -------
        tuple of BallisticThreat or AirBreathingThreat
            The threats the simulator flies.
        """
        rounds: list[BallisticThreat | AirBreathingThreat] = []
        for threat in self.threats:
            if threat.salvo is None:
                rounds.append(threat)
                continue
            for k in range(threat.salvo.count):
                update = {
                    "name": salvo_round_name(threat.name, k),
                    "launch_time_s": threat.launch_time_s + k * threat.salvo.interval_s,
                    "salvo": None,
                }
                rounds.append(threat.model_copy(update=update))
        return tuple(rounds)

    def expanded_links(self) -> tuple[LinkSpec, ...]:
        """Every link of the network: ``links``, or the links ``topology`` stands for.

        Returns
        -------
        tuple of LinkSpec
            Empty when the nations are not linked (each keeps a national picture).
        """
        if self.topology is None:
            return self.links
        return self.topology.links([nation.code for nation in self.nations])

    def sensor_releasability(self, sensor: RadarSensor | InfraredSensor) -> ReleasabilityLabel:
        """The label of the tracks made from ``sensor``, with its defaults resolved.

        The originator is the sensor's nation, which is always in ``rel_to``; a sensor
        without a ``rel_to`` list is releasable to every declared nation.
        """
        owner = self.sensor_nation(sensor)
        label = sensor.releasability
        listed = label.rel_to if label.rel_to is not None else [n.code for n in self.nations]
        return ReleasabilityLabel(
            classification=label.classification.level,
            rel_to=frozenset(NationCode(code) for code in (*listed, owner)),
            originator=NationCode(owner),
            caveats=label.caveat_flags,
        )

    def site(self, name: str) -> Site:
        """The site called ``name`` (``KeyError`` if there is none)."""
        return _named(self.sites, name, "site")

    def asset(self, name: str) -> DefendedAsset:
        """The defended asset called ``name`` (``KeyError`` if there is none)."""
        return _named(self.defended_assets, name, "defended asset")

    def interceptor_type(self, name: str) -> InterceptorType:
        """The interceptor type called ``name`` (``KeyError`` if there is none)."""
        return _named(self.interceptor_types, name, "interceptor type")

    def sensor_nation(self, sensor: RadarSensor | InfraredSensor) -> str:
        """Nation code a sensor belongs to: its site's nation, or its own for infrared."""
        if isinstance(sensor, InfraredSensor):
            return sensor.nation
        return self.site(sensor.site).nation

    def aim_point(self, threat: BallisticThreat) -> GeoPoint:
        """Where a ballistic threat is aimed, with an asset aim resolved to its position."""
        if isinstance(threat.aim, GeoPoint):
            return threat.aim
        asset = self.asset(threat.aim.asset)
        return GeoPoint(lat_deg=asset.lat_deg, lon_deg=asset.lon_deg, altitude_m=asset.altitude_m)


def salvo_round_name(name: str, index: int) -> str:
    """Name of round ``index`` (0-based) of the salvo of threat ``name``: ``NAME-(index+1)``."""
    return f"{name}-{index + 1}"


_NamedT = typing.TypeVar("_NamedT", Site, DefendedAsset, InterceptorType)


def _named(items: tuple[_NamedT, ...], name: str, role: str) -> _NamedT:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {role} named {name!r}")


def fields_at(path: Path, data: object) -> list[str]:
    """Field names of the model that sits at ``path`` in a document (empty if none).

    Parameters
    ----------
    path : tuple of str and int
        Location in the document, as in pydantic's error locations without union tags.
    data : object
        The document, used to pick the member of a union (by ``kind`` or ``asset``).
    """
    annotation: Any = Scenario
    node: Any = data
    for part in path:
        annotation = _without_none(annotation)
        model = _pick_model(annotation, node)
        if model is None:
            if isinstance(part, int) and typing.get_origin(annotation) is tuple:
                annotation = typing.get_args(annotation)[0]
                node = node[part] if isinstance(node, list) and part < len(node) else None
                continue
            return []
        if not isinstance(part, str) or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
        node = node.get(part) if isinstance(node, dict) else None
    model = _pick_model(annotation, node)
    return list(model.model_fields) if model is not None else []


def _strip(annotation: Any) -> Any:
    """Remove ``Annotated`` wrappers."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _without_none(annotation: Any) -> Any:
    """An optional annotation's other member (``tuple[X, ...] | None`` → ``tuple[X, ...]``)."""
    annotation = _strip(annotation)
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if type(None) in typing.get_args(annotation) and len(members) == 1:
        return _strip(members[0])
    return annotation


def _is_model(annotation: object) -> typing.TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _pick_model(annotation: Any, node: Any) -> type[BaseModel] | None:
    """The model class an annotation stands for at this node, choosing among union members."""
    annotation = _strip(annotation)
    single: object = annotation
    if _is_model(single):
        return single
    members = [typing.cast(type[BaseModel], _strip(arg)) for arg in typing.get_args(annotation)]
    members = [member for member in members if _is_model(member)]
    if typing.get_origin(annotation) is tuple or not members:
        return None
    if len(members) == 1:
        return members[0]
    kind = node.get("kind") if isinstance(node, dict) else None
    for member in members:
        field = member.model_fields.get("kind")
        if field is not None and kind in typing.get_args(field.annotation):
            return member
    if AimAsset in members:
        return AimAsset if _aim_tag(node) == "asset" else GeoPoint
    return None
