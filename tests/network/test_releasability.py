"""Releasability rules: every deny reason, their precedence, relays, caveats, configuration."""

from __future__ import annotations

import enum
from collections.abc import Iterable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.core import ConfigurationError, NationCode
from iamd.network.releasability import (
    CaveatRules,
    Decision,
    DenyReason,
    ReleasePolicy,
    Sanitisation,
    SharingAgreement,
    as_rel_to,
    decide,
    member_of,
    sanitisation_of,
)

USA, JPN, KOR, AUS = (NationCode(code) for code in ("USA", "JPN", "KOR", "AUS"))
NATIONS = (USA, JPN, KOR, AUS)
BALLISTIC, CRUISE, AIRCRAFT = 1, 2, 3
SECRET, TOP_SECRET = 3, 4


class Caveat(enum.IntFlag):
    """Stand-in for the message layer's caveat flags: the rules only see the bits."""

    SENSOR_SOURCE = 1
    PRECISE_POSITION = 2
    ORIGINATOR_CONTROLLED = 4


RULES = CaveatRules(
    relay_forbidden=Caveat.ORIGINATOR_CONTROLLED,
    withhold_sensor=Caveat.SENSOR_SOURCE,
    degrade_position=Caveat.PRECISE_POSITION,
    degradation=Sanitisation(position_quantum_m=2000.0, min_position_sigma_m=300.0, delay_s=2.0),
)
COARSE = Sanitisation(position_quantum_m=1000.0, min_position_sigma_m=500.0, delay_s=5.0)


def mask(*members: NationCode, nations: Iterable[NationCode] = NATIONS) -> int:
    return sum(1 << i for i, nation in enumerate(nations) if nation in members)


def policy(rules: CaveatRules = RULES) -> ReleasePolicy:
    return ReleasePolicy(
        agreements=(
            SharingAgreement(
                provider=USA,
                recipient=JPN,
                max_classification=SECRET,
                caveats_allowed=Caveat.SENSOR_SOURCE | Caveat.ORIGINATOR_CONTROLLED,
            ),
            SharingAgreement(
                provider=USA,
                recipient=KOR,
                max_classification=2,
                categories=frozenset({BALLISTIC}),
                sanitise=COARSE,
            ),
            SharingAgreement(provider=JPN, recipient=USA, max_classification=TOP_SECRET),
            SharingAgreement(
                provider=JPN,
                recipient=AUS,
                max_classification=SECRET,
                caveats_allowed=Caveat.PRECISE_POSITION,
            ),
            SharingAgreement(provider=KOR, recipient=USA, max_classification=SECRET),
            SharingAgreement(provider=AUS, recipient=USA, max_classification=SECRET),
        ),
        clearances={USA: TOP_SECRET, JPN: SECRET, KOR: SECRET, AUS: 2},
        caveat_rules=rules,
    )


def one(
    *,
    recipient: NationCode,
    originator: NationCode,
    sender: NationCode | None = None,
    classification: int = 2,
    rel_to: int | None = None,
    caveats: int = 0,
    category: int = BALLISTIC,
    rules: CaveatRules = RULES,
) -> tuple[Decision, DenyReason]:
    """Decision and reason for one item (REL TO every nation unless given)."""
    out = decide(
        policy(rules).compile(NATIONS),
        recipient=recipient,
        sender=originator if sender is None else sender,
        originator=[NATIONS.index(originator)],
        classification=[classification],
        rel_to=np.array([mask(*NATIONS) if rel_to is None else rel_to], np.uint64),
        caveats=[caveats],
        category=[category],
    )
    return Decision(int(out.decision[0])), DenyReason(int(out.reason[0]))


# --- each rule ----------------------------------------------------------------------------------


def test_release_when_every_rule_holds() -> None:
    assert one(recipient=JPN, originator=USA) == (Decision.RELEASE, DenyReason.NONE)
    assert one(recipient=JPN, originator=USA, classification=SECRET)[0] is Decision.RELEASE


def test_not_in_rel_to() -> None:
    denied = (Decision.DENY, DenyReason.NOT_IN_REL_TO)
    assert one(recipient=JPN, originator=USA, rel_to=mask(USA, KOR)) == denied
    assert one(recipient=JPN, originator=USA, rel_to=0) == denied


def test_above_clearance() -> None:
    # USA gives JPN up to SECRET and JPN is cleared SECRET; AUS is cleared only to 2.
    assert one(recipient=JPN, originator=USA, classification=TOP_SECRET) == (
        Decision.DENY,
        DenyReason.ABOVE_CLEARANCE,
    )
    assert one(recipient=AUS, originator=JPN, classification=SECRET)[1] is (
        DenyReason.ABOVE_CLEARANCE
    )


