"""Records no client may change: AuditEvent (append-only, server-written) for every
token, an administrator's included; signature Provenances except through the operations
that own them ($prescribe, Provenance/$sign). On both stores."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson

from fhir_server import authorization
from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.authorization.conftest import mint
from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import drug, prescriptions, provenance, submission

pytestmark = BOTH_STORES
AUDIT = {
    "resourceType": "AuditEvent",
    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
    "recorded": "2026-01-01T00:00:00Z",
    "agent": [{"requestor": True, "who": {"display": "forger"}}],
    "source": {"observer": {"display": "forger"}},
}


def patch_body(ops: list[dict[str, Any]]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(ops).encode()).decode()
    return {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data}


def writes_of(type_: str, id_: str, body: dict[str, Any]) -> list[tuple[str, str, Any, dict[str, str]]]:
    """Every way a client writes: (method, path, body, headers), bundles included; each
    update changes something (`recorded`)."""
    ops = [{"op": "replace", "path": "/recorded", "value": "2020-01-01T00:00:00Z"}]
    body = {**body, "recorded": "2020-01-01T00:00:00Z"}
    entry_put = {"resource": {**body, "id": id_}, "request": {"method": "PUT", "url": f"{type_}/{id_}"}}
    entry_delete = {"request": {"method": "DELETE", "url": f"{type_}/{id_}"}}
    entry_patch = {"resource": patch_body(ops), "request": {"method": "PATCH", "url": f"{type_}/{id_}"}}
    entry_post = {"resource": body, "request": {"method": "POST", "url": type_}}
    headers = {"Content-Type": "application/fhir+json"}
    patch_headers = {"Content-Type": "application/json-patch+json"}
    return [
        ("POST", type_, body, headers),
        ("POST", type_, body, {**headers, "If-None-Exist": "_id=nothing-like-it"}),
        ("PUT", f"{type_}/{id_}", {**body, "id": id_}, headers),
        ("PUT", f"{type_}/new-one", {**body, "id": "new-one"}, headers),
        ("PUT", f"{type_}?_id={id_}", {**body, "id": id_}, headers),
        ("PATCH", f"{type_}/{id_}", ops, patch_headers),
        ("PATCH", f"{type_}?_id={id_}", ops, patch_headers),
        ("DELETE", f"{type_}/{id_}", None, {}),
        ("DELETE", f"{type_}?_id={id_}", None, {}),
        *(
            ("POST", "", {"resourceType": "Bundle", "type": kind, "entry": [entry]}, headers)
            for kind in ("transaction", "batch")
            for entry in (entry_post, entry_put, entry_patch, entry_delete)
        ),
    ]


def outcome_of(method: str, path: str, response: Any) -> tuple[int, str]:
    """(status, issue code) of a write, read from a batch's entry when it was a batch."""
    body = response.get_json()
    if body.get("type") == "batch-response":
        entry = body["entry"][0]["response"]
        return int(entry["status"].split()[0]), entry["outcome"]["issue"][0]["code"]
    return response.status_code, body["issue"][0]["code"]


def send(client: Any, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    data = None if body is None else orjson.dumps(body)
    return client.open("/fhir/" + path, method=method, data=data, headers=headers)


def test_audit_events_are_append_only_for_every_client(
    tmp_path: Path, store_url: str | None, make_app: Any
) -> None:
    """Administrator, backend service with system/*.cruds, and --no-auth alike: 405."""
    secured = create_app(Settings(data_dir=tmp_path / "secured", store_url=store_url))
    open_app, _ = make_app()
    for app in (secured, open_app):
        c = app.extensions["noskhe"]
        with authorization.as_system(), c.store.session(write=True) as s:
            stored = c.repo.create(s, "AuditEvent", AUDIT).version
        tokens = [mint(app, "user/*.cruds"), mint(app, "system/*.cruds")] if app is secured else [None]
        for token in tokens:
            bearer = {"Authorization": f"Bearer {token}"} if token else {}
            for method, path, body, headers in writes_of("AuditEvent", stored.id, AUDIT):
                response = send(app.test_client(), method, path, body, {**headers, **bearer})
                status, code = outcome_of(method, path, response)
                assert (status, code) == (405, "not-supported"), (
                    method,
                    path,
                    response.get_data(as_text=True),
                )
        reader = {"Authorization": f"Bearer {mint(app, 'user/*.cruds')}"} if app is secured else {}
        read = app.test_client().get(f"/fhir/AuditEvent/{stored.id}", headers=reader)
        assert read.status_code == 200 and read.get_json()["meta"]["versionId"] == "1"
        history = app.test_client().get(f"/fhir/AuditEvent/{stored.id}/_history", headers=reader).get_json()
        assert len(history["entry"]) == 1
        assert app.test_client().get("/fhir/AuditEvent/new-one", headers=reader).status_code == 404


def test_capability_statement_lists_only_reads_for_audit_events(api: Api) -> None:
    resources = {r["type"]: r for r in api.get("metadata")["rest"][0]["resource"]}
    assert [i["code"] for i in resources["AuditEvent"]["interaction"]] == [
        "read",
        "vread",
        "search-type",
        "history-instance",
        "history-type",
    ]
    assert resources["AuditEvent"]["conditionalDelete"] == "not-supported"
    assert "delete" in [i["code"] for i in resources["Provenance"]["interaction"]]


def test_signature_records_only_through_their_operations(make_app: Any, signing_key: dict[str, Any]) -> None:
    app, api = make_app(key=signing_key)
    rx = prescriptions(api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200))[0]
    mr = rx["items"][0]
    signed = provenance([f"MedicationRequest/{mr['id']}"], [mr], signing_key)
    # Not by a plain create, nor in a transaction of one's own: only $prescribe and $sign.
    assert api.post("Provenance", signed, 405)["issue"][0]["code"] == "not-supported"
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": signed, "request": {"method": "POST", "url": "Provenance"}}],
    }
    api.post("", transaction, 405)
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "draft"
    stored = api.post("Provenance/$sign", signed, 201)
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "active"
    for method, path, body, headers in writes_of("Provenance", stored["id"], signed):
        if method == "POST" and path == "Provenance" and "If-None-Exist" not in headers:
            continue  # a new signature record: refused above
        response = send(app.test_client(), method, path, body, headers)
        status, _ = outcome_of(method, path, response)
        if (method, path) == ("POST", "") and body["entry"][0]["request"]["method"] == "POST":
            assert status == 405
            continue
        assert status == 405, (method, path, response.get_data(as_text=True))
    assert api.get(f"Provenance/{stored['id']}")["meta"]["versionId"] == "1"
    # A Provenance without a signature is an ordinary resource.
    plain = {
        "resourceType": "Provenance",
        "target": [{"reference": "Patient/pat-1"}],
        "recorded": "2026-01-01T00:00:00Z",
        "agent": [{"who": {"reference": "Practitioner/dr-1"}}],
    }
    created = api.post("Provenance", plain)
    api.delete(f"Provenance/{created['id']}")
