"""The network sections: clearances, sensor labels, links, topologies and sharing agreements.

``network_of`` below converts a validated scenario to the network stage's dataclasses with
:mod:`iamd.sim.build`; the tests prove that no validated scenario makes them raise.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamd.core.errors import ScenarioError
from iamd.core.ids import NationCode
from iamd.messages import Caveat, Classification, ReleasabilityLabel, ThreatCategory
from iamd.messages.reports import ALL_CAVEATS
from iamd.network import (
    LinkConfig,
    ReleasePolicy,
    Sanitisation,
    SharingAgreement,
    SlotBudget,
    Topology,
)
from iamd.scenario import (
    CategoryName,
    CaveatName,
    ClassificationName,
    LinkSpec,
    LinkTemplate,
    Scenario,
    TopologyKind,
    apply_variant,
    builtin_names,
    load_scenario_text,
    resolve_scenario,
    variant_names,
)
from iamd.sim.build import link_config, release_policy, sharing_agreement

HEAD = """\
name: net
epoch: 2030-06-01T00:00:00Z
duration_s: 600
nations:
  - {code: USA, name: United States}
  - {code: JPN, name: Japan}
  - {code: AUS, name: Australia}
  - {code: PHL, name: Philippines}
"""

RADAR = """\
sites:
  - {name: S, nation: JPN, kind: land, lat_deg: 35.48, lon_deg: 133.05}
sensors:
  - name: R
    kind: radar
    site: S
    boresight_azimuth_deg: 330
    azimuth_extent_deg: 120
    elevation_min_deg: 0.5
    elevation_max_deg: 80
    range_min_m: 2000
    range_max_m: 600000
    revisit_period_s: 4
    range_noise_m: 40
    azimuth_noise_mrad: 1.0
    elevation_noise_mrad: 1.0
    reference_range_m: 400000
"""


def load(body: str) -> Scenario:
    return load_scenario_text(HEAD + body, "t.yaml")


def issues_of(body: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(body)
    return str(caught.value).splitlines()


# The conversion of iamd.sim.build ----------------------------------------------------------


def network_of(
    scenario: Scenario,
) -> tuple[Topology, ReleasePolicy, dict[str, ReleasabilityLabel]]:
    nations = [NationCode(n.code) for n in scenario.nations]
    topology = Topology([link_config(x) for x in scenario.expanded_links()], nodes=nations)
    policy = release_policy(scenario)
    labels = {s.name: scenario.sensor_releasability(s) for s in scenario.sensors}
    return topology, policy, labels


@pytest.mark.parametrize(
    ("name", "variant"),
    [(n, v) for n in builtin_names() for v in variant_names(resolve_scenario(n)[0])],
)
def test_every_builtin_variant_builds_the_network(name: str, variant: str) -> None:
    scenario = apply_variant(resolve_scenario(name)[0], variant)
    topology, policy, labels = network_of(scenario)
    assert set(topology.nodes) == {n.code for n in scenario.nations}
    policy.compile(topology.nodes)
    assert set(labels) == {s.name for s in scenario.sensors}


# Vocabularies -------------------------------------------------------------------------------


def test_classification_names_follow_the_message_levels() -> None:
    assert [name.level for name in ClassificationName] == list(Classification)
    assert ClassificationName("top_secret").level is Classification.TOP_SECRET


def test_caveat_names_cover_every_flag() -> None:
    flags = Caveat(0)
    for name in CaveatName:
        flags |= name.flag
    assert flags == ALL_CAVEATS
    assert CaveatName("originator_controlled").flag is Caveat.ORIGINATOR_CONTROLLED


def test_category_names_cover_every_threat_category_and_unclassified() -> None:
    assert sorted(name.code for name in CategoryName) == [0, *sorted(ThreatCategory)]
    assert CategoryName("ballistic_missile").code == ThreatCategory.BALLISTIC_MISSILE


# Clearances and labels -----------------------------------------------------------------------


def test_clearance_defaults_to_secret() -> None:
    scenario = load("")
    assert {n.clearance for n in scenario.nations} == {ClassificationName.SECRET}
    text = HEAD.replace(
        "{code: PHL, name: Philippines}", "{code: PHL, name: P, clearance: restricted}"
    )
    changed = load_scenario_text(text)
    assert changed.nations[3].clearance.level is Classification.RESTRICTED


def test_default_label_is_secret_releasable_to_every_nation() -> None:
    scenario = load(RADAR)
    radar = scenario.sensors[0]
    assert radar.releasability.rel_to is None
    assert radar.releasability.caveats == ()
    assert scenario.sensor_releasability(radar) == ReleasabilityLabel(
        classification=Classification.SECRET,
        rel_to=frozenset(NationCode(c) for c in ("USA", "JPN", "AUS", "PHL")),
        originator=NationCode("JPN"),
    )


@pytest.mark.parametrize(
    ("rel_to", "expected"),
    [("[]", {"JPN"}), ("[USA]", {"USA", "JPN"}), ("[JPN, AUS]", {"JPN", "AUS"})],
)
def test_rel_to_always_implies_the_owner(rel_to: str, expected: set[str]) -> None:
    body = RADAR + (
        "    releasability:\n"
        "      classification: confidential\n"
        f"      rel_to: {rel_to}\n"
        "      caveats: [precise_position, sensor_source]\n"
    )
    scenario = load(body)
    label = scenario.sensor_releasability(scenario.sensors[0])
    assert label.rel_to == expected
    assert label.originator == "JPN"
    assert label.classification is Classification.CONFIDENTIAL
    assert label.caveats == Caveat.PRECISE_POSITION | Caveat.SENSOR_SOURCE


def test_infrared_label_belongs_to_its_nation() -> None:
    duo = resolve_scenario("test-duo")[0]
    infrared = next(s for s in duo.sensors if s.kind == "infrared")
    label = duo.sensor_releasability(infrared)
    assert label.originator == "USA"
    assert label.caveats == Caveat.SENSOR_SOURCE
    assert label.rel_to == {"USA", "JPN"}


def test_at_most_64_nations() -> None:
    codes = ["".join(letters) for letters in itertools.product("ABC", "DEF", "GHIJKLMN")][:65]
    text = "name: x\nepoch: 2030-06-01T00:00:00Z\nduration_s: 10\nnations:\n" + "".join(
        f"  - {{code: {code}, name: n}}\n" for code in codes
    )
    with pytest.raises(ScenarioError, match=r"t\.yaml:4: nations: must have at most 64 items"):
        load_scenario_text(text, "t.yaml")
    load_scenario_text(text.rsplit("  - ", 1)[0])


# Links ----------------------------------------------------------------------------------------


def test_link_defaults_make_a_perfect_link() -> None:
    link = load("links:\n  - {a: USA, b: JPN}\n").links[0]
    assert (link.a, link.b, link.directed) == ("USA", "JPN", False)
    assert link.latency_s == link.jitter_s == link.loss_probability == 0.0
    assert link.capacity_reports_per_s is None
    assert link.slot_budget is None
    assert link.outages == ()
    assert link.queue_during_outage is False
    assert link.max_queue_reports is None
    assert link.max_queue_delay_s is None
    assert link.label == "USA-JPN"
    assert link.directions() == (("USA", "JPN"), ("JPN", "USA"))
    assert link_config(link) == LinkConfig(a=NationCode("USA"), b=NationCode("JPN"))


def test_every_link_field_is_read() -> None:
    body = """\
