"""Topology: presets, shortest routes, relay policy, directed links, outages, validation."""

from __future__ import annotations

import itertools

import pytest

from iamd.core import ConfigurationError, NationCode
from iamd.network.links import LinkConfig, Route, Topology

JPN, USA, AUS, GBR, KOR = (NationCode(code) for code in ("JPN", "USA", "AUS", "GBR", "KOR"))
TEMPLATE = LinkConfig(a=NationCode("X"), b=NationCode("Y"), latency_s=0.1)


def anyone(relay: NationCode, originator: NationCode, destination: NationCode) -> bool:
    return True


def no_one(relay: NationCode, originator: NationCode, destination: NationCode) -> bool:
    return False


def link(a: NationCode, b: NationCode, latency_s: float, **overrides: object) -> LinkConfig:
    return LinkConfig(a=a, b=b, latency_s=latency_s, **overrides)  # type: ignore[arg-type]


# --- hub and spoke and the relay policy ---------------------------------------------------------


def test_hub_and_spoke_relays_through_the_hub_only_if_the_policy_allows() -> None:
    topology = Topology.hub_and_spoke(USA, [JPN, AUS], TEMPLATE)
    assert topology.nodes == (AUS, JPN, USA)
    assert topology.link_index(JPN, AUS) is None
    assert topology.link_index(JPN, USA) is not None

    asked: list[tuple[NationCode, NationCode, NationCode]] = []

    def record(relay: NationCode, originator: NationCode, destination: NationCode) -> bool:
        asked.append((relay, originator, destination))
        return True

    route = topology.route(JPN, AUS, may_relay=record)
    assert route is not None
    assert route.nodes == (JPN, USA, AUS)
    assert route.relays == (USA,)
    assert route.delay_s == pytest.approx(0.2)
    assert [topology.links[i].label for i in route.links] == ["USA-JPN", "USA-AUS"]
    assert asked == [(USA, JPN, AUS)]

    assert topology.route(JPN, AUS, may_relay=no_one) is None
    # A direct neighbour needs no relay.
    direct = topology.route(JPN, USA, may_relay=no_one)
    assert direct is not None
    assert direct.nodes == (JPN, USA)


def test_the_policy_may_depend_on_the_originator() -> None:
    def usa_relays_for_jpn(relay: NationCode, originator: NationCode, dest: NationCode) -> bool:
        return relay == USA and originator == JPN

    topology = Topology.hub_and_spoke(USA, [JPN, AUS], TEMPLATE)
    assert topology.route(JPN, AUS, may_relay=usa_relays_for_jpn) is not None
    assert topology.route(AUS, JPN, may_relay=usa_relays_for_jpn) is None


# --- shortest path ------------------------------------------------------------------------------


def test_the_shortest_route_by_mean_delay_wins() -> None:
    links = [link(JPN, AUS, 1.0), link(JPN, USA, 0.2), link(USA, AUS, 0.3)]
    topology = Topology(links)
    relayed = topology.route(JPN, AUS, may_relay=anyone)
    assert relayed is not None
    assert relayed.nodes == (JPN, USA, AUS)
    assert relayed.delay_s == pytest.approx(0.5)
    direct = topology.route(JPN, AUS, may_relay=no_one)
    assert direct == Route(nodes=(JPN, AUS), links=(0,), delay_s=1.0)


def test_jitter_counts_in_the_route_delay() -> None:
    links = [link(JPN, AUS, 0.3), link(JPN, USA, 0.1, jitter_s=0.5), link(USA, AUS, 0.1)]
    route = Topology(links).route(JPN, AUS, may_relay=anyone)
    assert route is not None
    assert route.nodes == (JPN, AUS)


def test_zero_latency_links_still_give_the_direct_route() -> None:
    perfect = LinkConfig(a=NationCode("X"), b=NationCode("Y"))
    topology = Topology.full_mesh([AUS, GBR, JPN, KOR, USA], perfect)
    for source, destination in itertools.permutations(topology.nodes, 2):
        route = topology.route(source, destination, may_relay=anyone)
        assert route is not None
        assert route.nodes == (source, destination)


def test_equal_delays_go_to_fewer_hops_then_alphabetical_order() -> None:
    links = [
        link(JPN, AUS, 0.3),
        link(JPN, USA, 0.1),
        link(USA, AUS, 0.2),
        link(JPN, GBR, 0.15),
        link(GBR, AUS, 0.15),
    ]
    for order in itertools.permutations(links):
        route = Topology(order).route(JPN, AUS, may_relay=anyone)
        assert route is not None
        assert route.nodes == (JPN, AUS)
    relayed = Topology(links[1:]).route(JPN, AUS, may_relay=anyone)
    assert relayed is not None
    assert relayed.nodes == (JPN, GBR, AUS)


