"""FHIRPath Patch semantics (fhirpatch.html): the examples of the R4 page and the cases of
the published FHIRPath Patch test set (add, insert, delete, replace, move on primitives,
complex and anonymous types, lists), written here as JSON, plus bad input."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.outcome import FhirError
from fhir_server.patch.fhirpath_patch import apply_fhirpath_patch
from tests.patch.patch_helpers import op, params

ORG = "http://example.org"


def patient(**body: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p", **body}


def ids(*values: str) -> list[dict[str, str]]:
    return [{"system": ORG, "value": v} for v in values]


CONTACT = {"name": {"text": "a name"}, "gender": "male"}

CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
    ("no difference", patient(birthDate="1920-01-01"), [], patient(birthDate="1920-01-01")),
    (
        "replace primitive",
        patient(birthDate="1920-01-01"),
        [op("replace", "Patient.birthDate", value=("Date", "1930-01-01"))],
        patient(birthDate="1930-01-01"),
    ),
    ("delete primitive", patient(birthDate="1920-01-01"), [op("delete", "Patient.birthDate")], patient()),
    (
        "add primitive (the R4 page's example)",
        patient(),
        [op("add", "Patient", name="birthDate", value=("Date", "1930-01-01"))],
        patient(birthDate="1930-01-01"),
    ),
    (
        "replace nested primitive",
        patient(contact=[CONTACT]),
        [op("replace", "Patient.contact[0].gender", value=("Code", "female"))],
        patient(contact=[{"name": {"text": "a name"}, "gender": "female"}]),
    ),
    (
        "replace nested primitive two levels down",
        patient(contact=[CONTACT]),
        [op("replace", "Patient.contact[0].name.text", value=("String", "the name"))],
        patient(contact=[{"name": {"text": "the name"}, "gender": "male"}]),
    ),
    (
        "delete nested primitive",
        patient(contact=[CONTACT]),
        [op("delete", "Patient.contact[0].gender")],
        patient(contact=[{"name": {"text": "a name"}}]),
    ),
    (
        "delete the only child leaves an empty object for validation to refuse",
        patient(contact=[CONTACT]),
        [op("delete", "Patient.contact[0].name.text")],
        patient(contact=[{"name": {}, "gender": "male"}]),
    ),
    (
        "add nested primitive",
        patient(contact=[{"name": {"text": "a name"}}]),
        [op("add", "Patient.contact[0]", name="gender", value=("Code", "male"))],
        patient(contact=[CONTACT]),
    ),
    (
        "add complex",
        patient(),
        [op("add", "Patient", name="maritalStatus", value=("CodeableConcept", {"text": "married"}))],
        patient(maritalStatus={"text": "married"}),
    ),
    (
        "replace complex",
        patient(maritalStatus={"id": "1", "text": "married"}),
        [
            op(
                "replace",
                "Patient.maritalStatus",
                value=("CodeableConcept", {"id": "2", "text": "not married"}),
            )
        ],
        patient(maritalStatus={"id": "2", "text": "not married"}),
    ),
    (
        "delete complex",
        patient(maritalStatus={"text": "married"}),
        [op("delete", "Patient.maritalStatus")],
        patient(),
    ),
    (
        "add anonymous type from parts (the R4 page's second example)",
        patient(),
        [
            op(
                "add",
                "Patient",
                name="contact",
                value=[{"name": "name", "valueHumanName": {"text": "a name"}}],
            )
        ],
        patient(contact=[{"name": {"text": "a name"}}]),
    ),
    (
        "anonymous parts: repeating children become lists",
        patient(),
        [
            op(
                "add",
                "Patient",
                name="contact",
                value=[
                    {"name": "telecom", "valueContactPoint": {"system": "phone", "value": "1"}},
                    {"name": "gender", "valueCode": "female"},
                ],
            )
        ],
        patient(contact=[{"telecom": [{"system": "phone", "value": "1"}], "gender": "female"}]),
    ),
    ("delete anonymous type", patient(contact=[CONTACT]), [op("delete", "Patient.contact[0]")], patient()),
    (
        "replace in list items",
        patient(identifier=[{"id": "a", **ids("value 1")[0]}, {"id": "b", **ids("value 2")[0]}]),
        [
            op("replace", "Patient.identifier[0].value", value=("String", "value 2")),
            op("replace", "Patient.identifier[1].value", value=("String", "value 1")),
        ],
        patient(identifier=[{"id": "a", **ids("value 2")[0]}, {"id": "b", **ids("value 1")[0]}]),
    ),
    (
        "insert at the end",
        patient(identifier=ids("value 1", "value 2")),
        [op("insert", "Patient.identifier", index=2, value=("Identifier", ids("value 3")[0]))],
        patient(identifier=ids("value 1", "value 2", "value 3")),
    ),
    (
        "insert in the middle",
        patient(identifier=ids("value 1", "value 2")),
        [op("insert", "Patient.identifier", index=1, value=("Identifier", ids("value 3")[0]))],
        patient(identifier=ids("value 1", "value 3", "value 2")),
    ),
    (
        "insert at the start",
        patient(identifier=ids("value 1", "value 2")),
        [op("insert", "Patient.identifier", index=0, value=("Identifier", ids("value 3")[0]))],
        patient(identifier=ids("value 3", "value 1", "value 2")),
    ),
    (
        "insert into a list that is not there yet",
        patient(),
        [op("insert", "Patient.identifier", index=0, value=("Identifier", ids("value 3")[0]))],
        patient(identifier=ids("value 3")),
    ),
    *[
        (
            f"delete from list #{i + 1}",
            patient(identifier=ids("value 1", "value 2", "value 3")),
            [op("delete", f"Patient.identifier[{i}]")],
            patient(identifier=ids(*[v for j, v in enumerate(("value 1", "value 2", "value 3")) if j != i])),
        )
        for i in range(3)
    ],
    (
        "delete by where()",
        patient(identifier=[{"use": "official", "value": "1"}, {"use": "usual", "value": "2"}]),
        [op("delete", "Patient.identifier.where(use = 'official')")],
        patient(identifier=[{"use": "usual", "value": "2"}]),
    ),
    (
        "delete what is not there does nothing",
        patient(gender="male"),
        [op("delete", "Patient.birthDate")],
        patient(gender="male"),
    ),
    *[
        (
            f"move {source} to {destination}",
            patient(identifier=ids("value 1", "value 2", "value 3", "value 4")),
            [op("move", "Patient.identifier", source=source, destination=destination)],
            patient(identifier=ids(*expected)),
        )
        for source, destination, expected in (
            (3, 1, ("value 1", "value 4", "value 2", "value 3")),
            (3, 0, ("value 4", "value 1", "value 2", "value 3")),
            (3, 2, ("value 1", "value 2", "value 4", "value 3")),
            (0, 3, ("value 2", "value 3", "value 4", "value 1")),
        )
    ],
    (
        "moves in sequence reverse a list",
        patient(identifier=ids("value 1", "value 2", "value 3", "value 4")),
        [
            op("move", "Patient.identifier", source=3, destination=0),
            op("move", "Patient.identifier", source=3, destination=1),
            op("move", "Patient.identifier", source=3, destination=2),
        ],
        patient(identifier=ids("value 4", "value 3", "value 2", "value 1")),
    ),
    (
        "add to a list that is not there yet",
        patient(),
        [op("add", "Patient", name="identifier", value=("Identifier", ids("value 3")[0]))],
        patient(identifier=ids("value 3")),
    ),
    (
        "add appends to a list",
        patient(identifier=ids("value 1")),
        [op("add", "Patient", name="identifier", value=("Identifier", ids("value 2")[0]))],
        patient(identifier=ids("value 1", "value 2")),
    ),
    (
        "replace a choice with another type",
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "high"},
        [op("replace", "Observation.value", value=("Quantity", {"value": 7.2, "unit": "mmol/L"}))],
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "valueQuantity": {"value": 7.2, "unit": "mmol/L"},
        },
    ),
    (
        "add a choice takes its key from the value's type",
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
        [op("add", "Observation", name="effective", value=("DateTime", "2026-01-01T10:00:00Z"))],
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "effectiveDateTime": "2026-01-01T10:00:00Z",
        },
    ),
    (
        "a Quantity fits a SimpleQuantity; primitive extensions follow their list",
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p"},
            "note": [{"text": "a"}],
            "instantiatesUri": ["http://a", "http://b"],
            "_instantiatesUri": [{"extension": [{"url": "http://x", "valueString": "on a"}]}, None],
        },
        [
            op(
                "add",
                "MedicationRequest",
                name="dispenseRequest",
                value=[{"name": "quantity", "valueQuantity": {"value": 20}}],
            ),
            op("move", "MedicationRequest.instantiatesUri", source=0, destination=1),
        ],
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p"},
            "note": [{"text": "a"}],
            "instantiatesUri": ["http://b", "http://a"],
            "_instantiatesUri": [None, {"extension": [{"url": "http://x", "valueString": "on a"}]}],
            "dispenseRequest": {"quantity": {"value": 20}},
        },
    ),
]


@pytest.mark.parametrize(("name", "before", "operations", "after"), CASES, ids=[c[0] for c in CASES])
def test_cases(
    name: str, before: dict[str, Any], operations: list[dict[str, Any]], after: dict[str, Any]
) -> None:
    original = repr(before)
    assert apply_fhirpath_patch(before, params(*operations)) == after
    assert repr(before) == original  # the input is never changed


BAD: list[tuple[str, Any, int, str]] = [
    ("not Parameters", {"resourceType": "Patient"}, 400, "Parameters resource"),
    ("a JSON Patch array", [{"op": "remove", "path": "/gender"}], 400, "Parameters resource"),
    (
        "another parameter",
        {"resourceType": "Parameters", "parameter": [{"name": "x"}]},
        400,
        "named 'operation'",
    ),
    ("unknown type", params(op("upsert", "Patient")), 400, "add, insert, delete, replace, move"),
    (
        "type as a string",
        params({"name": "operation", "part": [{"name": "type", "valueString": "add"}]}),
        400,
        "valueCode",
    ),
    (
        "no path",
        params({"name": "operation", "part": [{"name": "type", "valueCode": "delete"}]}),
        400,
        "path",
    ),
    ("add without name", params(op("add", "Patient", value=("Code", "male"))), 400, "needs name"),
    ("replace without value", params(op("replace", "Patient.gender")), 400, "needs value"),
    (
        "insert without index",
        params(op("insert", "Patient.identifier", value=("Identifier", {}))),
        400,
        "needs index",
    ),
    (
        "delete with a value",
        params(op("delete", "Patient.gender", value=("Code", "x"))),
        400,
        "takes no value",
    ),
    (
        "negative index",
        params(op("insert", "Patient.identifier", index=-1, value=("Identifier", {}))),
        400,
        "0 or more",
    ),
    (
        "two values",
        params(
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "replace"},
                    {"name": "path", "valueString": "Patient.gender"},
                    {"name": "value", "valueCode": "male", "valueString": "male"},
                ],
            }
        ),
        400,
        "exactly one",
    ),
    (
        "a part twice",
        params(
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "delete"},
                    {"name": "path", "valueString": "Patient.gender"},
                    {"name": "path", "valueString": "Patient.birthDate"},
                ],
            }
        ),
        400,
        "once",
    ),
    ("bad FHIRPath", params(op("delete", "Patient.name.where(")), 400, "is not usable"),
    (
        "replace of nothing",
        params(op("replace", "Patient.birthDate", value=("Date", "2000-01-01"))),
        422,
        "selects no element",
    ),
    (
        "replace of two",
        params(op("replace", "Patient.name.family", value=("String", "x"))),
        422,
        "selects 2 elements",
    ),
    (
        "add on nothing",
        params(op("add", "Patient.contact[3]", name="gender", value=("Code", "male"))),
        422,
        "selects no element",
    ),
    (
        "add over a single element",
        params(op("add", "Patient", name="gender", value=("Code", "male"))),
        422,
        "already there",
    ),
    (
        "add an unknown element",
        params(op("add", "Patient", name="shoeSize", value=("Integer", 44))),
        422,
        "no element 'shoeSize'",
    ),
    (
        "a value of the wrong type",
        params(op("replace", "Patient.name[0]", value=("Quantity", {"value": 1}))),
        422,
        "not a Quantity",
    ),
    (
        "a choice type it does not allow",
        params(op("add", "Patient", name="deceased", value=("String", "yes"))),
        422,
        "cannot hold a string",
    ),
    (
        "insert past the end",
        params(op("insert", "Patient.name", index=3, value=("HumanName", {"text": "x"}))),
        422,
        "past the end",
    ),
    (
        "insert into a single element",
        params(op("insert", "Patient.gender", index=0, value=("Code", "male"))),
        422,
        "not a list",
    ),
    ("move out of range", params(op("move", "Patient.name", source=0, destination=2)), 422, "positions in"),
    ("delete of two", params(op("delete", "Patient.name")), 422, "delete removes one"),
    ("change the id", params(op("replace", "Patient.id", value=("Id", "other"))), 422, "may not change id"),
    ("delete the resource", params(op("delete", "Patient")), 422, "cannot be deleted"),
    (
        "parts for a primitive",
        params(op("replace", "Patient.gender", value=[{"name": "x", "valueCode": "y"}])),
        422,
        "not built from parts",
    ),
    (
        "an unknown part name",
        params(op("add", "Patient", name="contact", value=[{"name": "shoe", "valueString": "x"}])),
        422,
        "no element 'shoe'",
    ),
    (
        "a later operation fails: nothing applies",
        params(
            op("replace", "Patient.gender", value=("Code", "female")),
            op("replace", "Patient.birthDate", value=("Date", "2000-01-01")),
        ),
        422,
        "selects no element",
    ),
]


@pytest.mark.parametrize(("name", "body", "status", "text"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_with_a_reason(name: str, body: Any, status: int, text: str) -> None:
    before = patient(gender="male", name=[{"family": "A"}, {"family": "B"}])
    original = repr(before)
    with pytest.raises(FhirError) as err:
        apply_fhirpath_patch(before, body)
    assert err.value.status == status
    assert text in (err.value.issues[0].diagnostics or "")
    assert repr(before) == original
