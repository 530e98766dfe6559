"""Rules that span a whole scenario, checked after the schema has accepted every field.

The schema validates each object on its own; this pass checks what needs the rest of the
document: names are unique within each collection (after salvo expansion, for threats),
every reference names something declared, threats launch before the end, ballistic aim
points are within reach and not on top of the launch point, and routes have no zero-length
legs. It reports every problem it finds, not just the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from iamd.core.errors import ScenarioIssue
from iamd.geo import great_circle_distance_m
from iamd.scenario.issues import LineMap, Path, did_you_mean, format_number, issue_at
from iamd.scenario.schema import (
    AirBreathingThreat,
    BallisticThreat,
    GeoPoint,
    InfraredSensor,
    RadarSensor,
    Scenario,
    SiteKind,
    Waypoint,
    salvo_round_name,
)
from iamd.world.ballistic import MIN_RANGE_M

MIN_BALLISTIC_RANGE_M = MIN_RANGE_M
"""Shortest ground distance from a ballistic launch to its aim point, m (the solver's limit)."""

MIN_LEG_M = 1.0
"""Shortest route leg, m; anything shorter is two copies of one point."""

_LISTED_CHOICES = 8
"""Most declared names listed in an "unknown reference" message."""


def check_scenario(scenario: Scenario, file: str, lines: LineMap) -> list[ScenarioIssue]:
    """Check the rules that span the document.

    Parameters
    ----------
    scenario : Scenario
        A scenario the schema has accepted.
    file : str
        Name of its source, as it appears in messages.
    lines : mapping of path to int
        Line map of its document (empty for a scenario built in Python).

    Returns
    -------
    list of ScenarioIssue
        Every problem found, in the order of the checks (the loader sorts them by line).
    """
    return _Checker(scenario, file, lines).run()


class _Checker:
    def __init__(self, scenario: Scenario, file: str, lines: LineMap) -> None:
        self.scenario = scenario
        self.file = file
        self.lines = lines
        self.issues: list[ScenarioIssue] = []

    def add(self, path: Path, message: str, value: object = None, *, show: bool = True) -> None:
        self.issues.append(issue_at(self.file, self.lines, path, message, value, show=show))

    def run(self) -> list[ScenarioIssue]:
        s = self.scenario
        self.unique("nations", "nation code", [n.code for n in s.nations], key="code")
        self.unique("sites", "site name", [x.name for x in s.sites])
        self.unique("sensors", "sensor name", [x.name for x in s.sensors])
        self.unique(
            "interceptor_types", "interceptor type name", [x.name for x in s.interceptor_types]
        )
        self.unique("shooters", "shooter name", [x.name for x in s.shooters])
        self.unique("defended_assets", "defended asset name", [x.name for x in s.defended_assets])
        self.unique("threats", "threat name", [x.name for x in s.threats])
        self.salvo_names()
        self.references()
        self.sites()
        self.threats()
        return self.issues

    def unique(self, collection: str, what: str, names: list[str], key: str = "name") -> None:
        """Report every name that an earlier item of ``collection`` already uses."""
        first: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in first:
                self.add(
                    (collection, index, key),
                    f"duplicate {what}; first declared at {collection}.{first[name]}",
                    name,
                )
            else:
                first[name] = index

    def salvo_names(self) -> None:
        """Names made by salvo expansion must not collide with any other threat's names."""
        made_by: dict[str, int] = {}
        for index, threat in enumerate(self.scenario.threats):
            if threat.salvo is None:
                names = [threat.name]
            else:
                names = [salvo_round_name(threat.name, k) for k in range(threat.salvo.count)]
            for name in names:
                other = made_by.get(name)
                if other is None:
                    made_by[name] = index
                elif other != index and self.scenario.threats[other].name != threat.name:
                    self.add(
                        ("threats", index, "name"),
                        f"threat names collide after salvo expansion: {name!r} is also made "
                        f"by threats.{other}",
                        threat.name,
                    )
                    break

    def reference(self, path: Path, role: str, value: str, declared: Iterable[str]) -> bool:
        """Report ``value`` at ``path`` unless it names a declared ``role``; True if it does."""
        choices = list(declared)
        if value in choices:
            return True
        hint = did_you_mean(value, choices)
        if not hint:
            listed = ", ".join(choices[:_LISTED_CHOICES])
            more = ", ..." if len(choices) > _LISTED_CHOICES else ""
            hint = f"; declared: {listed}{more}" if choices else f"; no {role} is declared"
        self.add(path, f"unknown {role}{hint}", value)
        return False

    def references(self) -> None:
        s = self.scenario
        nations = [n.code for n in s.nations]
        sites = [site.name for site in s.sites]
        for index, site in enumerate(s.sites):
            self.reference(("sites", index, "nation"), "nation", site.nation, nations)
        for index, sensor in enumerate(s.sensors):
            if isinstance(sensor, RadarSensor):
                self.reference(("sensors", index, "site"), "site", sensor.site, sites)
            elif isinstance(sensor, InfraredSensor):
                self.reference(("sensors", index, "nation"), "nation", sensor.nation, nations)
        interceptors = [t.name for t in s.interceptor_types]
        for index, shooter in enumerate(s.shooters):
            self.reference(("shooters", index, "site"), "site", shooter.site, sites)
            self.reference(
                ("shooters", index, "interceptor"),
                "interceptor type",
                shooter.interceptor,
                interceptors,
            )
        for index, asset in enumerate(s.defended_assets):
            self.reference(("defended_assets", index, "nation"), "nation", asset.nation, nations)

    def sites(self) -> None:
        for index, site in enumerate(self.scenario.sites):
            if site.kind is SiteKind.SHIP:
                start = Waypoint(lat_deg=site.lat_deg, lon_deg=site.lon_deg)
                self.route(
                    ("sites", index, "waypoints"), (start, *site.waypoints), "the site itself"
                )

    def route(self, path: Path, points: Sequence[Waypoint], start: str | None) -> None:
        """Report every leg of a route shorter than :data:`MIN_LEG_M`.

        ``points[0]`` is the start: the site's own position when ``start`` names it, else
        the first waypoint (``path.0``).
        """
        offset = 1 if start is not None else 0
        for k in range(1, len(points)):
            a, b = points[k - 1], points[k]
            if _distance_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) < MIN_LEG_M:
                previous = (
                    start if (start is not None and k == 1) else f"waypoints.{k - 1 - offset}"
                )
                self.add(
                    (*path, k - offset),
                    f"zero-length leg: same position as {previous}",
                    b.model_dump(),
                )

    def threats(self) -> None:
        s = self.scenario
        assets = [a.name for a in s.defended_assets]
        for index, threat in enumerate(s.threats):
            here: Path = ("threats", index)
            if threat.launch_time_s >= s.duration_s:
                self.add(
                    (*here, "launch_time_s"),
                    f"must be before the end, duration_s = {format_number(s.duration_s)}",
                    threat.launch_time_s,
                )
            elif threat.salvo is not None:
                salvo = threat.salvo
                last = threat.launch_time_s + (salvo.count - 1) * salvo.interval_s
                if last >= s.duration_s:
                    self.add(
                        (*here, "salvo"),
                        f"the last round launches at {format_number(last)} s; every round must "
                        f"launch before the end, duration_s = {format_number(s.duration_s)}",
                        salvo.model_dump(),
                    )
            if isinstance(threat, BallisticThreat):
                aim_known = isinstance(threat.aim, GeoPoint) or self.reference(
                    (*here, "aim", "asset"), "defended asset", threat.aim.asset, assets
                )
                if aim_known:
                    self.reach(here, threat)
            elif isinstance(threat, AirBreathingThreat):
                self.route((*here, "waypoints"), threat.waypoints, None)

    def reach(self, here: Path, threat: BallisticThreat) -> None:
        aim = self.scenario.aim_point(threat)
        launch = threat.launch
        distance = _distance_m(launch.lat_deg, launch.lon_deg, aim.lat_deg, aim.lon_deg)
        shown = threat.aim.model_dump()
        if distance < MIN_BALLISTIC_RANGE_M:
            self.add(
                (*here, "aim"),
                f"aim point is {_km(distance)} from the launch point; it must be at least "
                f"{_km(MIN_BALLISTIC_RANGE_M)} away",
                shown,
            )
        elif distance > threat.reach_m:
            if threat.range_class is not None:
                what = f"range class {threat.range_class.value}"
            else:
                what = f"a {format_number(threat.effective_burnout_speed_mps)} m/s burnout speed"
            self.add(
                (*here, "aim"),
                f"aim point is out of reach: {_km(distance)} from the launch point, beyond the "
                f"{_km(threat.reach_m)} reach of {what}",
                shown,
            )


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(great_circle_distance_m(lat1, lon1, lat2, lon2))


def _km(distance_m: float) -> str:
    """A distance in whole kilometres (one decimal below 10 km), e.g. ``1234 km``."""
    if distance_m < 10_000.0:
        return f"{distance_m / 1000.0:.1f} km"
    return f"{distance_m / 1000.0:.0f} km"
