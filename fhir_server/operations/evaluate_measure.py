"""Measure/[id]/$evaluate-measure: a summary MeasureReport of the period, from the
measure's incrementally kept tally (see `fhir_server.measures`). Aggregates only: a
subject or practitioner report is refused; `interval` (day, week, month) adds the
group's counts per Jalali day, week or month."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_server.measures.evaluate import evaluate
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError
from fhir_server.tehran import tehran_day


def evaluate_measure(req: OperationRequest) -> dict[str, Any]:
    assert req.id is not None
    for name in ("subject", "practitioner"):
        if req.value(name) is not None:
            raise FhirError.of(
                422,
                "not-supported",
                f"{name}: only population (summary) reports: aggregates, no patient-level data",
            )
    report_type = req.text("reportType") or "population"
    if report_type != "population":
        raise FhirError.of(422, "not-supported", "reportType: only population")
    start, end = _day(req, "periodStart"), _day(req, "periodEnd")
    return evaluate(req.server.repo, req.server.store, req.id, start, end, req.text("interval"))


def _day(req: OperationRequest, name: str) -> date:
    text = req.text(name)
    try:
        found = tehran_day(text) if text else None
    except ValueError:
        found = None
    if found is None:
        raise FhirError.of(400, "invalid", f"{name}: a date (YYYY-MM-DD) is required", "Parameters.parameter")
    return found


OPERATIONS = (
    Operation(
        name="evaluate-measure",
        title=Text("Evaluate a measure", "محاسبهٔ شاخص"),
        description=Text(
            "A summary MeasureReport of the Measure for the period (days in Tehran): each group's population "
            "counts, its strata (province, source, drug, result, reason...) and, for proportions, the score. "
            "Counted incrementally: only what changed since the last evaluation is read.",
            "گزارش خلاصهٔ MeasureReport شاخص برای دوره (روزها به وقت تهران): شمار جمعیت‌های هر گروه، "
            "لایه‌های آن (استان، نوع نسخه، دارو، نتیجه، علت...) و برای نسبت‌ها امتیاز. محاسبه افزایشی است: "
            "فقط آنچه از محاسبهٔ پیشین تغییر کرده خوانده می‌شود.",
        ),
        levels=("instance",),
        types=("Measure",),
        handler=evaluate_measure,
        base="http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure",
        parameters=(
            In("periodStart", "date", "The first day of the period", "نخستین روز دوره", 1),
            In("periodEnd", "date", "The last day of the period", "واپسین روز دوره", 1),
            In("reportType", "code", "population (the only one)", "population (تنها گزینه)"),
            In(
                "interval",
                "code",
                "day, week or month: the groups' counts per Jalali interval",
                "روز، هفته یا ماه: شمار گروه‌ها در هر بازهٔ شمسی",
            ),
            Out("return", "MeasureReport", "The summary report", "گزارش خلاصه", 1),
        ),
    ),
)
