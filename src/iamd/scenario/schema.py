"""The scenario schema: frozen pydantic models of every section of a scenario file.

Units are SI (metres, seconds, m/s, m²) unless the field name says otherwise (``_deg``,
``_mrad``, ``_urad``, ``_db``). Each model forbids unknown fields. Rules that involve two
fields of one object (``range_min_m < range_max_m``, ship-only fields, exactly one of
``range_class`` / ``burnout_speed_mps``) are checked here, on the later field, so that every
violation is reported at its own path; rules that span the document (references, unique
names, reach, timing) are checked by :mod:`iamd.scenario.validation`.

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
    Strict,
    Tag,
    ValidationInfo,
    field_validator,
)

from iamd.scenario.issues import Path, format_number
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


_RESERVED = {
    "links": "links arrive with the network issue",
    "sharing_agreements": "sharing_agreements arrive with the sharing issue",
    "rules_of_engagement": "rules_of_engagement arrive with the battle management issue",
}


def _reserved(value: Any, info: ValidationInfo) -> tuple[()]:
    """Accept only an absent, null or empty section until the feature exists."""
    if value is None or (isinstance(value, list | tuple) and not value):
        return ()
    raise ValueError(f"not supported yet: {_RESERVED[info.field_name or '']}")


Reserved = Annotated[tuple[()], BeforeValidator(_reserved)]


class Scenario(_Model):
    """A whole scenario: nations, their sites, sensors and shooters, assets and threats."""

    name: Slug = Field(description="Slug naming the scenario, e.g. western-pacific.")
    description: Text = Field(default="", description="Free text.")
    epoch: dt.datetime = Field(description="UTC date and time of simulation time 0.")
    duration_s: Annotated[Real, Field(gt=0.0, le=MAX_DURATION_S)] = Field(
        description="Simulated time span, s, (0, 604800]."
    )
    seed: Annotated[Integer, Field(ge=0, lt=2**63)] = Field(
        default=0, description="Root seed of every random stream, >= 0."
    )
    nations: tuple[Nation, ...] = Field(min_length=1, description="At least one nation.")
    sites: tuple[Site, ...] = Field(default=(), description="Land sites and ships.")
    sensors: tuple[Sensor, ...] = Field(default=(), description="Radars and space sensors.")
    interceptor_types: tuple[InterceptorType, ...] = Field(
        default=(), description="Notional interceptor envelopes."
    )
    shooters: tuple[Shooter, ...] = Field(default=(), description="Interceptor batteries.")
    defended_assets: tuple[DefendedAsset, ...] = Field(default=(), description="Places to defend.")
    threats: tuple[Threat, ...] = Field(default=(), description="The raid.")
    links: Reserved = Field(default=(), description="Reserved for the network issue.")
    sharing_agreements: Reserved = Field(default=(), description="Reserved for sharing.")
    rules_of_engagement: Reserved = Field(default=(), description="Reserved for battle management.")

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
        model = _pick_model(annotation, node)
        if model is None:
            if isinstance(part, int) and typing.get_origin(_strip(annotation)) is tuple:
                annotation = typing.get_args(_strip(annotation))[0]
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
