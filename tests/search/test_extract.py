import json
from pathlib import Path
from typing import Any

import pytest

from fhir_server.search import extract_index
from fhir_server.search.dates import date_range
from fhir_server.search.entries import (
    CompositeEntry,
    DateEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "r4-examples"


def _by(entries: list[Any], param: str) -> list[Any]:
    return [e for e in entries if e.param == param]


MR: dict[str, Any] = {
    "resourceType": "MedicationRequest",
    "id": "mr1",
    "meta": {"tag": [{"system": "http://t", "code": "t1"}], "profile": ["http://p/rx"]},
    "identifier": [
        {
            "system": "http://noskhe.ir/fhir/sid/prescription",
            "value": "RX-1",
            "type": {"coding": [{"system": "http://x/ids", "code": "RX"}], "text": "نسخه"},
        }
    ],
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "http://noskhe.ir/fhir/CodeSystem/generic",
                "code": "00077",
                "display": "Amoxicillin 500",
            }
        ],
        "text": "آموکسی سیلین",
    },
    "subject": {"reference": "Patient/p1", "display": "x"},
    "requester": {
        "reference": "http://other.org/fhir/Practitioner/dr9",
        "identifier": {"system": "http://noskhe.ir/fhir/sid/irimc", "value": "123"},
    },
    "authoredOn": "2026-11-20T10:00:00+03:30",
    "dosageInstruction": [{"timing": {"event": ["2026-11-21", "2026-11-22T08:00:00Z"]}}],
    "dispenseRequest": {"performer": {"reference": "Organization/ph1"}},
}


def test_medication_request_entries() -> None:
    entries = extract_index(MR)
    assert TokenEntry("status", None, "active") in entries
    assert TokenEntry("code", "http://noskhe.ir/fhir/CodeSystem/generic", "00077") in entries
    assert StringEntry("code:text", "آموکسی سیلین", "آموکسی سیلین") in entries
    assert StringEntry("code:text", "amoxicillin 500", "Amoxicillin 500") in entries
    assert TokenEntry("identifier", "http://noskhe.ir/fhir/sid/prescription", "RX-1") in entries
    assert TokenEntry("identifier:of-type", "http://x/ids", "RX|RX-1") in entries
    assert ReferenceEntry("subject", "Patient", "p1", None) in entries
    assert ReferenceEntry("patient", "Patient", "p1", None) in entries
    assert (
        ReferenceEntry("requester", "Practitioner", "dr9", "http://other.org/fhir/Practitioner/dr9")
        in entries
    )
    assert TokenEntry("requester:identifier", "http://noskhe.ir/fhir/sid/irimc", "123") in entries
    assert ReferenceEntry("intended-dispenser", "Organization", "ph1", None) in entries
    assert TokenEntry("_tag", "http://t", "t1") in entries
    assert UriEntry("_profile", "http://p/rx") in entries
    authored = _by(entries, "authoredon")
    assert authored == [DateEntry("authoredon", *date_range("2026-11-20T06:30:00Z"))]  # type: ignore[misc]
    assert len(_by(entries, "date")) == 2


def test_patient_not_reference_for_group_subject() -> None:
    mr = {**MR, "subject": {"reference": "Group/g1"}}
    entries = extract_index(mr)
    assert _by(entries, "patient") == []
    assert ReferenceEntry("subject", "Group", "g1", None) in entries


def test_human_name_parts_and_full_name() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "كريمي", "given": ["علي", "رضا"]}],
        "telecom": [{"system": "phone", "value": "0912"}, {"system": "email", "value": "a@b.ir"}],
        "birthDate": "2000",
        "gender": "male",
        "active": True,
    }
    entries = extract_index(patient)
    norms = {e.norm for e in _by(entries, "name")}
    assert {"کریمی", "علی", "رضا"} <= norms
    assert TokenEntry("phone", None, "0912") in entries
    assert TokenEntry("email", None, "a@b.ir") in entries
    assert TokenEntry("email", None, "0912") not in entries
    assert TokenEntry("active", None, "true") in entries
    assert _by(entries, "birthdate") == [DateEntry("birthdate", *date_range("2000"))]  # type: ignore[misc]


def test_quantity_and_composite() -> None:
    obs = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
        "valueQuantity": {
            "value": 120,
            "unit": "mmHg",
            "system": "http://unitsofmeasure.org",
            "code": "mm[Hg]",
        },
        "effectivePeriod": {"start": "2026-01-01"},
    }
    entries = extract_index(obs)
    q = QuantityEntry("value-quantity", 120.0, 120.0, "http://unitsofmeasure.org", "mm[Hg]", "mmHg")
    assert q in entries
    composites = [e for e in entries if isinstance(e, CompositeEntry) and e.param == "code-value-quantity"]
    assert len(composites) == 1
    assert composites[0].parts[0] == TokenEntry("code", "http://loinc.org", "8480-6")
    period = _by(entries, "date")[0]
    assert period.high > 2**52  # open end


def test_contained_and_malformed_values_are_skipped() -> None:
    mr = {**MR, "subject": {"reference": "#contained"}, "authoredOn": "not-a-date"}
    entries = extract_index(mr)
    assert _by(entries, "subject") == [] and _by(entries, "authoredon") == []


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


@pytest.mark.skipif(not EXAMPLES.exists(), reason="fixtures not present")
def test_every_example_extracts_without_error() -> None:
    count = 0
    for path in _examples():
        resource = json.loads(path.read_text())
        entries = extract_index(resource)
        assert isinstance(entries, list)
        count += len(entries)
    assert count > 100
