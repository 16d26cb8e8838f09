"""What needs no store is done before a write takes the store's write lock: validation
(and, without workflow rules, stamping and indexing) of creates, updates and the entries
of a transaction bundle. Checked by watching, at each validation, whether this process's
group-commit writer has a unit open."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from fhir_server import authorization
from fhir_server.app import create_app
from fhir_server.bundles import transaction
from fhir_server.config import Settings
from fhir_server.repository import resources
from fhir_server.storage.base import instant
from fhir_server.storage.sqlite import SQLiteStore
from tests.conftest import FHIR_JSON


@pytest.fixture
def watched(tmp_path: Path) -> tuple[FlaskClient, list[str]]:
    """A client, and for every validation: 'locked' or 'free'."""
    app = create_app(Settings(data_dir=tmp_path, auth=False))
    ctx, store = app.extensions["noskhe"], app.extensions["noskhe"].store
    assert isinstance(store, SQLiteStore)
    seen: list[str] = []
    validate, indexer = ctx.repo.validate, ctx.repo.indexer

    def state() -> str:
        writer = store._writer
        return "locked" if writer is not None and writer.owner is not None else "free"

    def watched_validate(resource: Any, **kw: Any) -> Any:
        seen.append(f"validate:{state()}")
        return validate(resource, **kw)

    def watched_indexer(resource: Any) -> Any:
        seen.append(f"index:{state()}")
        return indexer(resource)

    ctx.repo.validate, ctx.repo.indexer = watched_validate, watched_indexer
    return app.test_client(), seen


def test_create_and_update_validate_and_index_before_the_lock(
    watched: tuple[FlaskClient, list[str]],
) -> None:
    client, seen = watched
    r = client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "female"}, headers=FHIR_JSON)
    assert r.status_code == 201
    pid = r.get_json()["id"]
    changed = {"resourceType": "Patient", "id": pid, "gender": "male"}
    r = client.put(f"/fhir/Patient/{pid}", json=changed, headers=FHIR_JSON)
    assert r.status_code == 200 and r.get_json()["meta"]["versionId"] == "2"
    assert seen == ["validate:free", "index:free"] * 2


def test_a_plain_transaction_is_checked_before_the_lock(watched: tuple[FlaskClient, list[str]]) -> None:
    client, seen = watched
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
                "resource": {"resourceType": "Patient", "name": [{"family": "Outside"}]},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "weight"},
                    "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.get_data(as_text=True)
    locations = [e["response"]["location"] for e in r.get_json()["entry"]]
    observation = client.get("/fhir/" + locations[1].split("/_history")[0]).get_json()
    assert observation["subject"]["reference"] == locations[0].split("/_history")[0]
    # The Bundle itself, then each entry: validated and indexed, none under the lock.
    assert seen == ["validate:free", *["validate:free", "index:free"] * 2]


def test_a_conditional_transaction_is_done_in_the_session(watched: tuple[FlaskClient, list[str]]) -> None:
    client, seen = watched
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {"resourceType": "Patient", "gender": "other"},
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": "gender=other"},
            }
        ],
    }
    assert client.post("/fhir", json=bundle, headers=FHIR_JSON).status_code == 200
    assert seen == ["validate:free", "validate:locked", "index:locked"]  # the Bundle, then the entry


def test_a_create_written_long_after_it_was_stamped_is_stamped_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stamped outside the lock, a version may wait; one that waited past the stamp window
    gets the time of its write (Store.settled_instant relies on it)."""
    ctx = create_app(Settings(data_dir=tmp_path, auth=False)).extensions["noskhe"]
    long_ago = "2026-01-01T00:00:00.000Z"
    with authorization.as_system():
        monkeypatch.setattr(resources, "now_instant", lambda: long_ago)
        prepared = ctx.repo.prepare_create("Patient", {"resourceType": "Patient", "gender": "male"})
        monkeypatch.undo()
        assert prepared is not None and prepared.last_updated == long_ago
        before = instant(time.time())
        with ctx.store.session(write=True) as s:
            written = ctx.repo.create(s, "Patient", None, prepared=prepared).version
        with ctx.store.session() as s:
            stored = s.current("Patient", prepared.id)
    assert stored is not None and stored.body is not None
    assert before <= written.last_updated == stored.last_updated
    assert orjson.loads(stored.body)["meta"]["lastUpdated"] == stored.last_updated


def _watch_rewrites(monkeypatch: pytest.MonkeyPatch, client: FlaskClient) -> list[str]:
    """'free' or 'locked' for every pass of the transaction's reference rewriting."""
    store = client.application.extensions["noskhe"].store
    passes: list[str] = []
    rewrite = transaction.rewrite_references

    def watched_rewrite(*args: Any) -> None:
        writer = store._writer
        passes.append("locked" if writer is not None and writer.owner is not None else "free")
        rewrite(*args)

    monkeypatch.setattr(transaction, "rewrite_references", watched_rewrite)
    return passes


def test_a_plain_transaction_rewrites_its_references_once_before_the_lock(
    watched: tuple[FlaskClient, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = watched
    passes = _watch_rewrites(monkeypatch, client)
    patient = "urn:uuid:22222222-2222-4222-8222-222222222222"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient,
                "resource": {"resourceType": "Patient", "name": [{"family": "Once"}]},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "weight"},
                    "subject": {"reference": patient},
                    "focus": [{"reference": patient}],
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert passes == ["free"]
    locations = [e["response"]["location"].split("/_history")[0] for e in r.get_json()["entry"]]
    observation = client.get(f"/fhir/{locations[1]}").get_json()
    assert observation["subject"]["reference"] == observation["focus"][0]["reference"] == locations[0]


def test_a_search_style_reference_is_resolved_in_the_session(
    watched: tuple[FlaskClient, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = watched
    r = client.post(
        "/fhir/Patient",
        json={"resourceType": "Patient", "identifier": [{"system": "urn:test:mrn", "value": "77"}]},
        headers=FHIR_JSON,
    )
    pid = r.get_json()["id"]
    passes = _watch_rewrites(monkeypatch, client)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "weight"},
                    "subject": {"reference": "Patient?identifier=urn:test:mrn|77"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    r = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert passes == ["free", "locked"]  # tried without the store, then done in the session
    oid = r.get_json()["entry"][0]["response"]["location"].split("/")[1]
    assert client.get(f"/fhir/Observation/{oid}").get_json()["subject"]["reference"] == f"Patient/{pid}"
