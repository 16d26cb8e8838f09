"""FHIRPath comparison of date, dateTime and instant values written as FHIR JSON strings.

FHIRPath compares times, not text: ``2020-03-01T10:00:00+03:30`` is before
``2020-03-01T07:00:00Z``. Values of different precision are compared component by
component; when they agree as far as the shorter one goes, the answer is unknown and
the comparison is empty (FHIRPath 2.0, "Comparison"). fhirpathpy compares two such
values taken from data as plain strings, so the invariants that compare two dates
(per-1, mdd-1, inv-1 on Task) go through here.
"""

from __future__ import annotations

import re
from datetime import datetime

_TEMPORAL = re.compile(
    r"(?P<date>[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)"
    r"(T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?P<fraction>\.[0-9]+)?(?P<tz>Z|[+-][0-9]{2}:[0-9]{2}))?"
)


def looks_temporal(value: str) -> bool:
    """A FHIR date, dateTime or instant (lexically)."""
    return value[:1].isdigit() and _TEMPORAL.fullmatch(value) is not None


def compare_temporal(a: str, b: str) -> int | None:
    """-1, 0 or 1; None when precision leaves the order unknown."""
    ma, mb = _TEMPORAL.fullmatch(a), _TEMPORAL.fullmatch(b)
    assert ma is not None and mb is not None
    if ma["time"] and mb["time"]:
        return _order(_instant(ma), _instant(mb))
    if not ma["time"] and not mb["time"]:
        return _partial_dates(ma["date"], mb["date"])
    # a date against a dateTime: their calendar dates as written decide, or nothing does
    return _partial_dates(ma["date"], mb["date"]) or None


def _instant(m: re.Match[str]) -> datetime:
    fraction = (m["fraction"] or ".0")[1:7].ljust(6, "0")
    time = m["time"].replace(":60", ":59")  # a leap second sorts with its minute
    tz = "+00:00" if m["tz"] == "Z" else m["tz"]
    return datetime.fromisoformat(f"{m['date']}T{time}.{fraction}{tz}")


def _partial_dates(a: str, b: str) -> int | None:
    """Component by component; None if equal as far as the shorter one goes."""
    for x, y in zip(a.split("-"), b.split("-"), strict=False):
        if x != y:
            return -1 if x < y else 1
    return 0 if len(a) == len(b) else None


def _order(a: datetime, b: datetime) -> int:
    return (a > b) - (a < b)
