"""A MeasureReport (type summary) of a tally for a period: each group's population counts
(and, for proportions, numerator / denominator as the measure score), every stratum of
its stratifiers, and on request the `interval` stratifier: the group's counts per Jalali
day, week (starting Saturday) or month of the period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import jdatetime

from fhir_server.measures.definitions import Group, MeasureSpec
from fhir_server.measures.tally import Tally
from fhir_server.repository.meta import now_instant

POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
GROUP = "http://noskhe.ir/fhir/CodeSystem/measure-group"
STRATIFIER = "http://noskhe.ir/fhir/CodeSystem/measure-stratifier"
INTERVALS = ("day", "week", "month")
SATURDAY = 5  # date.weekday(): the Iranian week starts on Saturday


def jalali(day: date, fmt: str = "%Y/%m/%d") -> str:
    return str(jdatetime.date.fromgregorian(date=day).strftime(fmt))


def bucket(interval: str) -> Callable[[date], str]:
    """The Jalali label of the day, week (its Saturday) or month a day falls in."""
    if interval == "month":
        return lambda day: jalali(day, "%Y/%m")
    if interval == "week":
        return lambda day: jalali(day - timedelta(days=(day.weekday() - SATURDAY) % 7))
    return jalali


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _populations(
    group: Group, tally: Tally, stratifier: str, value: str, start: date, end: date
) -> list[dict[str, Any]]:
    codes = list(dict.fromkeys(p.code for p in group.populations))
    return [
        {
            "code": _concept(POPULATION, code),
            "count": tally.count((group.code, code, stratifier, value), start, end),
        }
        for code in codes
    ]


def _score(populations: list[dict[str, Any]]) -> dict[str, Any] | None:
    counts = {p["code"]["coding"][0]["code"]: p["count"] for p in populations}
    if "numerator" not in counts or not counts.get("denominator"):
        return None
    return {"value": round(counts["numerator"] / counts["denominator"], 4)}


def _group(
    group: Group, scoring: str, tally: Tally, start: date, end: date, interval: str | None
) -> dict[str, Any]:
    populations = _populations(group, tally, "", "", start, end)
    out: dict[str, Any] = {"code": _concept(GROUP, group.code), "population": populations}
    if scoring == "proportion" and (score := _score(populations)) is not None:
        out["measureScore"] = score
    stratifiers = []
    keys = tally.keys()
    for stratifier in group.stratifiers:
        values = sorted({k[3] for k in keys if k[0] == group.code and k[2] == stratifier.code})
        strata = []
        for value in values:
            counts = _populations(group, tally, stratifier.code, value, start, end)
            if not any(p["count"] for p in counts):
                continue
            stratum: dict[str, Any] = {"value": {"text": value}, "population": counts}
            if scoring == "proportion" and (score := _score(counts)) is not None:
                stratum["measureScore"] = score
            strata.append(stratum)
        stratifiers.append({"code": [_concept(STRATIFIER, stratifier.code)], "stratum": strata})
    if interval is not None:
        stratifiers.append(_intervals(group, tally, start, end, interval))
    if stratifiers:
        out["stratifier"] = stratifiers
    return out


def _intervals(group: Group, tally: Tally, start: date, end: date, interval: str) -> dict[str, Any]:
    label = bucket(interval)
    codes = list(dict.fromkeys(p.code for p in group.populations))
    per_code = {code: tally.count_by((group.code, code, "", ""), label, start, end) for code in codes}
    labels = sorted({label(start + timedelta(days=n)) for n in range((end - start).days + 1)})
    strata = [
        {
            "value": {"text": text},
            "population": [
                {"code": _concept(POPULATION, code), "count": per_code[code].get(text, 0)} for code in codes
            ],
        }
        for text in labels
    ]
    return {"code": [_concept(STRATIFIER, "interval")], "stratum": strata}


def measure_report(
    spec: MeasureSpec, tally: Tally, start: date, end: date, interval: str | None = None
) -> dict[str, Any]:
    """The summary MeasureReport of `tally` for the days start..end (inclusive, Tehran)."""
    if interval is not None and interval not in INTERVALS:
        raise ValueError(f"interval is one of {', '.join(INTERVALS)}")
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": spec.url,
        "date": now_instant(),
        "period": {
            "start": f"{start.isoformat()}T00:00:00+03:30",
            "end": f"{end.isoformat()}T23:59:59+03:30",
        },
        "group": [_group(g, spec.scoring, tally, start, end, interval) for g in spec.groups],
    }