def test_no_agreement() -> None:
    assert one(recipient=KOR, originator=JPN) == (Decision.DENY, DenyReason.NO_AGREEMENT)
    assert one(recipient=AUS, originator=USA)[1] is DenyReason.NO_AGREEMENT


def test_above_agreement() -> None:
    # KOR is cleared SECRET but USA agreed to give it only up to 2.
    assert one(recipient=KOR, originator=USA, classification=SECRET) == (
        Decision.DENY,
        DenyReason.ABOVE_AGREEMENT,
    )


def test_category_not_agreed() -> None:
    assert one(recipient=KOR, originator=USA, category=CRUISE)[1] is (
        DenyReason.CATEGORY_NOT_AGREED
    )
    # Tracks not yet classified are category 0, which an explicit list must name.
    assert one(recipient=KOR, originator=USA, category=0)[1] is DenyReason.CATEGORY_NOT_AGREED
    # An empty list means every category.
    for category in (0, BALLISTIC, CRUISE, AIRCRAFT):
        assert one(recipient=JPN, originator=USA, category=category)[0] is Decision.RELEASE


def test_caveat_not_agreed() -> None:
    assert one(recipient=JPN, originator=USA, caveats=Caveat.PRECISE_POSITION) == (
        Decision.DENY,
        DenyReason.CAVEAT_NOT_AGREED,
    )
    assert one(recipient=JPN, originator=USA, caveats=8)[1] is DenyReason.CAVEAT_NOT_AGREED
    # Allowed caveats pass (and SENSOR_SOURCE makes the release a sanitised one).
    assert one(recipient=JPN, originator=USA, caveats=Caveat.SENSOR_SOURCE)[0] is (
        Decision.SANITISE
    )


def test_invalid_label() -> None:
    tables = policy().compile(NATIONS)
    out = decide(
        tables,
        recipient=JPN,
        sender=USA,
        originator=[4, -1, 0, 0, 0, 0],
        classification=[0, 0, -1, 0, 0, 0],
        rel_to=np.full(6, mask(*NATIONS), np.uint64),
        caveats=[0, 0, 0, -2, 0, 0],
        category=[1, 1, 1, 1, -1, 63],
    )
    assert (out.reason == DenyReason.INVALID_LABEL).all()
    assert (out.decision == Decision.DENY).all()


def test_relay_of_originator_controlled_data_is_denied() -> None:
    orcon = Caveat.ORIGINATOR_CONTROLLED
    assert one(recipient=JPN, originator=USA, caveats=orcon)[0] is Decision.RELEASE
    assert one(recipient=JPN, originator=USA, sender=KOR, caveats=orcon) == (
        Decision.DENY,
        DenyReason.RELAY_NOT_PERMITTED,
    )
    # The caveat bites through CaveatRules (by default the meaning of Caveat's flags):
    # without the rule the same relay is allowed.
    plain = CaveatRules(relay_forbidden=0)
    assert one(recipient=JPN, originator=USA, sender=KOR, caveats=orcon, rules=plain)[0] is (
        Decision.RELEASE
    )


# --- precedence ---------------------------------------------------------------------------------


def test_precedence_reports_the_first_rule_broken() -> None:
    # Breaks everything: not in REL TO, above clearance, no agreement, bad caveat.
    everyone = mask(*NATIONS)
    reason = one(recipient=KOR, originator=JPN, rel_to=mask(USA), classification=4, caveats=8)[1]
    assert reason is DenyReason.NOT_IN_REL_TO
    reason = one(recipient=KOR, originator=JPN, rel_to=everyone, classification=4, caveats=8)[1]
    assert reason is DenyReason.ABOVE_CLEARANCE
    reason = one(recipient=KOR, originator=JPN, classification=SECRET, caveats=8)[1]
    assert reason is DenyReason.NO_AGREEMENT
    reason = one(recipient=KOR, originator=USA, classification=SECRET, caveats=8)[1]
    assert reason is DenyReason.ABOVE_AGREEMENT
    reason = one(recipient=KOR, originator=USA, caveats=8, category=CRUISE)[1]
    assert reason is DenyReason.CATEGORY_NOT_AGREED
    orcon_and_bad = Caveat.ORIGINATOR_CONTROLLED | 8
    assert one(recipient=JPN, originator=USA, sender=KOR, caveats=orcon_and_bad)[1] is (
        DenyReason.CAVEAT_NOT_AGREED
    )


