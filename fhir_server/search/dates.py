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
        return _days(year, 1, 1) * _DAY_MS, _days(year + 1, 1, 1) * _DAY_MS - 1
    month = int(month_s)
    if not 1 <= month <= 12:
        return None
    if day_s is None:
        ny, nm = _add_months(year, month, 1)
        return _days(year, month, 1) * _DAY_MS, _days(ny, nm, 1) * _DAY_MS - 1
    day = int(day_s)
    if not 1 <= day <= _month_days(year, month):
        return None
    base = _days(year, month, day) * _DAY_MS
    if hh is None:
        return base, base + _DAY_MS - 1
    h, mn = int(hh), int(mi)
    # R4's grammar: hours 00-23, minutes 00-59, seconds 00-60 (60 is a leap second, which
    # lands on the next minute's first second as in POSIX time), offsets up to 14:00
    if h > 23 or mn > 59 or (ss is not None and int(ss) > 60):
        return None
    offset = 0
    if tz and tz != "Z":
        tz_hours, tz_minutes = int(tz[1:3]), int(tz[4:])
        if tz_minutes > 59 or tz_hours * 60 + tz_minutes > 14 * 60:
            return None
        offset = (tz_hours * 3600 + tz_minutes * 60) * (-1 if tz[0] == "-" else 1)
    start = base + (h * 3600 + mn * 60 - offset) * 1000
    if ss is None:
        return start, start + 59_999
    start += int(ss) * 1000
    if frac is None:
        return start, start + 999
    digits = frac[:3]
    low = start + int(digits.ljust(3, "0"))
    return low, low + 10 ** (3 - len(digits)) - 1


# The instants a FHIR value can name: a bound past them (a search value in year 9999 with a
# negative offset, an `ap` margin) compares like the nearest one against stored instants.
_FIRST_MS = _days(1, 1, 1) * _DAY_MS
_LAST_MS = _days(10000, 1, 1) * _DAY_MS - 1


def format_ms(ms: int) -> str:
    """Instant text of a millisecond value, clamped to years 0001-9999 (text compares in order)."""
    dt = _EPOCH + timedelta(milliseconds=min(max(ms, _FIRST_MS), _LAST_MS))
    # not strftime: its %Y writes year 1 as "1" on glibc, and "1-..." sorts after "2024-..."
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}."
        f"{dt.microsecond // 1000:03d}Z"
    )
