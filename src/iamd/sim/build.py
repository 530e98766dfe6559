"""Turn a validated scenario into the components of a run (the only place that wires stages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iamd.core.ids import NationCode, SensorId, SiteId, ThreatId
from iamd.core.random import RandomStreams
from iamd.geo import geodetic_to_ecef
from iamd.messages import PlatformState, ThreatCategory
from iamd.scenario import schema
from iamd.sensors import (
    InfraredConfig,
    RadarConfig,
    RadarSensor,
    Sensor,
    SpaceInfraredSensor,
)
from iamd.tracking.association import GnnAssociator
from iamd.tracking.motion import Augmented, Ballistic, CoordinatedTurn, NearlyConstantVelocity
from iamd.tracking.tracker import ModelSet, RadarTracker, TrackerConfig
from iamd.world import BallisticThreatSpec, Truth, WaypointPath, WaypointThreatSpec

PlatformTrack = Callable[[float], PlatformState]
"""Where a sensor's platform is at a given time (s since epoch)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorSetup:
    """One sensor with its platform and its own random stream."""

    sensor: Sensor
    kind: str
    site: SiteId | None
    platform: PlatformTrack
    rng: np.random.Generator
    phase_s: float
    """Time of the first scan or frame after the epoch, s (staggers sensors realistically)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Assembly:
    """Everything a run needs, built from one scenario and one seed."""

    truth: Truth
    sensors: tuple[SensorSetup, ...]
    sites: dict[SiteId, PlatformTrack]
    trackers: dict[NationCode, RadarTracker]
    """One local tracker per nation (its node), fed by that nation's radars."""


def fixed_platform(lat_deg: float, lon_deg: float, alt_m: float) -> PlatformTrack:
    """A platform that never moves (land site, geostationary satellite)."""
    position = geodetic_to_ecef(lat_deg, lon_deg, alt_m)

    def at(time_s: float) -> PlatformState:
        return PlatformState(
            time_s=time_s, lat_deg=lat_deg, lon_deg=lon_deg, alt_m=alt_m, position_ecef_m=position
        )

    return at


def site_platform(site: schema.Site) -> PlatformTrack:
    """The platform track of a land site or a ship sailing its waypoints."""
    if site.kind == schema.SiteKind.SHIP and site.waypoints:
        route = [(site.lat_deg, site.lon_deg), *((w.lat_deg, w.lon_deg) for w in site.waypoints)]
        path = WaypointPath(
            route, altitude_m=site.altitude_m, speed_mps=float(site.speed_mps or 0.0)
        )
        return path.platform_state
    return fixed_platform(site.lat_deg, site.lon_deg, site.altitude_m)


def build_truth(scenario: schema.Scenario, *, step_s: float = 1.0) -> Truth:
    """Fly every threat of the scenario (salvos expanded) as one :class:`Truth`."""
    ballistic: list[BallisticThreatSpec] = []
    waypoint: list[WaypointThreatSpec] = []
    for threat in scenario.expanded_threats():
        if isinstance(threat, schema.BallisticThreat):
            aim: schema.GeoPoint | schema.DefendedAsset = (
                scenario.asset(threat.aim.asset)
                if isinstance(threat.aim, schema.AimAsset)
                else threat.aim
            )
            aim_lat, aim_lon, aim_alt = aim.lat_deg, aim.lon_deg, aim.altitude_m
            speed = threat.effective_burnout_speed_mps
            ballistic.append(
                BallisticThreatSpec(
                    threat_id=ThreatId(threat.name),
                    launch_lat_deg=threat.launch.lat_deg,
                    launch_lon_deg=threat.launch.lon_deg,
                    launch_alt_m=threat.launch.altitude_m,
                    aim_lat_deg=float(aim_lat),
                    aim_lon_deg=float(aim_lon),
                    aim_alt_m=float(aim_alt),
                    launch_time_s=threat.launch_time_s,
                    burnout_speed_mps=speed,
                    burn_time_s=threat.burn_time_s,
                    loft=threat.loft,
                    rcs_m2=threat.rcs_m2,
                    ballistic_coefficient_kg_m2=threat.ballistic_coefficient_kg_m2,
                )
            )
        else:
            category = (
                ThreatCategory.CRUISE_MISSILE
                if threat.kind == "cruise_missile"
                else ThreatCategory.AIRCRAFT
            )
            waypoint.append(
                WaypointThreatSpec(
                    threat_id=ThreatId(threat.name),
                    category=category,
                    waypoints=tuple((w.lat_deg, w.lon_deg) for w in threat.waypoints),
                    altitude_m=threat.altitude_m,
                    speed_mps=threat.speed_mps,
                    launch_time_s=threat.launch_time_s,
                    rcs_m2=threat.rcs_m2,
                )
            )
    return Truth(ballistic, waypoint, step_s=step_s)