def test_own_data_always_flows_unsanitised() -> None:
    # Not in REL TO, above every agreement, no agreement to itself, caveats that would
    # demand sanitisation, relayed back by another node: still its own.
    for sender in (USA, JPN):
        assert one(
            recipient=USA,
            originator=USA,
            sender=sender,
            classification=TOP_SECRET,
            rel_to=0,
            caveats=int(Caveat.SENSOR_SOURCE | Caveat.PRECISE_POSITION | 8),
            category=CRUISE,
        ) == (Decision.RELEASE, DenyReason.NONE)


def test_malformed_label_is_denied_even_to_its_originator() -> None:
    assert one(recipient=USA, originator=USA, classification=-1)[1] is DenyReason.INVALID_LABEL


# --- relays: the originator's rights govern -----------------------------------------------------


def test_hub_relays_only_what_the_originator_agreed_with_the_recipient() -> None:
    # JPN (hub) may give its own data to AUS, but KOR→AUS has no agreement: KOR's data
    # relayed by JPN is denied, whatever JPN's own rights.
    assert one(recipient=AUS, originator=JPN, classification=2)[0] is Decision.RELEASE
    assert one(recipient=AUS, originator=KOR, sender=JPN)[1] is DenyReason.NO_AGREEMENT
    # USA→KOR exists although JPN→KOR does not: JPN may relay USA data to KOR.
    assert one(recipient=KOR, originator=USA, sender=JPN)[0] is Decision.SANITISE
    assert one(recipient=KOR, originator=JPN, sender=JPN)[1] is DenyReason.NO_AGREEMENT


def test_recipient_outside_the_batch_nations_is_never_in_rel_to() -> None:
    gbr = NationCode("GBR")
    out = decide(
        policy().compile(NATIONS),
        recipient=gbr,
        sender=USA,
        originator=[0, 1],
        classification=[0, 0],
        rel_to=np.array([2**64 - 1, 2**64 - 1], np.uint64),
        caveats=[0, 0],
        category=[1, 1],
    )
    assert (out.reason == DenyReason.NOT_IN_REL_TO).all()


def test_nation_in_the_batch_without_clearance_receives_nothing() -> None:
    nations = (*NATIONS, NationCode("GBR"))
    out = decide(
        policy().compile(nations),
        recipient=NationCode("GBR"),
        sender=USA,
        originator=[0],
        classification=[0],
        rel_to=np.array([mask(*nations, nations=nations)], np.uint64),
        caveats=[0],
        category=[1],
    )
    assert DenyReason(int(out.reason[0])) is DenyReason.ABOVE_CLEARANCE


# --- sanitisation required ----------------------------------------------------------------------


def test_agreement_sanitisation_makes_a_sanitised_release() -> None:
    assert one(recipient=KOR, originator=USA) == (Decision.SANITISE, DenyReason.NONE)


def test_caveats_demand_sanitisation_and_the_stricter_figure_wins() -> None:
    tables = policy().compile(NATIONS)
    need = sanitisation_of(
        tables,
        recipient=KOR,
        originator=[0, 0, 0, 0, 2],
        caveats=[0, Caveat.PRECISE_POSITION, Caveat.SENSOR_SOURCE, 0, Caveat.SENSOR_SOURCE],
    )
    # Row 0: the USA→KOR agreement (1 km, 500 m, 5 s, strip). Row 1: PRECISE_POSITION adds
    # a 2 km grid (coarser) with a 300 m floor (lower, so 500 m stays) and a 2 s delay.
    assert need.required.tolist() == [True, True, True, True, False]
    assert need.position_quantum_m.tolist() == [1000.0, 2000.0, 1000.0, 1000.0, 0.0]
    assert need.min_position_sigma_m.tolist() == [500.0, 500.0, 500.0, 500.0, 0.0]
    assert need.delay_s.tolist() == [5.0, 5.0, 5.0, 5.0, 0.0]
    assert need.strip_sensor_identity.tolist() == [True, True, True, True, False]

    # USA→JPN has no sanitisation: only caveats ask for it.
    need = sanitisation_of(
        tables, recipient=JPN, originator=[0, 0], caveats=[0, Caveat.SENSOR_SOURCE]
    )
    assert need.required.tolist() == [False, True]
    assert need.strip_sensor_identity.tolist() == [False, True]
    assert need.position_quantum_m.tolist() == [0.0, 0.0]
    # JPN→AUS allows PRECISE_POSITION, which then degrades by the caveat rules.
    assert one(recipient=AUS, originator=JPN, caveats=Caveat.PRECISE_POSITION)[0] is (
        Decision.SANITISE
    )


