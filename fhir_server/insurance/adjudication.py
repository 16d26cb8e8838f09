"""Adjudication of one claim line: pure rules over policy data, money in whole rials.

The facts come in (what was claimed, what was recorded as delivered, the insurer's
merged rule for the item, the price in force); a `LineResult` comes out with every
finding that reduced or denied the line. In order:

1. denials (each found is reported): the patient was not the insurer's member on the
   service date (`not-member`); the item is not covered (`not-covered`); the prescriber's
   specialty may not prescribe it (`specialty`); it needs prior authorisation and the
   claim has none (`prior-auth`); it has no price in the tariff on that day
   (`no-tariff`); nothing of it was recorded as delivered (`not-delivered`);
2. the quantity: at most what was delivered net of returns (`over-delivered`), and at
   most the insurer's maximum per delivery (`max-quantity`);
3. the unit price: at most the tariff's (`price-above-tariff`);
4. the insurer's percent: the share recorded at dispensing (what the patient already
   paid at the counter), never above the insurer's share for the item (`share`); an
   item paid only with prior authorisation takes the insurer's share when it has one.

eligible = quantity x unit price; benefit (the insurer's) and copay (the patient's) split
it (see `money.split`). A denied line is eligible for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from fhir_server.insurance.money import line_amount, quantity_of, split
from fhir_server.insurance.tariffs import Price

DENIALS = ("not-member", "not-covered", "specialty", "prior-auth", "no-tariff", "not-delivered")
REDUCTIONS = ("over-delivered", "max-quantity", "price-above-tariff", "share", "reviewer")


@dataclass(frozen=True)
class Line:
    """What a claim line asks, and what the server recorded behind it."""

    sequence: int
    label: str  # the item's name, for messages
    quantity: Decimal  # claimed
    unit_price: int  # claimed, rials per unit
    delivered: Decimal  # recorded as handed over or performed, net of returns
    service_date: date
    recorded_share: int | None = None  # insurer percent recorded at dispensing
    prior_auth: bool = False  # the claim carries a prior authorisation reference


@dataclass(frozen=True)
class Rule:
    """The insurer's merged rule for the item (medical rules, defaults, per-code rules)."""

    insurer_share: int
    covered: bool = True
    max_quantity: Decimal | None = None
    specialties: frozenset[str] = frozenset()  # empty: any prescriber
    prior_authorization: bool = False

    @classmethod
    def of(cls, merged: Mapping[str, Any]) -> Rule:
        """From the rules engine's merged rule (policy data)."""
        limit = merged.get("maxQuantity")
        return cls(
            insurer_share=int(merged.get("insurerShare", 0)),
            covered=merged.get("covered") is not False,
            max_quantity=quantity_of(limit) if limit is not None else None,
            specialties=frozenset(merged.get("specialties") or ()),
            prior_authorization=bool(merged.get("priorAuthorization")),
        )


@dataclass(frozen=True)
class Facts:
    """About the claim as a whole."""

    insurer: str  # the insurer's code, for messages
    member: bool  # a valid coverage with the insurer on the service date
    specialties: frozenset[str] = frozenset()  # the prescriber's


@dataclass(frozen=True)
class Finding:
    code: str  # a code of http://noskhe.ir/fhir/CodeSystem/adjudication-reason
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class LineResult:
    sequence: int
    submitted: int
    quantity: Decimal  # eligible quantity
    unit_price: int  # eligible unit price
    eligible: int
    percent: int
    benefit: int
    copay: int
    findings: tuple[Finding, ...]

    @property
    def denied(self) -> bool:
        return any(f.code in DENIALS for f in self.findings)

    @property
    def reduced(self) -> bool:
        return not self.denied and self.eligible < self.submitted


def adjudicate(line: Line, rule: Rule, facts: Facts, price: Price | None) -> LineResult:
    submitted = line_amount(line.quantity, line.unit_price)
    denials = _denials(line, rule, facts, price)
    if denials:
        return LineResult(line.sequence, submitted, Decimal(0), 0, 0, 0, 0, 0, tuple(denials))
    assert price is not None  # no price is a denial
    findings: list[Finding] = []
    quantity = _quantity(line, rule, findings)
    unit = line.unit_price
    if unit > price.rials:
        findings.append(
            Finding(
                "price-above-tariff",
                {"item": line.label, "claimed": unit, "tariff": price.rials, "schedule": price.schedule},
            )
        )
        unit = price.rials
    percent = _percent(line, rule, facts, findings)
    eligible = line_amount(quantity, unit)
    benefit, copay = split(eligible, percent)
    return LineResult(
        line.sequence, submitted, quantity, unit, eligible, percent, benefit, copay, tuple(findings)
    )


def _denials(line: Line, rule: Rule, facts: Facts, price: Price | None) -> list[Finding]:
    item, day = line.label, line.service_date.isoformat()
    found = []
    if not facts.member:
        found.append(Finding("not-member", {"insurer": facts.insurer, "day": day}))
    if not rule.covered:
        found.append(Finding("not-covered", {"item": item, "insurer": facts.insurer}))
    if rule.specialties and not rule.specialties & facts.specialties:
        found.append(Finding("specialty", {"item": item, "allowed": ", ".join(sorted(rule.specialties))}))
    if rule.prior_authorization and not line.prior_auth:
        found.append(Finding("prior-auth", {"item": item}))
    if price is None:
        found.append(Finding("no-tariff", {"item": item, "insurer": facts.insurer, "day": day}))
    if line.delivered <= 0:
        found.append(Finding("not-delivered", {"item": item}))
    return found


def _quantity(line: Line, rule: Rule, findings: list[Finding]) -> Decimal:
    quantity = line.quantity
    if quantity > line.delivered:
        values = {"item": line.label, "claimed": quantity, "delivered": line.delivered}
        findings.append(Finding("over-delivered", values))
        quantity = line.delivered
    if rule.max_quantity is not None and quantity > rule.max_quantity:
        values = {"item": line.label, "max": rule.max_quantity, "claimed": quantity}
        findings.append(Finding("max-quantity", values))
        quantity = rule.max_quantity
    return quantity


def _percent(line: Line, rule: Rule, facts: Facts, findings: list[Finding]) -> int:
    if rule.prior_authorization or line.recorded_share is None:
        return rule.insurer_share
    if line.recorded_share > rule.insurer_share:
        values = {"item": line.label, "recorded": line.recorded_share, "allowed": rule.insurer_share}
        findings.append(Finding("share", {**values, "insurer": facts.insurer}))
        return rule.insurer_share
    return line.recorded_share


def cap(result: LineResult, quantity: Decimal, finding: Finding) -> LineResult:
    """A reviewer's adjustment: the line paid for at most `quantity` (never more than the
    rules allowed), at the same unit price and percent; `finding` says who and why."""
    if quantity < 0:
        raise ValueError(f"a reviewer's quantity is not negative: {quantity}")
    if quantity > result.quantity:
        raise ValueError(f"a reviewer may lower {result.quantity} but not raise it to {quantity}")
    eligible = line_amount(quantity, result.unit_price)
    benefit, copay = split(eligible, result.percent)
    return replace(
        result,
        quantity=quantity,
        eligible=eligible,
        benefit=benefit,
        copay=copay,
        findings=(*result.findings, finding),
    )
