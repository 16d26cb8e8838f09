"""Days and Jalali months as Iran counts them: in Asia/Tehran (UTC+03:30, no daylight
saving time since 2022). Month 1405-09 runs from 1405/09/01 00:00 Tehran time
(2026-11-21T20:30:00Z) up to, not including, 1405/10/01 00:00 Tehran time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

import jdatetime

TEHRAN = timezone(timedelta(hours=3, minutes=30))
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int  # 1..12

    @classmethod
    def parse(cls, text: str) -> Month:
        """`1405-09` (Persian digits accepted); ValueError otherwise."""
        found = _MONTH.match(text.strip().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
        # years 1300-1499 (1921-2121): 2026-11 is a Gregorian month, not a Jalali one
        if not found or not 1 <= int(found.group(2)) <= 12 or not 1300 <= int(found.group(1)) < 1500:
            raise ValueError(f"a Jalali month is written YYYY-MM, e.g. 1405-09: {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        j = jdatetime.date.fromgregorian(date=day)
        return cls(j.year, j.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def first_day(self) -> date:
        return jdatetime.date(self.year, self.month, 1).togregorian()

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        """The first instant of the month in Tehran."""
        return datetime.combine(self.first_day, time(0), TEHRAN)

    @property
    def end(self) -> datetime:
        """The first instant after the month (exclusive)."""
        return self.next().start

    def ended(self, now: datetime) -> bool:
        return now >= self.end


def instant(moment: datetime) -> str:
    """A FHIR instant with the Tehran offset: 2026-11-22T00:00:00+03:30."""
    return moment.astimezone(TEHRAN).isoformat(timespec="seconds")


def tehran_day(instant_or_date: str | None) -> date | None:
    """The calendar day in Tehran of a FHIR instant or dateTime (a date as is)."""
    if not instant_or_date:
        return None
    if len(instant_or_date) <= 10:  # a date, year-month or year: its first day
        return date.fromisoformat(instant_or_date + "-01-01"[len(instant_or_date) - 4 :])
    moment = datetime.fromisoformat(instant_or_date.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TEHRAN).date()