# --- arrays -------------------------------------------------------------------------------------


def test_empty_batch_and_shape_errors() -> None:
    tables = policy().compile(NATIONS)
    empty = decide(
        tables,
        recipient=JPN,
        sender=USA,
        originator=[],
        classification=[],
        rel_to=np.zeros(0, np.uint64),
        caveats=[],
        category=[],
    )
    assert empty.decision.shape == empty.reason.shape == (0,)
    with pytest.raises(ValueError, match=r"category must have shape \(2,\)"):
        decide(
            tables,
            recipient=JPN,
            sender=USA,
            originator=[0, 0],
            classification=[0, 0],
            rel_to=np.zeros(2, np.uint64),
            caveats=[0, 0],
            category=[1],
        )


def test_rel_to_read_as_signed_integers_keeps_its_bits() -> None:
    # Parquet readers may hand back uint64 columns as int64: bit 63 is the sign bit.
    signed = np.array([-1, 5, -(2**63)], np.int64)
    assert as_rel_to(signed).tolist() == [2**64 - 1, 5, 2**63]
    assert member_of(signed, 63).tolist() == [True, False, True]
    assert member_of(signed, 2).tolist() == [True, True, False]
    assert member_of(signed, -1).tolist() == [False, False, False]


def test_empty_nations_deny_everything_as_invalid() -> None:
    out = decide(
        policy().compile(()),
        recipient=JPN,
        sender=USA,
        originator=[0],
        classification=[0],
        rel_to=np.ones(1, np.uint64),
        caveats=[0],
        category=[1],
    )
    assert DenyReason(int(out.reason[0])) is DenyReason.INVALID_LABEL


# --- configuration ------------------------------------------------------------------------------


def test_configuration_errors_name_the_rule() -> None:
    with pytest.raises(ConfigurationError, match="provider and recipient must differ"):
        SharingAgreement(provider=USA, recipient=USA, max_classification=1)
    with pytest.raises(ConfigurationError, match="USA→JPN: max_classification must be ≥ 0"):
        SharingAgreement(provider=USA, recipient=JPN, max_classification=-1)
    with pytest.raises(ConfigurationError, match=r"categories must be in 0…62 \(got \[63\]\)"):
        SharingAgreement(
            provider=USA, recipient=JPN, max_classification=1, categories=frozenset({63})
        )
    with pytest.raises(ConfigurationError, match="caveats_allowed must be a bit mask"):
        SharingAgreement(provider=USA, recipient=JPN, max_classification=1, caveats_allowed=-1)
    with pytest.raises(ConfigurationError, match="delay_s must be finite and ≥ 0"):
        Sanitisation(delay_s=float("nan"))
    with pytest.raises(ConfigurationError, match="position_quantum_m must be finite and ≥ 0"):
        Sanitisation(position_quantum_m=-1.0)
    with pytest.raises(ConfigurationError, match="withhold_sensor must be a bit mask"):
        CaveatRules(withhold_sensor=-4)
    agreement = SharingAgreement(provider=USA, recipient=JPN, max_classification=1)
    with pytest.raises(ConfigurationError, match="at most one agreement per provider→recipient"):
        ReleasePolicy(agreements=(agreement, agreement), clearances={JPN: 1})
    with pytest.raises(ConfigurationError, match="every agreement's recipient needs a clearance"):
        ReleasePolicy(agreements=(agreement,), clearances={USA: 1})
    with pytest.raises(ConfigurationError, match="clearance of JPN must be ≥ 0"):
        ReleasePolicy(agreements=(), clearances={JPN: -1})
    valid = ReleasePolicy(agreements=(agreement,), clearances={JPN: 1})
    with pytest.raises(ConfigurationError, match="nations must not repeat"):
        valid.compile((USA, USA))
    with pytest.raises(ConfigurationError, match="at most 64 nations"):
        valid.compile(tuple(NationCode(f"N{i:02d}") for i in range(65)))


def test_policy_is_immutable_and_lists_its_nations() -> None:
    clearances = {USA: TOP_SECRET, JPN: SECRET}
    released = ReleasePolicy(
        agreements=(
            SharingAgreement(
                provider=KOR,
                recipient=JPN,
                max_classification=1,
                categories=[1, 2],  # type: ignore[arg-type]
            ),
        ),
        clearances=clearances,
    )
    clearances[JPN] = 0
    assert released.clearances[JPN] == SECRET
    assert released.nations == (JPN, KOR, USA)
    agreement = released.agreement(KOR, JPN)
    assert agreement is not None
    assert agreement.categories == frozenset({1, 2})


