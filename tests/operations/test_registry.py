"""The operation registry: every operation documented in English and Persian, valid
OperationDefinitions, one route dispatching `$name` at the declared levels, types and
methods, and the CapabilityStatement listing what the registry offers."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from fhir_server.operations import REGISTRY, Operation, OperationRequest, Registry
from fhir_server.operations.contract import CANONICAL_BASE, In, Param, Text
from fhir_server.operations.definitions import all_definitions, operation_definition
from fhir_server.validation import validate_resource
from tests.conftest import FHIR_JSON

PERSIAN = re.compile(r"[\u0600-\u06FF]")


def _undocumented(op: Operation) -> list[str]:
    """What of an operation lacks English or Persian documentation."""
    missing = []
    for label, text in (("title", op.title), ("description", op.description)):
        if not text.en.strip() or not PERSIAN.search(text.fa):
            missing.append(f"${op.name} {label}")

    def walk(params: tuple[Param, ...], where: str) -> None:
        for p in params:
            if not p.doc.en.strip() or not PERSIAN.search(p.doc.fa):
                missing.append(f"${op.name} {where}{p.name}")
            if p.type is None and not p.parts:
                missing.append(f"${op.name} {where}{p.name} has neither a type nor parts")
            walk(p.parts, f"{where}{p.name}.")

    walk(op.parameters, "")
    if not op.asynchronous and not any(p.use == "out" for p in op.parameters):
        missing.append(f"${op.name} declares no output")
    return missing


@pytest.mark.parametrize("op", REGISTRY.operations, ids=lambda op: op.id)
def test_every_registered_operation_is_documented_in_english_and_persian(op: Operation) -> None:
    assert _undocumented(op) == []


def test_an_undocumented_operation_is_caught() -> None:
    bare = Operation(
        name="bare",
        title=Text("Bare", ""),
        description=Text("", "توضیح"),
        levels=("system",),
        handler=lambda req: {},
        parameters=(In("x", "string", "x", "x"),),
    )
    assert _undocumented(bare) == ["$bare title", "$bare description", "$bare x", "$bare declares no output"]


def test_state_changing_operations_cannot_be_offered_with_get() -> None:
    with pytest.raises(ValueError, match="GET"):
        Operation(
            name="x",
            title=Text("X", "ایکس"),
            description=Text("X", "ایکس"),
            levels=("system",),
            handler=lambda req: {},
            affects_state=True,
        )
    assert all("GET" not in op.methods for op in REGISTRY.operations if op.affects_state)


def test_two_definitions_with_one_id_are_refused() -> None:
    op = REGISTRY.operations[0]
    with pytest.raises(ValueError, match="share"):
        Registry([op, op])


@pytest.mark.parametrize("definition", all_definitions(), ids=lambda d: d["id"])
def test_operation_definitions_are_valid_r4(definition: dict) -> None:
    issues = [i for i in validate_resource(definition) if i.severity in ("error", "fatal")]
    assert issues == []
    assert definition["url"] == CANONICAL_BASE + definition["id"]
    fa = definition["_description"]["extension"][0]["extension"]
    assert fa[0] == {"url": "lang", "valueCode": "fa"} and PERSIAN.search(fa[1]["valueString"])


def test_definition_mirrors_the_declaration() -> None:
    op = next(o for o in REGISTRY.operations if o.id == "ValueSet-expand")
    od = operation_definition(op)
    assert (od["system"], od["type"], od["instance"]) == (False, True, True)
    assert od["resource"] == ["ValueSet"] and od["code"] == "expand" and od["affectsState"] is False
    assert od["base"] == "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"
    count = next(p for p in od["parameter"] if p["name"] == "count")
    assert count == {
        "name": "count",
        "use": "in",
        "min": 0,
        "max": "1",
        "documentation": "Codes to return at most",
        "_documentation": count["_documentation"],
        "type": "integer",
    }


# -- dispatch --------------------------------------------------------------------------


def test_unknown_operation_is_404(client: FlaskClient) -> None:
    r = client.get("/fhir/Patient/$nope")
    assert r.status_code == 404 and r.json["resourceType"] == "OperationOutcome"


def test_operation_at_a_level_it_does_not_offer_is_404(client: FlaskClient) -> None:
    r = client.get("/fhir/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender")
    assert r.status_code == 404
    assert "ValueSet/$expand" in r.json["issue"][0]["diagnostics"]
    assert client.get("/fhir/Patient/$expand").status_code == 404


def test_get_on_an_operation_that_changes_state_is_405(client: FlaskClient) -> None:
    r = client.get("/fhir/MedicationRequest/$prescribe")
    assert r.status_code == 405 and r.json["issue"][0]["code"] == "not-supported"


def test_one_route_serves_every_level(client: FlaskClient) -> None:
    url = "http://hl7.org/fhir/ValueSet/administrative-gender"
    by_type = client.get(f"/fhir/ValueSet/$expand?url={url}")
    assert by_type.status_code == 200 and by_type.headers["Content-Language"] == "en"
    codes = {c["code"] for c in by_type.json["expansion"]["contains"]}
    assert codes == {"male", "female", "other", "unknown"}
    by_instance = client.get("/fhir/ValueSet/drugs/$expand?count=1", headers={"Accept-Language": "fa"})
    assert by_instance.status_code == 200 and by_instance.headers["Content-Language"] == "fa"
    system = client.post(
        "/fhir/$lookup",
        json={
            "resourceType": "Parameters",
            "parameter": [
                {"name": "system", "valueUri": "http://hl7.org/fhir/administrative-gender"},
                {"name": "code", "valueCode": "female"},
            ],
        },
        headers=FHIR_JSON,
    )
    assert system.status_code == 200
    assert {"name": "display", "valueString": "Female"} in system.json["parameter"]


def test_a_handler_sees_a_parsed_request(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[OperationRequest] = []
    spy = {"resourceType": "Parameters"}
    ops = tuple(
        replace(o, handler=lambda req: seen.append(req) or spy) if o.id == "Resource-validate" else o
        for o in REGISTRY.operations
    )
    monkeypatch.setattr(REGISTRY, "operations", ops)
    body = {"resourceType": "Parameters", "parameter": [{"name": "mode", "valueCode": "create"}]}
    headers = {**FHIR_JSON, "Accept-Language": "fa-IR, en;q=0.5", "Prefer": "respond-async, return=minimal"}
    r = client.post("/fhir/Patient/p1/$validate?profile=x", json=body, headers=headers)
    assert r.status_code == 200
    req = seen[0]
    assert (req.name, req.level, req.type, req.id, req.method) == (
        "validate",
        "instance",
        "Patient",
        "p1",
        "POST",
    )
    assert req.query == (("profile", "x"),) and req.value("mode") == "create" and req.text("profile") == "x"
    assert (req.language, req.display_language) == ("fa", "fa-IR")
    assert req.prefer == {"respond-async": "", "return": "minimal"} and req.wants_async


# -- the CapabilityStatement lists what the registry offers ----------------------------


def test_capability_statement_lists_every_operation_at_its_level(client: FlaskClient) -> None:
    rest = client.get("/fhir/metadata").json["rest"][0]
    system = {(o["name"], o["definition"]) for o in rest["operation"]}
    assert system == {(op.name, op.url) for op in REGISTRY.at("system")}
    by_type = {r["type"]: {(o["name"], o["definition"]) for o in r["operation"]} for r in rest["resource"]}
    for op in REGISTRY.operations:
        for type_ in op.types if op.levels != ("system",) else ():
            assert (op.name, op.url) in by_type[type_], (op.id, type_)
    assert ("validate", CANONICAL_BASE + "Resource-validate") in by_type["Observation"]
    assert ("prescribe", CANONICAL_BASE + "prescribe") in by_type["MedicationRequest"]
