"""Variants: named changes of the network, applied and validated again."""

from __future__ import annotations

import pytest
import yaml

from iamd.core.errors import ScenarioError
from iamd.scenario import (
    AS_WRITTEN,
    AgreementSpec,
    Scenario,
    TopologyKind,
    Variant,
    apply_variant,
    load_scenario_text,
    resolve_scenario,
    variant_names,
)

HEAD = """\
name: var
epoch: 2030-06-01T00:00:00Z
duration_s: 600
nations:
  - {code: USA, name: United States}
  - {code: JPN, name: Japan}
  - {code: AUS, name: Australia}
links:
  - {a: USA, b: JPN, latency_s: 0.5}
  - {a: USA, b: AUS, latency_s: 1.5}
sharing_agreements:
  - {provider: USA, recipient: JPN}
  - {provider: JPN, recipient: USA}
  - {provider: USA, recipient: AUS, categories: [ballistic_missile]}
"""


def load(variants: str) -> Scenario:
    return load_scenario_text(HEAD + "variants:\n" + variants, "t.yaml")


def pairs(scenario: Scenario) -> list[tuple[str, str]]:
    return [(a.provider, a.recipient) for a in scenario.sharing_agreements]


def revalidated(scenario: Scenario) -> Scenario:
    """The scenario written out as YAML and loaded again, through every check."""
    text = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
    return load_scenario_text(text, "round-trip.yaml")


def test_every_scenario_has_the_as_written_variant() -> None:
    tiny = resolve_scenario("test-tiny")[0]
    assert variant_names(tiny) == [AS_WRITTEN] == ["as-written"]
    assert apply_variant(tiny, "as-written") == tiny


def test_builtin_variant_names() -> None:
    assert variant_names(resolve_scenario("western-pacific")[0]) == [
        "as-written",
        "national",
        "networked",
        "jpn-aus-agreement",
        "full-mesh",
        "measurements",
    ]
    assert variant_names(resolve_scenario("test-duo")[0]) == [
        "as-written",
        "national",
        "networked",
        "measurements",
        "defended",
    ]


def test_as_written_drops_the_variants_only() -> None:
    scenario = load("  - {name: national, description: No links., links: []}\n")
    result = apply_variant(scenario, "as-written")
    assert result.variants == ()
    assert result == scenario.model_copy(update={"variants": ()})
    assert variant_names(result) == ["as-written"]


def test_replacing_the_links() -> None:
    scenario = load(
        "  - name: national\n    description: No links.\n    links: []\n"
        "  - name: direct\n    description: One direct link.\n"
        "    links: [{a: JPN, b: AUS, loss_probability: 0.5}]\n"
    )
    national = apply_variant(scenario, "national")
    assert national.links == ()
    assert national.expanded_links() == ()
    assert pairs(national) == pairs(scenario)
    direct = apply_variant(scenario, "direct")
    assert [link.label for link in direct.expanded_links()] == ["JPN-AUS"]
    assert direct.links[0].loss_probability == 0.5
    for result in (national, direct):
        assert revalidated(result) == result
        assert result.sensors == scenario.sensors
        assert result.nations == scenario.nations


def test_a_topology_replaces_links_and_a_list_replaces_a_topology() -> None:
    scenario = load(
        "  - name: mesh\n    description: Everyone linked.\n    topology: {kind: full_mesh}\n"
    )
    mesh = apply_variant(scenario, "mesh")
    assert mesh.links == ()
    assert mesh.topology is not None
    assert mesh.topology.kind is TopologyKind.FULL_MESH
    assert len(mesh.expanded_links()) == 3
    text = (
        HEAD.replace(
            "links:\n  - {a: USA, b: JPN, latency_s: 0.5}\n  - {a: USA, b: AUS, latency_s: 1.5}\n",
            "topology: {kind: hub_and_spoke, hub: USA}\n",
        )
        + "variants:\n  - {name: pair, description: One link., links: [{a: USA, b: JPN}]}\n"
    )
    hub = load_scenario_text(text)
    assert hub.topology is not None
    pair = apply_variant(hub, "pair")
    assert pair.topology is None
    assert [link.label for link in pair.expanded_links()] == ["USA-JPN"]
    assert revalidated(pair) == pair


