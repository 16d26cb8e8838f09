"""The in-memory matcher agrees with the store: for each query, the resources the SQLite
store finds are exactly those `in_memory.matches` accepts among all stored ones (R4 and
IR examples), for every clause kind it claims to judge; chains and _has are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from search_helpers import ids, write

from fhir_server.search import extract_index, in_memory, parse_search
from fhir_server.storage.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "tests" / "fixtures" / "r4-examples").glob("*.json")) + sorted(
    (ROOT / "profiles" / "ir-eprescription" / "examples").glob("*.json")
)
QUERIES = [
    ("MedicationRequest", "status=active"),
    ("MedicationRequest", "status:not=completed"),
    ("MedicationRequest", "status=active,completed&intent=order"),
    ("MedicationRequest", "code=http://snomed.info/sct|"),
    ("MedicationRequest", "code=00077"),
    ("MedicationRequest", "subject=Patient/pat1"),
    ("MedicationRequest", "medication:missing=true"),
    ("MedicationRequest", "authoredon=ge2015-01-01&authoredon=lt2016"),
    ("MedicationRequest", "prescription=http://noskhe.ir/fhir/sid/prescription|"),
    ("Patient", "gender=female"),
    ("Patient", "name=pet"),
    ("Patient", "name:exact=Peter"),
    ("Patient", "name:contains=ete"),
    ("Patient", "birthdate=1974-12-25"),
    ("Patient", "birthdate=ap1974"),
    ("Patient", "identifier=|AB60001"),
    ("Patient", "national-code=0018243460"),
    ("Patient", "mother-national-code=http://noskhe.ir/fhir/sid/national-code|0018243460"),
    ("Patient", "_id=example,ir-patient-infant"),
    ("Patient", "_id:not=example"),
    ("Patient", "_lastUpdated=ge2026-01-01"),
    ("Patient", "_lastUpdated=lt2026-01-01"),
    ("Observation", "value-quantity=gt100"),
    ("Observation", "value-quantity=185|http://unitsofmeasure.org|[lb_av]"),
    ("Observation", "code=http://loinc.org|8665-2,http://loinc.org|29463-7"),
    ("Observation", "category:missing=false&status=final"),
    ("Organization", "type=http://noskhe.ir/fhir/CodeSystem/organization-type|pharmacy"),
    ("Organization", "name=good"),
    ("Coverage", "insurer=TAMIN"),
    ("MedicationDispense", "status:not=completed"),
    ("Practitioner", "identifier=http://noskhe.ir/fhir/sid/irimc|"),
    ("ServiceRequest", "code:not=http://loinc.org|"),
]


def _resources() -> list[dict[str, Any]]:
    found = []
    for path in FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("resourceType") != "Bundle" and data.get("id"):
            found.append(data)
    return found


@pytest.fixture
def stored(store: SQLiteStore) -> list[dict[str, Any]]:
    from fhir_server.search.custom import _register, shipped_search_parameters

    _register(shipped_search_parameters())
    resources = _resources()
    write(store, *resources, last_updated="2026-03-01T00:00:00.000Z")
    return [
        {**r, "meta": {**(r.get("meta") or {}), "lastUpdated": "2026-03-01T00:00:00.000Z"}} for r in resources
    ]


@pytest.mark.parametrize(("type_", "query"), QUERIES, ids=[f"{t}?{q}" for t, q in QUERIES])
def test_agrees_with_the_store(
    store: SQLiteStore, stored: list[dict[str, Any]], type_: str, query: str
) -> None:
    params = [tuple(p.split("=", 1)) for p in query.split("&")]
    plan = parse_search(type_, params, strict=True)  # type: ignore[arg-type]
    in_memory.check(plan.clauses)
    expected = set(ids(store, type_, query + "&_count=1000"))
    found = {
        r["id"]
        for r in stored
        if r["resourceType"] == type_ and in_memory.matches(plan.clauses, r, extract_index(r))
    }
    assert found == expected


@pytest.mark.parametrize(
    "query", ["subject:Patient.gender=female", "_has:MedicationDispense:prescription:status=completed"]
)
def test_refuses_what_needs_other_resources(query: str) -> None:
    plan = parse_search("MedicationRequest", [tuple(query.split("=", 1))], strict=True)  # type: ignore[list-item]
    with pytest.raises(in_memory.Unsupported):
        in_memory.check(plan.clauses)
