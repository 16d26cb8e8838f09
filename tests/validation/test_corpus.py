"""The validation corpus, through the validator, $validate and create.

Invalid: every case is refused with the element path it names (and the constraint key,
for invariants): $validate answers 200 with the error in its OperationOutcome; create
answers 400 with it and stores nothing. Valid: the official R4 examples of the
prescription-related types and the IR examples pass $validate and are created (201).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.repository.server_records import server_written
from fhir_server.validation import validate_resource
from tests.conftest import FHIR_JSON
from tests.validation.corpus_cases import Case, invalid_cases, known_invalid_examples, valid_examples

INVALID = invalid_cases()
VALID = valid_examples()
KNOWN_INVALID = known_invalid_examples()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    data: Path = tmp_path_factory.mktemp("corpus")
    yield create_app(Settings(data_dir=data, auth=False)).test_client()


def names_it(case: Case, issue: dict[str, Any]) -> bool:
    return (
        issue["severity"] == "error"
        and case.path in issue.get("expression", [])
        and (case.key is None or issue["diagnostics"].startswith(f"{case.key}:"))
    )


def validate_body(resource: dict[str, Any]) -> dict[str, Any]:
    """A Parameters resource is sent wrapped: a bare Parameters body is $validate's own input."""
    if resource["resourceType"] != "Parameters":
        return resource
    return {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": resource}]}


def test_corpus_size() -> None:
    assert len(INVALID) >= 300
    assert len({c.category for c in INVALID}) >= 30
    assert len(VALID) >= 100
    assert len({c.id for c in INVALID}) == len(INVALID)


@pytest.mark.parametrize("case", INVALID, ids=[c.id for c in INVALID])
def test_invalid_is_refused_through_validate_and_create(client: FlaskClient, case: Case) -> None:
    issues = [i.to_fhir() for i in validate_resource(case.resource)]
    assert any(names_it(case, i) for i in issues), issues
    rtype = case.resource["resourceType"]
    checked = client.post(f"/fhir/{rtype}/$validate", json=validate_body(case.resource), headers=FHIR_JSON)
    assert checked.status_code == 200
    assert any(names_it(case, i) for i in checked.json["issue"]), checked.json
    created = client.post(f"/fhir/{rtype}", json=case.resource, headers=FHIR_JSON)
    assert created.json["resourceType"] == "OperationOutcome"
    if rtype in server_written():  # no client creates these, valid or not
        assert created.status_code == 405, created.json
        return
    assert created.status_code == 400, created.json
    assert any(names_it(case, i) for i in created.json["issue"]), created.json


def test_nothing_invalid_was_stored(client: FlaskClient) -> None:
    """Runs after the invalid cases in this module: none of them left a resource."""
    types = {c.resource["resourceType"] for c in INVALID}
    for rtype in types:
        # the type's history: what was stored (shipped conformance resources are not)
        assert client.get(f"/fhir/{rtype}/_history").json.get("total", 0) == 0, rtype


# The medical rules (profiles/ir-eprescription/policy) let only a neurologist, neurosurgeon
# or orthopaedist order this MRI; the example's prescriber is a general practitioner.
WORKFLOW_REFUSED = {"ServiceRequest-ir-servicerequest-mri.json"}

# The IR prescription examples refer to these (the workflow needs them to exist).
IR_REFERRED = ("Organization", "Practitioner", "PractitionerRole", "Patient", "Coverage", "Encounter")


@pytest.fixture(scope="module")
def ir_referred(client: FlaskClient) -> None:
    for rtype in IR_REFERRED:
        for name, resource in VALID.items():
            if name.startswith(f"{rtype}-ir-"):
                r = client.put(f"/fhir/{rtype}/{resource['id']}", json=resource, headers=FHIR_JSON)
                assert r.status_code in (200, 201), r.json


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_example_passes_validate_and_create(client: FlaskClient, ir_referred: None, name: str) -> None:
    resource = VALID[name]
    rtype = resource["resourceType"]
    checked = client.post(f"/fhir/{rtype}/$validate", json=resource, headers=FHIR_JSON)
    assert checked.status_code == 200
    assert [i for i in checked.json["issue"] if i["severity"] == "error"] == []
    created = client.post(f"/fhir/{rtype}", json=resource, headers=FHIR_JSON)
    if name in WORKFLOW_REFUSED:  # valid, and refused by the medical rules, not by validation
        assert created.status_code == 422
        assert {i["code"] for i in created.json["issue"] if i["severity"] == "error"} == {"business-rule"}
        return
    assert created.status_code == 201, created.json


@pytest.mark.parametrize("name", sorted(KNOWN_INVALID))
def test_known_invalid_example_is_refused_for_its_listed_reason(client: FlaskClient, name: str) -> None:
    resource, listed = KNOWN_INVALID[name]
    issues = validate_resource(resource)
    assert listed["path"] in [e for i in issues if i.severity == "error" for e in i.expression], listed
