"""Search behaviours, the same on every engine (ported from the SQLite search tests)."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import NC, bundle, delete, follow, ids, mr, page_ids, patient, write

from fhir_server.outcome import FhirError
from fhir_server.storage.base import Store


def test_date_precision_edges(store: Store) -> None:
    write(
        store,
        patient("a", birthDate="2000-05-01"),
        patient("b", birthDate="2001-01-01"),
        patient("c", birthDate="1999-12-31"),
        patient("d"),
    )
    assert ids(store, "Patient", "birthdate=2000") == ["a"]
    assert ids(store, "Patient", "birthdate=2000-05") == ["a"]
    assert ids(store, "Patient", "birthdate=ge2000-01-01") == ["a", "b"]
    assert ids(store, "Patient", "birthdate=lt2000") == ["c"]
    assert ids(store, "Patient", "birthdate=ne2000") == ["b", "c"]
    assert ids(store, "Patient", "birthdate=sa2000") == ["b"]
    assert ids(store, "Patient", "birthdate=eb2000") == ["c"]
    assert ids(store, "Patient", "birthdate=ge2000&birthdate=le2000-12-31") == ["a"]


def test_datetime_timezone_edges(store: Store) -> None:
    # 1999-12-31T23:00:00-02:00 is 2000-01-01T01:00Z: a string compare would say 1999.
    write(
        store,
        mr("m1", "Patient/p", authoredOn="1999-12-31T23:00:00-02:00"),
        mr("m2", "Patient/p", authoredOn="2000-01-01T02:00:00+03:30"),
    )
    assert ids(store, "MedicationRequest", "authoredon=ge2000-01-01") == ["m1"]
    assert ids(store, "MedicationRequest", "authoredon=1999-12-31") == ["m2"]
    assert ids(store, "MedicationRequest", "authoredon=2000-01-01T01:00:00Z") == ["m1"]


def test_period_ranges(store: Store) -> None:
    enc = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}
    write(
        store,
        {**enc, "id": "open", "period": {"start": "2020-01-01"}},
        {**enc, "id": "closed", "period": {"start": "2020-01-01", "end": "2020-01-03"}},
    )
    assert ids(store, "Encounter", "date=gt2021-01-01") == ["open"]
    assert ids(store, "Encounter", "date=ge2020-01-02") == ["closed", "open"]
    assert ids(store, "Encounter", "date=2020-01") == ["closed"]


def test_token_system_forms(store: Store) -> None:
    write(
        store,
        patient("a", identifier=[{"system": NC, "value": "0018243460"}]),
        patient("b", identifier=[{"value": "0018243460"}]),
        patient("c", identifier=[{"system": "http://other", "value": "0018243460"}]),
    )
    assert ids(store, "Patient", "identifier=0018243460") == ["a", "b", "c"]
    assert ids(store, "Patient", f"identifier={NC}|0018243460") == ["a"]
    assert ids(store, "Patient", "identifier=|0018243460") == ["b"]
    assert ids(store, "Patient", f"identifier={NC}|") == ["a"]
    assert ids(store, "Patient", f"identifier:not={NC}|0018243460") == ["b", "c"]


def test_missing_versus_empty(store: Store) -> None:
    write(
        store,
        patient("none"),
        patient("empty", name=[{"text": ""}]),
        patient("named", name=[{"family": "Rahimi"}]),
    )
    assert ids(store, "Patient", "name:missing=true") == ["empty", "none"]
    assert ids(store, "Patient", "name:missing=false") == ["named"]
    assert ids(store, "Patient", "gender:missing=true") == ["empty", "named", "none"]


def test_string_persian_prefix_exact_contains(store: Store) -> None:
    write(
        store,
        patient("a", name=[{"family": "كريمي", "given": ["علي"]}]),
        patient("b", name=[{"family": "کریم‌زاده"}]),
        patient("c", name=[{"family": "Karimi"}]),
    )
    assert ids(store, "Patient", "name=کریم") == ["a", "b"]
    assert ids(store, "Patient", "name=كريمزاده") == ["b"]
    assert ids(store, "Patient", "name=علی کریمی") == ["a"]
    assert ids(store, "Patient", "name:exact=Karimi") == ["c"]
    assert ids(store, "Patient", "name:exact=karimi") == []
    assert ids(store, "Patient", "name:contains=ARIM") == ["c"]
    assert ids(store, "Patient", "family=KAR,کریم") == ["a", "b", "c"]


def test_reference_forms(store: Store) -> None:
    write(store, mr("m1", "Patient/p1"), mr("m2", "Group/p1"), mr("m3", "http://ext.org/fhir/Patient/p1"))
    assert ids(store, "MedicationRequest", "subject=Patient/p1") == ["m1"]
    assert ids(store, "MedicationRequest", "subject=p1") == ["m1", "m2"]
    assert ids(store, "MedicationRequest", "subject:Group=p1") == ["m2"]
    assert ids(store, "MedicationRequest", "patient=p1") == ["m1"]
    assert ids(store, "MedicationRequest", "subject=http://ext.org/fhir/Patient/p1") == ["m3"]


def test_chain_two_hops_and_has(store: Store) -> None:
    write(
        store,
        {"resourceType": "Organization", "id": "o1", "name": "Tamin"},
        patient(
            "p1",
            identifier=[{"system": NC, "value": "1234567891"}],
            managingOrganization={"reference": "Organization/o1"},
        ),
        patient("p2", identifier=[{"system": NC, "value": "0451253541"}]),
        mr("m1", "Patient/p1"),
        mr("m2", "Patient/p2"),
        mr("m3", "Patient/p1", status="completed"),
    )
    assert ids(store, "MedicationRequest", f"subject:Patient.identifier={NC}|1234567891&status=active") == [
        "m1"
    ]
    assert ids(store, "MedicationRequest", "subject:Patient.organization.name=tam") == ["m1", "m3"]
    assert ids(store, "MedicationRequest", "patient.organization:missing=true") == ["m2"]
    assert ids(store, "Patient", "_has:MedicationRequest:subject:status=completed") == ["p1"]
    assert ids(
        store, "Organization", "_has:Patient:organization:_has:MedicationRequest:subject:status=completed"
    ) == ["o1"]


def test_deleted_resources_are_excluded(store: Store) -> None:
    write(store, patient("p1", gender="male"), patient("p2", gender="male"))
    delete(store, "Patient", "p1")
    assert ids(store, "Patient", "gender=male") == ["p2"]
    assert ids(store, "Patient", "") == ["p2"]


def test_sort_ties_and_multiple_keys(store: Store) -> None:
    write(
        store,
        patient("c", birthDate="2000", gender="male"),
        patient("a", birthDate="2000", gender="female"),
        patient("b", birthDate="1990", gender="male"),
        patient("d"),
    )
    assert ids(store, "Patient", "_sort=birthdate") == ["b", "a", "c", "d"]
    assert ids(store, "Patient", "_sort=-birthdate") == ["a", "c", "b", "d"]
    assert ids(store, "Patient", "_sort=-birthdate,gender") == ["a", "c", "b", "d"]
    assert ids(store, "Patient", "_sort=gender,-_id") == ["a", "c", "b", "d"]


def test_keyset_paging_is_stable_under_inserts(store: Store) -> None:
    write(store, *[patient(f"p{i:02d}", birthDate=f"19{50 + i % 5}") for i in range(10)])
    first = bundle(store, "Patient", [("_sort", "birthdate"), ("_count", "4")])
    seen = page_ids(first)
    write(store, patient("p00a", birthDate="1950"))  # sorts before the next page: not shown
    page: dict[str, Any] | None = first
    while page is not None:
        page = follow(store, "Patient", page, "next")
        if page is not None:
            seen += page_ids(page)
    assert sorted(seen) == sorted(f"p{i:02d}" for i in range(10))
    assert len(seen) == len(set(seen))


def test_previous_link(store: Store) -> None:
    write(store, *[patient(f"p{i}") for i in range(7)])
    first = bundle(store, "Patient", [("_count", "3")])
    second = follow(store, "Patient", first, "next")
    assert second is not None and page_ids(second) == ["p3", "p4", "p5"]
    back = follow(store, "Patient", second, "previous")
    assert back is not None and page_ids(back) == ["p0", "p1", "p2"]
    assert follow(store, "Patient", back, "previous") is None


def test_include_across_pages(store: Store) -> None:
    write(
        store,
        patient("p1"),
        patient("p2"),
        mr("m1", "Patient/p1"),
        mr("m2", "Patient/p1"),
        mr("m3", "Patient/p2"),
    )
    first = bundle(store, "MedicationRequest", [("_include", "MedicationRequest:subject"), ("_count", "2")])
    modes = [(e["search"]["mode"], e["resource"]["id"]) for e in first["entry"]]
    assert modes == [("match", "m1"), ("match", "m2"), ("include", "p1")]
    second = follow(store, "MedicationRequest", first, "next")
    assert [(e["search"]["mode"], e["resource"]["id"]) for e in second["entry"]] == [
        ("match", "m3"),
        ("include", "p2"),
    ]


def test_revinclude_iterate_and_wildcard(store: Store) -> None:
    write(
        store,
        {"resourceType": "Practitioner", "id": "dr"},
        patient("p1"),
        mr("m1", "Patient/p1", requester={"reference": "Practitioner/dr"}),
    )
    b = bundle(
        store,
        "Patient",
        [("_revinclude", "MedicationRequest:subject"), ("_include:iterate", "MedicationRequest:requester")],
    )
    assert {(e["search"]["mode"], e["resource"]["id"]) for e in b["entry"]} == {
        ("match", "p1"),
        ("include", "m1"),
        ("include", "dr"),
    }
    b = bundle(store, "MedicationRequest", [("_include", "*")])
    assert {e["resource"]["id"] for e in b["entry"]} == {"m1", "p1", "dr"}


def test_total_and_summary_count(store: Store) -> None:
    write(store, *[patient(f"p{i}", gender="male") for i in range(5)])
    assert bundle(store, "Patient", [("_count", "2"), ("_total", "accurate")])["total"] == 5
    assert bundle(store, "Patient", [("_count", "2")])["total"] == 5  # cheap: counted
    b = bundle(store, "Patient", [("_summary", "count")])
    assert b["total"] == 5 and b["entry"] == []


def test_compartment_and_system_search(store: Store) -> None:
    write(
        store,
        patient("p1"),
        patient("p2"),
        mr("m1", "Patient/p1"),
        mr("m2", "Patient/p2"),
        {"resourceType": "Practitioner", "id": "x", "name": [{"family": "Ahmadi"}]},
    )
    assert ids(store, "MedicationRequest", "", compartment=("Patient", "p1")) == ["m1"]
    assert ids(store, None, "_type=Patient,Practitioner&_id=p1,x") == ["p1", "x"]


def test_lastupdated_and_id(store: Store) -> None:
    write(store, patient("old"), last_updated="2025-01-01T00:00:00.000Z")
    write(store, patient("new"), last_updated="2026-06-01T12:00:00.000Z")
    assert ids(store, "Patient", "_lastUpdated=gt2026-01-01") == ["new"]
    assert ids(store, "Patient", "_lastUpdated=2025") == ["old"]
    assert ids(store, "Patient", "_id=old,nope") == ["old"]
    assert ids(store, "Patient", "_sort=-_lastUpdated") == ["new", "old"]


def test_quantity_number_and_composite(store: Store) -> None:
    def obs(id_: str, code: str, value: float) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": id_,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        }

    write(store, obs("o1", "8480-6", 120), obs("o2", "8462-4", 80), obs("o3", "8480-6", 100.4))
    assert ids(store, "Observation", "value-quantity=gt100") == ["o1", "o3"]
    assert ids(store, "Observation", "value-quantity=100") == ["o3"]
    assert ids(store, "Observation", "value-quantity=100.0") == []
    assert ids(store, "Observation", "value-quantity=120|http://unitsofmeasure.org|mm[Hg]") == ["o1"]
    assert ids(store, "Observation", "code-value-quantity=http://loinc.org|8480-6$gt110") == ["o1"]
    assert ids(store, "Observation", "code-value-quantity=8462-4$gt110") == []


def test_escaped_comma_and_uri_modifiers(store: Store) -> None:
    write(store, patient("a", name=[{"family": "Smith, Jr"}]), patient("b", name=[{"family": "Smith"}]))
    assert ids(store, "Patient", "name:exact=Smith\\, Jr") == ["a"]
    vs = {"resourceType": "ValueSet", "status": "active"}
    write(
        store,
        {**vs, "id": "v1", "url": "http://x.org/fhir/ValueSet/a"},
        {**vs, "id": "v2", "url": "http://x.org/other"},
    )
    assert ids(store, "ValueSet", "url:below=http://x.org/fhir") == ["v1"]
    assert ids(store, "ValueSet", "url:above=http://x.org/fhir/ValueSet/a/extra") == ["v1"]


def test_token_text_and_of_type(store: Store) -> None:
    write(
        store,
        mr("m1", "Patient/p", medicationCodeableConcept={"text": "آموکسی‌سیلین ۵۰۰"}),
        patient(
            "p", identifier=[{"type": {"coding": [{"system": "http://t", "code": "MR"}]}, "value": "42"}]
        ),
    )
    assert ids(store, "MedicationRequest", "code:text=آموکسیسیلین 500") == ["m1"]
    assert ids(store, "Patient", "identifier:of-type=http://t|MR|42") == ["p"]


def test_warnings_and_errors(store: Store) -> None:
    write(store, patient("p"))
    b = bundle(store, "Patient", [("bogus", "1")])
    assert b["entry"][-1]["search"]["mode"] == "outcome"
    assert [e["resource"]["id"] for e in b["entry"] if e["search"]["mode"] == "match"] == ["p"]
    with pytest.raises(FhirError) as err:
        bundle(store, "Patient", [("bogus", "1")], strict=True)
    assert err.value.status == 400
    for query in [("birthdate", "20x"), ("_count", "-1"), ("name:fancy", "x"), ("identifier", "a|b|c")]:
        with pytest.raises(FhirError):
            bundle(store, "Patient", [query])


def test_date_ranges_single_and_multi_valued(store: Store) -> None:
    timing = {"timing": {"event": ["2026-01-01", "2026-12-01"]}}
    write(
        store,
        mr("m1", "Patient/p", authoredOn="2026-03-01T10:00:00Z", dosageInstruction=[timing]),
        mr("m2", "Patient/p", authoredOn="2026-03-05T10:00:00Z"),
        mr("m3", "Patient/p", authoredOn="2025-03-02", dosageInstruction=[timing]),
    )
    assert ids(store, "MedicationRequest", "authoredon=ge2026-03-01&authoredon=lt2026-03-03") == ["m1"]
    assert ids(store, "MedicationRequest", "authoredon=gt2026-03-01") == ["m2"]
    assert ids(store, "MedicationRequest", "authoredon=ge2025-03-02&authoredon=le2025-03-02") == ["m3"]
    # `date` (timing events) has several values: each AND-ed clause may hold on another one.
    assert ids(store, "MedicationRequest", "date=ge2026-06-01&date=lt2026-02-01") == ["m1", "m3"]
    assert ids(store, "MedicationRequest", "date=gt2027") == []
