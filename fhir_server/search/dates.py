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


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def _days(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


_DAY_MS = 86_400_000
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_days(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month - 1]


def date_range(value: str) -> tuple[int, int] | None:
    """Inclusive [low, high] milliseconds for a FHIR date/dateTime/instant; None if malformed.

    Plain integer arithmetic (no datetime objects): it runs for every date of every write."""
    m = _RE.match(value.strip())
    if m is None:
        return None
    year_s, month_s, day_s, hh, mi, ss, frac, tz = m.groups()
    year = int(year_s)
    if year < 1:
        return None
    if month_s is None:
        if year == 9999:
            return None  # its end is past the largest representable date
        return _days(year, 1, 1) * _DAY_MS, _days(year + 1, 1, 1) * _DAY_MS - 1
    month = int(month_s)
    if not 1 <= month <= 12:
        return None
    if day_s is None:
        ny, nm = _add_months(year, month, 1)
        if ny > 9999:
            return None
        return _days(year, month, 1) * _DAY_MS, _days(ny, nm, 1) * _DAY_MS - 1
    day = int(day_s)
    if not 1 <= day <= _month_days(year, month):
        return None
    base = _days(year, month, day) * _DAY_MS
    if hh is None:
        if year == 9999 and month == 12 and day == 31:
            return None
        return base, base + _DAY_MS - 1
    h, mn = int(hh), int(mi)
    if h > 23 or mn > 59 or (ss is not None and int(ss) > 59):
        return None
    offset = 0
    if tz and tz != "Z":
        offset = (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * (-1 if tz[0] == "-" else 1)
    start = base + (h * 3600 + mn * 60 - offset) * 1000
    if ss is None:
        return start, start + 59_999
    start += int(ss) * 1000
    if frac is None:
        return start, start + 999
    digits = frac[:3]
    low = start + int(digits.ljust(3, "0"))
    return low, low + 10 ** (3 - len(digits)) - 1


def format_ms(ms: int) -> str:
    """Instant string for a millisecond value (used by debugging and tests)."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
