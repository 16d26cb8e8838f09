"""Transaction and batch bundles against the real server."""

from __future__ import annotations

import base64
import uuid

import orjson
import pytest
import requests

from tests.conftest import FHIR_JSON, RunningServer

pytestmark = pytest.mark.e2e


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def history_total(server: RunningServer) -> int:
    return int(requests.get(f"{server.base}/_history?_count=1").json()["total"])


def test_transaction_resolves_urn_uuid_references(server: RunningServer) -> None:
    patient_url, med_url = urn(), urn()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": med_url,
                "resource": {"resourceType": "Medication", "code": {"text": "آموکسی‌سیلین"}},
                "request": {"method": "POST", "url": "Medication"},
            },
            {
                "fullUrl": patient_url,
                "resource": {"resourceType": "Patient", "gender": "male"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": "active",
                    "intent": "order",
                    "medicationReference": {"reference": med_url},
                    "subject": {"reference": patient_url},
                },
                "request": {"method": "POST", "url": "MedicationRequest"},
            },
        ],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["type"] == "transaction-response"
    assert [e["response"]["status"] for e in out["entry"]] == ["201 Created"] * 3
    med_loc, pat_loc, rx_loc = (e["response"]["location"] for e in out["entry"])
    rx = requests.get(f"{server.base}/{rx_loc.split('/_history')[0]}").json()
    assert rx["subject"]["reference"] == pat_loc.split("/_history")[0]
    assert rx["medicationReference"]["reference"] == med_loc.split("/_history")[0]


def test_transaction_with_invalid_last_entry_leaves_no_trace(server: RunningServer) -> None:
    before = history_total(server)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": urn(),
                "resource": {"resourceType": "Patient", "gender": "male"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {"resourceType": "Patient", "id": "tx-put-1", "gender": "female"},
                "request": {"method": "PUT", "url": "Patient/tx-put-1"},
            },
            {
                "resource": {"resourceType": "Patient", "gender": "not-a-gender"},
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 400
    issue = r.json()["issue"][0]
    assert "Bundle.entry[2]" in issue["diagnostics"] and issue["expression"] == ["Patient.gender"]
    assert history_total(server) == before
    assert requests.get(f"{server.base}/Patient/tx-put-1").status_code == 404


def test_transaction_order_delete_before_create_and_gets_last(server: RunningServer) -> None:
    pid = requests.post(f"{server.base}/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON).json()[
        "id"
    ]
    new_id = f"tx-{uuid.uuid4().hex[:10]}"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{new_id}"}},
            {
                "resource": {"resourceType": "Patient", "id": new_id, "gender": "other"},
                "request": {"method": "PUT", "url": f"Patient/{new_id}"},
            },
            {"request": {"method": "DELETE", "url": f"Patient/{pid}"}},
        ],
    }
    out = requests.post(server.base, json=bundle, headers=FHIR_JSON).json()
    # The GET runs after the PUT although it comes first in the bundle; responses keep bundle order.
    assert out["entry"][0]["response"]["status"] == "200 OK"
    assert out["entry"][0]["resource"]["gender"] == "other"
    assert out["entry"][1]["response"]["status"] == "201 Created"
    assert out["entry"][2]["response"]["status"] == "204 No Content"
    assert requests.get(f"{server.base}/Patient/{pid}").status_code == 410


def test_transaction_if_match_conflict_rolls_back(server: RunningServer) -> None:
    pid = requests.post(f"{server.base}/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON).json()[
        "id"
    ]
    before = history_total(server)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": urn(),
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {"resourceType": "Patient", "id": pid, "gender": "male"},
                "request": {"method": "PUT", "url": f"Patient/{pid}", "ifMatch": 'W/"9"'},
            },
        ],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 412 and r.json()["resourceType"] == "OperationOutcome"
    assert history_total(server) == before


def test_transaction_json_patch_entry(server: RunningServer) -> None:
    pid = requests.post(f"{server.base}/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON).json()[
        "id"
    ]
    ops = [{"op": "add", "path": "/gender", "value": "female"}]
    binary = {
        "resourceType": "Binary",
        "contentType": "application/json-patch+json",
        "data": base64.b64encode(orjson.dumps(ops)).decode(),
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": binary, "request": {"method": "PATCH", "url": f"Patient/{pid}"}}],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.text
    assert requests.get(f"{server.base}/Patient/{pid}").json()["gender"] == "female"


def test_batch_entries_are_independent(server: RunningServer) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": {"resourceType": "Patient", "gender": "female"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {"resourceType": "Patient", "gender": "nope"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {"request": {"method": "GET", "url": "Patient/no-such-patient"}},
            {"request": {"method": "GET", "url": "Unknown/1"}},
        ],
    }
    r = requests.post(server.base, json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200
    out = r.json()
    assert out["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in out["entry"]]
    assert statuses == ["201 Created", "400 Bad Request", "404 Not Found", "400 Bad Request"]
    assert out["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    created = out["entry"][0]["response"]["location"].split("/_history")[0]
    assert requests.get(f"{server.base}/{created}").json()["gender"] == "female"
