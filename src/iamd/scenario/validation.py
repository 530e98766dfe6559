"""Rules that span a whole scenario, checked after the schema has accepted every field.

The schema validates each object on its own; this pass checks what needs the rest of the
document: names are unique within each collection (after salvo expansion, for threats),
every reference names something declared, threats launch before the end, ballistic aim
points are within reach and not on top of the launch point, and routes have no zero-length
legs. For the network it checks that links, topologies and agreements name declared nations,
that no two links carry one direction and no two agreements share a pair, that outages are
sorted, and that every variant, applied, gives a valid scenario. It reports every problem it
finds, not just the first.

:func:`apply_variant` lives here because it is the one place where a scenario is changed
after loading: it applies a variant and checks the result again.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Sequence

from pydantic import ValidationError

from iamd.core.errors import ScenarioError, ScenarioIssue
from iamd.geo import great_circle_distance_m
from iamd.scenario.issues import (
    LineMap,
    Path,
    did_you_mean,
    dotted,
    format_number,
    issue_at,
    issues_from_validation_error,
)
from iamd.scenario.schema import (
    AS_WRITTEN,
    AgreementSpec,
    AirBreathingThreat,
    BallisticThreat,
    GeoPoint,
    InfraredSensor,
    LinkSpec,
    LinkTemplate,
    RadarSensor,
    RulesOfEngagement,
    Scenario,
    SiteKind,
    TopologyKind,
    TopologySpec,
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
        self.network(("links",), s.links, ("topology",), s.topology)
        self.agreements(("sharing_agreements",), s.sharing_agreements)
        self.rules_of_engagement(("rules_of_engagement",), s.rules_of_engagement)
        self.variants()
        return self.issues

    def rules_of_engagement(self, here: Path, rules: Sequence[RulesOfEngagement]) -> None:
        """One entry per declared nation; it defends declared nations, each once."""
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            item = (*here, index)
            self.nation((*item, "nation"), rule.nation)
            for field in ("defends", "requests_to", "accepts_from"):
                codes = getattr(rule, field) or ()
                for j, code in enumerate(codes):
                    self.nation((*item, field, j), code)
                self.distinct((*item, field), codes)
            if rule.nation in first:
                self.add(
                    (*item, "nation"),
                    f"duplicate rules for nation; first declared at "
                    f"{dotted((*here, first[rule.nation]))}",
                    rule.nation,
                )
            else:
                first[rule.nation] = index

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
            label: Path = ("sensors", index, "releasability")
            if sensor.releasability.rel_to is not None:
                self.nation_list((*label, "rel_to"), sensor.releasability.rel_to)
            self.distinct((*label, "caveats"), sensor.releasability.caveats)
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
        for index, line in enumerate(s.production):
            here = ("production", index)
            self.reference(
                (*here, "interceptor"), "interceptor type", line.interceptor, interceptors
            )
            for j, code in enumerate(line.nations):
                self.nation((*here, "nations", j), code)
            self.distinct((*here, "nations"), line.nations)

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

    # The network -------------------------------------------------------------------------

    @property
    def nation_codes(self) -> list[str]:
        return [nation.code for nation in self.scenario.nations]

    def nation(self, path: Path, code: str) -> bool:
        """Report ``code`` at ``path`` unless it is a declared nation; True if it is."""
        return self.reference(path, "nation", code, self.nation_codes)

    def distinct(self, path: Path, values: Sequence[Hashable]) -> None:
        """Report every item of a list that an earlier item already names."""
        first: dict[Hashable, int] = {}
        for index, value in enumerate(values):
            if value in first:
                shown = value.value if isinstance(value, enum.Enum) else value
                self.add(
                    (*path, index), f"listed twice; first at {dotted((*path, first[value]))}", shown
                )
            else:
                first[value] = index

    def nation_list(self, path: Path, codes: Sequence[str]) -> None:
        """Every code of a list is a declared nation, and none is listed twice."""
        for index, code in enumerate(codes):
            self.nation((*path, index), code)
        self.distinct(path, codes)

    def network(
        self,
        links_path: Path,
        links: Sequence[LinkSpec],
        topology_path: Path,
        topology: TopologySpec | None,
    ) -> None:
        """Check a list of links, or a topology shorthand (never both: the schema says so)."""
        carried: dict[tuple[str, str], int] = {}
        for index, link in enumerate(links):
            here = (*links_path, index)
            a_known = self.nation((*here, "a"), link.a)
            b_known = self.nation((*here, "b"), link.b)
            self.outages(here, link)
            if not (a_known and b_known):
                continue
            for direction in link.directions():
                other = carried.setdefault(direction, index)
                if other != index:
                    self.add(
                        here,
                        f"duplicate link: {dotted((*links_path, other))} already carries "
                        f"{direction[0]} -> {direction[1]}; keep one link per direction",
                        show=False,
                    )
                    break
        if topology is not None:
            self.topology(topology_path, topology)

    def outages(self, here: Path, link: LinkTemplate) -> None:
        """Outages start before the end, are sorted and do not overlap (they may touch)."""
        duration = self.scenario.duration_s
        for k, window in enumerate(link.outages):
            path = (*here, "outages", k)
            if window.start_s >= duration:
                self.add(
                    (*path, "start_s"),
                    f"must be before the end, duration_s = {format_number(duration)}",
                    window.start_s,
                )
            if k > 0 and window.start_s < link.outages[k - 1].end_s:
                previous = link.outages[k - 1]
                self.add(
                    path,
                    "outages must be sorted and must not overlap: this one starts before "
                    f"outages.{k - 1} ends (end_s = {format_number(previous.end_s)})",
                    window.model_dump(),
                )

    def topology(self, here: Path, topology: TopologySpec) -> None:
        self.outages((*here, "template"), topology.template)
        if topology.kind is TopologyKind.FULL_MESH and topology.nations is not None:
            self.nation_list((*here, "nations"), topology.nations)
        elif topology.kind is TopologyKind.HUB_AND_SPOKE and topology.hub is not None:
            self.nation((*here, "hub"), topology.hub)
            if topology.spokes is not None:
                for index, spoke in enumerate(topology.spokes):
                    path = (*here, "spokes", index)
                    if spoke == topology.hub:
                        self.add(path, "the hub cannot be one of its spokes", spoke)
                    else:
                        self.nation(path, spoke)
                self.distinct((*here, "spokes"), topology.spokes)
        elif topology.kind is TopologyKind.HIERARCHICAL and topology.tree is not None:
            self.tree((*here, "tree"), topology)

    def tree(self, here: Path, topology: TopologySpec) -> None:
        """Every nation of a hierarchy has at most one parent and the tree has no cycle."""
        assert topology.tree is not None
        parents: dict[str, int] = {}
        parent_of: dict[str, tuple[str, Path]] = {}
        for index, branch in enumerate(topology.tree):
            item = (*here, index)
            self.nation((*item, "parent"), branch.parent)
            if branch.parent in parents:
                self.add(
                    (*item, "parent"),
                    f"duplicate parent; first declared at {dotted((*here, parents[branch.parent]))}"
                    "; list all its children there",
                    branch.parent,
                )
            else:
                parents[branch.parent] = index
            self.nation_list((*item, "children"), branch.children)
            for k, child in enumerate(branch.children):
                path = (*item, "children", k)
                if child == branch.parent:
                    self.add(path, "a nation cannot be its own child", child)
                elif child in parent_of and parent_of[child][0] != branch.parent:
                    first, where = parent_of[child]
                    self.add(
                        path,
                        f"{child} already has a parent: {first} at {dotted(where)}; a "
                        "hierarchy is a tree",
                        child,
                    )
                elif child not in parent_of:
                    parent_of[child] = (branch.parent, path)
        reported: set[str] = set()
        for start in parent_of:
            chain = [start]
            node = start
            while node in parent_of and parent_of[node][0] not in chain:
                node = parent_of[node][0]
                chain.append(node)
            if node in parent_of and not reported.intersection(chain):
                closing = parent_of[node]
                cycle = [*chain[chain.index(closing[0]) :], closing[0]]
                reported.update(chain)
                self.add(
                    closing[1],
                    f"the hierarchy has a cycle: {' -> '.join(reversed(cycle))}",
                    node,
                )

    def pair(self, item: Path, provider: str, recipient: str) -> bool:
        """Report the provider and recipient of an agreement unless declared; True if both are."""
        provider_known = self.nation((*item, "provider"), provider)
        recipient_known = self.nation((*item, "recipient"), recipient)
        return provider_known and recipient_known

    def agreements(
        self,
        here: Path,
        agreements: Sequence[AgreementSpec],
        existing: dict[tuple[str, str], Path] | None = None,
    ) -> None:
        """Agreements name declared nations, and no pair appears twice (nor in ``existing``)."""
        first: dict[tuple[str, str], Path] = {}
        for index, agreement in enumerate(agreements):
            item = (*here, index)
            self.distinct((*item, "categories"), agreement.categories)
            self.distinct((*item, "caveats_allowed"), agreement.caveats_allowed)
            if not self.pair(item, agreement.provider, agreement.recipient):
                continue
            pair = (agreement.provider, agreement.recipient)
            arrow = f"{pair[0]} -> {pair[1]}"
            if existing is not None and pair in existing:
                self.add(
                    item,
                    f"duplicate agreement {arrow}: {dotted(existing[pair])} has this pair; "
                    "remove it in remove_agreements to replace it",
                    show=False,
                )
            elif pair in first:
                self.add(
                    item,
                    f"duplicate agreement {arrow}; first declared at {dotted(first[pair])}",
                    show=False,
                )
            else:
                first[pair] = item

    def variants(self) -> None:
        s = self.scenario
        self.unique("variants", "variant name", [v.name for v in s.variants])
        declared: dict[tuple[str, str], Path] = {
            (a.provider, a.recipient): ("sharing_agreements", index)
            for index, a in enumerate(s.sharing_agreements)
        }
        for index, variant in enumerate(s.variants):
            here: Path = ("variants", index)
            if variant.name == AS_WRITTEN:
                self.add(
                    (*here, "name"),
                    f"{AS_WRITTEN!r} is the variant every scenario has implicitly; choose "
                    "another name",
                    variant.name,
                )
            self.network(
                (*here, "links"), variant.links or (), (*here, "topology"), variant.topology
            )
            kept = dict(declared)
            removed: dict[tuple[str, str], int] = {}
            for k, ref in enumerate(variant.remove_agreements):
                item = (*here, "remove_agreements", k)
                if not self.pair(item, ref.provider, ref.recipient):
                    continue
                pair = (ref.provider, ref.recipient)
                if pair in removed:
                    first = (*here, "remove_agreements", removed[pair])
                    self.add(item, f"listed twice; first at {dotted(first)}", show=False)
                elif pair not in declared:
                    listed = ", ".join(f"{p} -> {r}" for p, r in declared) or "none"
                    self.add(
                        item,
                        f"no agreement {pair[0]} -> {pair[1]} to remove; sharing_agreements "
                        f"has: {listed}",
                        show=False,
                    )
                else:
                    removed[pair] = k
                    del kept[pair]
            self.agreements((*here, "add_agreements"), variant.add_agreements, kept)
            if variant.rules_of_engagement is not None:
                self.rules_of_engagement(
                    (*here, "rules_of_engagement"), variant.rules_of_engagement
                )


def variant_names(scenario: Scenario) -> list[str]:
    """Names of the variants of a scenario: ``as-written`` first, then the declared ones.

    Examples
    --------
    >>> from iamd.scenario import resolve_scenario
    >>> variant_names(resolve_scenario("test-tiny")[0])
    ['as-written']
    """
    return [AS_WRITTEN, *(variant.name for variant in scenario.variants)]


def apply_variant(scenario: Scenario, name: str) -> Scenario:
    """The scenario with one of its variants applied, validated again.

    A variant that gives ``links`` or ``topology`` replaces the whole network (both); its
    ``remove_agreements`` are dropped from the scenario's agreements and its
    ``add_agreements`` appended after them; its ``exchange`` and ``rules_of_engagement``
    replace the scenario's.
    Everything else is kept. The result has no
    variants of its own (``variant_names`` of it is ``['as-written']``), so that applying
    variants never compounds.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    name : str
        One of :func:`variant_names`; ``as-written`` keeps the network as it is.

    Returns
    -------
    Scenario
        The changed scenario, checked by the schema and the document rules.

    Raises
    ------
    ScenarioError
        If ``name`` is not a variant (with the closest name as a hint), or the result breaks
        a rule (only possible for a scenario that was never checked, since loading checks
        every variant).

    Examples
    --------
    >>> from iamd.scenario import resolve_scenario
    >>> duo = resolve_scenario("test-duo")[0]
    >>> len(duo.links), len(apply_variant(duo, "national").links)
    (1, 0)
    """
    names = variant_names(scenario)
    if name not in names:
        hint = did_you_mean(name, names) or f"; declared: {', '.join(names)}"
        issue = issue_at(scenario.name, {}, ("variants",), f"unknown variant{hint}", name)
        raise ScenarioError([issue])
    data = scenario.model_dump()
    data["variants"] = ()
    chosen = next((v for v in scenario.variants if v.name == name), None)
    if chosen is not None:
        if chosen.replaces_network:
            data["links"] = [link.model_dump() for link in chosen.links or ()]
            data["topology"] = chosen.topology.model_dump() if chosen.topology else None
        dropped = {(ref.provider, ref.recipient) for ref in chosen.remove_agreements}
        kept = [
            agreement
            for agreement in scenario.sharing_agreements
            if (agreement.provider, agreement.recipient) not in dropped
        ]
        data["sharing_agreements"] = [
            agreement.model_dump() for agreement in (*kept, *chosen.add_agreements)
        ]
        if chosen.exchange is not None:
            data["exchange"] = chosen.exchange.model_dump()
        if chosen.rules_of_engagement is not None:
            data["rules_of_engagement"] = [r.model_dump() for r in chosen.rules_of_engagement]
    file = f"<variant {name} of {scenario.name}>"
    try:
        result = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(issues_from_validation_error(error, data, file, {})) from None
    issues = check_scenario(result, file, {})
    if issues:
        raise ScenarioError(issues)
    return result


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(great_circle_distance_m(lat1, lon1, lat2, lon2))


def _km(distance_m: float) -> str:
    """A distance in whole kilometres (one decimal below 10 km), e.g. ``1234 km``."""
    if distance_m < 10_000.0:
        return f"{distance_m / 1000.0:.1f} km"
    return f"{distance_m / 1000.0:.0f} km"
