"""The performance paths give the same answers as the slow ones they replace:
integer date ranges, cached fallback extraction, index-only totals, driver choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fhirpathpy
import pytest
from fhirpathpy.models import models
from search_helpers import bundle, delete, ids, write

from fhir_server.search import extract_index
from fhir_server.search.compiler import root_keys
from fhir_server.search.dates import date_range
from fhir_server.search.entries import TokenEntry
from fhir_server.storage.sqlite import SQLiteStore

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2024", datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("2024-02", datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-12", datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        ("1900-03-01", datetime(1900, 3, 1, tzinfo=UTC), datetime(1900, 3, 2, tzinfo=UTC)),
        (
            "2026-03-10T00:10+03:30",
            datetime(2026, 3, 9, 20, 40, tzinfo=UTC),
            datetime(2026, 3, 9, 20, 41, tzinfo=UTC),
        ),
        (
            "2026-03-10T00:10:05-12:00",
            datetime(2026, 3, 10, 12, 10, 5, tzinfo=UTC),
            datetime(2026, 3, 10, 12, 10, 6, tzinfo=UTC),
        ),
        ("1969-12-31T23:59:59.5Z", datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), None),
    ],
)
def test_date_range_integer_arithmetic(value: str, low: datetime, high: datetime | None) -> None:
    rng = date_range(value)
    assert rng is not None
    assert rng[0] == ms(low)
    assert rng[1] == (ms(high) - 1 if high else ms(low) + 99)


@pytest.mark.parametrize(
    "value", ["2023-02-29", "1900-02-29", "2024-04-31", "2024-13", "2024-00-10", "0000", "10000", "x"]
)
def test_date_range_refuses_impossible_dates(value: str) -> None:
    assert date_range(value) is None


def test_fallback_root_keys() -> None:
    keys = root_keys("Patient", "Patient.deceased.exists() and Patient.deceased != false")
    assert keys is not None and {"deceasedBoolean", "deceasedDateTime"} <= keys
    # Paths not anchored at the root type, or reading the whole tree, cannot be skipped.
    assert root_keys("Patient", "deceased.exists()") is None
    assert root_keys("Patient", "Patient.descendants().ofType(Reference)") is None
    assert root_keys("Patient", "%resource.deceased") is None
    assert root_keys("Patient", "Patient.link.where($this.type = 'seealso')") is None


@pytest.mark.parametrize(
    "extra", [{}, {"deceasedBoolean": False}, {"deceasedBoolean": True}, {"deceasedDateTime": "2020"}]
)
def test_skipped_fallback_equals_fhirpath(extra: dict[str, object]) -> None:
    patient = {"resourceType": "Patient", "id": "p", "gender": "male", **extra}
    expected = fhirpathpy.evaluate(
        patient, "Patient.deceased.exists() and Patient.deceased != false", {}, models["r4"]
    )
    got = [e.code for e in extract_index(patient) if isinstance(e, TokenEntry) and e.param == "deceased"]
    assert got == ["true" if v else "false" for v in expected]


def _patient(id_: str, *names: str) -> dict[str, object]:
    return {"resourceType": "Patient", "id": id_, "name": [{"family": n} for n in names]}


def test_index_only_total_counts_each_live_match_once(store: SQLiteStore) -> None:
    # p1 matches through two names (two index rows); p3 is deleted; p4 does not match.
    write(
        store,
        _patient("p1", "محمدی", "محمودی"),
        _patient("p2", "محمدي"),
        _patient("p3", "محمدی"),
        _patient("p4", "کریمی"),
    )
    delete(store, "Patient", "p3")
    b = bundle(store, "Patient", [("name", "محم"), ("_total", "accurate"), ("_count", "1")])
    assert b["total"] == 2
    assert ids(store, "Patient", "name=محم&_count=10") == ["p1", "p2"]


def test_total_with_remaining_checks_and_chain(store: SQLiteStore) -> None:
    nc = "http://noskhe.ir/fhir/sid/national-code"
    write(
        store, {"resourceType": "Patient", "id": "a", "identifier": [{"system": nc, "value": "1234567891"}]}
    )
    reqs = [
        {
            "resourceType": "MedicationRequest",
            "id": f"m{i}",
            "status": "active" if i % 2 else "completed",
            "intent": "order",
            "subject": {"reference": "Patient/a"},
            "authoredOn": f"2026-03-1{i}T10:00:00+03:30",
        }
        for i in range(6)
    ]
    write(store, *reqs)
    query = [("subject:Patient.identifier", f"{nc}|1234567891"), ("status", "active"), ("_total", "accurate")]
    assert bundle(store, "MedicationRequest", query)["total"] == 3
    dates = [("authoredon", "ge2026-03-11"), ("authoredon", "lt2026-03-13"), ("_total", "accurate")]
    assert bundle(store, "MedicationRequest", dates)["total"] == 2
    # A date parameter nothing is stored for: no width known, total 0.
    assert bundle(store, "MedicationRequest", [("date", "ge2026"), ("_total", "accurate")]).get("total") == 0


def _all_pages(store: SQLiteStore, query: list[tuple[str, str]]) -> list[list[str]]:
    from urllib.parse import parse_qsl, urlsplit

    pages, params = [], query
    for _ in range(50):
        b = bundle(store, "Patient", params)
        pages.append([e["resource"]["id"] for e in b["entry"] if e["search"]["mode"] == "match"])
        nxt = [link["url"] for link in b["link"] if link["relation"] == "next"]
        if not nxt:
            return pages
        params = parse_qsl(urlsplit(nxt[0]).query)
    raise AssertionError("paging did not end")


@pytest.mark.parametrize(
    "query",
    [
        [("name", "محم"), ("_count", "3")],
        [("name", "محم"), ("gender", "female"), ("_count", "2")],
        [("name", "کریمی"), ("_count", "4")],  # rarer: the walk gives up, the index path answers
        [("name", "محم"), ("_count", "3"), ("_total", "accurate")],
        # a column clause (what every Bulk Data export adds): the walk reads that column too
        [("name", "محم"), ("_lastUpdated", "ge2000-01-01"), ("_count", "3")],
    ],
)
def test_walk_in_id_order_gives_the_same_pages(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, query: list[tuple[str, str]]
) -> None:
    from fhir_server.storage import sqlite_search

    patients = [
        {
            "resourceType": "Patient",
            "id": f"p{i:02d}",
            "gender": "female" if i % 3 else "male",
            "name": [{"family": "کریمی" if i % 7 == 0 else "محمدی"}],
        }
        for i in range(40)
    ]
    write(store, *patients)
    delete(store, "Patient", "p05")
    slow = _all_pages(store, query)
    monkeypatch.setattr(sqlite_search, "_ESTIMATE_CAP", 4)
    monkeypatch.setattr(sqlite_search, "_WALK_ROWS", 9)
    calls: list[int] = []
    real = sqlite_search._walk_page

    def spy(conn, plan):  # type: ignore[no-untyped-def]
        result = real(conn, plan)
        calls.append(0 if result is None else 1)
        return result

    monkeypatch.setattr(sqlite_search, "_walk_page", spy)
    fast = _all_pages(store, query)
    assert fast == slow
    assert "p05" not in [i for page in fast for i in page]
    assert calls  # the walk was tried
    if query[0][1] == "محم":
        assert 1 in calls  # and answered some pages itself


def test_page_from_a_single_valued_driver_pages_in_id_order(store: SQLiteStore) -> None:
    people = [
        {"resourceType": "Patient", "id": f"q{i:02d}", "gender": "female" if i % 2 else "male"}
        for i in range(15)
    ]
    write(store, *people)
    delete(store, "Patient", "q03")
    expected = [f"q{i:02d}" for i in range(15) if i % 2 and i != 3]
    assert [
        i for page in _all_pages(store, [("gender", "female"), ("_count", "2")]) for i in page
    ] == expected
    b = bundle(store, "Patient", [("gender", "female"), ("_total", "accurate"), ("_count", "3")])
    assert b["total"] == len(expected)
    assert [e["resource"]["id"] for e in b["entry"]] == expected[:3]
