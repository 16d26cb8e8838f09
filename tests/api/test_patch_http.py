"""PATCH over HTTP: FHIRPath Patch (application/fhir+json) beside JSON Patch, in
transactions and batches, the 415 for merge-style bodies, and bad input changing nothing."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from flask.testing import FlaskClient

from tests.patch.patch_helpers import op, params

FHIR_JSON = {"Content-Type": "application/fhir+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "http://noskhe.ir/fhir/sid/national-code", "value": "1234567891"}],
    "name": [{"family": "کریمی", "given": ["زهرا"]}],
    "gender": "female",
}


def _create(client: FlaskClient) -> str:
    r = client.post("/fhir/Patient", json=PATIENT, headers=FHIR_JSON)
    assert r.status_code == 201
    return str(r.json["id"])


def _read(client: FlaskClient, id_: str) -> dict[str, Any]:
    r = client.get(f"/fhir/Patient/{id_}")
    assert r.status_code == 200
    body: dict[str, Any] = r.json
    return body


def test_fhirpath_patch_and_json_patch(client: FlaskClient) -> None:
    id_ = _create(client)
    body = params(
        op("add", "Patient", name="birthDate", value=("Date", "1992-09-23")),
        op("insert", "Patient.name[0].given", index=0, value=("String", "فاطمه")),
        op("replace", "Patient.gender", value=("Code", "other")),
    )
    r = client.patch(
        f"/fhir/Patient/{id_}", data=orjson.dumps(body), headers={**FHIR_JSON, "If-Match": 'W/"1"'}
    )
    assert r.status_code == 200, r.json
    assert r.headers["ETag"] == 'W/"2"'
    stored = _read(client, id_)
    assert stored["birthDate"] == "1992-09-23" and stored["gender"] == "other"
    assert stored["name"][0]["given"] == ["فاطمه", "زهرا"]

    ops = [{"op": "replace", "path": "/gender", "value": "female"}]
    r = client.patch(f"/fhir/Patient/{id_}", data=orjson.dumps(ops), headers=JSON_PATCH)
    assert r.status_code == 200 and _read(client, id_)["gender"] == "female"
    # Plain application/json is taken when the body says which format it is.
    r = client.patch(f"/fhir/Patient/{id_}", json=params(op("delete", "Patient.birthDate")))
    assert r.status_code == 200 and "birthDate" not in _read(client, id_)
    r = client.patch(f"/fhir/Patient/{id_}", json=[{"op": "add", "path": "/active", "value": True}])
    assert r.status_code == 200 and _read(client, id_)["active"] is True


def test_merge_style_body_is_415_naming_both_formats(client: FlaskClient) -> None:
    id_ = _create(client)
    for headers in (
        {"Content-Type": "application/json"},
        {"Content-Type": "application/merge-patch+json"},
        {},
    ):
        r = client.patch(f"/fhir/Patient/{id_}", data=orjson.dumps({"gender": "male"}), headers=headers)
        assert r.status_code == 415 and r.json["resourceType"] == "OperationOutcome"
        text = r.json["issue"][0]["diagnostics"]
        assert "application/json-patch+json" in text and "application/fhir+json" in text
    assert _read(client, id_)["meta"]["versionId"] == "1"


def test_bad_patches_give_an_outcome_and_change_nothing(client: FlaskClient) -> None:
    id_ = _create(client)
    cases = [
        (FHIR_JSON, params(op("upsert", "Patient.gender")), 400),
        (FHIR_JSON, {"resourceType": "Patient", "gender": "male"}, 400),
        (FHIR_JSON, params(op("replace", "Patient.birthDate", value=("Date", "2000-01-01"))), 422),
        (
            FHIR_JSON,
            params(op("replace", "Patient.gender", value=("Code", "male")), op("delete", "Patient.name")),
            200,
        ),
        (FHIR_JSON, params(op("replace", "Patient.gender", value=("Code", "bogus"))), 400),  # invalid result
        (FHIR_JSON, params(op("add", "Patient", name="birthDate", value=("Date", "1403-13-01"))), 400),
        (JSON_PATCH, [{"op": "remove", "path": "/nope"}], 422),
    ]
    version = 1
    for headers, body, status in cases:
        r = client.patch(f"/fhir/Patient/{id_}", data=orjson.dumps(body), headers=headers)
        assert r.status_code == status, (body, r.json)
        if status == 200:
            version += 1
            continue
        assert r.json["resourceType"] == "OperationOutcome" and r.json["issue"][0]["diagnostics"]
        assert _read(client, id_)["meta"]["versionId"] == str(version)
    r = client.patch(f"/fhir/Patient/{id_}", json=params(), headers={**FHIR_JSON, "If-Match": 'W/"1"'})
    assert r.status_code == 412


def test_conditional_patch(client: FlaskClient) -> None:
    id_ = _create(client)
    query = "identifier=http://noskhe.ir/fhir/sid/national-code|1234567891"
    body = params(op("add", "Patient", name="birthDate", value=("Date", "1980-01-01")))
    r = client.patch(f"/fhir/Patient?{query}", data=orjson.dumps(body), headers=FHIR_JSON)
    assert r.status_code == 200 and _read(client, id_)["birthDate"] == "1980-01-01"


def _entry(url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource, "request": {"method": "PATCH", "url": url}}


def _binary(ops: list[dict[str, Any]]) -> dict[str, Any]:
    data = base64.b64encode(orjson.dumps(ops)).decode()
    return {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data}


def test_patch_entries_in_transactions_and_batches(client: FlaskClient) -> None:
    a, b = _create(client), _create(client)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(f"Patient/{a}", params(op("replace", "Patient.gender", value=("Code", "male")))),
            _entry(f"Patient/{b}", _binary([{"op": "add", "path": "/birthDate", "value": "1970-01-01"}])),
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.json
    assert [e["response"]["status"][:3] for e in r.json["entry"]] == ["200", "200"]
    assert _read(client, a)["gender"] == "male" and _read(client, b)["birthDate"] == "1970-01-01"

    # One bad entry: the transaction changes nothing; the batch changes the good entry only.
    good = _entry(f"Patient/{a}", params(op("replace", "Patient.gender", value=("Code", "unknown"))))
    bad = _entry(f"Patient/{b}", params(op("replace", "Patient.deceasedBoolean", value=("Boolean", True))))
    r = client.post("/fhir", json={**bundle, "entry": [good, bad]}, headers=FHIR_JSON)
    assert r.status_code == 422 and r.json["resourceType"] == "OperationOutcome"
    assert _read(client, a)["gender"] == "male"
    not_a_patch = _entry(f"Patient/{b}", {"resourceType": "Patient", "gender": "female"})
    r = client.post(
        "/fhir", json={**bundle, "type": "batch", "entry": [good, bad, not_a_patch]}, headers=FHIR_JSON
    )
    assert r.status_code == 200
    assert [e["response"]["status"][:3] for e in r.json["entry"]] == ["200", "422", "400"]
    assert "Parameters" in r.json["entry"][2]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert _read(client, a)["gender"] == "unknown" and _read(client, b).get("deceasedBoolean") is None


def test_capability_statement_lists_both_patch_formats(client: FlaskClient) -> None:
    cs = client.get("/fhir/metadata").json
    assert cs["patchFormat"] == ["application/json-patch+json", "application/fhir+json"]
