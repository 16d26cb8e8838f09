"""Who may export what: system and Group exports need backend (system) scopes; a
patient's token exports that patient's compartment and nothing else; narrower system
scopes export only what they cover; a job is visible to the client that started it only."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fhir_server.app import create_app
from fhir_server.config import Settings
from smart_auth.hashing import digest, new_secret
from tests.authorization.conftest import mint
from tests.bulk.bulk_helpers import download, kick_off, local, poll
from tests.conftest import FHIR_JSON


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path, auth=True))


def _bearer(app: Flask, scope: str, patient: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(app, scope, patient)}"}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    admin = _bearer(app, "system/*.cruds")
    client = app.test_client()

    def post(resource: dict[str, Any]) -> str:
        r = client.post(f"/fhir/{resource['resourceType']}", json=resource, headers={**FHIR_JSON, **admin})
        assert r.status_code == 201, r.get_data(as_text=True)
        return str(r.get_json()["id"])

    mine, other = post({"resourceType": "Patient"}), post({"resourceType": "Patient"})
    obs = {}
    for pid in (mine, other):
        obs[pid] = post(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "bp"},
                "subject": {"reference": f"Patient/{pid}"},
            }
        )
    post({"resourceType": "Organization", "name": "Clinic"})
    return {"mine": mine, "other": other, "obs": obs}


def test_a_patient_token_exports_only_its_own_compartment(app: Flask, world: dict[str, Any]) -> None:
    token = _bearer(app, "patient/*.rs", patient=world["mine"])
    client = app.test_client()
    manifest = poll(client, kick_off(client, "Patient/$export", token), token)
    assert manifest["requiresAccessToken"] is True
    files = download(client, manifest, token)
    assert [p["id"] for p in files["Patient"]] == [world["mine"]]
    assert [o["id"] for o in files["Observation"]] == [world["obs"][world["mine"]]]
    assert client.get(local(manifest["output"][0]["url"])).status_code == 401  # the files need the token


def test_user_and_patient_tokens_cannot_export_the_system_or_a_group(
    app: Flask, world: dict[str, Any]
) -> None:
    client = app.test_client()
    for scope in ("user/*.rs", "patient/*.rs"):
        token = _bearer(app, scope, patient=world["mine"])
        assert kick_off(client, "$export", token, status=403)["resourceType"] == "OperationOutcome"
        assert kick_off(client, "Group/any/$export", token, status=403)["issue"][0]["code"] == "forbidden"


def test_narrower_system_scopes_export_what_they_cover(app: Flask, world: dict[str, Any]) -> None:
    token = _bearer(app, "system/Patient.rs")
    client = app.test_client()
    files = download(client, poll(client, kick_off(client, "$export", token), token), token)
    assert sorted(files) == ["Patient"] and len(files["Patient"]) == 2
    assert kick_off(client, "$export?_type=Observation", token, status=403)["issue"][0]["code"] == "forbidden"
    v1 = _bearer(app, "system/*.read")
    everything = download(client, poll(client, kick_off(client, "$export", v1), v1), v1)
    assert {"Observation", "Organization", "Patient", "AuditEvent"} <= set(everything)


def test_another_client_cannot_see_poll_download_or_cancel_a_job(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    owner = _bearer(app, "system/*.rs")
    status_url = kick_off(client, "$export", owner)
    manifest = poll(client, status_url, owner)
    secret = new_secret()
    token = dict(_STRANGER, access_hash=digest(secret), token_id=uuid.uuid4().hex, issued_at=time.time())
    app.extensions["smart_auth"].store.put_token({**token, "expires_at": time.time() + 600})
    stranger = {"Authorization": f"Bearer {secret}"}
    assert client.get(local(status_url), headers=stranger).status_code == 404
    assert client.get(local(manifest["output"][0]["url"]), headers=stranger).status_code == 404
    assert client.delete(local(status_url), headers=stranger).status_code == 404
    assert client.get(local(status_url), headers=owner).status_code == 200  # untouched


_STRANGER = {
    "refresh_hash": None,
    "family": "stranger",
    "client_id": "another-backend",
    "user_id": None,
    "role": None,
    "fhir_user": None,
    "scope": "system/*.rs",
    "grant_type": "client_credentials",
    "context": {},
}
