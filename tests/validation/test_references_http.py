"""Conditional references over HTTP: refused on create and in batch entries (each entry on
its own), resolved by transactions exactly as before."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import FHIR_JSON

IRIMC = "http://noskhe.ir/fhir/sid/irimc"
CONDITIONAL = f"Practitioner?identifier={IRIMC}|12345"


def observation(performer: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "BP"},
        "performer": [{"reference": performer}],
    }


def practitioner(client: FlaskClient) -> str:
    body = {"resourceType": "Practitioner", "identifier": [{"system": IRIMC, "value": "12345"}]}
    r = client.post("/fhir/Practitioner", json=body, headers=FHIR_JSON)
    assert r.status_code == 201
    return str(r.json["id"])


def test_create_with_a_conditional_reference_is_400(client: FlaskClient) -> None:
    practitioner(client)
    r = client.post("/fhir/Observation", json=observation(CONDITIONAL), headers=FHIR_JSON)
    assert r.status_code == 400
    issue = r.json["issue"][0]
    assert issue["expression"] == ["Observation.performer[0].reference"]
    assert "transaction" in issue["diagnostics"]
    assert client.get("/fhir/Observation?_summary=count").json["total"] == 0


def test_batch_refuses_the_entry_with_a_conditional_reference_and_keeps_the_others(
    client: FlaskClient,
) -> None:
    pid = practitioner(client)
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": observation(CONDITIONAL), "request": {"method": "POST", "url": "Observation"}},
            {
                "resource": observation(f"Practitioner/{pid}"),
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "resource": {**observation(CONDITIONAL), "id": "o3"},
                "request": {"method": "PUT", "url": "Observation/o3"},
            },
        ],
    }
    r = client.post("/fhir", json=batch, headers=FHIR_JSON)
    assert r.status_code == 200
    statuses = [e["response"]["status"] for e in r.json["entry"]]
    assert [s.split()[0] for s in statuses] == ["400", "201", "400"]
    outcome = r.json["entry"][0]["response"]["outcome"]
    assert "transaction" in outcome["issue"][0]["diagnostics"]
    assert client.get("/fhir/Observation?_summary=count").json["total"] == 1


def test_transaction_resolves_a_conditional_reference_as_before(client: FlaskClient) -> None:
    pid = practitioner(client)
    tx = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": observation(CONDITIONAL), "request": {"method": "POST", "url": "Observation"}}
        ],
    }
    r = client.post("/fhir", json=tx, headers=FHIR_JSON)
    assert r.status_code == 200, r.json
    location = r.json["entry"][0]["response"]["location"]
    stored = client.get("/fhir/" + location.split("/fhir/")[-1].split("/_history")[0]).json
    assert stored["performer"] == [{"reference": f"Practitioner/{pid}"}]


def test_narrative_with_a_script_is_refused_and_not_stored(client: FlaskClient) -> None:
    div = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Ali</p><script>fetch("//evil")</script></div>'
    body = {"resourceType": "Patient", "text": {"status": "generated", "div": div}}
    r = client.post("/fhir/Patient", json=body, headers=FHIR_JSON)
    assert r.status_code == 400
    assert r.json["issue"][0]["expression"] == ["Patient.text.div"]
    assert r.json["issue"][0]["diagnostics"].startswith("txt-1:")
    assert client.get("/fhir/Patient?_summary=count").json["total"] == 0
