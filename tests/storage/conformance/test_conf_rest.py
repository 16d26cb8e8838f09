"""Interactions through the Repository and the HTTP layer (Flask test client) on each
engine: CRUD, versions, conditional interactions, history, transactions, batches and
concurrent writers."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from conformance_helpers import NC
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.storage.base import ResourceVersion, Store, instant

FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def app(store: Store, tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path / "app", auth=False), store=store)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def pat(code: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": "Patient", **extra}
    if code is not None:
        body["identifier"] = [{"system": NC, "value": code}]
    return body


def code() -> str:
    return str(uuid.uuid4().int)[:10]


def test_a_poller_sending_back_the_history_time_as_since_misses_nothing(
    client: FlaskClient, store: Store
) -> None:
    """A write unit holds a version stamped now while the history is read: the first
    page's meta.lastUpdated, sent back as `_since`, brings the version once it committed."""
    pid = client.post("/fhir/Patient", json=pat(code()), headers=FHIR_JSON).get_json()["id"]
    stamped = instant(time.time())
    meta = {"versionId": "1", "lastUpdated": stamped}
    body = orjson.dumps({"resourceType": "Patient", "id": "late", "meta": meta})
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.session(write=True) as s:
            s.put(ResourceVersion("Patient", "late", 1, stamped, False, body), [], None)
            held.set()
            release.wait(5)  # SQLite: the history waits for this unit meanwhile

    thread = threading.Thread(target=writer)
    thread.start()
    assert held.wait(10)
    timer = threading.Timer(0.5, release.set)
    timer.start()
    first = client.get("/fhir/Patient/_history").get_json()
    thread.join()
    timer.join()
    seen = {e["resource"]["id"] for e in first["entry"]}
    assert pid in seen
    polled = client.get("/fhir/Patient/_history", query_string={"_since": first["meta"]["lastUpdated"]})
    assert "late" in seen | {e["resource"]["id"] for e in polled.get_json().get("entry", [])}
    paged = client.get("/fhir/Patient/_history?_count=1").get_json()
    following = next(link["url"] for link in paged["link"] if link["relation"] == "next")
    assert "meta" in paged and "meta" not in client.get("/fhir/" + following.split("/fhir/", 1)[1]).get_json()


def history_total(client: FlaskClient, path: str = "") -> int:
    return int(client.get(f"/fhir{path}/_history?_count=1").get_json()["total"])


def test_create_read_vread_update_delete(client: FlaskClient) -> None:
    r = client.post("/fhir/Patient", json=pat(gender="male"), headers=FHIR_JSON)
    assert r.status_code == 201 and r.headers["ETag"] == 'W/"1"'
    pid = r.get_json()["id"]
    assert r.headers["Location"].endswith(f"/Patient/{pid}/_history/1")
    body = client.get(f"/fhir/Patient/{pid}").get_json()
    assert body["gender"] == "male" and body["meta"]["versionId"] == "1"
    r = client.put(f"/fhir/Patient/{pid}", json={**body, "gender": "female"}, headers=FHIR_JSON)
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"'
    assert client.get(f"/fhir/Patient/{pid}/_history/1").get_json()["gender"] == "male"
    assert client.get(f"/fhir/Patient/{pid}/_history/2").get_json()["gender"] == "female"
    assert client.get(f"/fhir/Patient/{pid}/_history/9").status_code == 404
    assert client.delete(f"/fhir/Patient/{pid}").status_code in (200, 204)
    assert client.get(f"/fhir/Patient/{pid}").status_code == 410
    assert client.get(f"/fhir/Patient/{pid}/_history/3").status_code == 410
    hist = client.get(f"/fhir/Patient/{pid}/_history").get_json()
    assert hist["total"] == 3
    assert [e["response"]["status"].split()[0] for e in hist["entry"]] == ["204", "200", "201"]
    again = client.put(f"/fhir/Patient/{pid}", json={"resourceType": "Patient", "id": pid}, headers=FHIR_JSON)
    assert again.status_code == 201 and again.headers["ETag"] == 'W/"4"'
    assert client.get("/fhir/Patient/nope").status_code == 404


def test_update_as_create_and_if_match(client: FlaskClient) -> None:
    r = client.put("/fhir/Patient/client-id-1", json=pat(id="client-id-1"), headers=FHIR_JSON)
    assert r.status_code == 201
    stale = {**FHIR_JSON, "If-Match": 'W/"7"'}
    r = client.put("/fhir/Patient/client-id-1", json=pat(id="client-id-1", gender="male"), headers=stale)
    assert r.status_code == 412
    good = {**FHIR_JSON, "If-Match": 'W/"1"'}
    r = client.put("/fhir/Patient/client-id-1", json=pat(id="client-id-1", gender="male"), headers=good)
    assert r.status_code == 200


def test_if_none_exist_none_one_many(client: FlaskClient) -> None:
    c = code()
    cond = {**FHIR_JSON, "If-None-Exist": f"identifier={NC}|{c}"}
    first = client.post("/fhir/Patient", json=pat(c), headers=cond)
    assert first.status_code == 201
    second = client.post("/fhir/Patient", json=pat(c, gender="male"), headers=cond)
    assert second.status_code == 200 and second.get_json()["id"] == first.get_json()["id"]
    client.post("/fhir/Patient", json=pat(c), headers=FHIR_JSON)
    assert client.post("/fhir/Patient", json=pat(c), headers=cond).status_code == 412


