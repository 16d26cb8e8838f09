"""PaymentReconciliation/$settle: the month's settlement statements of an insurer (see
`insurance.settlement`), one per provider; what `fhir-server claims settle` does."""

from __future__ import annotations

from typing import Any

from fhir_server.insurance import settlement
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError
from fhir_server.tehran import Month


def settle(req: OperationRequest) -> dict[str, Any]:
    try:
        month = Month.parse(req.text("period") or "")
    except ValueError as exc:
        raise FhirError.of(400, "invalid", str(exc), "Parameters.parameter") from exc
    insurer, provider = _reference(req, "insurer"), _reference(req, "provider")
    if insurer is None:
        raise FhirError.of(400, "required", "insurer: the insurer Organization (Reference)")
    req.caller.require("create", "PaymentReconciliation")
    settlement.require_ended(month)
    repo, store = req.server.repo, req.server.store
    providers = [provider] if provider else settlement.providers(repo, store, month, insurer)
    statements = []
    for one in providers:
        with store.session(write=True) as s:
            statements.append(settlement.settle(repo, s, month, insurer, one))
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "statement", "resource": st.resource} for st in statements],
    }


def _reference(req: OperationRequest, name: str) -> str | None:
    value = req.value(name)
    ref = value.get("reference") if isinstance(value, dict) else value
    if ref is None:
        return None
    if not isinstance(ref, str) or not ref.startswith("Organization/") or ref.count("/") != 1:
        raise FhirError.of(400, "invalid", f"{name}: Organization/id", "Parameters.parameter")
    return ref


OPERATIONS = (
    Operation(
        name="settle",
        title=Text("Settle a month", "تسویهٔ ماهانه"),
        description=Text(
            "The insurer's monthly statements for a Jalali month (days counted in Tehran), after it ended: "
            "one PaymentReconciliation per provider with every claim adjudicated in the month and "
            "not settled "
            "before, what the insurer pays for each and the totals. Settling again answers the same "
            "statements.",
            "صورت‌حساب‌های ماهانهٔ بیمه‌گر برای یک ماه شمسی (روزها به وقت تهران)، پس از پایان ماه: برای هر "
            "ارائه‌دهنده یک PaymentReconciliation با همهٔ ادعاهای رسیدگی‌شده در آن ماه که پیش‌تر تسویه نشده‌اند، "
            "سهم پرداختی بیمه برای هر یک و جمع‌ها. تسویهٔ دوباره همان صورت‌حساب‌ها را برمی‌گرداند.",
        ),
        levels=("type",),
        types=("PaymentReconciliation",),
        affects_state=True,
        methods=("POST",),
        handler=settle,
        parameters=(
            In("period", "string", "The Jalali month, YYYY-MM (1405-09)", "ماه شمسی، به شکل ۱۴۰۵-۰۹", 1),
            In("insurer", "Reference", "The insurer Organization", "سازمان بیمه‌گر", 1),
            In(
                "provider",
                "Reference",
                "Only this provider (default: every provider with claims)",
                "فقط این ارائه‌دهنده (پیش‌فرض: همهٔ ارائه‌دهندگان دارای ادعا)",
            ),
            Out(
                "statement",
                "PaymentReconciliation",
                "A provider's statement",
                "صورت‌حساب یک ارائه‌دهنده",
                0,
                "*",
            ),
        ),
    ),
)
