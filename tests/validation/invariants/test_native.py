"""Native dom-2..dom-6 and ref-1 give the answers of the FHIRPath they stand in for.

Each case runs the native check and the published expression (or, for the errata, the
corrected one from errata.py) in fhirpathpy on the same resource."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server import definitions
from fhir_server.validation.invariants.checks import truth
from fhir_server.validation.invariants.engine import compile_with_fhirpathpy
from fhir_server.validation.invariants.errata import ERRATA
from fhir_server.validation.invariants.native import NATIVE
from fhir_server.validation.invariants.scope import Scope

MED = {"resourceType": "Medication", "id": "m1", "status": "active"}
ORG = {"resourceType": "Organization", "id": "o1", "name": "x"}


def rx(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        **extra,
    }


RESOURCES: dict[str, dict[str, Any]] = {
    "no contained": rx(medicationCodeableConcept={"text": "x"}),
    "contained and referenced": rx(contained=[MED], medicationReference={"reference": "#m1"}),
    "contained, not referenced": rx(contained=[MED], medicationCodeableConcept={"text": "x"}),
    "two contained, one referenced": rx(contained=[MED, ORG], medicationReference={"reference": "#m1"}),
    "nested contained": rx(contained=[{**MED, "contained": [ORG]}], medicationReference={"reference": "#m1"}),
    "contained with versionId": rx(
        contained=[{**MED, "meta": {"versionId": "1"}}], medicationReference={"reference": "#m1"}
    ),
    "contained with lastUpdated": rx(
        contained=[{**MED, "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}}],
        medicationReference={"reference": "#m1"},
    ),
    "contained with security": rx(
        contained=[{**MED, "meta": {"security": [{"code": "R"}]}}], medicationReference={"reference": "#m1"}
    ),
    "contained refers to container": rx(
        contained=[{**ORG, "partOf": {"reference": "#"}}], medicationCodeableConcept={"text": "x"}
    ),
    "referenced from a canonical": {
        "resourceType": "Questionnaire",
        "status": "active",
        "contained": [{"resourceType": "ValueSet", "id": "vs1", "status": "active"}],
        "item": [{"linkId": "1", "type": "choice", "answerValueSet": "#vs1"}],
    },
    "narrative": rx(text={"status": "generated", "div": "<div>x</div>"}),
}

DOM_KEYS = ("dom-2", "dom-3", "dom-4", "dom-5", "dom-6")


def published(key: str) -> str:
    erratum = ERRATA.get(key)
    return (
        erratum.expression
        if erratum is not None and erratum.expression
        else definitions.constraint(key).expression
    )


@pytest.mark.parametrize("key", DOM_KEYS)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_domain_resource_natives_agree_with_fhirpath(key: str, name: str) -> None:
    resource = RESOURCES[name]
    scope = Scope(resource, resource)
    expected = truth(compile_with_fhirpathpy(published(key))(resource, resource["resourceType"], scope))
    native = NATIVE[key](resource, scope)
    assert (native is True) == (expected is not False), (key, name, native, expected)


def test_the_cases_cover_both_answers_of_each_dom_rule() -> None:
    for key in DOM_KEYS:
        answers = {NATIVE[key](r, Scope(r, r)) is True for r in RESOURCES.values()}
        assert answers == {True, False}, key


def test_dom_6_asks_no_narrative_of_a_contained_resource() -> None:
    container = RESOURCES["contained and referenced"]
    med = container["contained"][0]
    assert NATIVE["dom-6"](med, Scope(med, container)) is True
    assert NATIVE["dom-6"](container, Scope(container, container)) is False


REFERENCES: list[tuple[str, dict[str, Any], bool]] = [
    ("relative", {"reference": "Patient/1"}, True),
    ("identifier only", {"identifier": {"value": "1"}}, True),
    ("to a contained resource", {"reference": "#m1"}, True),
    ("to nothing contained", {"reference": "#nope"}, False),
]


@pytest.mark.parametrize(("name", "reference", "holds"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_ref_1_native_agrees_with_the_corrected_fhirpath(
    name: str, reference: dict[str, Any], holds: bool
) -> None:
    resource = RESOURCES["contained and referenced"]
    scope = Scope(resource, resource)
    expected = truth(compile_with_fhirpathpy(published("ref-1"))(reference, "Reference", scope))
    assert (NATIVE["ref-1"](reference, scope) is True) is holds
    assert (expected is not False) is holds


def test_ref_1_refuses_a_reference_to_itself_where_fhirpath_gives_no_answer() -> None:
    """'#' in the container itself: the corrected expression is empty (not true), which
    strict validators read as a failure; the native form says so."""
    resource = RESOURCES["contained and referenced"]
    scope = Scope(resource, resource)
    reference = {"reference": "#"}
    assert truth(compile_with_fhirpathpy(published("ref-1"))(reference, "Reference", scope)) is None
    assert NATIVE["ref-1"](reference, scope) is False


def test_ref_1_allows_a_contained_resource_to_refer_to_its_container() -> None:
    container = RESOURCES["contained refers to container"]
    org = container["contained"][0]
    scope = Scope(org, container)
    reference = {"reference": "#"}
    assert NATIVE["ref-1"](reference, scope) is True
    assert truth(compile_with_fhirpathpy(published("ref-1"))(reference, "Reference", scope)) is True


def structural_keys(resource: dict[str, Any]) -> set[str]:
    from fhir_server.validation import validate_resource

    return {i.diagnostics.split(":")[0] for i in validate_resource(resource) if i.severity == "error"}


NAMES: list[dict[str, Any]] = [
    {"id": "n1"},
    {"id": "n1", "text": "Ali"},
    {"text": "Ali"},
    {"id": "n1", "extension": [{"url": "http://x", "valueString": "y"}]},
    {"id": "n1", "period": {"start": "2020"}},
]


@pytest.mark.parametrize("name", NAMES, ids=[str(n) for n in NAMES])
def test_ele_1_in_the_structural_walk_agrees_with_its_fhirpath(name: dict[str, Any]) -> None:
    expression = definitions.constraint("ele-1").expression
    patient = {"resourceType": "Patient", "name": [name]}
    holds = truth(compile_with_fhirpathpy(expression)(name, "HumanName", Scope(patient, patient)))
    assert ("ele-1" not in structural_keys(patient)) is (holds is not False)


EXTENSIONS: list[dict[str, Any]] = [
    {"url": "http://x", "valueString": "y"},
    {"url": "http://x", "extension": [{"url": "a", "valueString": "b"}]},
    {"url": "http://x", "valueString": "y", "extension": [{"url": "a", "valueString": "b"}]},
    {"url": "http://x"},
    {"url": "http://x", "_valueString": {"extension": [{"url": "a", "valueString": "b"}]}},
]


@pytest.mark.parametrize("ext", EXTENSIONS, ids=[str(sorted(e)) for e in EXTENSIONS])
def test_ext_1_in_the_structural_walk_agrees_with_its_fhirpath(ext: dict[str, Any]) -> None:
    expression = definitions.constraint("ext-1").expression
    patient = {"resourceType": "Patient", "extension": [ext]}
    holds = truth(compile_with_fhirpathpy(expression)(ext, "Extension", Scope(patient, patient)))
    assert ("ext-1" not in structural_keys(patient)) is (holds is not False)