def test_conditional_update_patch_delete(client: FlaskClient) -> None:
    c = code()
    url = f"/fhir/Patient?identifier={NC}|{c}"
    created = client.put(url, json=pat(c), headers=FHIR_JSON)
    assert created.status_code == 201
    updated = client.put(url, json=pat(c, gender="female"), headers=FHIR_JSON)
    assert updated.status_code == 200 and updated.headers["ETag"] == 'W/"2"'
    ops = [{"op": "add", "path": "/gender", "value": "other"}]
    r = client.patch(url, json=ops, headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.get_json()["gender"] == "other"
    assert client.delete(url).status_code == 200
    r = client.patch(url, json=ops, headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 404


def test_search_over_http_with_paging(client: FlaskClient) -> None:
    for i in range(5):
        client.put(f"/fhir/Patient/s{i}", json=pat(id=f"s{i}", gender="male"), headers=FHIR_JSON)
    page = client.get("/fhir/Patient?gender=male&_count=2&_total=accurate").get_json()
    seen = [e["resource"]["id"] for e in page["entry"]]
    assert page["total"] == 5
    while (nxt := next((x["url"] for x in page["link"] if x["relation"] == "next"), None)) is not None:
        page = client.get(nxt.split("http://127.0.0.1:8080", 1)[-1]).get_json()
        seen += [e["resource"]["id"] for e in page["entry"]]
    assert seen == [f"s{i}" for i in range(5)]


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def test_transaction_resolves_references_atomically(client: FlaskClient) -> None:
    p = _urn()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": p, "resource": pat(gender="male"), "request": {"method": "POST", "url": "Patient"}},
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": "active",
                    "intent": "order",
                    "medicationCodeableConcept": {"text": "آموکسی‌سیلین"},
                    "subject": {"reference": p},
                },
                "request": {"method": "POST", "url": "MedicationRequest"},
            },
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.get_data(as_text=True)
    pat_loc, rx_loc = (e["response"]["location"] for e in r.get_json()["entry"])
    pid = pat_loc.split("/")[1]
    found = client.get(f"/fhir/MedicationRequest?subject=Patient/{pid}").get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [rx_loc.split("/")[1]]


def test_failed_transaction_leaves_no_trace(client: FlaskClient) -> None:
    client.put("/fhir/Patient/keep", json=pat(id="keep", gender="male"), headers=FHIR_JSON)
    before = history_total(client)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": _urn(), "resource": pat(), "request": {"method": "POST", "url": "Patient"}},
            {
                "resource": pat(id="keep", gender="female"),
                "request": {"method": "PUT", "url": "Patient/keep"},
            },
            {"resource": pat(gender="bogus"), "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 400
    assert history_total(client) == before
    assert client.get("/fhir/Patient/keep").get_json()["gender"] == "male"
    assert client.get("/fhir/Patient?gender=female").get_json().get("entry", []) == []


def test_batch_entries_are_independent(client: FlaskClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": pat(gender="male"), "request": {"method": "POST", "url": "Patient"}},
            {"resource": pat(gender="bogus"), "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "GET", "url": "Patient/none-such"}},
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200
    statuses = [e["response"]["status"].split()[0] for e in r.get_json()["entry"]]
    assert statuses == ["201", "400", "404"]


def _parallel(n: int, fn: Any) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_if_match_updates_one_wins(app: Flask) -> None:
    created = app.test_client().post("/fhir/Patient", json=pat(), headers=FHIR_JSON).get_json()
    url = f"/fhir/Patient/{created['id']}"

    def writer(n: int) -> int:
        body = {**created, "name": [{"family": f"writer-{n}"}]}
        return app.test_client().put(url, json=body, headers={**FHIR_JSON, "If-Match": 'W/"1"'}).status_code

    statuses = _parallel(8, writer)
    assert statuses.count(200) == 1 and set(statuses) - {200} == {412}
    assert history_total(app.test_client(), url.removeprefix("/fhir")) == 2


def test_concurrent_updates_without_if_match_all_win(app: Flask) -> None:
    app.test_client().put("/fhir/Patient/hot", json=pat(id="hot"), headers=FHIR_JSON)

    def writer(n: int) -> int:
        body = pat(id="hot", name=[{"family": f"writer-{n}"}])
        return app.test_client().put("/fhir/Patient/hot", json=body, headers=FHIR_JSON).status_code

    assert _parallel(8, writer) == [200] * 8
    current = app.test_client().get("/fhir/Patient/hot")
    assert current.headers["ETag"] == 'W/"9"'
    assert history_total(app.test_client(), "/Patient/hot") == 9


def test_concurrent_conditional_creates_make_one_resource(app: Flask) -> None:
    c = code()
    cond = {**FHIR_JSON, "If-None-Exist": f"identifier={NC}|{c}"}

    def creator(n: int) -> int:
        return app.test_client().post("/fhir/Patient", json=pat(c), headers=cond).status_code

    statuses = _parallel(6, creator)
    assert sorted(statuses) == [200] * 5 + [201]
    found = app.test_client().get(f"/fhir/Patient?identifier={NC}|{c}&_total=accurate").get_json()
    assert found["total"] == 1


def test_concurrent_conditional_creates_on_an_identifier_and_on_a_name_make_one_resource(app: Flask) -> None:
    """One criterion names the identifier (locks it), the other does not (locks the type):
    what each stores carries the identifier, so they still collide (repository.conditional)."""
    c = code()
    family = f"Once-{c}"
    criteria = [f"identifier={NC}|{c}", f"family={family}"]

    def creator(n: int) -> int:
        headers = {**FHIR_JSON, "If-None-Exist": criteria[n % 2]}
        body = pat(c, name=[{"family": family}])
        return app.test_client().post("/fhir/Patient", json=body, headers=headers).status_code

    statuses = _parallel(6, creator)
    assert sorted(statuses) == [200] * 5 + [201]
    found = app.test_client().get(f"/fhir/Patient?family={family}&_total=accurate").get_json()
    assert found["total"] == 1
