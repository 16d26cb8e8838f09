from __future__ import annotations

import pytest

from fhir_server.search.dates import MAX_MS, MIN_MS, date_range, format_ms


def _r(value: str) -> tuple[str, str]:
    rng = date_range(value)
    assert rng is not None
    return format_ms(rng[0]), format_ms(rng[1])


def test_precision_ranges() -> None:
    assert _r("2000") == ("2000-01-01T00:00:00.000Z", "2000-12-31T23:59:59.999Z")
    assert _r("2000-02") == ("2000-02-01T00:00:00.000Z", "2000-02-29T23:59:59.999Z")
    assert _r("2000-05-01") == ("2000-05-01T00:00:00.000Z", "2000-05-01T23:59:59.999Z")
    assert _r("2020-01-01T10:00") == ("2020-01-01T10:00:00.000Z", "2020-01-01T10:00:59.999Z")
    assert _r("2020-01-01T10:00:00Z") == ("2020-01-01T10:00:00.000Z", "2020-01-01T10:00:00.999Z")


def test_timezone_converted_to_utc() -> None:
    assert _r("1999-12-31T23:00:00-02:00")[0] == "2000-01-01T01:00:00.000Z"
    assert _r("2000-01-01T02:00:00+03:30")[0] == "1999-12-31T22:30:00.000Z"


def test_fractions() -> None:
    assert _r("2020-01-01T10:00:00.5Z") == ("2020-01-01T10:00:00.500Z", "2020-01-01T10:00:00.599Z")
    assert _r("2020-01-01T10:00:00.25Z") == ("2020-01-01T10:00:00.250Z", "2020-01-01T10:00:00.259Z")
    assert _r("2020-01-01T10:00:00.125Z") == ("2020-01-01T10:00:00.125Z", "2020-01-01T10:00:00.125Z")
    assert _r("2026-11-22T01:06:48.123456Z")[0] == "2026-11-22T01:06:48.123Z"


def test_malformed() -> None:
    for bad in ("2000-13", "20", "2000-02-30", "yesterday", "2000-01-01T25:00:00Z"):
        assert date_range(bad) is None


# Known answers: milliseconds since 1970-01-01T00:00:00Z, worked out by hand from day counts.
@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("1970-01-01", 0, 86_399_999),
        ("1970", 0, 365 * 86_400_000 - 1),
        ("1969-12-31T23:59:59Z", -1000, -1),
        ("2000-03-01", 951_868_800_000, 951_955_199_999),
        ("0001-01-01", -62_135_596_800_000, -62_135_510_400_001),
        ("9999-12-31", 253_402_214_400_000, 253_402_300_799_999),
    ],
)
def test_known_millisecond_values(value: str, low: int, high: int) -> None:
    assert date_range(value) == (low, high)


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("0001", "0001-01-01T00:00:00.000Z", "0001-12-31T23:59:59.999Z"),
        ("0001-01", "0001-01-01T00:00:00.000Z", "0001-01-31T23:59:59.999Z"),
        ("9999", "9999-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12", "9999-12-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31", "9999-12-31T00:00:00.000Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_first_and_last_years(value: str, first: str, last: str) -> None:
    assert _r(value) == (first, last)


def test_year_zero_and_five_digit_years_are_not_dates() -> None:
    for bad in ("0000", "0000-01-01", "10000", "999"):
        assert date_range(bad) is None, bad


@pytest.mark.parametrize(
    ("month", "last_day"),
    [
        ("1900-02", "28"),  # divisible by 100, not by 400: common
        ("2000-02", "29"),  # divisible by 400: leap
        ("2100-02", "28"),
        ("2024-02", "29"),  # divisible by 4: leap
        ("2023-02", "28"),
        ("2024-04", "30"),
        ("2024-12", "31"),
    ],
)
def test_century_leap_rule(month: str, last_day: str) -> None:
    assert _r(month)[1] == f"{month}-{last_day}T23:59:59.999Z"
    assert date_range(f"{month}-{last_day}") is not None
    assert date_range(f"{month}-{int(last_day) + 1}") is None


def test_leap_day_ranges() -> None:
    assert date_range("1900-02-29") is None
    assert date_range("2100-02-29") is None
    assert _r("2000-02-29") == ("2000-02-29T00:00:00.000Z", "2000-02-29T23:59:59.999Z")
    # the day after a leap day is one day later, not two
    assert _r("2000-03-01")[0] == "2000-03-01T00:00:00.000Z"
    assert _r("1900-03-01")[0] == "1900-03-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("clock", "first"),
    [
        ("00:00:00", "2024-01-01T00:00:00.000Z"),
        ("23:59:59", "2024-01-01T23:59:59.000Z"),
        ("23:59:60", "2024-01-02T00:00:00.000Z"),  # a leap second: POSIX time has none
        ("23:59", "2024-01-01T23:59:00.000Z"),
    ],
)
def test_first_and_last_clock_values(clock: str, first: str) -> None:
    assert _r(f"2024-01-01T{clock}Z")[0] == first


@pytest.mark.parametrize("clock", ["24:00:00", "23:60:00", "23:59:61", "24:00", "23:60", "99:00:00"])
def test_clock_values_past_the_last(clock: str) -> None:
    assert date_range(f"2024-01-01T{clock}Z") is None


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        ("+14:00", "2024-01-01T22:00:00.000Z"),  # noon on the 2nd, 14 hours ahead of UTC
        ("-14:00", "2024-01-03T02:00:00.000Z"),
        ("+13:59", "2024-01-01T22:01:00.000Z"),
        ("+00:00", "2024-01-02T12:00:00.000Z"),
        ("-00:00", "2024-01-02T12:00:00.000Z"),
        ("+03:30", "2024-01-02T08:30:00.000Z"),
        ("-03:30", "2024-01-02T15:30:00.000Z"),
    ],
)
def test_time_zone_boundaries(zone: str, first: str) -> None:
    assert _r(f"2024-01-02T12:00:00{zone}")[0] == first
    rng = date_range(f"2024-01-02T12:00:00.5{zone}")
    assert rng is not None and all(type(ms) is int for ms in rng)  # both stores keep integers


@pytest.mark.parametrize("zone", ["+14:01", "-14:01", "+15:00", "-23:00", "+03:60", "+99:99"])
def test_time_zones_past_fourteen_hours(zone: str) -> None:
    assert date_range(f"2024-01-02T12:00:00{zone}") is None


def test_extremes_with_offsets_stay_numbers() -> None:
    low = date_range("0001-01-01T00:00:00+14:00")
    high = date_range("9999-12-31T23:59:59-14:00")
    assert low is not None and high is not None
    assert MIN_MS < low[0] < date_range("0001")[0]  # type: ignore[index]
    assert date_range("9999")[1] < high[1] < MAX_MS  # type: ignore[index]


def test_format_ms_pads_years_and_clamps_to_what_fhir_can_name() -> None:
    # stored instants are compared as text, so the year always has four digits
    assert format_ms(date_range("0999")[0]) == "0999-01-01T00:00:00.000Z"  # type: ignore[index]
    assert format_ms(-62_135_596_800_001) == "0001-01-01T00:00:00.000Z"
    assert format_ms(MIN_MS) == "0001-01-01T00:00:00.000Z"
    assert format_ms(253_402_300_800_000) == "9999-12-31T23:59:59.999Z"
    assert format_ms(MAX_MS) == "9999-12-31T23:59:59.999Z"
    assert format_ms(1) == "1970-01-01T00:00:00.001Z"
