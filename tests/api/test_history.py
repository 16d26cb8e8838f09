"""History at type and system level: newest first, _count, _since, _at, cursor links."""

from __future__ import annotations

import time

from flask.testing import FlaskClient

from tests.conftest import FHIR_JSON


def follow(client: FlaskClient, url: str) -> list[dict]:
    entries: list[dict] = []
    while url:
        page = client.get(url.replace("http://127.0.0.1:8080", "")).json
        entries += page["entry"]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), "")
    return entries


def test_type_history_pages_newest_first_and_is_stable_under_writes(client: FlaskClient) -> None:
    ids = [
        client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON).json["id"]
        for _ in range(5)
    ]
    client.post(
        "/fhir/Observation",
        json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
        headers=FHIR_JSON,
    )
    first = client.get("/fhir/Patient/_history?_count=2").json
    assert first["total"] == 5 and [e["resource"]["id"] for e in first["entry"]] == ids[:-3:-1]
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON)  # must not shift pages
    rest = follow(client, next_url)
    assert [e["resource"]["id"] for e in rest] == ids[2::-1]


def test_since_and_at(client: FlaskClient) -> None:
    pid = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON).json["id"]
    time.sleep(0.01)
    mark = client.get(f"/fhir/Patient/{pid}").json["meta"]["lastUpdated"]
    time.sleep(0.01)
    client.put(
        f"/fhir/Patient/{pid}",
        json={"resourceType": "Patient", "id": pid, "gender": "male"},
        headers=FHIR_JSON,
    )
    after = client.get(f"/fhir/_history?_since={mark.replace('+', '%2B')}").json
    assert {e["response"]["etag"] for e in after["entry"]} == {'W/"1"', 'W/"2"'}
    at = client.get(f"/fhir/Patient/{pid}/_history?_at={mark}").json
    assert [e["response"]["etag"] for e in at["entry"]] == ['W/"1"']


def test_bad_history_parameters_are_400(client: FlaskClient) -> None:
    for query in ("_since=yesterday", "_count=-1", "_at=2026-13-45"):
        r = client.get(f"/fhir/_history?{query}")
        assert r.status_code == 400 and r.json["resourceType"] == "OperationOutcome", query


def test_instance_history_of_unknown_is_404(client: FlaskClient) -> None:
    assert client.get("/fhir/Patient/nope/_history").status_code == 404
