"""ClaimResponse/[id]/$adjust: an insurer's reviewer accepts or adjusts an adjudication
(see `insurance.review`): a new version, a Provenance and an AuditEvent; the only way a
ClaimResponse changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.policy import load_policy
from fhir_server.insurance.money import quantity_of
from fhir_server.insurance.review import DECISIONS, Decision, review
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError


def adjust(req: OperationRequest) -> dict[str, Any]:
    assert req.id is not None
    decision = _decision(req)
    policy = load_policy(EPrescriptionConfig().policy_dir)
    with req.server.store.session(write=True) as s:
        return review(req.server.repo, s, req.id, decision, policy)


def _decision(req: OperationRequest) -> Decision:
    if req.method != "POST" or not req.is_parameters:
        raise FhirError.of(400, "invalid", "$adjust takes a Parameters")
    decision, note = req.value("decision"), req.text("note")
    if decision not in DECISIONS:
        raise FhirError.of(
            400, "invalid", f"decision is one of {', '.join(DECISIONS)}", "Parameters.parameter"
        )
    if not note or not note.strip():
        raise FhirError.of(
            400, "required", "note: say why (it is kept in the Provenance)", "Parameters.parameter"
        )
    quantities: dict[int, Decimal] = {}
    for parts in req.values("item"):
        values = {
            p.get("name"): next((v for k, v in p.items() if k.startswith("value")), None) for p in parts
        }
        sequence, quantity = values.get("sequence"), values.get("quantity")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1 or quantity is None:
            raise FhirError.of(400, "invalid", "item needs sequence (positiveInt) and quantity (decimal)")
        try:
            quantities[sequence] = quantity_of(quantity)
        except ValueError as exc:
            raise FhirError.of(400, "invalid", f"item {sequence}: {exc}") from exc
    if decision == "adjusted" and not quantities:
        raise FhirError.of(
            400, "required", "An adjustment names the items it changes (item: sequence, quantity)"
        )
    if decision == "accepted" and quantities:
        raise FhirError.of(400, "invalid", "An acceptance changes no item: use decision adjusted")
    return Decision(str(decision), note.strip(), quantities)


OPERATIONS = (
    Operation(
        name="adjust",
        title=Text("Review an adjudication", "رسیدگی کارشناس به نتیجهٔ ادعا"),
        description=Text(
            "An insurer's reviewer accepts an adjudication or lowers the quantity paid for some of "
            "its items, "
            "saying why: a new version of the ClaimResponse (items and totals recomputed), a "
            "Provenance naming "
            "who changed what and why, and an AuditEvent. Only the claim's insurer's staff, only before the "
            "month is settled, never above what the rules allowed.",
            "کارشناس بیمه نتیجهٔ رسیدگی را تأیید می‌کند یا مقدار پرداختی برخی اقلام را با ذکر دلیل کاهش می‌دهد: "
            "نسخهٔ تازه‌ای از ClaimResponse (اقلام و جمع‌ها دوباره حساب می‌شوند)، یک Provenance که می‌گوید چه کسی "
            "چه چیزی را چرا تغییر داد، و یک AuditEvent. فقط کارکنان بیمه‌گر همان ادعا، فقط پیش از تسویهٔ ماه، "
            "و هرگز بیش از آنچه قواعد اجازه داده‌اند.",
        ),
        levels=("instance",),
        types=("ClaimResponse",),
        affects_state=True,
        methods=("POST",),
        handler=adjust,
        parameters=(
            In("decision", "code", "accepted or adjusted", "تأیید (accepted) یا اصلاح (adjusted)", 1),
            In("note", "string", "Why (kept in the Provenance)", "دلیل (در Provenance نگه داشته می‌شود)", 1),
            In(
                "item",
                None,
                "An item whose paid quantity is lowered",
                "قلمی که مقدار پرداختی آن کاهش می‌یابد",
                0,
                "*",
                In("sequence", "positiveInt", "The claim item's sequence", "شمارهٔ قلم در ادعا", 1),
                In("quantity", "decimal", "The quantity paid for", "مقدار قابل پرداخت", 1),
            ),
            Out("return", "ClaimResponse", "The new version", "نسخهٔ تازه", 1),
        ),
    ),
)