def test_a_route_to_oneself_has_no_hop() -> None:
    topology = Topology.hub_and_spoke(USA, [JPN], TEMPLATE)
    assert topology.route(JPN, JPN, may_relay=no_one) == Route(nodes=(JPN,), links=(), delay_s=0.0)


# --- directed links and outages -----------------------------------------------------------------


def test_directed_links_carry_one_way_only() -> None:
    topology = Topology([link(JPN, USA, 0.1, directed=True), link(USA, AUS, 0.1)])
    forward = topology.route(JPN, AUS, may_relay=anyone)
    assert forward is not None
    assert forward.nodes == (JPN, USA, AUS)
    assert topology.route(AUS, JPN, may_relay=anyone) is None
    assert topology.route(USA, JPN, may_relay=anyone) is None
    assert topology.link_index(USA, JPN) is None


def test_opposite_directed_links_may_differ() -> None:
    topology = Topology([link(JPN, USA, 0.1, directed=True), link(USA, JPN, 0.4, directed=True)])
    there, back = (topology.route(*pair, may_relay=anyone) for pair in ((JPN, USA), (USA, JPN)))
    assert there is not None
    assert back is not None
    assert (there.delay_s, back.delay_s) == (0.1, 0.4)


def test_links_down_at_the_asked_time_are_left_out() -> None:
    links = [link(JPN, AUS, 0.1, outages=[(10.0, 20.0)]), link(JPN, USA, 0.1), link(USA, AUS, 0.1)]
    topology = Topology(links)
    for at_s, expected in [(None, (JPN, AUS)), (5.0, (JPN, AUS)), (10.0, (JPN, USA, AUS))]:
        route = topology.route(JPN, AUS, may_relay=anyone, at_s=at_s)
        assert route is not None
        assert route.nodes == expected
    assert topology.route(JPN, AUS, may_relay=no_one, at_s=15.0) is None
    assert topology.route(JPN, AUS, may_relay=no_one, at_s=20.0) is not None


# --- presets ------------------------------------------------------------------------------------


def test_full_mesh_links_every_pair() -> None:
    nations = [AUS, GBR, JPN, USA]
    mesh = Topology.full_mesh(nations, TEMPLATE)
    assert len(mesh.links) == 6
    assert all(link.latency_s == 0.1 for link in mesh.links)
    one_way = Topology.full_mesh(nations, LinkConfig(a=JPN, b=USA, directed=True))
    assert len(one_way.links) == 12
    assert all(one_way.link_index(x, y) is not None for x, y in itertools.permutations(nations, 2))


def test_hierarchical_links_parents_to_children() -> None:
    topology = Topology.hierarchical({USA: [JPN, AUS], JPN: [KOR]}, TEMPLATE)
    assert {link.label for link in topology.links} == {"USA-JPN", "USA-AUS", "JPN-KOR"}
    route = topology.route(KOR, AUS, may_relay=anyone)
    assert route is not None
    assert route.nodes == (KOR, JPN, USA, AUS)
    assert topology.route(KOR, AUS, may_relay=lambda relay, src, dst: relay != USA) is None


# --- validation ---------------------------------------------------------------------------------


def test_two_links_may_not_carry_the_same_direction() -> None:
    with pytest.raises(ConfigurationError, match=r"links\[1\] \(USA->JPN\) and links\[0\]"):
        Topology([link(JPN, USA, 0.1), link(USA, JPN, 0.2, directed=True)])


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda: Topology.full_mesh([JPN, USA, JPN], TEMPLATE),
            r"topology full_mesh: nations must be distinct \(got JPN twice\)",
        ),
        (
            lambda: Topology.hub_and_spoke(USA, [JPN, USA], TEMPLATE),
            r"topology hub_and_spoke: nations must be distinct \(got USA twice\)",
        ),
        (
            lambda: Topology.hierarchical({USA: [JPN], AUS: [JPN]}, TEMPLATE),
            r"JPN has two parents \(USA and AUS\)",
        ),
        (
            lambda: Topology.hierarchical({USA: [JPN], JPN: [USA]}, TEMPLATE),
            r"cycle through",
        ),
        (lambda: Topology.hierarchical({USA: [USA]}, TEMPLATE), r"USA is its own child"),
    ],
)
def test_preset_errors(build: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        build()  # type: ignore[operator]


def test_unknown_nodes_are_refused_and_isolated_nodes_unreachable() -> None:
    topology = Topology([link(JPN, USA, 0.1)], nodes=[GBR])
    assert topology.nodes == (GBR, JPN, USA)
    assert topology.route(JPN, GBR, may_relay=anyone) is None
    with pytest.raises(ValueError, match=r"topology has no node 'FRA' \(nodes: GBR, JPN, USA\)"):
        topology.route(JPN, NationCode("FRA"), may_relay=anyone)