links:
  - a: USA
    b: JPN
    directed: true
    latency_s: 0.5
    jitter_s: 0.1
    loss_probability: 0.02
    slot_budget: {frame_s: 6, slots_per_frame: 12, slots_per_report: 2, offset_s: 0.25}
    outages:
      - {start_s: 10, end_s: 20}
      - {start_s: 20, end_s: 30}
    queue_during_outage: true
    max_queue_reports: 40
    max_queue_delay_s: 8
"""
    link = load(body).links[0]
    assert link.label == "USA->JPN"
    assert link.directions() == (("USA", "JPN"),)
    assert link_config(link) == LinkConfig(
        a=NationCode("USA"),
        b=NationCode("JPN"),
        directed=True,
        latency_s=0.5,
        jitter_s=0.1,
        loss_probability=0.02,
        slot_budget=SlotBudget(slots_per_frame=12, slots_per_report=2, frame_s=6.0, offset_s=0.25),
        outages=((10.0, 20.0), (20.0, 30.0)),
        queue_during_outage=True,
        max_queue_reports=40,
        max_queue_delay_s=8.0,
    )


def test_slot_budget_defaults() -> None:
    link = load("links:\n  - {a: USA, b: JPN, slot_budget: {slots_per_frame: 4}}\n").links[0]
    assert link.slot_budget is not None
    assert link_config(link).slot_budget == SlotBudget(slots_per_frame=4)


def test_opposite_directed_links_are_not_duplicates() -> None:
    body = "links:\n  - {a: USA, b: JPN, directed: true}\n  - {a: JPN, b: USA, directed: true}\n"
    topology = network_of(load(body))[0]
    assert topology.link_index(NationCode("USA"), NationCode("JPN")) == 0
    assert topology.link_index(NationCode("JPN"), NationCode("USA")) == 1


def test_a_capacity_allows_queue_limits() -> None:
    body = "links:\n  - {a: USA, b: JPN, capacity_reports_per_s: 10, max_queue_reports: 0}\n"
    assert load(body).links[0].max_queue_reports == 0


def test_no_links_means_isolated_nations() -> None:
    scenario = load("")
    assert scenario.expanded_links() == ()
    topology = network_of(scenario)[0]
    assert topology.links == ()
    assert set(topology.nodes) == {"USA", "JPN", "AUS", "PHL"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("latency_s", "-1", "must be greater than or equal to 0"),
        ("jitter_s", "-0.1", "must be greater than or equal to 0"),
        ("loss_probability", "-0.1", "must be greater than or equal to 0"),
        ("loss_probability", "1.0", "must be less than 1"),
        ("capacity_reports_per_s", "0", "must be greater than 0"),
        ("directed", "'true'", "must be a valid boolean"),
        ("queue_during_outage", "0", "must be a valid boolean"),
    ],
)
def test_link_field_domains(field: str, value: str, message: str) -> None:
    lines = issues_of(f"links:\n  - {{a: USA, b: JPN, {field}: {value}}}\n")
    assert len(lines) == 1
    assert lines[0].startswith(f"t.yaml:10: links.0.{field}: {message} (got ")


# Topologies ---------------------------------------------------------------------------------

TEMPLATE = "{latency_s: 1.5, jitter_s: 0.5, loss_probability: 0.01}"
CONFIG = LinkConfig(
    a=NationCode("XXX"),
    b=NationCode("YYY"),
    latency_s=1.5,
    jitter_s=0.5,
    loss_probability=0.01,
)
CODES = [NationCode(c) for c in ("USA", "JPN", "AUS", "PHL")]


def links_of(scenario: Scenario) -> tuple[LinkConfig, ...]:
    return network_of(scenario)[0].links


def test_full_mesh_defaults_to_every_nation() -> None:
    scenario = load(f"topology: {{kind: full_mesh, template: {TEMPLATE}}}\n")
    assert scenario.topology is not None
    assert scenario.topology.kind is TopologyKind.FULL_MESH
    assert links_of(scenario) == Topology.full_mesh(CODES, CONFIG).links
    assert len(scenario.expanded_links()) == 6


def test_full_mesh_of_some_nations() -> None:
    scenario = load(f"topology: {{kind: full_mesh, nations: [JPN, AUS], template: {TEMPLATE}}}\n")
    assert [link.label for link in scenario.expanded_links()] == ["JPN-AUS"]


def test_hub_and_spoke_defaults_to_every_other_nation() -> None:
    scenario = load(f"topology: {{kind: hub_and_spoke, hub: USA, template: {TEMPLATE}}}\n")
    assert links_of(scenario) == Topology.hub_and_spoke(CODES[0], CODES[1:], CONFIG).links


def test_hub_and_spoke_with_spokes() -> None:
    body = "topology: {kind: hub_and_spoke, hub: JPN, spokes: [PHL, USA]}\n"
    assert [link.label for link in load(body).expanded_links()] == ["JPN-PHL", "JPN-USA"]


def test_hierarchical() -> None:
    body = f"""\