# --- against a direct reference -----------------------------------------------------------------


def reference(
    p: ReleasePolicy,
    nations: tuple[NationCode, ...],
    recipient: NationCode,
    sender: NationCode,
    label: tuple[int, int, int, int, int],
) -> DenyReason:
    """The rules of the module notes, one item at a time in plain Python."""
    originator, classification, rel_to, caveats, category = label
    if not 0 <= originator < len(nations) or min(classification, caveats, category) < 0:
        return DenyReason.INVALID_LABEL
    if category > 62:
        return DenyReason.INVALID_LABEL
    source = nations[originator]
    if source == recipient:
        return DenyReason.NONE
    if recipient not in nations or not rel_to >> nations.index(recipient) & 1:
        return DenyReason.NOT_IN_REL_TO
    if classification > p.clearances.get(recipient, -1):
        return DenyReason.ABOVE_CLEARANCE
    agreement = p.agreement(source, recipient)
    if agreement is None:
        return DenyReason.NO_AGREEMENT
    if classification > agreement.max_classification:
        return DenyReason.ABOVE_AGREEMENT
    if agreement.categories and category not in agreement.categories:
        return DenyReason.CATEGORY_NOT_AGREED
    if caveats & ~agreement.caveats_allowed:
        return DenyReason.CAVEAT_NOT_AGREED
    if sender != source and caveats & p.caveat_rules.relay_forbidden:
        return DenyReason.RELAY_NOT_PERMITTED
    return DenyReason.NONE


@st.composite
def policies(draw: st.DrawFn) -> tuple[ReleasePolicy, tuple[NationCode, ...]]:
    count = draw(st.integers(2, 6))
    nations = tuple(NationCode(code) for code in ("USA", "JPN", "KOR", "AUS", "GBR", "CAN"))
    nations = nations[:count]
    cleared = draw(st.lists(st.integers(0, 4), min_size=count, max_size=count))
    clearances = {n: c for n, c in zip(nations, cleared, strict=True) if c > 0}
    pairs = [(p, r) for p in nations for r in clearances if p != r]
    chosen = [pair for pair in pairs if draw(st.booleans())]
    agreements = tuple(
        SharingAgreement(
            provider=provider,
            recipient=recipient,
            max_classification=draw(st.integers(0, 4)),
            categories=frozenset(draw(st.sets(st.integers(0, 3), max_size=3))),
            caveats_allowed=draw(st.integers(0, 7)),
            sanitise=draw(st.none() | st.just(COARSE)),
        )
        for provider, recipient in chosen
    )
    rules = CaveatRules(relay_forbidden=draw(st.sampled_from([0, 4])))
    built = ReleasePolicy(agreements=agreements, clearances=clearances, caveat_rules=rules)
    return built, nations


labels = st.tuples(
    st.integers(-1, 6),
    st.integers(-1, 5),
    st.integers(0, 2**64 - 1),
    st.integers(-1, 9),
    st.integers(-1, 4),
)


@settings(max_examples=100, deadline=None)
@given(
    setup=policies(),
    items=st.lists(labels, max_size=20),
    recipient_index=st.integers(0, 6),
    sender_index=st.integers(0, 6),
)
def test_decide_matches_the_rules_item_by_item(
    setup: tuple[ReleasePolicy, tuple[NationCode, ...]],
    items: list[tuple[int, int, int, int, int]],
    recipient_index: int,
    sender_index: int,
) -> None:
    p, nations = setup
    everyone = (*nations, NationCode("XXX"))
    recipient = everyone[min(recipient_index, len(everyone) - 1)]
    sender = everyone[min(sender_index, len(everyone) - 1)]
    columns: list[tuple[int, ...]] = list(zip(*items, strict=True)) if items else [()] * 5
    out = decide(
        p.compile(nations),
        recipient=recipient,
        sender=sender,
        originator=np.array(columns[0], np.int64),
        classification=np.array(columns[1], np.int64),
        rel_to=np.array(columns[2], np.uint64),
        caveats=np.array(columns[3], np.int64),
        category=np.array(columns[4], np.int64),
    )
    expected = [reference(p, nations, recipient, sender, item) for item in items]
    assert [DenyReason(int(r)) for r in out.reason] == expected
    released = out.reason == DenyReason.NONE
    assert ((out.decision == Decision.DENY) == ~released).all()
