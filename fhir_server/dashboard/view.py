"""The dashboard's content for one Jalali month, as an HTML fragment: figures, inline SVG
charts, and each chart's numbers as a table. Rendered with the signed-in user's
authority (aggregates only); an insurer's claims figures are its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jdatetime
from flask import render_template

from fhir_server.dashboard import charts
from fhir_server.dashboard.charts import Series, number
from fhir_server.dashboard.figures import Figures, figures
from fhir_server.dashboard.texts import namer, translator
from fhir_server.measures.evaluate import catch_up, evaluate_kept
from fhir_server.tehran import TEHRAN, Month

MEASURES = ("eprescriptions", "adoption", "claims")


@dataclass(frozen=True)
class Request:
    month: Month
    interval: str  # day | week | month
    lang: str  # fa | en
    insurer: str | None  # the signed-in insurer's code: its own claims
    who: str | None


def this_month() -> Month:
    return Month.of(datetime.now(UTC).astimezone(TEHRAN).date())


def months_offered(count: int = 12) -> list[Month]:
    """This month and the ones before it, newest first."""
    found, month = [], this_month()
    for _ in range(count):
        found.append(month)
        month = Month(month.year - (month.month == 1), 12 if month.month == 1 else month.month - 1)
    return found


# A view replays at most this many versions written since the tallies were last brought
# up to date (about 2 s of CPU); beyond it, it shows the tallies as they stand, says since
# when, and has them brought up to date behind it.
CATCH_UP = 1000


def reports(repo: Any, store: Any, request: Request) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The three MeasureReports of the month, and the instant they stand at when they
    were not brought up to date for this view (None when they were)."""
    month = request.month
    found, stale = {}, []
    for m in MEASURES:
        interval = request.interval if m == "eprescriptions" else None
        found[m], as_of = evaluate_kept(repo, store, m, month.first_day, month.last_day, interval, CATCH_UP)
        if as_of is not None:
            stale.append(as_of)
    if stale:
        catch_up(repo, store, list(MEASURES))
    return found, min(stale) if stale else None


def render(
    found: dict[str, dict[str, Any]], request: Request, terminology: Any, as_of: str | None = None
) -> str:
    lang = request.lang
    t, name = translator(lang), namer(terminology, lang)
    f = figures(found["eprescriptions"], found["adoption"], found["claims"], request.insurer)
    return render_template(
        "dashboard_view.html",
        t=t,
        f=f,
        lang=lang,
        request=request,
        month_label=_digits(str(request.month).replace("-", "/"), lang),
        months=[(str(m), _digits(str(m).replace("-", "/"), lang)) for m in months_offered()],
        n=lambda value, percent=False: number(value, lang, percent),
        province=lambda code: t("unknown") if code == "unknown" else name("province", code),
        insurer_name=name("insurer", request.insurer) if request.insurer else None,
        charts=_charts(f, t, name, lang),
        as_of=_when(as_of, lang) if as_of else None,
    )


def _when(instant: str, lang: str) -> str:
    """An instant as a Jalali date and Tehran time: 1405/09/06 14:05."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(TEHRAN)
    day = jdatetime.date.fromgregorian(date=moment.date()).strftime("%Y/%m/%d")
    return _digits(f"{day} {moment:%H:%M}", lang)


def _digits(text: str, lang: str) -> str:
    return text.translate(charts.PERSIAN_DIGITS) if lang == "fa" else text


def _charts(f: Figures, t: Any, name: Any, lang: str) -> dict[str, str]:
    def province(code: str) -> str:
        return str(t("unknown") if code == "unknown" else name("province", code))

    labels = [_digits(label, lang) for label, _ in f.timeline]
    timeline = Series(t("prescriptions"), tuple(float(n) for _, n in f.timeline))
    rows = [p for p in f.provinces if p.prescriptions or p.items][:15]
    by_province = [Series(t("prescriptions"), tuple(float(p.prescriptions) for p in rows))]
    adoption_rows = sorted(
        (p for p in f.provinces if any(a.registered for a in p.adoption.values())),
        key=lambda p: (-p.mean_share, p.code),
    )
    adoption = [
        Series(
            t(kind), tuple(p.adoption[kind].share if kind in p.adoption else 0.0 for p in adoption_rows), True
        )
        for kind in ("prescribers", "pharmacies", "paraclinics")
    ]
    drugs = Series(t("items"), tuple(float(n) for _, n in f.top_drugs))
    outcome_keys = ("submitted", "adjudicated", "accepted", "reduced", "denied")
    outcomes = Series(t("claims_count"), tuple(float(f.claims[k]) for k in outcome_keys))
    reasons = Series(t("claims_count"), tuple(float(n) for _, n in f.reasons))
    drug_names = [name("generic", code) for code, _ in f.top_drugs]
    reason_names = [name("adjudication-reason", code) for code, _ in f.reasons]
    province_names = [province(p.code) for p in rows]
    adoption_names = [province(p.code) for p in adoption_rows]
    outcome_names = [t(k) for k in outcome_keys]
    return {
        "timeline": charts.columns("timeline", t("timeline"), labels, timeline, lang),
        "timeline_table": charts.table("timeline", t("timeline"), labels, [timeline], lang, t("when")),
        "provinces": charts.bars("provinces", t("by_province"), province_names, by_province, lang),
        "provinces_table": charts.table(
            "provinces",
            t("by_province"),
            province_names,
            [*by_province, Series(t("items"), tuple(float(p.items) for p in rows))],
            lang,
            t("province"),
        ),
        "adoption": charts.bars("adoption", t("adoption"), adoption_names, adoption, lang),
        "adoption_table": charts.table(
            "adoption", t("adoption"), adoption_names, adoption, lang, t("province")
        ),
        "drugs": charts.bars("drugs", t("top_drugs"), drug_names, [drugs], lang),
        "drugs_table": charts.table("drugs", t("top_drugs"), drug_names, [drugs], lang, t("drug")),
        "claims": charts.bars("claims", t("claims"), outcome_names, [outcomes], lang),
        "claims_table": charts.table("claims", t("claims"), outcome_names, [outcomes], lang, t("claims")),
        "reasons": charts.bars("reasons", t("reasons"), reason_names, [reasons], lang),
        "reasons_table": charts.table("reasons", t("reasons"), reason_names, [reasons], lang, t("reason")),
    }
