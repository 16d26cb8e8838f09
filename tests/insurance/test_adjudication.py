"""Adjudication of a claim line: known answers for every rule, its exact boundary, and a
refusal (denial or reduction) per rule, in whole rials."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from fhir_server.insurance.adjudication import Facts, Finding, Line, Rule, adjudicate, cap
from fhir_server.insurance.reasons import TEXTS, sentences
from fhir_server.insurance.tariffs import Price

DAY = date(2026, 11, 27)
PRICE = Price("generic|00077", 20_000, "national-1405")
LINE = Line(1, "Amoxicillin 500", Decimal(10), 20_000, Decimal(10), DAY, recorded_share=70)
RULE = Rule(insurer_share=70)
FACTS = Facts("TAMIN", member=True, specialties=frozenset({"GP"}))


def codes(result: object) -> list[str]:
    return [f.code for f in result.findings]  # type: ignore[attr-defined]


def test_a_clean_line_is_paid_as_claimed() -> None:
    r = adjudicate(LINE, RULE, FACTS, PRICE)
    assert (r.submitted, r.eligible, r.benefit, r.copay, r.percent) == (200_000, 200_000, 140_000, 60_000, 70)
    assert r.quantity == 10 and r.unit_price == 20_000 and codes(r) == []
    assert not r.denied and not r.reduced


@pytest.mark.parametrize(
    ("line", "rule", "facts", "price", "code"),
    [
        (LINE, RULE, replace(FACTS, member=False), PRICE, "not-member"),
        (LINE, replace(RULE, covered=False), FACTS, PRICE, "not-covered"),
        (LINE, replace(RULE, specialties=frozenset({"DERM"})), FACTS, PRICE, "specialty"),
        (
            LINE,
            replace(RULE, specialties=frozenset({"DERM"})),
            replace(FACTS, specialties=frozenset()),
            PRICE,
            "specialty",
        ),
        (LINE, replace(RULE, prior_authorization=True), FACTS, PRICE, "prior-auth"),
        (LINE, RULE, FACTS, None, "no-tariff"),
        (replace(LINE, delivered=Decimal(0)), RULE, FACTS, PRICE, "not-delivered"),
    ],
)
def test_each_denial(line: Line, rule: Rule, facts: Facts, price: Price | None, code: str) -> None:
    r = adjudicate(line, rule, facts, price)
    assert codes(r) == [code]
    assert r.denied and not r.reduced
    assert (r.submitted, r.eligible, r.benefit, r.copay) == (200_000, 0, 0, 0)


def test_denials_are_all_reported() -> None:
    r = adjudicate(
        replace(LINE, delivered=Decimal(0)), replace(RULE, covered=False), replace(FACTS, member=False), None
    )
    assert codes(r) == ["not-member", "not-covered", "no-tariff", "not-delivered"]


def test_passing_each_denial_at_its_edge() -> None:
    # a specialty among the allowed, a prior authorisation given, a tiny delivery
    rule = replace(RULE, specialties=frozenset({"GP", "IM"}), prior_authorization=True)
    line = replace(LINE, prior_auth=True, delivered=Decimal("0.5"), quantity=Decimal("0.5"))
    r = adjudicate(line, rule, FACTS, PRICE)
    assert codes(r) == [] and (r.eligible, r.benefit, r.copay) == (10_000, 7_000, 3_000)


@pytest.mark.parametrize(
    ("delivered", "quantity", "eligible_qty", "code"),
    [
        (Decimal(10), Decimal(10), Decimal(10), None),  # exactly what was delivered
        (Decimal(8), Decimal(10), Decimal(8), "over-delivered"),  # returns took 2 back
        (Decimal("9.5"), Decimal(10), Decimal("9.5"), "over-delivered"),
    ],
)
def test_over_delivered(
    delivered: Decimal, quantity: Decimal, eligible_qty: Decimal, code: str | None
) -> None:
    r = adjudicate(replace(LINE, delivered=delivered, quantity=quantity), RULE, FACTS, PRICE)
    assert r.quantity == eligible_qty and codes(r) == ([code] if code else [])
    assert r.eligible == int(eligible_qty * 20_000)


@pytest.mark.parametrize(
    ("quantity", "limit", "allowed", "reduced"),
    [
        (Decimal(10), Decimal(10), Decimal(10), False),  # at the maximum
        (Decimal(10), Decimal(9), Decimal(9), True),  # one above
        (Decimal("9.5"), Decimal(9), Decimal(9), True),
        (Decimal(1), Decimal(30), Decimal(1), False),
    ],
)
def test_max_quantity(quantity: Decimal, limit: Decimal, allowed: Decimal, reduced: bool) -> None:
    line = replace(LINE, quantity=quantity, delivered=quantity)
    r = adjudicate(line, replace(RULE, max_quantity=limit), FACTS, PRICE)
    assert r.quantity == allowed
    assert codes(r) == (["max-quantity"] if reduced else [])
    assert r.eligible == int(allowed * 20_000) and r.benefit == int(allowed * 14_000)


def test_reductions_add_up() -> None:
    # 12 claimed at 21,000; 11 delivered; at most 10; the tariff is 20,000; 90% recorded, 70% allowed
    line = replace(LINE, quantity=Decimal(12), unit_price=21_000, delivered=Decimal(11), recorded_share=90)
    r = adjudicate(line, replace(RULE, max_quantity=Decimal(10)), FACTS, PRICE)
    assert codes(r) == ["over-delivered", "max-quantity", "price-above-tariff", "share"]
    assert (r.submitted, r.quantity, r.unit_price, r.eligible) == (252_000, 10, 20_000, 200_000)
    assert (r.percent, r.benefit, r.copay) == (70, 140_000, 60_000)
    assert r.reduced and not r.denied


@pytest.mark.parametrize(
    ("unit", "paid", "reduced"), [(20_000, 20_000, False), (20_001, 20_000, True), (19_999, 19_999, False)]
)
def test_price_above_tariff(unit: int, paid: int, reduced: bool) -> None:
    r = adjudicate(replace(LINE, unit_price=unit), RULE, FACTS, PRICE)
    assert r.unit_price == paid and r.eligible == paid * 10
    assert codes(r) == (["price-above-tariff"] if reduced else [])
    assert r.findings[0].values["tariff"] == 20_000 if reduced else True


@pytest.mark.parametrize(
    ("recorded", "rule_share", "percent", "reduced"),
    [
        (70, 70, 70, False),
        (71, 70, 70, True),  # recorded above the insurer's share: paid at its share
        (0, 70, 0, False),  # the patient paid in full at the counter
        (None, 90, 90, False),  # nothing recorded: the insurer's share
        (100, 100, 100, False),
    ],
)
def test_share_recorded_at_dispensing(
    recorded: int | None, rule_share: int, percent: int, reduced: bool
) -> None:
    r = adjudicate(
        replace(LINE, recorded_share=recorded), replace(RULE, insurer_share=rule_share), FACTS, PRICE
    )
    assert r.percent == percent and codes(r) == (["share"] if reduced else [])
    assert r.benefit == 200_000 * percent // 100 and r.benefit + r.copay == 200_000


def test_prior_authorised_item_takes_the_insurer_share() -> None:
    # at prescribing the share was 0 (no authorisation yet); the claim carries one
    line = replace(LINE, recorded_share=0, prior_auth=True)
    r = adjudicate(line, replace(RULE, prior_authorization=True, insurer_share=70), FACTS, PRICE)
    assert r.percent == 70 and r.benefit == 140_000 and codes(r) == []


def test_fractional_quantities_round_once_to_the_rial() -> None:
    price = Price("generic|00078", 33_333, "t")
    line = replace(
        LINE, quantity=Decimal("1.5"), delivered=Decimal("1.5"), unit_price=33_333, recorded_share=70
    )
    r = adjudicate(line, RULE, FACTS, price)
    assert (r.submitted, r.eligible, r.benefit, r.copay) == (
        50_000,
        50_000,
        35_000,
        15_000,
    )  # 49,999.5 -> 50,000


def test_rule_from_policy_data() -> None:
    rule = Rule.of({"insurerShare": 90, "maxQuantity": 30, "specialties": ["IM"], "priorAuthorization": True})
    assert rule == Rule(90, True, Decimal(30), frozenset({"IM"}), True)
    assert Rule.of({"covered": False}).covered is False and Rule.of({}).insurer_share == 0


REVIEW = Finding("reviewer", {"who": "Practitioner/rev-1", "note": "one box was not handed over"})


@pytest.mark.parametrize(
    ("quantity", "eligible", "benefit", "copay"),
    [
        (Decimal(10), 200_000, 140_000, 60_000),  # as adjudicated
        (Decimal(9), 180_000, 126_000, 54_000),
        (Decimal("0.5"), 10_000, 7_000, 3_000),
        (Decimal(0), 0, 0, 0),
    ],
)
def test_reviewer_caps_a_line(quantity: Decimal, eligible: int, benefit: int, copay: int) -> None:
    r = cap(adjudicate(LINE, RULE, FACTS, PRICE), quantity, REVIEW)
    assert (r.quantity, r.eligible, r.benefit, r.copay, r.submitted) == (
        quantity,
        eligible,
        benefit,
        copay,
        200_000,
    )
    assert codes(r) == ["reviewer"] and not r.denied


def test_reviewer_keeps_the_rules_price_and_share() -> None:
    line = replace(LINE, unit_price=21_000, recorded_share=90)
    r = cap(adjudicate(line, RULE, FACTS, PRICE), Decimal(5), REVIEW)
    assert (r.unit_price, r.percent, r.eligible, r.benefit) == (20_000, 70, 100_000, 70_000)
    assert codes(r) == ["price-above-tariff", "share", "reviewer"]


@pytest.mark.parametrize("quantity", [Decimal("10.5"), Decimal(11), Decimal(-1)])
def test_reviewer_cannot_raise_or_go_negative(quantity: Decimal) -> None:
    with pytest.raises(ValueError):
        cap(adjudicate(LINE, RULE, FACTS, PRICE), quantity, REVIEW)


def test_reviewer_cannot_revive_a_denied_line() -> None:
    denied = adjudicate(LINE, replace(RULE, covered=False), FACTS, PRICE)
    with pytest.raises(ValueError):
        cap(denied, Decimal(1), REVIEW)


def test_every_finding_reads_in_both_languages() -> None:
    """Each rule's finding fills its sentence (no value missing), Persian digits in Persian."""
    line = replace(LINE, quantity=Decimal(12), unit_price=21_000, delivered=Decimal(11), recorded_share=90)
    reduced = adjudicate(line, replace(RULE, max_quantity=Decimal(10)), FACTS, PRICE)
    denied = adjudicate(
        replace(LINE, delivered=Decimal(0)),
        replace(RULE, covered=False, specialties=frozenset({"DERM"}), prior_authorization=True),
        replace(FACTS, member=False),
        None,
    )
    reviewed = cap(reduced, Decimal(5), REVIEW)
    findings = [*denied.findings, *reviewed.findings]
    assert sorted({f.code for f in findings}) == sorted(TEXTS)  # every rule is exercised here
    for finding in findings:
        both = sentences(finding)
        assert "{" not in both["fa"] + both["en"]
    fa = sentences(next(f for f in findings if f.code == "price-above-tariff"))["fa"]
    assert "۲۱٬۰۰۰" in fa and "۲۰٬۰۰۰" in fa