topology:
  kind: hierarchical
  tree:
    - {{parent: USA, children: [JPN, AUS]}}
    - {{parent: JPN, children: [PHL]}}
  template: {TEMPLATE}
"""
    children = {CODES[0]: [CODES[1], CODES[2]], CODES[1]: [CODES[3]]}
    assert links_of(load(body)) == Topology.hierarchical(children, CONFIG).links


def test_directed_template_gives_two_links_per_pair() -> None:
    body = "topology: {kind: hub_and_spoke, hub: USA, spokes: [JPN], template: {directed: true}}\n"
    assert [link.label for link in load(body).expanded_links()] == ["USA->JPN", "JPN->USA"]
    directed = LinkConfig(a=CODES[0], b=CODES[1], directed=True)
    assert links_of(load(body)) == Topology.hub_and_spoke(CODES[0], [CODES[1]], directed).links


def test_empty_links_may_go_with_a_topology() -> None:
    scenario = load("links: []\ntopology: {kind: full_mesh}\n")
    assert len(scenario.expanded_links()) == 6


def test_topology_template_rules_are_link_rules() -> None:
    lines = issues_of("topology: {kind: full_mesh, template: {max_queue_reports: 3}}\n")
    assert lines == [
        "t.yaml:9: topology.template.max_queue_reports: must be left out on a link that never "
        "queues: set capacity_reports_per_s or slot_budget, or queue_during_outage with "
        "outages (got 3)"
    ]


def test_hierarchical_needs_a_tree() -> None:
    assert issues_of("topology: {kind: hierarchical}\n") == [
        "t.yaml:9: topology.tree: a hierarchical topology needs tree"
    ]


def test_tree_children_are_not_empty() -> None:
    lines = issues_of("topology: {kind: hierarchical, tree: [{parent: USA, children: []}]}\n")
    assert lines == ["t.yaml:9: topology.tree.0.children: must have at least 1 item (got [])"]


# Sharing agreements ---------------------------------------------------------------------------


def test_agreement_defaults() -> None:
    agreement = load("sharing_agreements:\n  - {provider: USA, recipient: JPN}\n")
    spec = agreement.sharing_agreements[0]
    assert spec.max_classification is ClassificationName.SECRET
    assert spec.categories == spec.caveats_allowed == ()
    assert spec.sanitise is None
    assert spec.category_codes == frozenset()
    assert spec.caveat_flags == Caveat(0)
    assert sharing_agreement(spec) == SharingAgreement(
        provider=NationCode("USA"), recipient=NationCode("JPN"), max_classification=3
    )


def test_every_agreement_field_is_read() -> None:
    body = """\
