"""Turn a validated scenario into the components of a run (the only place that wires stages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iamd.core.ids import NationCode, SensorId, SiteId, ThreatId
from iamd.core.random import RandomStreams
from iamd.fusion import AirPicture, AirPictureConfig, TrackNumberPlan
from iamd.geo import geodetic_to_ecef
from iamd.messages import PlatformState, ReleasabilityLabel, ThreatCategory
from iamd.network import (
    KeyRing,
    Link,
    LinkConfig,
    NodeKeys,
    ReleasePolicy,
    Sanitisation,
    SharingAgreement,
    SlotBudget,
    Topology,
)
from iamd.scenario import schema
from iamd.sensors import (
    InfraredConfig,
    RadarConfig,
    RadarSensor,
    Sensor,
    SpaceInfraredSensor,
)
from iamd.tracking.association import GnnAssociator
from iamd.tracking.composite import CompositeTracker
from iamd.tracking.motion import Augmented, Ballistic, CoordinatedTurn, NearlyConstantVelocity
from iamd.tracking.tracker import Coverage, ModelSet, RadarTracker, TrackerConfig
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
class Network:
    """The network of a run: links, routes, agreements, labels and keys.

    Attributes
    ----------
    nations : tuple of NationCode
        The run's nation table, in the scenario's order (every message uses it).
    topology : Topology
        The links (none when every nation keeps a national picture).
    links : dict of int to Link
        The run-time state of each link of ``topology.links``, each with its own random
        stream ``link/LABEL``.
    policy : ReleasePolicy
        Agreements and clearances.
    next_hops : dict of NationCode to dict of NationCode to tuple of NationCode
        ``next_hops[node][originator]``: the neighbours ``node`` passes ``originator``'s
        data on to (the hops of the routes from the originator to every other nation).
    sensor_labels : dict of NationCode to dict of SensorId to ReleasabilityLabel
        Label of the tracks made from each sensor, by the sensor's nation.
    keys : dict of NationCode to NodeKeys
        Each node's signing keys, derived from the run's seed.
    keyring : KeyRing
        Every node's public key.
    """

    nations: tuple[NationCode, ...]
    topology: Topology
    links: dict[int, Link]
    policy: ReleasePolicy
    next_hops: dict[NationCode, dict[NationCode, tuple[NationCode, ...]]]
    sensor_labels: dict[NationCode, dict[SensorId, ReleasabilityLabel]]
    keys: dict[NationCode, NodeKeys]
    keyring: KeyRing


@dataclass(frozen=True, slots=True, kw_only=True)
class Assembly:
    """Everything a run needs, built from one scenario and one seed."""

    truth: Truth
    sensors: tuple[SensorSetup, ...]
    sites: dict[SiteId, PlatformTrack]
    trackers: dict[NationCode, RadarTracker]
    """One local tracker per nation (its node), fed by that nation's radars."""
    pictures: dict[NationCode, AirPicture]
    """One air picture per nation (its node)."""
    network: Network
    composites: dict[NationCode, CompositeTracker]
    """In measurement sharing, one composite tracker per nation (its node's picture);
    empty when the nodes share tracks."""


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
    scenario: schema.Scenario, streams: RandomStreams, *, seed: int, truth_step_s: float = 1.0
) -> Assembly:
    """Build the truth, the sensors, the platforms, the nodes' parts and the network of a run.

    Each sensor draws its measurements from the stream ``sensor/NAME`` and its scan phase
    from ``sensor-phase/NAME``, and each link from ``link/LABEL``, so adding a sensor or a
    link leaves every other component's draws as they were. ``seed`` derives the nodes'
    signing keys.
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
    network = build_network(scenario, streams, seed=seed)
    picture = picture_config(network.nations)
    composites = {}
    if scenario.exchange.mode == schema.ExchangeMode.MEASUREMENTS:
        coverage_of = radar_coverage(setups)
        composites = {
            nation: CompositeTracker(
                nation,
                network.nations,
                tracker_config(),
                coverage_of=coverage_of,
                delay_s=float(scenario.exchange.composite_delay_s),
                acceleration_psd_m2_s3=picture.acceleration_psd_m2_s3,
                max_age_s=picture.max_age_s,
            )
            for nation in network.nations
        }
    return Assembly(
        truth=build_truth(scenario, step_s=truth_step_s),
        sensors=tuple(setups),
        sites=sites,
        trackers=trackers,
        pictures={nation: AirPicture(nation, picture) for nation in network.nations},
        network=network,
        composites=composites,
    )


def radar_coverage(setups: list[SensorSetup]) -> Callable[[SensorId, float], Coverage]:
    """The field of regard of any radar of the run at a time (for composite trackers).

    Raises
    ------
    KeyError
        Asked about a sensor that is not a radar of the run.
    """
    radars = {s.sensor.sensor_id: s for s in setups if isinstance(s.sensor, RadarSensor)}

    def coverage_of(sensor: SensorId, time_s: float) -> Coverage:
        setup = radars[sensor]
        radar = setup.sensor
        assert isinstance(radar, RadarSensor)
        platform = setup.platform(time_s)
        return lambda positions: radar.covers(positions, platform)

    return coverage_of


def link_config(spec: schema.LinkSpec) -> LinkConfig:
    """The network stage's configuration of one scenario link."""
    budget = spec.slot_budget
    return LinkConfig(
        a=NationCode(spec.a),
        b=NationCode(spec.b),
        directed=spec.directed,
        latency_s=spec.latency_s,
        jitter_s=spec.jitter_s,
        loss_probability=spec.loss_probability,
        capacity_reports_per_s=spec.capacity_reports_per_s,
        slot_budget=None
        if budget is None
        else SlotBudget(
            slots_per_frame=budget.slots_per_frame,
            slots_per_report=budget.slots_per_report,
            frame_s=budget.frame_s,
            offset_s=budget.offset_s,
        ),
        max_queue_reports=spec.max_queue_reports,
        max_queue_delay_s=spec.max_queue_delay_s,
        outages=tuple((window.start_s, window.end_s) for window in spec.outages),
        queue_during_outage=spec.queue_during_outage,
    )


