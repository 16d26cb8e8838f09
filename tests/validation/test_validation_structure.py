"""Negative and edge cases of the structural validator: issue code and FHIRPath location."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fhir_server.outcome import Issue
from fhir_server.validation import validate_resource

MED_REQUEST: dict[str, Any] = {
    "resourceType": "MedicationRequest",
    "id": "rx-1",
    "meta": {"lastUpdated": "2024-11-05T10:00:00+03:30", "profile": ["http://noskhe.ir/fhir/x"]},
    "identifier": [{"system": "http://noskhe.ir/fhir/sid/prescription", "value": "123"}],
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "00077"}]
    },
    "subject": {"reference": "Patient/p1"},
    "authoredOn": "2024-11-05",
    "dosageInstruction": [
        {
            "text": "1 capsule every 8 hours",
            "timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
        }
    ],
    "dispenseRequest": {
        "numberOfRepeatsAllowed": 2,
        "quantity": {"value": 30, "unit": "capsule"},
    },
}


def med(**changes: Any) -> dict[str, Any]:
    resource = copy.deepcopy(MED_REQUEST)
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def errors(issues: list[Issue]) -> list[Issue]:
    """The errors: a valid resource may still draw warnings (dom-6: no narrative)."""
    return [i for i in issues if i.severity == "error"]


def only(issues: list[Issue], code: str, expression: str) -> Issue:
    """Exactly one issue, with this code at this location."""
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue.severity == "error"
    assert (issue.code, issue.expression) == (code, (expression,)), issue
    return issue


def test_valid_medication_request() -> None:
    assert errors(validate_resource(MED_REQUEST, expected_type="MedicationRequest")) == []


def test_not_an_object() -> None:
    assert validate_resource([MED_REQUEST])[0].code == "structure"
    assert validate_resource("x")[0].code == "structure"


def test_unknown_resource_type() -> None:
    issue = validate_resource({"resourceType": "Prescription"})[0]
    assert issue.code == "invalid" and "Prescription" in issue.diagnostics
    assert validate_resource({"resourceType": "DomainResource"})[0].code == "invalid"
    assert validate_resource({"id": "x"})[0].code == "structure"


def test_expected_type_mismatch() -> None:
    issue = validate_resource(MED_REQUEST, expected_type="Patient")[0]
    assert issue.code == "invalid" and "Patient" in issue.diagnostics


def test_unknown_element() -> None:
    only(validate_resource(med(foo=1)), "structure", "MedicationRequest.foo")
    r = med()
    r["dispenseRequest"]["quantity"]["amount"] = 1
    only(validate_resource(r), "structure", "MedicationRequest.dispenseRequest.quantity.amount")


def test_wrong_choice_suffix() -> None:
    r = med(medicationCodeableConcept=None, medicationFoo={"text": "x"})
    issues = validate_resource(r)
    codes = {(i.code, i.expression) for i in issues}
    assert ("structure", ("MedicationRequest.medicationFoo",)) in codes
    assert ("required", ("MedicationRequest.medication",)) in codes
    assert "medicationReference" in issues[0].diagnostics


def test_two_choice_values() -> None:
    r = med(medicationReference={"reference": "Medication/m1"})
    issue = only(validate_resource(r), "structure", "MedicationRequest.medication.ofType(Reference)")
    assert "medicationCodeableConcept" in issue.diagnostics


def test_profiled_choice_simple_quantity_has_no_comparator() -> None:
    r = med()
    r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["comparator"] = "<"
    only(
        validate_resource(r),
        "structure",
        "MedicationRequest.dosageInstruction[0].doseAndRate[0].dose.ofType(Quantity).comparator",
    )


def test_missing_required() -> None:
    issues = validate_resource(med(subject=None, intent=None, status=None))
    found = {(i.code, i.expression) for i in issues}
    assert found == {
        ("required", ("MedicationRequest.subject",)),
        ("required", ("MedicationRequest.intent",)),
        ("required", ("MedicationRequest.status",)),
    }


def test_nested_required_only_when_parent_present() -> None:
    assert errors(validate_resource({"resourceType": "Patient"})) == []
    issues = validate_resource({"resourceType": "Patient", "link": [{"type": "seealso"}]})
    only(issues, "required", "Patient.link[0].other")


def test_wrong_json_types() -> None:
    only(validate_resource(med(status=1)), "structure", "MedicationRequest.status")
    only(validate_resource(med(subject="Patient/p1")), "structure", "MedicationRequest.subject")
    only(validate_resource(med(doNotPerform="true")), "structure", "MedicationRequest.doNotPerform")
    r = med()
    r["dispenseRequest"]["quantity"]["value"] = "30"
    issue = only(validate_resource(r), "structure", "MedicationRequest.dispenseRequest.quantity.value")
    assert "number" in issue.diagnostics


def test_boolean_is_not_a_number() -> None:
    r = med()
    r["dispenseRequest"]["quantity"]["value"] = True
    only(validate_resource(r), "structure", "MedicationRequest.dispenseRequest.quantity.value")


def test_array_vs_single() -> None:
    only(
        validate_resource(med(subject=[{"reference": "Patient/p1"}])),
        "structure",
        "MedicationRequest.subject",
    )
    only(validate_resource(med(identifier={"value": "1"})), "structure", "MedicationRequest.identifier")
    patient = {"resourceType": "Patient", "name": [{"given": "Ali"}]}
    only(validate_resource(patient), "structure", "Patient.name[0].given")


def test_integer_range_and_form() -> None:
    r = med()
    r["dispenseRequest"]["numberOfRepeatsAllowed"] = 2**31
    only(validate_resource(r), "value", "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed")
    r["dispenseRequest"]["numberOfRepeatsAllowed"] = -1  # unsignedInt
    only(validate_resource(r), "value", "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed")
    r["dispenseRequest"]["numberOfRepeatsAllowed"] = 1.5
    only(validate_resource(r), "structure", "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed")
    r = med()
    r["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = 0  # positiveInt
    only(validate_resource(r), "value", "MedicationRequest.dosageInstruction[0].timing.repeat.frequency")


def test_decimal_not_finite() -> None:
    r = med()
    r["dispenseRequest"]["quantity"]["value"] = float("nan")
    only(validate_resource(r), "value", "MedicationRequest.dispenseRequest.quantity.value")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024", True),
        ("2024-11", True),
        ("2024-11-05", True),
        ("2024-02-29", True),
        ("2023-02-29", False),
        ("2024-13-01", False),
        ("24-11-05", False),
        ("2024-11-05T10:00:00+03:30", False),
    ],
)
def test_date(value: str, ok: bool) -> None:
    issues = validate_resource({"resourceType": "Patient", "birthDate": value})
    if ok:
        assert errors(issues) == []
    else:
        only(issues, "value", "Patient.birthDate")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-11-05", True),
        ("2024-11-05T10:00:00Z", True),
        ("2024-11-05T10:00:00.123+03:30", True),
        ("2024-11-05T10:00:00", False),  # time without timezone
        ("2024-11-05T10:00+03:30", False),  # seconds required
        ("2024-11-05 10:00:00Z", False),
    ],
)
def test_datetime(value: str, ok: bool) -> None:
    issues = validate_resource(med(authoredOn=value))
    if ok:
        assert errors(issues) == []
    else:
        only(issues, "value", "MedicationRequest.authoredOn")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-11-05T10:00:00Z", True),
        ("2024-11-05T10:00:00.5-05:00", True),
        ("2024-11-05", False),
        ("2024-11-05T10:00:00", False),
        ("2024-11-05T10:00Z", False),
    ],
)
def test_instant(value: str, ok: bool) -> None:
    issues = validate_resource(med(meta={"lastUpdated": value}))
    if ok:
        assert errors(issues) == []
    else:
        only(issues, "value", "MedicationRequest.meta.lastUpdated")


@pytest.mark.parametrize("value", ["a b", "x" * 65, "rx_1", "ab/c", ""])
def test_bad_id(value: str) -> None:
    only(validate_resource(med(id=value)), "value", "MedicationRequest.id")


def test_good_ids() -> None:
    assert errors(validate_resource(med(id="A-1.b"))) == []
    assert errors(validate_resource(med(id="x" * 64))) == []


def test_uri_and_code_whitespace() -> None:
    r = med()
    r["identifier"][0]["system"] = "http://noskhe.ir/a b"
    only(validate_resource(r), "value", "MedicationRequest.identifier[0].system")
    r = med()
    r["medicationCodeableConcept"]["coding"][0]["code"] = " 00077"
    only(validate_resource(r), "value", "MedicationRequest.medication.ofType(CodeableConcept).coding[0].code")


def test_empty_values() -> None:
    only(validate_resource(med(authoredOn="")), "value", "MedicationRequest.authoredOn")
    only(validate_resource(med(subject={})), "structure", "MedicationRequest.subject")
    only(validate_resource(med(identifier=[])), "structure", "MedicationRequest.identifier")
    only(validate_resource(med(note=[{}])), "structure", "MedicationRequest.note[0]")
    r = med()
    r["subject"] = None
    only(validate_resource(r), "structure", "MedicationRequest.subject")
    patient = {"resourceType": "Patient", "name": [{"given": ["Ali", None]}]}
    only(validate_resource(patient), "structure", "Patient.name[0].given[1]")


def test_primitive_extensions() -> None:
    ext = {"url": "http://example.org/x", "valueString": "y"}
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"given": ["Ali", None], "_given": [None, {"extension": [ext]}]}],
        "_birthDate": {"extension": [ext]},
    }
    assert errors(validate_resource(patient)) == []
    patient["_gender"] = {"foo": 1}
    only(validate_resource(patient), "structure", "Patient.gender.foo")
    patient["_gender"] = "male"
    only(validate_resource(patient), "structure", "Patient.gender")
    del patient["_gender"]
    patient["_name"] = {"id": "x"}
    only(validate_resource(patient), "structure", "Patient._name")
    del patient["_name"]
    patient["name"][0]["_given"] = [None]
    issues = validate_resource(patient)
    assert {(i.code, i.expression) for i in issues} == {
        ("structure", ("Patient.name[0].given",)),
        ("structure", ("Patient.name[0].given[1]",)),
    }


def test_required_binding_code() -> None:
    issue = only(
        validate_resource({"resourceType": "Patient", "gender": "bogus"}), "code-invalid", "Patient.gender"
    )
    assert "bogus" in issue.diagnostics
    only(validate_resource(med(status="bogus")), "code-invalid", "MedicationRequest.status")
    only(validate_resource(med(intent="prescription")), "code-invalid", "MedicationRequest.intent")
    bundle = {"resourceType": "Bundle", "type": "box"}
    only(validate_resource(bundle), "code-invalid", "Bundle.type")


def test_required_binding_codeable_concept_checks_enumerated_system() -> None:
    system = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"system": system, "code": "active"}]},
    }
    assert errors(validate_resource(condition)) == []
    condition["clinicalStatus"]["coding"].append({"system": system, "code": "bogus"})
    only(validate_resource(condition), "code-invalid", "Condition.clinicalStatus.coding[1].code")
    # another system is not checked (a terminology service decides), nor are non-enumerable sets
    condition["clinicalStatus"]["coding"][1]["system"] = "http://example.org/other"
    assert errors(validate_resource(condition)) == []
    media = {"resourceType": "Media", "status": "completed", "content": {"contentType": "x/y"}}
    assert errors(validate_resource(media)) == []


def test_extension_rules() -> None:
    patient: dict[str, Any] = {"resourceType": "Patient", "extension": [{"valueString": "x"}]}
    only(validate_resource(patient), "required", "Patient.extension[0].url")
    patient["extension"] = [
        {"url": "http://e/x", "valueString": "x", "extension": [{"url": "a", "valueBoolean": True}]}
    ]
    only(validate_resource(patient), "invariant", "Patient.extension[0]")
    patient["extension"] = [{"url": "http://e/x"}]
    only(validate_resource(patient), "invariant", "Patient.extension[0]")
    patient["extension"] = [{"url": "http://e/x", "valueString": "a", "valueBoolean": True}]
    only(validate_resource(patient), "structure", "Patient.extension[0].value.ofType(boolean)")
    patient["extension"] = [{"url": "http://e/x", "valueFoo": "a"}]
    issues = validate_resource(patient)
    assert ("structure", ("Patient.extension[0].valueFoo",)) in {(i.code, i.expression) for i in issues}
    patient["modifierExtension"] = [{"url": "http://e/x", "valueCode": "a b  c"}]
    patient.pop("extension")
    only(validate_resource(patient), "value", "Patient.modifierExtension[0].value.ofType(code)")


def test_contained_resource_errors_have_their_location() -> None:
    r = med(
        contained=[
            {"resourceType": "Medication", "id": "m1", "status": "bogus"},
            {"resourceType": "Nope"},
        ],
        medicationCodeableConcept=None,
        medicationReference={"reference": "#m1"},
    )
    issues = validate_resource(r)
    assert {(i.code, i.expression) for i in issues} == {
        ("code-invalid", ("MedicationRequest.contained[0].status",)),
        ("invalid", ("MedicationRequest.contained[1]",)),
    }


def test_bundle_entries_are_validated_by_their_own_type() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": med(), "request": {"method": "POST", "url": "MedicationRequest"}},
            {
                "resource": {"resourceType": "Patient", "birthDate": "1990-02-30"},
                "request": {"method": "PUT", "url": "Patient/1"},
            },
            {"request": {"method": "GET"}},
        ],
    }
    issues = validate_resource(bundle)
    assert {(i.code, i.expression) for i in issues} == {
        ("value", ("Bundle.entry[1].resource.birthDate",)),
        ("required", ("Bundle.entry[2].request.url",)),
    }


def test_parameters_resource() -> None:
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "gender": "x"}},
            {"name": "n", "valueInteger": 1, "part": [{"name": "p", "valueString": ""}]},
        ],
    }
    issues = validate_resource(params)
    assert {(i.code, i.expression) for i in issues} == {
        ("code-invalid", ("Parameters.parameter[0].resource.gender",)),
        ("value", ("Parameters.parameter[1].part[0].value.ofType(string)",)),
    }


def test_narrative_div() -> None:
    r = med(text={"status": "generated", "div": "<p>x</p>"})
    only(validate_resource(r), "value", "MedicationRequest.text.div")
    r = med(text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'})
    assert errors(validate_resource(r)) == []
    only(validate_resource(med(text={"status": "generated"})), "required", "MedicationRequest.text.div")


def test_string_size_limit() -> None:
    r = med(note=[{"text": "x" * (1024 * 1024 + 1)}])
    only(validate_resource(r), "too-long", "MedicationRequest.note[0].text")


def test_recursive_content_reference() -> None:
    q = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [{"linkId": "1", "type": "group", "item": [{"type": "string"}]}],
    }
    only(validate_resource(q), "required", "Questionnaire.item[0].item[0].linkId")


def test_deep_nesting_is_an_issue_not_a_crash() -> None:
    ext: dict[str, Any] = {"url": "http://e/x", "valueString": "x"}
    for _ in range(2000):
        ext = {"url": "http://e/x", "extension": [ext]}
    issue = only(validate_resource({"resourceType": "Patient", "extension": [ext]}), "structure", "Patient")
    assert "nested" in issue.diagnostics
