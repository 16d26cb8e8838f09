"""The rules engine: insurer and medical rules (policy data) applied to one item.

The same engine runs when a prescription is written, when it is dispensed, and on its
own through `$check-rules`. Errors block; warnings and information pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fhir_server.eprescription import items
from fhir_server.eprescription.messages import issue
from fhir_server.eprescription.policy import Interaction, Policy
from fhir_server.outcome import Issue


@dataclass
class RuleContext:
    insurer: str | None  # None: not insured (free)
    patient: dict[str, Any] | None
    specialties: frozenset[str] | None  # None: not checked (at dispensing)
    others: list[dict[str, Any]] = field(default_factory=list)  # drugs taken alongside
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier items of the patient
    outpatient: bool = True
    today: date = field(default_factory=date.today)


@dataclass
class ItemResult:
    issues: list[Issue]
    insurer_share: int
    patient_share: int


def evaluate(item: dict[str, Any], ctx: RuleContext, policy: Policy, where: str = "") -> ItemResult:
    rule = _merged_rule(item, ctx.insurer, policy)
    name = items.label(item)
    checks = [
        _quantity(item, rule, name, where),
        _repeats(item, rule, name, where),
        _specialty(rule, ctx, name, where),
        _sex_age(rule, ctx, name, where),
        _hospital(rule, ctx, name, where),
        _duplicate_therapy(item, rule, ctx, name, where),
        _interactions(item, ctx, policy, where),
    ]
    found = [i for group in checks for i in group]
    share, more = _share(rule, ctx, name, where)
    return ItemResult([*found, *more], share, 100 - share)


def _merged_rule(item: dict[str, Any], insurer: str | None, policy: Policy) -> dict[str, Any]:
    """Medical rules, then the insurer's default for the item kind, then its per-code rule."""
    kind = items.kind(item)
    merged: dict[str, Any] = {}
    for key in items.code_keys(item):
        merged.update(policy.medical.get(key) or {})
    merged.update(policy.insurer_default(insurer, kind))  # none for a free prescription
    for key in items.code_keys(item):
        for name, value in policy.insurer_rule(insurer, key).items():
            merged[name] = min(merged[name], value) if name.startswith("max") and name in merged else value
    return merged


def _quantity(item: dict[str, Any], rule: dict[str, Any], name: str, where: str) -> list[Issue]:
    limit, qty = rule.get("maxQuantity"), items.quantity(item)
    if limit is not None and qty > limit:
        return [issue("error", "business-rule", "max-quantity", where, item=name, qty=_num(qty), max=limit)]
    return []


def _repeats(item: dict[str, Any], rule: dict[str, Any], name: str, where: str) -> list[Issue]:
    limit, count = rule.get("maxRepeats"), items.repeats(item)
    if limit is not None and count > limit:
        return [issue("error", "business-rule", "max-repeats", where, item=name, repeats=count, max=limit)]
    return []


def _specialty(rule: dict[str, Any], ctx: RuleContext, name: str, where: str) -> list[Issue]:
    allowed = rule.get("specialties")
    if not allowed or ctx.specialties is None or ctx.specialties & set(allowed):
        return []
    return [issue("error", "business-rule", "specialty", where, item=name, allowed=", ".join(allowed))]


def _sex_age(rule: dict[str, Any], ctx: RuleContext, name: str, where: str) -> list[Issue]:
    found: list[Issue] = []
    patient = ctx.patient or {}
    sex = rule.get("sex")
    if sex and patient.get("gender") and patient["gender"] != sex:
        sex_fa = {"male": "مرد", "female": "زن"}.get(sex, sex)
        found.append(issue("error", "business-rule", "sex", where, item=name, sex=sex, sex_fa=sex_fa))
    age = _age(patient.get("birthDate"), ctx.today)
    low, high = rule.get("minAge", 0), rule.get("maxAge", 150)
    if age is not None and not low <= age <= high:
        found.append(issue("error", "business-rule", "age", where, item=name, min=low, max=high, age=age))
    return found


def _hospital(rule: dict[str, Any], ctx: RuleContext, name: str, where: str) -> list[Issue]:
    if rule.get("hospitalOnly") and ctx.outpatient:
        return [issue("error", "business-rule", "hospital-only", where, item=name)]
    return []


def _duplicate_therapy(
    item: dict[str, Any], rule: dict[str, Any], ctx: RuleContext, name: str, where: str
) -> list[Issue]:
    days = rule.get("duplicateDays")
    if not days:
        return []
    keys, since = set(items.code_keys(item)), (ctx.today - timedelta(days=int(days))).isoformat()
    for earlier in ctx.history:
        when = items.issued_on(earlier)
        if keys & set(items.code_keys(earlier)) and when >= since and earlier.get("id") != item.get("id"):
            return [
                issue("warning", "business-rule", "duplicate-therapy", where, item=name, when=when, days=days)
            ]
    return []


def _interactions(item: dict[str, Any], ctx: RuleContext, policy: Policy, where: str) -> list[Issue]:
    mine = _drug_tags(item, policy)
    if not mine:
        return []
    found: list[Issue] = []
    for other in ctx.others:
        if other.get("id") is not None and other.get("id") == item.get("id"):
            continue
        theirs = _drug_tags(other, policy)
        for pair in policy.interactions:
            if _pair_hits(pair, mine, theirs):
                text = pair.text.get("fa") if _lang() == "fa" else pair.text.get("en")
                found.append(issue(pair.severity, "business-rule", "interaction", where, text=text))
    return found


def _drug_tags(item: dict[str, Any], policy: Policy) -> set[str]:
    """Generic codes and 'ATC:<code>' tags, so interaction data may name either."""
    tags: set[str] = set()
    for code in items.generic_codes(item):
        tags.add(code)
        if code in policy.atc:
            tags.add("ATC:" + policy.atc[code])
    return tags


def _pair_hits(pair: Interaction, mine: set[str], theirs: set[str]) -> bool:
    def hits(patterns: tuple[str, ...], tags: set[str]) -> bool:
        return any(t == p or (p.startswith("ATC:") and t.startswith(p)) for p in patterns for t in tags)

    return (hits(pair.a, mine) and hits(pair.b, theirs)) or (hits(pair.b, mine) and hits(pair.a, theirs))


def _share(rule: dict[str, Any], ctx: RuleContext, name: str, where: str) -> tuple[int, list[Issue]]:
    if ctx.insurer is None:
        return 0, []
    extra: list[Issue] = []
    share = int(rule.get("insurerShare", 0))
    if rule.get("covered") is False:
        extra.append(issue("warning", "business-rule", "not-covered", where, item=name, insurer=ctx.insurer))
        share = 0
    elif rule.get("priorAuthorization"):
        extra.append(issue("warning", "business-rule", "prior-auth", where, item=name))
        share = 0
    extra.append(
        issue("information", "informational", "shares", where, item=name, insurer=share, patient=100 - share)
    )
    return share, extra


def _age(birth: Any, today: date) -> int | None:
    try:
        born = date.fromisoformat(str(birth))  # a birthDate of only a year or a month: unknown
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _lang() -> str:
    from fhir_server.api.http import request_language

    return request_language()


def merged_rule(item: dict[str, Any], insurer: str | None, policy: Policy) -> dict[str, Any]:
    """The rule an item is held to under `insurer` (also what claims are adjudicated by)."""
    return _merged_rule(item, insurer, policy)
