"""Failing safe, and saying so: a full store answers 507 with an OperationOutcome (and
/readyz is not ready); a damaged signing key file is refused at start, and one damaged
while serving makes /readyz and the token endpoint say so; the data directory is 0700
and every file in it 0600, whatever the umask."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import uuid
from pathlib import Path

import pytest
from flask import Flask
from joserfc import jwt
from joserfc.jwk import RSAKey

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.storage.sqlite import SQLiteStore
from smart_auth.keys import KeyFileError, SigningKeys
from smart_auth.store import open_auth_store
from smart_auth.store.sqlite import KEY_FILE

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def pages(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])


def test_a_full_store_answers_507_and_is_not_ready(tmp_path: Path) -> None:
    create_app(Settings(data_dir=tmp_path, auth=False)).extensions["noskhe"].store.close()
    db = tmp_path / "noskhe.sqlite3"
    room = 120  # pages: a few creates, and the readiness margin
    store = SQLiteStore(db, max_pages=pages(db) + room)
    app = create_app(Settings(data_dir=tmp_path, auth=False), store=store)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    statuses = []
    for n in range(400):
        patient = {"resourceType": "Patient", "name": [{"text": f"بیمار {n} " + "ا" * 3000}]}
        response = client.post("/fhir/Patient", json=patient, headers=FHIR_JSON)
        statuses.append(response.status_code)
        if response.status_code == 507:
            outcome = response.get_json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert outcome["issue"][0]["code"] == "no-store" and "full" in outcome["issue"][0]["diagnostics"]
            break
        assert response.status_code == 201, response.get_data(as_text=True)
    assert statuses[-1] == 507 and set(statuses[:-1]) == {201}
    stored = client.get("/fhir/Patient?_summary=count").get_json()["total"]
    assert stored == len(statuses) - 1  # the refused write left nothing behind
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["resourceType"] == "OperationOutcome"
    assert "limit" in str(ready.get_json()) or "refuses" in str(ready.get_json())


def test_token_requests_on_a_full_authorization_store_are_507(tmp_path: Path) -> None:
    """A backend service's token request writes (its assertion's jti, the token): a full
    store is a 507 with an OperationOutcome, not a bare 500."""
    app = create_app(Settings(data_dir=tmp_path))
    service = app.extensions["smart_auth"]
    key = RSAKey.generate_key(2048, parameters={"alg": "RS384", "kid": "k1"}, private=True)
    service.add_client("registry", jwks={"keys": [key.as_dict(private=False)]}, scope="system/*.rs")
    conn = service.store._conn()  # this thread's connection: the test client's requests use it
    conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError, match="full"):  # fill what room is left
        for n in range(10_000):
            conn.execute(
                "INSERT INTO tokens (token_id, access_hash, family, expires_at, doc) "
                "VALUES (?, ?, 'f', 0, ?)",
                (f"f{n}", f"h{n}", "x" * 500),
            )
    token_url = "http://127.0.0.1:8080/auth/token"
    claims = {"iss": "registry", "sub": "registry", "aud": token_url, "exp": int(time.time()) + 60}
    assertion = jwt.encode(
        {"alg": "RS384", "kid": "k1"}, {**claims, "jti": uuid.uuid4().hex}, key, algorithms=["RS384"]
    )
    response = app.test_client().post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "scope": "system/Patient.rs",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert response.status_code == 507, response.get_data(as_text=True)
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_damaged_key_file_is_refused_and_reported(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    (tmp_path / KEY_FILE).write_text('{"active": "x", "keys": [{"kty": "RSA"}]}')  # damaged while serving
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "signing key" in str(ready.get_json())
    jwks = client.get("/auth/jwks")
    assert jwks.status_code == 503 and jwks.get_json()["resourceType"] == "OperationOutcome"
    with pytest.raises(KeyFileError):
        SigningKeys(open_auth_store(tmp_path))
    with pytest.raises(KeyFileError):
        create_app(Settings(data_dir=tmp_path))


def test_data_directory_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = os.umask(0)  # the modes must not depend on the process's umask
    try:
        app: Flask = create_app(Settings(data_dir=data))
        app.extensions["smart_auth"].sms.send("09121234567", "کد: 1234")
        client = app.test_client()
        client.get("/readyz")  # a write to the store
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    for name in ("noskhe.sqlite3", "noskhe.sqlite3-wal", "auth.sqlite3", KEY_FILE, "sms-outbox.jsonl"):
        assert name in files, sorted(files)
    assert files == dict.fromkeys(files, 0o600)
