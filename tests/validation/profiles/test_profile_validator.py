"""Profile validator: cardinality, fixed values, slices, bindings, invariants, languages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fhir_server.outcome import Issue
from fhir_server.validation.profiles import language_from_header, validate_against, validate_profiles
from fhir_server.validation.profiles.native import national_code_ok

EXAMPLES = Path(__file__).resolve().parents[3] / "profiles" / "ir-eprescription" / "examples"
SD = "http://noskhe.ir/fhir/StructureDefinition/"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def errors(issues: list[Issue]) -> list[str]:
    return [i.diagnostics for i in issues if i.severity == "error"]


def test_missing_required_element_is_reported_with_location() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    del mr["authoredOn"]
    issues = validate_profiles(mr)
    assert [i.expression for i in issues] == [("MedicationRequest.authoredOn",)]
    assert "at least 1" in issues[0].diagnostics


def test_max_cardinality_narrowed_by_profile() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    mr["insurance"].append({"reference": "Coverage/other"})
    assert any("at most 1" in e for e in errors(validate_profiles(mr)))


def test_fixed_value() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    mr["groupIdentifier"]["system"] = "http://example.org/rx"
    found = errors(validate_profiles(mr))
    assert any("must be http://noskhe.ir/fhir/sid/prescription" in e for e in found)


def test_required_slice_missing() -> None:
    pr = example("Practitioner-ir-practitioner-example")
    pr["identifier"] = [i for i in pr["identifier"] if not i["system"].endswith("irimc")]
    issues = validate_profiles(pr)
    assert any("irimc" in (i.expression[0] if i.expression else "") for i in issues)
    assert any("at least 1" in e for e in errors(issues))


def test_slice_max() -> None:
    patient = example("Patient-ir-patient-example")
    patient["identifier"].append({"system": "http://noskhe.ir/fhir/sid/national-code", "value": "1234567891"})
    assert any("at most 1" in e for e in errors(validate_profiles(patient)))


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("0018243460", True),
        ("1234567891", True),
        ("0451253541", True),
        ("1531257747", True),
        ("1111111111", False),
        ("0000000000", False),
        ("1234567890", False),
        ("12345", False),
        ("12345678x1", False),
    ],
)
def test_national_code_invariant(code: str, valid: bool) -> None:
    patient = example("Patient-ir-patient-example")
    patient["identifier"][0]["value"] = code
    found = errors(validate_profiles(patient))
    assert (not found) is valid
    if not valid:
        assert found == ["ir-nc-1: A national code has 10 digits, not all the same, and a valid check digit"]


@pytest.mark.parametrize("code", ["0018243460", "1111111111", "1234567890", "9999999990", "0000000019"])
def test_native_national_code_agrees_with_fhirpath(code: str) -> None:
    import fhirpathpy
    from fhirpathpy.models import models

    from fhir_server.validation.profiles.registry import structure_definitions

    sd = structure_definitions()[SD + "ir-patient"]
    slice_ = next(e for e in sd["snapshot"]["element"] if e["id"] == "Patient.identifier:nationalCode")
    expr = next(c["expression"] for c in slice_["constraint"] if c["key"] == "ir-nc-1")
    fhirpath = fhirpathpy.evaluate({"system": "x", "value": code}, expr, {}, models["r4"])
    assert fhirpath == [national_code_ok(code)]


def test_patient_without_national_code_needs_mothers() -> None:
    patient = example("Patient-ir-patient-example")
    del patient["identifier"]
    found = errors(validate_profiles(patient))
    assert found and found[0].startswith("ir-pat-1:")
    assert not errors(validate_profiles(example("Patient-ir-patient-infant")))


def test_mothers_national_code_checksum() -> None:
    infant = example("Patient-ir-patient-infant")
    infant["extension"][0]["valueString"] = "2222222222"
    assert [e.split(":")[0] for e in errors(validate_profiles(infant))] == ["ir-pat-3"]


def test_mobile_number_invariant() -> None:
    patient = example("Patient-ir-patient-example")
    patient["telecom"][0]["value"] = "02188776655"
    assert [e.split(":")[0] for e in errors(validate_profiles(patient))] == ["ir-pat-2"]


def test_repeats_at_most_three() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    mr["dispenseRequest"]["numberOfRepeatsAllowed"] = 4
    issues = validate_profiles(mr)
    assert [e.split(":")[0] for e in errors(issues)] == ["ir-mr-4"]
    assert issues[0].expression == ("MedicationRequest.dispenseRequest.numberOfRepeatsAllowed",)
    mr["dispenseRequest"]["numberOfRepeatsAllowed"] = 3
    assert not validate_profiles(mr)


def test_validity_period_order() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    mr["dispenseRequest"]["validityPeriod"] = {"start": "2026-12-01", "end": "2026-11-01"}
    assert [e.split(":")[0] for e in errors(validate_profiles(mr))] == ["ir-mr-3"]


def test_requester_must_be_practitioner() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    mr["requester"] = {"reference": "Patient/ir-patient-example"}
    assert [e.split(":")[0] for e in errors(validate_profiles(mr))] == ["ir-mr-1"]


def test_insurance_must_be_coverage() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    mr["insurance"] = [{"reference": "Organization/x"}]
    assert [e.split(":")[0] for e in errors(validate_profiles(mr))] == ["ir-mr-2"]


def test_encounter_invariant() -> None:
    enc = example("Encounter-ir-encounter-example")
    enc["period"] = {"end": "2026-11-01T10:00:00+03:30"}
    assert [e.split(":")[0] for e in errors(validate_profiles(enc))] == ["ir-enc-1"]


def test_servicerequest_reason_must_be_icd10() -> None:
    sr = example("ServiceRequest-ir-servicerequest-example")
    sr["reasonCode"][0]["coding"][0]["system"] = "http://snomed.info/sct"
    assert [e.split(":")[0] for e in errors(validate_profiles(sr))] == ["ir-sr-1"]


def test_dispense_completed_needs_handover_time() -> None:
    md = example("MedicationDispense-ir-medicationdispense-example")
    del md["whenHandedOver"]
    assert [e.split(":")[0] for e in errors(validate_profiles(md))] == ["ir-md-1"]


def test_medication_reference_not_allowed() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    del mr["medicationCodeableConcept"]
    mr["medicationReference"] = {"reference": "Medication/x"}
    assert any("type Reference is not allowed" in e for e in errors(validate_profiles(mr)))


# -- bindings: one failing case per binding -------------------------------------------------

REQUIRED_BINDINGS = [
    (
        "MedicationRequest-ir-medicationrequest-example",
        lambda r: r["medicationCodeableConcept"].update(
            coding=[{"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "99999"}]
        ),
        "ValueSet/drugs",
    ),
    (
        "MedicationRequest-ir-medicationrequest-example",
        lambda r: r["dosageInstruction"][0]["timing"]["code"]["coding"][0].update(code="Q3D"),
        "ValueSet/drug-frequency",
    ),
    (
        "MedicationDispense-ir-medicationdispense-example",
        lambda r: r["medicationCodeableConcept"]["coding"][0].update(code="12345"),
        "ValueSet/drugs",
    ),
    (
        "ServiceRequest-ir-servicerequest-example",
        lambda r: r["category"][0]["coding"][0].update(code="01"),
        "ValueSet/service-category",
    ),
    (
        "Coverage-ir-coverage-example",
        lambda r: r["type"]["coding"][0].update(code="ACME"),
        "ValueSet/insurer",
    ),
    (
        "Coverage-ir-coverage-example",
        lambda r: r["relationship"]["coding"][0].update(code="cousin"),
        "ValueSet/coverage-relationship",
    ),
    (
        "Organization-ir-organization-example",
        lambda r: r["extension"][0]["valueCoding"].update(code="32"),
        "ValueSet/province",
    ),
    (
        "Organization-ir-organization-example",
        lambda r: r["type"][0]["coding"][0].update(code="bakery"),
        "ValueSet/organization-type",
    ),
    (
        "PractitionerRole-ir-practitionerrole-example",
        lambda r: r["code"][0]["coding"][0].update(code="bakery"),
        "ValueSet/organization-type",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "valueset"), REQUIRED_BINDINGS)
def test_required_binding_is_an_error(name: str, mutate: Any, valueset: str) -> None:
    resource = example(name)
    mutate(resource)
    found = errors(validate_profiles(resource))
    assert len(found) == 1 and valueset in found[0] and "is not in the value set" in found[0]


EXTENSIBLE_BINDINGS = [
    (
        "MedicationRequest-ir-medicationrequest-example",
        lambda r: r["dosageInstruction"][0]["additionalInstruction"][0]["coding"][0].update(code="XX"),
        "ValueSet/drug-instruction",
    ),
    (
        "Practitioner-ir-practitioner-example",
        lambda r: r["qualification"][0]["code"]["coding"][0].update(code="XX"),
        "ValueSet/specialty",
    ),
    (
        "PractitionerRole-ir-practitionerrole-example",
        lambda r: r["specialty"][0]["coding"][0].update(code="XX"),
        "ValueSet/specialty",
    ),
    (
        "ServiceRequest-ir-servicerequest-example",
        lambda r: r["code"]["coding"][0].update(code="000000"),
        "ValueSet/rvu",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "valueset"), EXTENSIBLE_BINDINGS)
def test_extensible_binding_is_a_warning(name: str, mutate: Any, valueset: str) -> None:
    resource = example(name)
    mutate(resource)
    issues = validate_profiles(resource)
    assert [i.severity for i in issues] == ["warning"]
    assert valueset in issues[0].diagnostics


def test_icd10_reason_is_not_checked_locally() -> None:
    sr = example("ServiceRequest-ir-servicerequest-example")
    sr["reasonCode"][0]["coding"][0]["code"] = "Z99.99"
    assert not validate_profiles(sr)


# -- languages, claims, settings -------------------------------------------------------------


def test_persian_messages() -> None:
    patient = example("Patient-ir-patient-example")
    patient["identifier"][0]["value"] = "1111111111"
    found = errors(validate_profiles(patient, lang="fa"))
    assert found == ["ir-nc-1: کد ملی باید ۱۰ رقم، با رقم کنترل درست و نه همه رقم‌ها یکسان باشد"]
    del patient["birthDate"]
    assert any("دست‌کم" in e for e in errors(validate_profiles(patient, lang="fa")))


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fa-IR,fa;q=0.9,en;q=0.8", "fa"),
        ("en-US,fa;q=0.5", "en"),
        ("", "en"),
        (None, "en"),
        ("fa", "fa"),
        ("de, fa;q=0.3", "fa"),
    ],
)
def test_language_from_header(header: str | None, lang: str) -> None:
    assert language_from_header(header) == lang


def test_unclaimed_profile_checked_only_when_required() -> None:
    mr = example("MedicationRequest-ir-medicationrequest-example")
    del mr["meta"]
    del mr["authoredOn"]
    assert validate_profiles(mr) == []
    assert errors(validate_profiles(mr, require_ir=True))


def test_unknown_profile_is_a_warning() -> None:
    patient = example("Patient-ir-patient-example")
    patient["meta"]["profile"].append("http://example.org/StructureDefinition/other")
    issues = validate_profiles(patient)
    assert [i.severity for i in issues] == ["warning"]


def test_profile_for_another_type() -> None:
    patient = example("Patient-ir-patient-example")
    assert errors(validate_against(patient, SD + "ir-medicationrequest"))