sharing_agreements:
  - provider: USA
    recipient: PHL
    max_classification: confidential
    categories: [ballistic_missile, unclassified]
    caveats_allowed: [originator_controlled, sensor_source]
    sanitise: {position_quantum_m: 2000, min_position_sigma_m: 1000, delay_s: 4}
"""
    spec = load(body).sharing_agreements[0]
    assert sharing_agreement(spec) == SharingAgreement(
        provider=NationCode("USA"),
        recipient=NationCode("PHL"),
        max_classification=int(Classification.CONFIDENTIAL),
        categories=frozenset({0, int(ThreatCategory.BALLISTIC_MISSILE)}),
        caveats_allowed=int(Caveat.ORIGINATOR_CONTROLLED | Caveat.SENSOR_SOURCE),
        sanitise=Sanitisation(
            position_quantum_m=2000.0,
            min_position_sigma_m=1000.0,
            strip_sensor_identity=True,
            delay_s=4.0,
        ),
    )


def test_empty_sanitise_strips_the_sensor_only() -> None:
    body = "sharing_agreements:\n  - {provider: USA, recipient: PHL, sanitise: {}}\n"
    spec = load(body).sharing_agreements[0]
    assert sharing_agreement(spec).sanitise == Sanitisation()


def test_agreements_follow_the_policy() -> None:
    body = """\
sharing_agreements:
  - {provider: USA, recipient: JPN, max_classification: confidential}
  - {provider: JPN, recipient: USA}
"""
    policy = network_of(load(body))[1]
    usa, jpn = NationCode("USA"), NationCode("JPN")
    assert policy.agreement(usa, jpn) is not None
    assert policy.agreement(jpn, usa) is not None
    assert policy.agreement(usa, NationCode("AUS")) is None
    assert policy.clearances[usa] == Classification.SECRET


# Round trips and robustness -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["test-duo", "test-tiny", "western-pacific"])
def test_dump_and_validate_round_trip(name: str) -> None:
    scenario = resolve_scenario(name)[0]
    assert Scenario.model_validate(scenario.model_dump()) == scenario
    text = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
    assert load_scenario_text(text) == scenario


def test_python_construction_checks_link_rules() -> None:
    with pytest.raises(ValueError, match="must be a nation other than a = USA"):
        LinkSpec(a="USA", b="USA")
    with pytest.raises(ValueError, match="give capacity_reports_per_s or slot_budget"):
        LinkTemplate.model_validate(
            {"capacity_reports_per_s": 1.0, "slot_budget": {"slots_per_frame": 1}}
        )


DUO = resolve_scenario("test-duo")[1]


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


NETWORK_PATHS = [
    path
    for path in _paths(yaml.safe_load(DUO))[1:]
    if path[0] in {"links", "sharing_agreements", "variants", "nations"} or "releasability" in path
]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["USA", "JPN", "GBR", "secret", "sensor_source", "aircraft", "", "x"]),
    st.lists(st.sampled_from(["USA", "JPN", "secret", "sensor_source"]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b", "provider", "start_s"]), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(NETWORK_PATHS), value=values)
def test_any_network_value_gives_a_scenario_or_a_scenario_error(
    where: tuple[Any, ...], value: object
) -> None:
    document = yaml.safe_load(DUO)
    node = document
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    scenario, error = _outcome(yaml.safe_dump(document, sort_keys=False))
    if error is not None:
        assert error.issues
        assert all(issue.line is not None for issue in error.issues)
    else:
        assert scenario is not None
        for name in variant_names(scenario):
            network_of(apply_variant(scenario, name))


def _outcome(text: str) -> tuple[Scenario | None, ScenarioError | None]:
    """The scenario the text gives, or the ScenarioError it raises."""
    try:
        return load_scenario_text(text), None
    except ScenarioError as error:
        return None, error
