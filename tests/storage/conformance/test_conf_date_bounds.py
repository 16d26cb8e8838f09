"""Date searches at the ends of what FHIR can write (years 0001 and 9999, offsets of 14
hours, leap seconds), on every engine: a right answer, or 400 — never a 500."""

from __future__ import annotations

import pytest
from conformance_helpers import ids, patient, write

from fhir_server.outcome import FhirError
from fhir_server.storage.base import Store


def test_first_and_last_years_are_indexed_and_found(store: Store) -> None:
    write(
        store,
        patient("first", birthDate="0001-01-01"),
        patient("last", birthDate="9999-12-31"),
        patient("now", birthDate="2024-11-05"),
    )
    assert ids(store, "Patient", "birthdate=9999-12-31") == ["last"]
    assert ids(store, "Patient", "birthdate=9999") == ["last"]
    assert ids(store, "Patient", "birthdate=0001") == ["first"]
    assert ids(store, "Patient", "birthdate=gt9999-12-30") == ["last"]
    assert ids(store, "Patient", "birthdate=lt0001-01-02") == ["first"]
    assert ids(store, "Patient", "birthdate=lt0999&_sort=birthdate") == ["first"]


def test_leap_second_is_found_at_the_next_minute(store: Store) -> None:
    write(store, {"resourceType": "Patient", "id": "p", "deceasedDateTime": "2016-12-31T23:59:60Z"})
    assert ids(store, "Patient", "death-date=2016-12-31T23:59:60Z") == ["p"]
    assert ids(store, "Patient", "death-date=2017-01-01") == ["p"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("_lastUpdated=ap0001", []),  # the approximation margin reaches before year 1
        ("_lastUpdated=ap9999-12", []),
        ("_lastUpdated=9999", []),
        ("_lastUpdated=gt9999-12-31T23:00:00-02:00", []),  # after the last instant FHIR can write
        ("_lastUpdated=lt0001-01-01T00:00:00+14:00", []),  # before the first
        ("_lastUpdated=lt0999", []),  # year 999 written as 0999, which sorts before 2026
        ("_lastUpdated=gt0999", ["p"]),
        ("_lastUpdated=le9999-12-31T23:59:59-14:00", ["p"]),
    ],
)
def test_last_updated_at_the_ends_of_time(store: Store, query: str, expected: list[str]) -> None:
    write(store, patient("p"))
    assert ids(store, "Patient", query) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-02T12:00:00+14:01",
        "2024-01-02T12:00:00-15:00",
        "2024-01-02T12:00:00+03:60",
        "2024-01-02T24:00:00Z",
        "2024-01-02T23:60:00Z",
        "2024-01-02T23:59:61Z",
        "0000-01-01",
        "2100-02-29",
    ],
)
def test_values_past_the_grammar_are_refused(store: Store, value: str) -> None:
    for query in (f"birthdate={value}", f"_lastUpdated={value}"):
        with pytest.raises(FhirError) as refused:
            ids(store, "Patient", query)
        assert refused.value.status == 400
