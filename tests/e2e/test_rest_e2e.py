"""The real server (granian, 2 workers) over real HTTP: interactions and their headers."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import requests

from tests.conftest import FHIR_JSON, RunningServer

pytestmark = pytest.mark.e2e


def new_patient(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"family": "رضایی", "given": ["علی"]}],
        "gender": "male",
        **extra,
    }


def history_total(server: RunningServer) -> int:
    return int(requests.get(f"{server.base}/_history?_count=1").json()["total"])


def test_create_read_vread_update_delete_with_headers(server: RunningServer) -> None:
    r = requests.post(f"{server.base}/Patient", json=new_patient(), headers=FHIR_JSON)
    assert r.status_code == 201
    pid = r.json()["id"]
    assert r.headers["Location"] == f"{server.base}/Patient/{pid}/_history/1"
    assert r.headers["ETag"] == 'W/"1"'
    assert r.headers["Last-Modified"].endswith("GMT")
    assert r.headers["Content-Type"].startswith("application/fhir+json")
    assert r.json()["meta"]["versionId"] == "1"

    r = requests.get(f"{server.base}/Patient/{pid}")
    assert r.status_code == 200 and r.json()["gender"] == "male" and r.headers["ETag"] == 'W/"1"'

    body = {**r.json(), "gender": "female"}
    r = requests.put(f"{server.base}/Patient/{pid}", json=body, headers={**FHIR_JSON, "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"' and r.json()["gender"] == "female"

    assert requests.get(f"{server.base}/Patient/{pid}/_history/1").json()["gender"] == "male"
    assert requests.get(f"{server.base}/Patient/{pid}/_history/2").json()["gender"] == "female"

    r = requests.delete(f"{server.base}/Patient/{pid}")
    assert r.status_code == 200 and r.json()["resourceType"] == "OperationOutcome"
    r = requests.get(f"{server.base}/Patient/{pid}")
    assert r.status_code == 410 and r.json()["resourceType"] == "OperationOutcome"

    hist = requests.get(f"{server.base}/Patient/{pid}/_history").json()
    assert hist["type"] == "history" and hist["total"] == 3
    assert [e["request"]["method"] for e in hist["entry"]] == ["DELETE", "PUT", "POST"]
    assert "resource" not in hist["entry"][0]


def test_update_as_create_with_client_id(server: RunningServer) -> None:
    pid = f"client-{uuid.uuid4().hex[:12]}"
    r = requests.put(f"{server.base}/Patient/{pid}", json=new_patient(id=pid), headers=FHIR_JSON)
    assert r.status_code == 201 and r.json()["id"] == pid
    assert r.headers["Location"].endswith(f"/Patient/{pid}/_history/1")


def test_conditional_read_304(server: RunningServer) -> None:
    pid = requests.post(f"{server.base}/Patient", json=new_patient(), headers=FHIR_JSON).json()["id"]
    url = f"{server.base}/Patient/{pid}"
    assert requests.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert requests.get(url, headers={"If-None-Match": 'W/"7"'}).status_code == 200
    modified = requests.get(url).headers["Last-Modified"]
    assert requests.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert (
        requests.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    )


def test_sixteen_concurrent_if_match_updates_one_wins(server: RunningServer) -> None:
    created = requests.post(f"{server.base}/Patient", json=new_patient(), headers=FHIR_JSON).json()
    url = f"{server.base}/Patient/{created['id']}"
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def writer(n: int) -> None:
        body = {**created, "name": [{"family": f"writer-{n}"}]}
        barrier.wait()
        r = requests.put(url, json=body, headers={**FHIR_JSON, "If-Match": 'W/"1"'}, timeout=30)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 1
    assert sorted(set(statuses) - {200}) == [412]
    hist = requests.get(f"{url}/_history").json()
    assert hist["total"] == 2


def test_json_patch_and_conditional_patch_rules(server: RunningServer) -> None:
    pid = requests.post(f"{server.base}/Patient", json=new_patient(), headers=FHIR_JSON).json()["id"]
    url = f"{server.base}/Patient/{pid}"
    patch_json = {"Content-Type": "application/json-patch+json"}
    ops = [{"op": "replace", "path": "/gender", "value": "female"}]
    r = requests.patch(url, json=ops, headers={**patch_json, "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["gender"] == "female" and r.headers["ETag"] == 'W/"2"'
    # A patch that would make the resource invalid is refused and changes nothing.
    r = requests.patch(url, json=[{"op": "replace", "path": "/gender", "value": "bogus"}], headers=patch_json)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Patient.gender"]
    r = requests.patch(url, json=ops, headers={**patch_json, "If-Match": 'W/"1"'})
    assert r.status_code == 412
    assert requests.get(url).headers["ETag"] == 'W/"2"'


def test_prefer_return(server: RunningServer) -> None:
    url = f"{server.base}/Patient"
    minimal = requests.post(url, json=new_patient(), headers={**FHIR_JSON, "Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b"" and "Location" in minimal.headers
    oo = requests.post(url, json=new_patient(), headers={**FHIR_JSON, "Prefer": "return=OperationOutcome"})
    assert oo.status_code == 201 and oo.json()["resourceType"] == "OperationOutcome"
    rep = requests.post(url, json=new_patient(), headers={**FHIR_JSON, "Prefer": "return=representation"})
    assert rep.json()["resourceType"] == "Patient"


def test_application_json_and_pretty(server: RunningServer) -> None:
    r = requests.post(
        f"{server.base}/Patient",
        json=new_patient(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert r.status_code == 201 and r.headers["Content-Type"].startswith("application/json")
    pretty = requests.get(f"{server.base}/Patient/{r.json()['id']}?_pretty=true")
    assert pretty.text.startswith('{\n  "resourceType"')


BAD_REQUESTS = [
    (
        "post invalid resource",
        "POST",
        "Patient",
        {"resourceType": "Patient", "gender": "bogus"},
        FHIR_JSON,
        400,
    ),
    ("post unknown element", "POST", "Patient", {"resourceType": "Patient", "foo": 1}, FHIR_JSON, 400),
    ("wrong resourceType", "POST", "Patient", {"resourceType": "Observation"}, FHIR_JSON, 400),
    ("unknown type", "POST", "Foo", {"resourceType": "Foo"}, FHIR_JSON, 404),
    ("xml body", "POST", "Patient", "<Patient/>", {"Content-Type": "application/fhir+xml"}, 415),
    ("bad json", "POST", "Patient", "{not json", FHIR_JSON, 400),
    ("empty body", "POST", "Patient", "", FHIR_JSON, 400),
    ("put id mismatch", "PUT", "Patient/abc", {"resourceType": "Patient", "id": "xyz"}, FHIR_JSON, 400),
    (
        "put bad If-Match",
        "PUT",
        "Patient/abc",
        {"resourceType": "Patient", "id": "abc"},
        {**FHIR_JSON, "If-Match": "nonsense"},
        400,
    ),
    ("read unknown", "GET", "Patient/does-not-exist", None, {}, 404),
    ("vread bad version", "GET", "Patient/does-not-exist/_history/x", None, {}, 404),
    ("accept xml", "GET", "Patient/x", None, {"Accept": "application/fhir+xml"}, 406),
    ("format xml", "GET", "Patient/x?_format=xml", None, {}, 406),
    ("post on instance", "POST", "Patient/abc", {"resourceType": "Patient"}, FHIR_JSON, 405),
    (
        "patch merge-style",
        "PATCH",
        "Patient/abc",
        {"gender": "male"},
        {"Content-Type": "application/json"},
        415,
    ),
    (
        "patch merge type",
        "PATCH",
        "Patient/abc",
        {"gender": "male"},
        {"Content-Type": "application/merge-patch+json"},
        415,
    ),
    ("patch array as fhir+json", "PATCH", "Patient/abc", [], FHIR_JSON, 400),
    ("bundle not transaction", "POST", "", {"resourceType": "Bundle", "type": "collection"}, FHIR_JSON, 400),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers", "status"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS]
)
def test_errors_are_operation_outcomes_and_change_nothing(
    server: RunningServer, name: str, method: str, path: str, body: Any, headers: dict[str, str], status: int
) -> None:
    before = history_total(server)
    url = f"{server.base}/{path}" if path else server.base
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, str):
        kwargs["data"] = body.encode()
    elif body is not None:
        kwargs["json"] = body
    r = requests.request(method, url, **kwargs)
    assert r.status_code == status, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"] and outcome["issue"][0]["severity"] == "error"
    assert history_total(server) == before


def test_body_over_limit_is_413_and_not_read(server: RunningServer) -> None:
    big = b'{"resourceType": "Patient", "text": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    r = requests.post(f"{server.base}/Patient", data=big, headers=FHIR_JSON)
    assert r.status_code == 413 and r.json()["resourceType"] == "OperationOutcome"


def test_unknown_route_and_method_are_outcomes(server: RunningServer) -> None:
    r = requests.get(f"http://127.0.0.1:{server.port}/nowhere")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    r = requests.post(f"{server.base}/metadata", json={}, headers=FHIR_JSON)
    assert r.status_code == 405 and r.json()["resourceType"] == "OperationOutcome"


def test_health_and_capability_statement(server: RunningServer) -> None:
    root = f"http://127.0.0.1:{server.port}"
    assert requests.get(f"{root}/healthz").json() == {"status": "ok"}
    assert requests.get(f"{root}/readyz").json() == {"status": "ready"}
    cs = requests.get(f"{server.base}/metadata").json()
    assert cs["fhirVersion"] == "4.0.1" and cs["format"] == ["application/fhir+json", "application/json"]
    rest = cs["rest"][0]
    types = {r["type"]: r for r in rest["resource"]}
    assert len(types) >= 145
    codes = {i["code"] for i in types["MedicationRequest"]["interaction"]}
    assert {"read", "vread", "update", "patch", "delete", "create", "history-instance"} <= codes
    assert {"transaction", "batch", "history-system"} <= {i["code"] for i in rest["interaction"]}
    assert types["Patient"]["operation"][0]["name"] == "validate"
