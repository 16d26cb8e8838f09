"""/fhir/openapi.json: a valid OpenAPI 3.1 document of everything the server declares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV31SpecValidator

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.openapi import EPRESCRIPTION_TYPES
from fhir_server.operations import REGISTRY

BASE = "http://127.0.0.1:8080/fhir"
HEADERS = ("If-Match", "If-None-Exist", "Prefer", "Idempotency-Key")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """Authorization on (the SMART security schemes), no token sent."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi"), base_url=BASE))
    yield app.test_client()


@pytest.fixture(scope="module")
def document(secured: FlaskClient) -> dict[str, Any]:
    answer = secured.get("/fhir/openapi.json")  # public, like /metadata
    assert answer.status_code == 200, answer.data[:300]
    assert answer.content_type == "application/json"
    doc: dict[str, Any] = answer.get_json()
    return doc


@pytest.fixture(scope="module")
def capability(secured: FlaskClient) -> dict[str, Any]:
    statement: dict[str, Any] = secured.get("/fhir/metadata").get_json()
    return statement


def test_the_whole_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert errors == []


def test_every_type_interaction_and_search_parameter(
    document: dict[str, Any], capability: dict[str, Any]
) -> None:
    paths = document["paths"]
    where = {
        "search-type": ("/{t}", "get"),
        "create": ("/{t}", "post"),
        "read": ("/{t}/{{id}}", "get"),
        "update": ("/{t}/{{id}}", "put"),
        "patch": ("/{t}/{{id}}", "patch"),
        "delete": ("/{t}/{{id}}", "delete"),
        "history-type": ("/{t}/_history", "get"),
        "history-instance": ("/{t}/{{id}}/_history", "get"),
        "vread": ("/{t}/{{id}}/_history/{{vid}}", "get"),
    }
    missing = []
    for resource in capability["rest"][0]["resource"]:
        t = resource["type"]
        for interaction in resource["interaction"]:
            path, method = where[interaction["code"]]
            if method not in paths.get(path.format(t=t), {}):
                missing.append(f"{interaction['code']} {t}")
        if any(i["code"] == "search-type" for i in resource["interaction"]):
            documented = {p.get("name") for p in paths[f"/{t}"]["get"]["parameters"]}
            missing += [
                f"{t}?{p['name']}"
                for p in resource["searchParam"]
                if p["name"] not in documented and not p["name"].startswith("_")
            ]
    assert missing == []
    # a server-written type offers no writes, and the document says so
    assert "put" not in paths["/AuditEvent/{id}"] and "post" not in paths["/AuditEvent"]


def test_every_registered_operation_at_every_level(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for op in REGISTRY.operations:
        for level in op.levels:
            if level == "system":
                candidates = [f"/${op.name}"]
            else:
                suffix = "/{id}" if level == "instance" else ""
                candidates = [f"/{t}{suffix}/${op.name}" for t in op.types] or [
                    f"/{{type}}{suffix}/${op.name}"
                ]
            for path in candidates:
                assert path in paths, path
                for method in op.methods:
                    entry = paths[path][method.lower()]
                    assert op.url in entry["description"], path
                    assert op.description.fa in entry["description"]  # Persian alongside English
    prescribe = document["paths"]["/MedicationRequest/$prescribe"]
    assert set(prescribe) == {"post"}  # it changes state: no GET
    export = document["paths"]["/$export"]["get"]
    assert "202" in export["responses"]
    assert any(p.get("name") == "_type" for p in export["parameters"])


def test_headers_security_and_schemas(document: dict[str, Any], secured: FlaskClient) -> None:
    parameters = document["components"]["parameters"]
    assert {parameters[h]["name"] for h in HEADERS} == set(HEADERS)
    assert all(parameters[h]["in"] == "header" for h in HEADERS)
    assert "If-Match" in str(document["paths"]["/MedicationRequest/{id}"]["put"]["parameters"])
    assert "If-None-Exist" in str(document["paths"]["/Patient"]["post"]["parameters"])
    smart = secured.get("/fhir/.well-known/smart-configuration").get_json()
    flows = document["components"]["securitySchemes"]["smart"]["flows"]
    assert flows["authorizationCode"]["authorizationUrl"] == smart["authorization_endpoint"]
    assert flows["clientCredentials"]["tokenUrl"] == smart["token_endpoint"]
    assert "system/*.rs" in flows["clientCredentials"]["scopes"]
    assert document["servers"] == [{"url": BASE}]
    schemas = document["components"]["schemas"]
    for type_ in EPRESCRIPTION_TYPES:
        assert schemas[type_]["properties"]["resourceType"] == {"const": type_}
    request = schemas["MedicationRequest"]
    assert set(request["required"]) >= {"resourceType", "status", "intent", "subject"}
    assert request["properties"]["dosageInstruction"]["type"] == "array"
    assert {"medicationCodeableConcept", "medicationReference"} <= set(request["properties"])
    body = document["paths"]["/MedicationRequest"]["post"]["requestBody"]["content"]["application/fhir+json"]
    assert body["schema"] == {"$ref": "#/components/schemas/MedicationRequest"}


def test_without_authorization_there_is_no_security_scheme(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    document = client.get("/fhir/openapi.json?_type=Patient").get_json()
    assert "securitySchemes" not in document["components"] and "security" not in document


def test_a_selection_of_types_is_a_valid_document_of_those_types(secured: FlaskClient) -> None:
    answer = secured.get("/fhir/openapi.json?_type=Patient,MedicationRequest")
    document = answer.get_json()
    assert "/Patient/{id}" in document["paths"] and "/MedicationRequest/$prescribe" in document["paths"]
    assert "/Observation" not in document["paths"] and "/$export" in document["paths"]
    assert document["components"]["parameters"]["type"]["schema"]["enum"] == ["Patient", "MedicationRequest"]
    assert list(OpenAPIV31SpecValidator(document).iter_errors()) == []


@pytest.mark.parametrize("query", ["_type=Bogus", "_type=Patient,Nope", "_type=", "_type=,"])
def test_an_unknown_type_is_refused(secured: FlaskClient, query: str) -> None:
    answer = secured.get(f"/fhir/openapi.json?{query}")
    assert answer.status_code == 400
    assert answer.get_json()["resourceType"] == "OperationOutcome"


def test_the_landing_page_links_the_documentation(secured: FlaskClient) -> None:
    page = secured.get("/").data.decode()
    assert 'href="/docs"' in page
    docs = secured.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.data.decode()
    bundle = secured.get("/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 500_000  # served from the package, not fetched
    assert secured.get("/docs/..%2Fapp.py").status_code == 404
