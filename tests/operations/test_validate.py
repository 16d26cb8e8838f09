"""$validate at type and instance level, with modes."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import FHIR_JSON

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">A man</div>'}


def test_validate_valid_resource(client: FlaskClient) -> None:
    patient = {"resourceType": "Patient", "gender": "male", "text": NARRATIVE}
    r = client.post("/fhir/Patient/$validate", json=patient, headers=FHIR_JSON)
    assert r.status_code == 200
    assert r.json["issue"] == [{"severity": "information", "code": "informational", "diagnostics": "All OK"}]


def test_validate_warns_about_a_resource_without_narrative(client: FlaskClient) -> None:
    r = client.post(
        "/fhir/Patient/$validate", json={"resourceType": "Patient", "gender": "male"}, headers=FHIR_JSON
    )
    assert r.status_code == 200
    assert r.json["issue"] == [
        {
            "severity": "warning",
            "code": "invariant",
            "diagnostics": "dom-6: A resource should have narrative for robust management",
            "expression": ["Patient"],
        }
    ]


def test_validate_reports_errors_and_writes_nothing(client: FlaskClient) -> None:
    r = client.post(
        "/fhir/Patient/$validate", json={"resourceType": "Patient", "gender": "x"}, headers=FHIR_JSON
    )
    assert r.status_code == 200
    assert r.json["issue"][0]["expression"] == ["Patient.gender"]
    assert client.get("/fhir/_history").json["total"] == 0


def test_validate_parameters_update_mode_needs_matching_id(client: FlaskClient) -> None:
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "id": "other"}},
            {"name": "mode", "valueCode": "update"},
        ],
    }
    r = client.post("/fhir/Patient/p1/$validate", json=params, headers=FHIR_JSON)
    assert r.json["issue"][0]["severity"] == "error" and r.json["issue"][0]["expression"] == ["Patient.id"]


def test_validate_bad_mode_is_400(client: FlaskClient) -> None:
    r = client.post(
        "/fhir/Patient/$validate?mode=frobnicate", json={"resourceType": "Patient"}, headers=FHIR_JSON
    )
    assert r.status_code == 400 and r.json["resourceType"] == "OperationOutcome"


def test_unknown_operation_is_404(client: FlaskClient) -> None:
    r = client.post("/fhir/Patient/$nope", json={"resourceType": "Parameters"}, headers=FHIR_JSON)
    assert r.status_code == 404 and r.json["resourceType"] == "OperationOutcome"