def sharing_agreement(spec: schema.AgreementSpec) -> SharingAgreement:
    """The network stage's form of one scenario sharing agreement."""
    sanitise = spec.sanitise
    return SharingAgreement(
        provider=NationCode(spec.provider),
        recipient=NationCode(spec.recipient),
        max_classification=int(spec.max_classification.level),
        categories=spec.category_codes,
        caveats_allowed=int(spec.caveat_flags),
        sanitise=None
        if sanitise is None
        else Sanitisation(
            position_quantum_m=sanitise.position_quantum_m,
            min_position_sigma_m=sanitise.min_position_sigma_m,
            strip_sensor_identity=sanitise.strip_sensor_identity,
            delay_s=sanitise.delay_s,
        ),
    )


def release_policy(scenario: schema.Scenario) -> ReleasePolicy:
    """The agreements and clearances of a scenario."""
    return ReleasePolicy(
        agreements=tuple(sharing_agreement(a) for a in scenario.sharing_agreements),
        clearances={NationCode(n.code): int(n.clearance.level) for n in scenario.nations},
    )


def next_hops(
    topology: Topology, policy: ReleasePolicy, nations: tuple[NationCode, ...]
) -> dict[NationCode, dict[NationCode, tuple[NationCode, ...]]]:
    """Where each node passes each originator's data on to.

    The route from an originator to each other nation is the topology's shortest by mean
    delay through relays that the originator has an agreement with (a relay must itself be
    entitled to what it carries); the destination must have one too, or nothing is routed
    to it. Routes are fixed for the run: a link outage delays or drops messages, it does not
    reroute them.
    """

    def may_relay(relay: NationCode, originator: NationCode, destination: NationCode) -> bool:
        return (
            policy.agreement(originator, relay) is not None
            and policy.agreement(originator, destination) is not None
        )

    hops: dict[NationCode, dict[NationCode, set[NationCode]]] = {n: {} for n in nations}
    for originator in nations:
        for destination in nations:
            if destination == originator or policy.agreement(originator, destination) is None:
                continue
            route = topology.route(originator, destination, may_relay=may_relay)
            if route is None:
                continue
            for here, there in zip(route.nodes[:-1], route.nodes[1:], strict=True):
                hops[here].setdefault(originator, set()).add(there)
    return {
        node: {o: tuple(sorted(targets)) for o, targets in by_originator.items()}
        for node, by_originator in hops.items()
    }


def build_network(scenario: schema.Scenario, streams: RandomStreams, *, seed: int) -> Network:
    """The links, routes, agreements, sensor labels and keys of a scenario."""
    nations = tuple(NationCode(n.code) for n in scenario.nations)
    topology = Topology([link_config(x) for x in scenario.expanded_links()], nodes=nations)
    links = {
        index: Link(config, streams.stream(f"link/{config.label}"))
        for index, config in enumerate(topology.links)
    }
    policy = release_policy(scenario)
    labels: dict[NationCode, dict[SensorId, ReleasabilityLabel]] = {n: {} for n in nations}
    for sensor in scenario.sensors:
        nation = NationCode(scenario.sensor_nation(sensor))
        labels[nation][SensorId(sensor.name)] = scenario.sensor_releasability(sensor)
    keys = {nation: NodeKeys.derive(seed, nation) for nation in nations}
    return Network(
        nations=nations,
        topology=topology,
        links=links,
        policy=policy,
        next_hops=next_hops(topology, policy, nations),
        sensor_labels=labels,
        keys=keys,
        keyring=KeyRing.of(keys.values()),
    )


def picture_config(nations: tuple[NationCode, ...]) -> AirPictureConfig:
    """The air-picture configuration of every node: one block of 100,000 numbers per nation.

    Blocks follow the scenario's nation order, so every node agrees on who owns a number.
    Covariance intersection fuses; the remaining settings are the defaults of
    :class:`~iamd.fusion.AirPictureConfig`.
    """
    return AirPictureConfig(track_numbers=TrackNumberPlan.consecutive(nations))


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