def test_a_variant_without_links_keeps_the_network() -> None:
    scenario = load("  - {name: same, description: Nothing changes.}\n")
    assert apply_variant(scenario, "same") == apply_variant(scenario, "as-written")


def test_adding_and_removing_agreements() -> None:
    scenario = load(
        "  - name: more\n    description: Japan shares with Australia.\n"
        "    add_agreements: [{provider: JPN, recipient: AUS, max_classification: confidential}]\n"
        "  - name: less\n    description: The USA stops sharing with Japan.\n"
        "    remove_agreements: [{provider: USA, recipient: JPN}]\n"
        "  - name: wider\n    description: Every category to Australia.\n"
        "    remove_agreements: [{provider: USA, recipient: AUS}]\n"
        "    add_agreements: [{provider: USA, recipient: AUS}]\n"
    )
    more = apply_variant(scenario, "more")
    assert pairs(more) == [*pairs(scenario), ("JPN", "AUS")]
    assert more.sharing_agreements[-1] == AgreementSpec.model_validate(
        {"provider": "JPN", "recipient": "AUS", "max_classification": "confidential"}
    )
    assert more.links == scenario.links
    less = apply_variant(scenario, "less")
    assert pairs(less) == [("JPN", "USA"), ("USA", "AUS")]
    wider = apply_variant(scenario, "wider")
    assert pairs(wider) == [("USA", "JPN"), ("JPN", "USA"), ("USA", "AUS")]
    assert wider.sharing_agreements[-1].categories == ()
    for result in (more, less, wider):
        assert revalidated(result) == result


def test_western_pacific_variants() -> None:
    scenario = resolve_scenario("western-pacific")[0]
    national = apply_variant(scenario, "national")
    assert national.expanded_links() == ()
    assert national.sharing_agreements == scenario.sharing_agreements
    assert apply_variant(scenario, "networked") == apply_variant(scenario, "as-written")
    jpn_aus = apply_variant(scenario, "jpn-aus-agreement")
    assert pairs(jpn_aus) == [*pairs(scenario), ("JPN", "AUS")]
    assert jpn_aus.links == scenario.links
    mesh = apply_variant(scenario, "full-mesh")
    assert len(mesh.expanded_links()) == 6
    for name in variant_names(scenario):
        result = apply_variant(scenario, name)
        assert revalidated(result) == result
        assert result.threats == scenario.threats


def test_unknown_variant_suggests_the_closest_name() -> None:
    scenario = resolve_scenario("western-pacific")[0]
    with pytest.raises(ScenarioError) as caught:
        apply_variant(scenario, "nationl")
    assert str(caught.value) == (
        "western-pacific: variants: unknown variant; did you mean 'national'? (got 'nationl')"
    )
    with pytest.raises(ScenarioError) as caught:
        apply_variant(resolve_scenario("test-duo")[0], "zzz")
    assert str(caught.value) == (
        "test-duo: variants: unknown variant; declared: as-written, national, networked, "
        "measurements, defended (got 'zzz')"
    )


def test_an_unchecked_variant_is_checked_when_applied() -> None:
    # Built in Python, the scenario skipped the document checks that loading does.
    scenario = load("  - {name: same, description: Nothing changes.}\n")
    bad = Variant.model_validate(
        {
            "name": "bad",
            "description": "Adds a pair that already exists.",
            "add_agreements": [{"provider": "USA", "recipient": "JPN"}],
            "links": [{"a": "USA", "b": "GBR"}],
        }
    )
    unchecked = scenario.model_copy(update={"variants": (bad,)})
    with pytest.raises(ScenarioError) as caught:
        apply_variant(unchecked, "bad")
    assert str(caught.value).splitlines() == [
        "<variant bad of var>: links.0.b: unknown nation; declared: USA, JPN, AUS (got 'GBR')",
        "<variant bad of var>: sharing_agreements.3: duplicate agreement USA -> JPN; first "
        "declared at sharing_agreements.0",
    ]


def test_variant_paths_have_lines() -> None:
    with pytest.raises(ScenarioError) as caught:
        load(
            "  - name: mesh\n    description: d\n"
            "    topology: {kind: hub_and_spoke, hub: USA, spokes: [JPX]}\n"
        )
    assert str(caught.value) == (
        "t.yaml:18: variants.0.topology.spokes.0: unknown nation; did you mean 'JPN'? (got 'JPX')"
    )
