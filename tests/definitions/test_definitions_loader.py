"""The derived R4 definition files and their loaders."""

from __future__ import annotations

from pathlib import Path

from fhir_server import definitions


def test_resource_types() -> None:
    types = definitions.resource_types()
    assert len(types) == 146
    assert {"Patient", "MedicationRequest", "Bundle", "Parameters", "Binary"} <= types
    assert "Resource" not in types and "DomainResource" not in types


def test_type_names_include_bases_and_datatypes() -> None:
    names = definitions.type_names()
    assert {"Resource", "DomainResource", "HumanName", "Timing", "Dosage", "Extension"} <= names
    assert {"Meta", "Narrative", "Reference", "SimpleQuantity", "Element"} <= names


def test_element_tree_choice_and_binding() -> None:
    obs = definitions.element_tree("Observation")
    value = obs["Observation.value[x]"]
    assert value.is_choice and value.max == 1 and not value.many
    assert value.choices["valueQuantity"] == "Quantity"
    assert value.choices["valueDateTime"] == "dateTime"
    status = obs["Observation.status"]
    assert status.min == 1 and status.types == ("code",)
    assert status.binding == "http://hl7.org/fhir/ValueSet/observation-status"
    assert obs["Observation.id"].types == ("id",)


def test_element_tree_profiled_quantity_keeps_json_name() -> None:
    dose = definitions.element_tree("Dosage")["Dosage.doseAndRate.dose[x]"]
    assert dose.choices == {"doseRange": "Range", "doseQuantity": "SimpleQuantity"}
    assert "Quantity.comparator" not in definitions.element_tree("SimpleQuantity")


def test_content_reference() -> None:
    item = definitions.element_tree("Questionnaire")["Questionnaire.item.item"]
    assert item.content_reference == "Questionnaire.item" and item.max is None


def test_required_codes() -> None:
    gender = definitions.required_codes("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    assert gender == frozenset({"male", "female", "other", "unknown"})
    intent = definitions.required_codes("http://hl7.org/fhir/ValueSet/medicationrequest-intent")
    assert intent is not None and {"order", "proposal", "plan"} <= intent
    assert definitions.required_codes("http://hl7.org/fhir/ValueSet/mimetypes") is None
    assert definitions.required_codes("http://example.org/unknown") is None
    by_system = definitions.required_codes_by_system("http://hl7.org/fhir/ValueSet/event-timing")
    assert by_system is not None and "http://hl7.org/fhir/event-timing" in by_system


def test_search_parameters() -> None:
    params = definitions.search_parameters()
    assert len(params) == 1375
    mr = {p["code"]: p for p in params if "MedicationRequest" in p["base"]}
    assert len(mr) == 16
    assert mr["patient"]["type"] == "reference" and "Patient" in mr["patient"]["target"]
    assert mr["authoredon"]["expression"] == "MedicationRequest.authoredOn"
    composite = [p for p in params if p["type"] == "composite"]
    assert len(composite) == 46 and all(p["component"] for p in composite)


def test_compartments() -> None:
    comps = definitions.compartments()
    assert set(comps) == {"Patient", "Encounter", "RelatedPerson", "Practitioner", "Device"}
    assert comps["Patient"]["MedicationRequest"] == ["subject"]
    assert "performer" in comps["Patient"]["Observation"]


def test_derived_files_are_small() -> None:
    total = sum(p.stat().st_size for p in definitions.DATA_DIR.glob("*.json"))
    assert total < 6 * 1024 * 1024
    # Large derived data is committed compressed: the served conformance resources only.
    assert [p.name for p in Path(definitions.DATA_DIR).glob("*.gz")] == ["conformance.json.gz"]
    assert (definitions.DATA_DIR / "conformance.json.gz").stat().st_size < 3 * 1024 * 1024