def build_sensor(
    spec: schema.Sensor, sites: dict[SiteId, PlatformTrack], nations: dict[SiteId, NationCode]
) -> tuple[Sensor, SiteId | None, PlatformTrack]:
    """One sensor model, the site it stands on (None in space) and its platform track."""
    if isinstance(spec, schema.RadarSensor):
        site = SiteId(spec.site)
        config = RadarConfig(
            sensor_id=SensorId(spec.name),
            nation=nations[site],
            boresight_azimuth_deg=spec.boresight_azimuth_deg,
            azimuth_extent_deg=spec.azimuth_extent_deg,
            elevation_min_deg=spec.elevation_min_deg,
            elevation_max_deg=spec.elevation_max_deg,
            range_min_m=spec.range_min_m,
            range_max_m=spec.range_max_m,
            revisit_period_s=spec.revisit_period_s,
            range_noise_m=spec.range_noise_m,
            azimuth_noise_mrad=spec.azimuth_noise_mrad,
            elevation_noise_mrad=spec.elevation_noise_mrad,
            reference_range_m=spec.reference_range_m,
            reference_rcs_m2=spec.reference_rcs_m2,
            reference_snr_db=spec.reference_snr_db,
            false_alarm_probability=spec.false_alarm_probability,
            false_alarms_per_scan=spec.false_alarms_per_scan,
        )
        return RadarSensor(config), site, sites[site]
    coverage = spec.coverage
    infrared = InfraredConfig(
        sensor_id=SensorId(spec.name),
        nation=NationCode(spec.nation),
        frame_period_s=spec.frame_period_s,
        line_of_sight_noise_urad=spec.line_of_sight_noise_urad,
        detection_probability=spec.detection_probability,
        coverage_lat_deg=(coverage.lat_min_deg, coverage.lat_max_deg),
        coverage_lon_deg=(coverage.lon_min_deg, coverage.lon_max_deg),
        false_alarms_per_frame=spec.false_alarms_per_frame,
    )
    satellite = fixed_platform(0.0, spec.orbit_lon_deg, spec.orbit_altitude_m)
    return SpaceInfraredSensor(infrared), None, satellite


def build(
    scenario: schema.Scenario, streams: RandomStreams, *, truth_step_s: float = 1.0
) -> Assembly:
    """Build the truth, the sensors and the platforms of a run.

    Each sensor draws its measurements from the stream ``sensor/NAME`` and its scan phase
    from ``sensor-phase/NAME``, so adding a sensor leaves every other sensor's draws as
    they were.
    """
    sites = {SiteId(site.name): site_platform(site) for site in scenario.sites}
    nations = {SiteId(site.name): NationCode(site.nation) for site in scenario.sites}
    setups = []
    for spec in scenario.sensors:
        sensor, site, platform = build_sensor(spec, sites, nations)
        phase = float(streams.stream(f"sensor-phase/{spec.name}").uniform(0.0, sensor.period_s))
        setups.append(
            SensorSetup(
                sensor=sensor,
                kind=spec.kind,
                site=site,
                platform=platform,
                rng=streams.stream(f"sensor/{spec.name}"),
                phase_s=phase,
            )
        )
    trackers = {
        NationCode(nation.code): RadarTracker(NationCode(nation.code), tracker_config())
        for nation in scenario.nations
    }
    return Assembly(
        truth=build_truth(scenario, step_s=truth_step_s),
        sensors=tuple(setups),
        sites=sites,
        trackers=trackers,
    )


