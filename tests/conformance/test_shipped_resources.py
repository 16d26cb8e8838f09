"""Shipped conformance resources served read-only beside stored ones: read, vread,
history, search with their R4 parameters, merged paging with stored instances, 405 on
writes, and every conformance resource the CapabilityStatement names can be fetched."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from fhir_server.validation import validate_resource
from tests.conftest import FHIR_JSON

IR = "http://noskhe.ir/fhir"


def _get(client: FlaskClient, path: str, status: int = 200) -> Any:
    r = client.get("/fhir/" + path)
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"StructureDefinition?url={IR}/StructureDefinition/ir-patient", "ir-patient"),
        ("StructureDefinition?url=http://hl7.org/fhir/StructureDefinition/Quantity", "Quantity"),
        (
            "SearchParameter?url=http://hl7.org/fhir/SearchParameter/individual-birthdate",
            "individual-birthdate",
        ),
        (f"SearchParameter?url={IR}/SearchParameter/patient-national-code", "patient-national-code"),
        ("CodeSystem?url=http://hl7.org/fhir/administrative-gender", "administrative-gender"),
        ("ValueSet?url=http://hl7.org/fhir/ValueSet/administrative-gender", "administrative-gender"),
        (f"ValueSet?url={IR}/ValueSet/drugs", "drugs"),
        (f"OperationDefinition?url={IR}/OperationDefinition/prescribe", "prescribe"),
        ("CompartmentDefinition?code=Patient", "patient"),
        (f"NamingSystem?value={IR}/sid/national-code", "national-code"),
        (f"ImplementationGuide?url={IR}/ImplementationGuide/ir-eprescription", "ir-eprescription"),
        (f"ConceptMap?url={IR}/ConceptMap/irc-to-generic", "irc-to-generic"),
    ],
)
def test_shipped_resources_are_found_by_their_search_parameters(
    client: FlaskClient, query: str, expected: str
) -> None:
    bundle = _get(client, query)
    assert bundle["total"] == 1 and [e["resource"]["id"] for e in bundle["entry"]] == [expected]


def test_core_structure_definition_is_read_and_vread(client: FlaskClient) -> None:
    sd = _get(client, "StructureDefinition/Patient")
    assert sd["kind"] == "resource" and sd["snapshot"]["element"][0]["path"] == "Patient"
    assert sd["meta"]["versionId"] == "1"
    r = client.get("/fhir/StructureDefinition/Patient")
    assert r.headers["ETag"] == 'W/"1"'
    assert _get(client, "StructureDefinition/Patient/_history/1")["id"] == "Patient"
    _get(client, "StructureDefinition/Patient/_history/2", 404)
    history = _get(client, "StructureDefinition/Patient/_history")
    assert [e["resource"]["id"] for e in history["entry"]] == ["Patient"]
    assert _get(client, "StructureDefinition/HumanName")["kind"] == "complex-type"
    _get(client, "StructureDefinition/no-such-thing", 404)


def test_search_parameters_of_the_conformance_types_work(client: FlaskClient) -> None:
    profiles = _get(client, "StructureDefinition?type=Patient&derivation=constraint&_count=100")
    urls = {e["resource"]["url"] for e in profiles["entry"]}
    assert f"{IR}/StructureDefinition/ir-patient" in urls
    assert all(e["resource"]["type"] == "Patient" for e in profiles["entry"])
    gender = _get(client, "ValueSet?name=AdministrativeGender&_elements=url")
    assert [e["resource"]["url"] for e in gender["entry"]] == [
        "http://hl7.org/fhir/ValueSet/administrative-gender"
    ]
    params = _get(client, "SearchParameter?base=MedicationRequest&code=prescription")
    assert [e["resource"]["url"] for e in params["entry"]] == [
        f"{IR}/SearchParameter/medicationrequest-prescription"
    ]


@pytest.mark.parametrize(
    "path",
    [
        "StructureDefinition/Patient",
        "StructureDefinition/ir-patient",
        "ValueSet/administrative-gender",
        "CodeSystem/generic",
        "SearchParameter/individual-birthdate",
        "OperationDefinition/prescribe",
    ],
)
def test_shipped_instances_refuse_put_patch_and_delete(client: FlaskClient, path: str) -> None:
    resource = _get(client, path)
    put = client.put(f"/fhir/{path}", json=resource, headers=FHIR_JSON)
    assert put.status_code == 405 and put.json["issue"][0]["code"] == "not-supported"
    patch = client.patch(
        f"/fhir/{path}",
        json=[{"op": "replace", "path": "/status", "value": "retired"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert patch.status_code == 405
    assert client.delete(f"/fhir/{path}").status_code == 405
    assert _get(client, path) == resource
    assert _get(client, "_history")["total"] == 0  # nothing was stored


def test_a_conditional_update_that_matches_a_shipped_resource_is_refused(client: FlaskClient) -> None:
    vs = _get(client, "ValueSet/administrative-gender")
    r = client.put(
        "/fhir/ValueSet?url=http://hl7.org/fhir/ValueSet/administrative-gender",
        json={**vs, "status": "retired"},
        headers=FHIR_JSON,
    )
    assert r.status_code == 405


def _value_set(url: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "url": url,
        "name": name,
        "status": "active",
        "compose": {"include": [{"system": "http://hl7.org/fhir/administrative-gender"}]},
    }


def test_stored_instances_stay_writable_and_join_the_search(client: FlaskClient) -> None:
    created = client.post(
        "/fhir/ValueSet", json=_value_set(f"{IR}/ValueSet/local-sex", "LocalSex"), headers=FHIR_JSON
    )
    assert created.status_code == 201
    stored = created.json
    found = _get(client, f"ValueSet?url={IR}/ValueSet/local-sex")
    assert [e["resource"]["id"] for e in found["entry"]] == [stored["id"]]
    updated = client.put(
        f"/fhir/ValueSet/{stored['id']}", json={**stored, "status": "retired"}, headers=FHIR_JSON
    )
    assert updated.status_code == 200
    both = _get(client, "ValueSet?name=LocalSex,AdministrativeGender&_sort=name")
    assert [e["resource"]["name"] for e in both["entry"]] == ["AdministrativeGender", "LocalSex"]
    assert both["total"] == 2
    assert client.delete(f"/fhir/ValueSet/{stored['id']}").status_code == 200
    assert _get(client, f"ValueSet?url={IR}/ValueSet/local-sex")["total"] == 0


def test_paging_walks_stored_and_shipped_instances_once_each(client: FlaskClient) -> None:
    for n in range(3):
        url = f"{IR}/SearchParameter/local-{n}"
        sp = {
            "resourceType": "SearchParameter",
            "url": url,
            "name": f"local{n}",
            "status": "draft",
            "description": "local",
            "code": f"local-{n}",
            "base": ["Basic"],
            "type": "token",
            "expression": "Basic.code",
        }
        assert client.post("/fhir/SearchParameter", json=sp, headers=FHIR_JSON).status_code == 201
    seen: list[str] = []
    page = _get(client, "SearchParameter?base=Basic&_count=4&_sort=-url")
    total = page["total"]
    while True:
        seen += [e["resource"]["url"] for e in page["entry"] if e["search"]["mode"] == "match"]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        page = _get(client, nxt[0].split("/fhir/", 1)[1])
    assert len(seen) == len(set(seen)) == total
    assert seen == sorted(seen, reverse=True)
    assert {f"{IR}/SearchParameter/local-{n}" for n in range(3)} <= set(seen)
    assert "http://hl7.org/fhir/SearchParameter/Basic-code" in seen


def test_system_search_leaves_shipped_resources_out_unless_named(client: FlaskClient) -> None:
    assert _get(client, "?_count=0")["total"] == 0
    named = _get(client, "?_type=CompartmentDefinition")
    assert named["total"] == 5


# -- what the CapabilityStatement names --------------------------------------------------


def _canonicals(statement: dict[str, Any]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {
        "StructureDefinition": set(),
        "SearchParameter": set(),
        "OperationDefinition": set(),
        "ImplementationGuide": set(statement["implementationGuide"]),
    }
    rest = statement["rest"][0]
    for op in rest["operation"]:
        wanted["OperationDefinition"].add(op["definition"])
    for sp in rest.get("searchParam", []):
        if "definition" in sp:
            wanted["SearchParameter"].add(sp["definition"])
    for res in rest["resource"]:
        wanted["StructureDefinition"].add(res["profile"])
        wanted["StructureDefinition"].update(res.get("supportedProfile", []))
        wanted["OperationDefinition"].update(o["definition"] for o in res.get("operation", []))
        wanted["SearchParameter"].update(
            p["definition"] for p in res.get("searchParam", []) if "definition" in p
        )
    return wanted


def test_every_conformance_resource_the_capability_statement_names_is_served(client: FlaskClient) -> None:
    statement = _get(client, "metadata")
    for type_, urls in _canonicals(statement).items():
        ordered = sorted(urls)
        assert ordered, type_
        for start in range(0, len(ordered), 80):
            chunk = ordered[start : start + 80]
            query = ",".join(quote(u, safe=":/") for u in chunk)
            bundle = _get(client, f"{type_}?url={query}&_elements=url&_count=200")
            found = {e["resource"]["url"] for e in bundle["entry"]}
            assert found == set(chunk), (type_, set(chunk) - found)


def test_capability_statement_lists_profiles_and_the_guide(client: FlaskClient) -> None:
    statement = _get(client, "metadata")
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["supportedProfile"] == [f"{IR}/StructureDefinition/ir-patient"]
    assert statement["implementationGuide"] == [f"{IR}/ImplementationGuide/ir-eprescription"]
    assert statement["instantiates"] == ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"]
    group = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Group")
    assert {"name": "export", "definition": f"{IR}/OperationDefinition/Group-export"} in group["operation"]
    guide = _get(client, "ImplementationGuide/ir-eprescription")
    entries = guide["definition"]["resource"]
    listed = {r["reference"]["reference"] for r in entries if r.get("exampleBoolean") is False}
    assert {"StructureDefinition/ir-patient", "NamingSystem/national-code", "CodeSystem/generic"} <= listed
    for ref in sorted(listed):
        _get(client, ref)  # every conformance resource the guide lists is served
    examples = [r for r in entries if "exampleCanonical" in r]
    assert {r["exampleCanonical"] for r in examples} >= {f"{IR}/StructureDefinition/ir-patient"}


def test_terminology_capabilities(client: FlaskClient) -> None:
    caps = _get(client, "metadata?mode=terminology")
    assert caps["resourceType"] == "TerminologyCapabilities"
    assert [i for i in validate_resource(caps) if i.severity == "error"] == []
    systems = {c["uri"] for c in caps["codeSystem"]}
    assert {"http://hl7.org/fhir/administrative-gender", f"{IR}/CodeSystem/generic"} <= systems
    assert client.get("/fhir/metadata?mode=nonsense").status_code == 400
