from fhir_server.search.dates import date_range, format_ms


def _r(value: str) -> tuple[str, str]:
    rng = date_range(value)
    assert rng is not None
    return format_ms(rng[0]), format_ms(rng[1])


def test_precision_ranges() -> None:
    assert _r("2000") == ("2000-01-01T00:00:00.000Z", "2000-12-31T23:59:59.999Z")
    assert _r("2000-02") == ("2000-02-01T00:00:00.000Z", "2000-02-29T23:59:59.999Z")
    assert _r("2000-05-01") == ("2000-05-01T00:00:00.000Z", "2000-05-01T23:59:59.999Z")
    assert _r("2020-01-01T10:00") == ("2020-01-01T10:00:00.000Z", "2020-01-01T10:00:59.999Z")


def test_timezone_converted_to_utc() -> None:
    assert _r("1999-12-31T23:00:00-02:00")[0] == "2000-01-01T01:00:00.000Z"
    assert _r("2000-01-01T02:00:00+03:30")[0] == "1999-12-31T22:30:00.000Z"


def test_fractions() -> None:
    assert _r("2020-01-01T10:00:00.5Z") == ("2020-01-01T10:00:00.500Z", "2020-01-01T10:00:00.599Z")
    assert _r("2026-11-22T01:06:48.123456Z")[0] == "2026-11-22T01:06:48.123Z"


def test_malformed() -> None:
    for bad in ("2000-13", "20", "2000-02-30", "yesterday", "2000-01-01T25:00:00Z"):
        assert date_range(bad) is None
