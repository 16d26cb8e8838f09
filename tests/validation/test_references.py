"""Reference rules: literal formats, target types, Reference.type, contained ids,
conditional references only in transactions."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.outcome import Issue
from fhir_server.validation import validate_resource


def observation(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, **extra}


def errors(resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validate_resource(resource) if i.severity == "error"]


VALID = [
    {"reference": "Patient/123"},
    {"reference": "Patient/123/_history/2"},
    {"reference": "Group/g.1-a"},
    {"reference": "http://fhir.example.ir/fhir/Patient/123"},
    {"reference": "https://fhir.example.ir/fhir/Patient/123/_history/4"},
    {"reference": "http://registry.example.ir/people/42"},  # an external URL of no FHIR shape
    {"identifier": {"system": "http://noskhe.ir/fhir/sid/national-code", "value": "0018243460"}},
    {"display": "a patient we only name"},
    {"reference": "Patient/1", "type": "Patient"},
    {"type": "Patient", "identifier": {"value": "1"}},
]


@pytest.mark.parametrize("subject", VALID, ids=[str(v) for v in VALID])
def test_valid_references(subject: dict[str, Any]) -> None:
    assert errors(observation(subject=subject)) == []


INVALID = [
    ("Patient/", "no id"),
    ("Patient/a b", "not a valid id"),
    ("Patientx/1", "names no resource type"),
    ("patient/1", "names no resource type"),
    ("Patient/1/extra", "not a reference"),
    ("Patient/" + "x" * 65, "not a valid id"),
    ("123", "not a reference"),
    ("", "empty reference"),
    ("ftp://example.org/Patient/1", "http(s) URL"),
    ("http://exa mple.org/Patient/1", "http(s) URL"),
    ("urn:uuid:not-a-uuid", "urn:uuid"),
    ("urn:uuid:3f1c8e62-7d2b-4a51-9a0e-1b2c3d4e5f60", "inside a Bundle"),
    ("urn:oid:1.2.3", "inside a Bundle"),
]


@pytest.mark.parametrize(("ref", "said"), INVALID, ids=[i[0] or "empty" for i in INVALID])
def test_malformed_references(ref: str, said: str) -> None:
    found = errors(observation(subject={"reference": ref}))
    if ref == "":  # an empty string is refused as a primitive first
        assert [i.expression for i in found] == [("Observation.subject.reference",)]
        return
    assert len(found) == 1, found
    assert found[0].expression == ("Observation.subject.reference",)
    assert said in found[0].diagnostics


@pytest.mark.parametrize(
    ("ref", "target"),
    [
        ("Medication/1", "Medication"),
        ("http://fhir.example.ir/fhir/Medication/1", "Medication"),
        ("Observation/2", "Observation"),
    ],
)
def test_target_type_must_be_allowed(ref: str, target: str) -> None:
    found = errors(observation(subject={"reference": ref}))
    assert [(i.expression, target in i.diagnostics, "Patient" in i.diagnostics) for i in found] == [
        (("Observation.subject.reference",), True, True)
    ]


def test_requester_pointing_at_an_observation_is_refused() -> None:
    rx = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": "Patient/1"},
        "requester": {"reference": "Observation/1"},
    }
    assert [i.expression for i in errors(rx)] == [("MedicationRequest.requester.reference",)]


def test_reference_type_must_agree_and_be_allowed() -> None:
    disagree = errors(observation(subject={"reference": "Patient/1", "type": "Group"}))
    assert [i.expression for i in disagree] == [("Observation.subject.type",)]
    assert "disagrees" in disagree[0].diagnostics
    not_allowed = errors(observation(subject={"type": "Medication", "identifier": {"value": "1"}}))
    assert [i.expression for i in not_allowed] == [("Observation.subject.type",)]
    unknown = errors(observation(subject={"type": "Patientx", "display": "x"}))
    assert [i.expression for i in unknown] == [("Observation.subject.type",)]
    core_url = observation(
        subject={"reference": "Patient/1", "type": "http://hl7.org/fhir/StructureDefinition/Patient"}
    )
    assert errors(core_url) == []


def test_a_local_reference_names_a_contained_resource_of_an_allowed_type() -> None:
    med = {"resourceType": "Medication", "id": "m1"}
    ok = observation(contained=[{"resourceType": "Patient", "id": "p"}], subject={"reference": "#p"})
    assert errors(ok) == []
    wrong_type = observation(contained=[med], subject={"reference": "#m1"})
    assert [i.expression for i in errors(wrong_type)] == [("Observation.subject.reference",)]
    missing = observation(subject={"reference": "#nothing"})
    found = errors(missing)
    assert [(i.diagnostics.split(":")[0], i.expression) for i in found] == [
        ("ref-1", ("Observation.subject",))
    ]


def test_contained_ids_are_present_and_unique() -> None:
    twice = observation(
        contained=[{"resourceType": "Patient", "id": "p"}, {"resourceType": "Patient", "id": "p"}],
        subject={"reference": "#p"},
    )
    assert [i.expression for i in errors(twice)] == [("Observation.contained[1].id",)]
    without = observation(contained=[{"resourceType": "Patient", "gender": "male"}])
    assert ("Observation.contained[0]",) in [i.expression for i in errors(without)]


CONDITIONAL = "Practitioner?identifier=http://noskhe.ir/fhir/sid/irimc|12345"


def rx_with_requester(ref: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": "Patient/1"},
        "requester": {"reference": ref},
    }


def test_conditional_reference_is_refused_outside_a_transaction() -> None:
    found = errors(rx_with_requester(CONDITIONAL))
    assert [i.expression for i in found] == [("MedicationRequest.requester.reference",)]
    assert "transaction" in found[0].diagnostics


@pytest.mark.parametrize(
    ("bundle_type", "allowed"), [("transaction", True), ("batch", False), ("collection", False)]
)
def test_conditional_reference_inside_a_stored_bundle(bundle_type: str, allowed: bool) -> None:
    entry: dict[str, Any] = {"resource": rx_with_requester(CONDITIONAL)}
    if bundle_type in ("transaction", "batch"):
        entry["request"] = {"method": "POST", "url": "MedicationRequest"}
    bundle = {"resourceType": "Bundle", "type": bundle_type, "entry": [entry]}
    found = errors(bundle)
    assert (found == []) is allowed, found


def test_urn_uuid_resolves_inside_a_bundle() -> None:
    uuid = "urn:uuid:3f1c8e62-7d2b-4a51-9a0e-1b2c3d4e5f60"
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": uuid, "resource": {"resourceType": "Patient"}},
            {"resource": observation(subject={"reference": uuid})},
        ],
    }
    assert errors(bundle) == []
