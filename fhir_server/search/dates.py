"""FHIR date/dateTime/instant values as inclusive UTC millisecond ranges.

Every date-like value stands for a range: `2000` is [2000-01-01T00:00:00.000Z,
2000-12-31T23:59:59.999Z], `2000-05-01T10:00:00+03:30` is that second. Ranges are integer
milliseconds since the Unix epoch, so both SQLite and MongoDB compare them as numbers.

Values without a timezone (all plain dates, and the rare dateTime/search value given with a
time but no offset) are taken as UTC. The same rule applies to stored values and to query
values, so `birthdate=2000-05-01` matches a stored `2000-05-01` whatever the server's zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

MIN_MS = -(2**53)  # open low end (a Period without start)
MAX_MS = 2**53  # open high end (a Period without end)

_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _offset(tz: str | None) -> timedelta:
    if not tz or tz == "Z":
        return timedelta(0)
    sign = -1 if tz[0] == "-" else 1
    return sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def date_range(value: str) -> tuple[int, int] | None:
    """Inclusive [low, high] milliseconds for a FHIR date/dateTime/instant; None if malformed."""
    m = _RE.match(value.strip())
    if m is None:
        return None
    year, month, day, hh, mi, ss, frac, tz = m.groups()
    try:
        if month is None:
            start = datetime(int(year), 1, 1, tzinfo=UTC)
            return _ms(start), _ms(datetime(int(year) + 1, 1, 1, tzinfo=UTC)) - 1
        if day is None:
            start = datetime(int(year), int(month), 1, tzinfo=UTC)
            ny, nm = _add_months(int(year), int(month), 1)
            return _ms(start), _ms(datetime(ny, nm, 1, tzinfo=UTC)) - 1
        base = datetime(int(year), int(month), int(day), tzinfo=UTC)
        if hh is None:
            return _ms(base), _ms(base + timedelta(days=1)) - 1
        if int(hh) > 23 or int(mi) > 59 or (ss is not None and int(ss) > 59):
            return None
        start = base + timedelta(hours=int(hh), minutes=int(mi)) - _offset(tz)
        if ss is None:
            return _ms(start), _ms(start + timedelta(minutes=1)) - 1
        start += timedelta(seconds=int(ss))
        if frac is None:
            return _ms(start), _ms(start) + 999
        digits = frac[:3]
        low = _ms(start) + int(digits.ljust(3, "0"))
        return low, low + 10 ** (3 - len(digits)) - 1
    except ValueError:
        return None


def format_ms(ms: int) -> str:
    """Instant string for a millisecond value (used by debugging and tests)."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
