"""Jalali months in Tehran time: the exact first and last instants, year ends, leap years."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fhir_server.tehran import Month, instant, tehran_day


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("1405-09", date(2026, 11, 22), date(2026, 12, 21)),  # Azar: 30 days
        ("1405-01", date(2026, 3, 21), date(2026, 4, 20)),  # Farvardin: 31 days
        ("1405-06", date(2026, 8, 23), date(2026, 9, 22)),
        ("1405-07", date(2026, 9, 23), date(2026, 10, 22)),  # the first 30-day month
        ("1404-12", date(2026, 2, 20), date(2026, 3, 20)),  # Esfand of a common year: 29 days
        ("1403-12", date(2025, 2, 19), date(2025, 3, 20)),  # Esfand of 1403, a leap year: 30 days
        ("۱۴۰۵-۰۹", date(2026, 11, 22), date(2026, 12, 21)),  # Persian digits
    ],
)
def test_month_days(text: str, first: date, last: date) -> None:
    month = Month.parse(text)
    assert (month.first_day, month.last_day) == (first, last)


def test_month_instants_are_tehran_midnights() -> None:
    month = Month.parse("1405-09")
    assert instant(month.start) == "2026-11-22T00:00:00+03:30"
    assert instant(month.end) == "2026-12-22T00:00:00+03:30"
    assert month.start.astimezone(UTC) == datetime(2026, 11, 21, 20, 30, tzinfo=UTC)
    assert str(month) == "1405-09" and str(Month.parse("1404-12").next()) == "1405-01"


@pytest.mark.parametrize(
    ("utc", "ended"),
    [
        (datetime(2026, 12, 21, 20, 29, 59, tzinfo=UTC), False),  # 23:59:59 in Tehran on the last day
        (datetime(2026, 12, 21, 20, 30, 0, tzinfo=UTC), True),  # midnight in Tehran
    ],
)
def test_a_month_ends_at_tehran_midnight(utc: datetime, ended: bool) -> None:
    assert Month.parse("1405-09").ended(utc) is ended


def test_month_of_a_day() -> None:
    assert str(Month.of(date(2026, 11, 21))) == "1405-08"
    assert str(Month.of(date(2026, 11, 22))) == "1405-09"


@pytest.mark.parametrize(
    "text",
    ["1405-13", "1405-00", "1405-9", "14059", "1405/09", "", "abcd-ef", "0999-01", "2026-11", "1500-01"],
)
def test_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-11-21T20:29:59Z", date(2026, 11, 21)),
        ("2026-11-21T20:30:00Z", date(2026, 11, 22)),  # midnight in Tehran
        ("2026-11-22T00:10:00+03:30", date(2026, 11, 22)),
        ("2026-11-21T23:59:59+00:00", date(2026, 11, 22)),
        ("2026-11-22", date(2026, 11, 22)),  # a date is that day
        ("2026-11", date(2026, 11, 1)),
        (None, None),
        ("", None),
    ],
)
def test_tehran_day(value: str | None, day: date | None) -> None:
    assert tehran_day(value) == day
