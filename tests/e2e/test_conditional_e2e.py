"""Conditional create/update/patch/delete and conditional references, over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.conftest import FHIR_JSON, RunningServer

pytestmark = pytest.mark.e2e
NC = "http://noskhe.ir/fhir/sid/national-code"


def patient(code: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": NC, "value": code}], **extra}


def unique_code() -> str:
    return str(uuid.uuid4().int)[:10]


def test_if_none_exist_none_one_many(server: RunningServer) -> None:
    code = unique_code()
    cond = {**FHIR_JSON, "If-None-Exist": f"identifier={NC}|{code}"}
    first = requests.post(f"{server.base}/Patient", json=patient(code), headers=cond)
    assert first.status_code == 201
    second = requests.post(f"{server.base}/Patient", json=patient(code, gender="male"), headers=cond)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert "gender" not in second.json()  # the existing resource, not the new body
    requests.post(f"{server.base}/Patient", json=patient(code), headers=FHIR_JSON)  # now two match
    many = requests.post(f"{server.base}/Patient", json=patient(code), headers=cond)
    assert many.status_code == 412 and many.json()["resourceType"] == "OperationOutcome"


def test_conditional_update_creates_then_updates(server: RunningServer) -> None:
    code = unique_code()
    url = f"{server.base}/Patient?identifier={NC}|{code}"
    created = requests.put(url, json=patient(code), headers=FHIR_JSON)
    assert created.status_code == 201
    updated = requests.put(url, json=patient(code, gender="female"), headers=FHIR_JSON)
    assert updated.status_code == 200 and updated.json()["id"] == created.json()["id"]
    assert updated.headers["ETag"] == 'W/"2"'


def test_conditional_patch_and_delete(server: RunningServer) -> None:
    code = unique_code()
    pid = requests.post(f"{server.base}/Patient", json=patient(code), headers=FHIR_JSON).json()["id"]
    url = f"{server.base}/Patient?identifier={NC}|{code}"
    ops = [{"op": "add", "path": "/gender", "value": "other"}]
    r = requests.patch(url, json=ops, headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json()["id"] == pid and r.json()["gender"] == "other"
    r = requests.delete(url)
    assert r.status_code == 200
    assert requests.get(f"{server.base}/Patient/{pid}").status_code == 410
    r = requests.patch(url, json=ops, headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 404  # nothing matches any more


def test_conditional_delete_of_several_is_412_and_deletes_nothing(server: RunningServer) -> None:
    code = unique_code()
    ids = [
        requests.post(f"{server.base}/Patient", json=patient(code), headers=FHIR_JSON).json()["id"]
        for _ in range(2)
    ]
    r = requests.delete(f"{server.base}/Patient?identifier={NC}|{code}")
    assert r.status_code == 412
    assert all(requests.get(f"{server.base}/Patient/{i}").status_code == 200 for i in ids)


def test_transaction_conditional_reference_and_if_none_exist(server: RunningServer) -> None:
    code = unique_code()
    pid = requests.post(f"{server.base}/Patient", json=patient(code), headers=FHIR_JSON).json()["id"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:2b5c1c9e-0000-4000-8000-000000000001",
                "resource": patient(code, gender="male"),
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={NC}|{code}"},
            },
            {
                "resource": {
                    "resourceType": "Encounter",
                    "status": "arrived",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                    "subject": {"reference": f"Patient?identifier={NC}|{code}"},
                },
                "request": {"method": "POST", "url": "Encounter"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "BP"},
                    "subject": {"reference": "urn:uuid:2b5c1c9e-0000-4000-8000-000000000001"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"  # matched, not created
    assert entries[1]["resource"]["subject"]["reference"] == f"Patient/{pid}"
    assert entries[2]["resource"]["subject"]["reference"] == f"Patient/{pid}"


def test_transaction_conditional_reference_without_match_fails(server: RunningServer) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "x"},
                    "subject": {"reference": f"Patient?identifier={NC}|{unique_code()}"},
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        ],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 412 and "matched 0" in r.json()["issue"][0]["diagnostics"]


def test_read_with_summary_and_elements(server: RunningServer) -> None:
    pid = requests.post(
        f"{server.base}/Patient",
        json=patient(unique_code(), gender="male", birthDate="1990"),
        headers=FHIR_JSON,
    ).json()["id"]
    r = requests.get(f"{server.base}/Patient/{pid}?_elements=gender").json()
    assert r["gender"] == "male" and "birthDate" not in r and "identifier" not in r
    assert any(t.get("code") == "SUBSETTED" for t in r["meta"]["tag"])