def tracker_config() -> TrackerConfig:
    """The tracking configuration of every node: one IMM model set per track category.

    Every state carries the inverse ballistic coefficient ``1/β`` (7-D), so a ballistic
    track estimates its drag in re-entry and its impact prediction uses it; the kinematic
    modes carry ``1/β`` unchanged.

    - **Unclassified** (a new track): nearly constant velocity with q = 400 m²/s³ (about
      9 m/s² of unmodelled acceleration over a 5 s revisit: a manoeuvring aircraft or
      cruise missile), ballistic with q = 50 m²/s³, and boost, nearly constant velocity with
      q = 5,000 m²/s³ (about 50 m/s² of thrust). Mean sojourn times 120 s, 300 s and 60 s.
    - **Ballistic missile**: ballistic with J2, Earth rotation and drag, q = 20 m²/s³
      (unmodelled forces) and a slow random walk on ``1/β``; and boost as above (a track
      cued by space infrared starts here, weighted to boost). Sojourn 600 s and 60 s.
    - **Aircraft and cruise missile**: quiet straight flight (q = 20 m²/s³), and
      coordinated turns at ±3°/s (a 1.4 g turn at 250 m/s) with q = 100 m²/s³. Sojourn 60 s,
      20 s and 20 s.

    A ballistic track's impact prediction is refreshed at most every 4 s (about one radar
    revisit), not at each of several radars' reports. Clutter density 1e-7 per m·rad²
    matches about one false alarm per scan over a 1,000 km × 120° × 60° field of regard.
    """
    boost = Augmented(model=NearlyConstantVelocity(acceleration_psd_m2_s3=5_000.0))
    turn = np.deg2rad(3.0)
    air = ModelSet(
        modes=(
            Augmented(model=NearlyConstantVelocity(acceleration_psd_m2_s3=20.0)),
            Augmented(model=CoordinatedTurn(turn_rate_rad_s=turn, acceleration_psd_m2_s3=100.0)),
            Augmented(model=CoordinatedTurn(turn_rate_rad_s=-turn, acceleration_psd_m2_s3=100.0)),
        ),
        mode_sojourn_s=(60.0, 20.0, 20.0),
        initial_mode_probabilities=(0.8, 0.1, 0.1),
    )
    return TrackerConfig(
        model_sets={
            0: ModelSet(
                modes=(
                    Augmented(model=NearlyConstantVelocity(acceleration_psd_m2_s3=400.0)),
                    Ballistic(acceleration_psd_m2_s3=50.0, estimate_drag=True),
                    boost,
                ),
                mode_sojourn_s=(120.0, 300.0, 60.0),
                initial_mode_probabilities=(0.6, 0.2, 0.2),
            ),
            ThreatCategory.BALLISTIC_MISSILE: ModelSet(
                modes=(
                    Ballistic(
                        acceleration_psd_m2_s3=20.0,
                        estimate_drag=True,
                        inverse_beta_psd_m4_kg2_s=1e-12,
                        max_step_s=1.0,
                    ),
                    boost,
                ),
                mode_sojourn_s=(600.0, 60.0),
                initial_mode_probabilities=(0.8, 0.2),
            ),
            ThreatCategory.AIRCRAFT: air,
            ThreatCategory.CRUISE_MISSILE: air,
        },
        cued_mode_probabilities=(0.2, 0.8),
        associator=GnnAssociator(
            detection_probability=0.9, gate_probability=0.999, clutter_density=1e-7
        ),
        impact_model=Ballistic(acceleration_psd_m2_s3=0.0, estimate_drag=True, max_step_s=2.0),
        impact_period_s=4.0,
    )
