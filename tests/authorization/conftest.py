"""A server with authorization on, over SQLite or MongoDB, and bearer tokens for it.

Tokens are stored the way the token endpoint stores them (the hash of an opaque secret,
scopes, the launch context) and checked by the real gate: these tests are about what the
FHIR side lets a token see; tests/e2e/test_smart_e2e.py gets tokens through real flows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from smart_auth.hashing import digest, new_secret
from tests.eprescription.conftest import mongo_base  # noqa: F401 - a fixture

FHIR = {"Content-Type": "application/fhir+json"}


def mint(app: Flask, scope: str, patient: str | None = None, fhir_user: str | None = None) -> str:
    """A bearer token with these scopes (and launch patient), as the token endpoint saves one."""
    secret = new_secret()
    now = time.time()
    app.extensions["smart_auth"].store.put_token(
        {
            "token_id": uuid.uuid4().hex,
            "access_hash": digest(secret),
            "refresh_hash": None,
            "family": uuid.uuid4().hex,
            "client_id": "test-app",
            "user_id": None,
            "role": None,
            "fhir_user": fhir_user,
            "scope": scope,
            "grant_type": "authorization_code",
            "issued_at": now,
            "expires_at": now + 3600,
            "context": {"patient": patient} if patient else {},
        }
    )
    return secret


class Client:
    """The Flask test client with one bearer token."""

    def __init__(self, app: Flask, token: str) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.headers = {**FHIR, "Authorization": f"Bearer {token}"}

    def settle(self) -> None:
        """Wait for the audit records of earlier calls (written in the background)."""
        self.app.extensions["smart_auth"].audit.sink.flush()

    def get(self, path: str) -> Any:
        self.settle()
        return self.client.get("/fhir/" + path.lstrip("/"), headers=self.headers)

    def post(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.post("/fhir/" + path.lstrip("/"), json=body, headers={**self.headers, **headers})

    def put(self, path: str, body: Any) -> Any:
        return self.client.put("/fhir/" + path.lstrip("/"), json=body, headers=self.headers)

    def form(self, path: str, data: dict[str, str]) -> Any:
        headers = {k: v for k, v in self.headers.items() if k != "Content-Type"}
        return self.client.post("/fhir/" + path.lstrip("/"), data=data, headers=headers)


AppFactory = Callable[[list[dict[str, Any]]], Flask]


@pytest.fixture(scope="module", params=["sqlite", "mongodb"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppFactory]:
    """Apps (authorization on) whose stores hold the given resources, written by id; on
    each store engine in turn, made once per test module."""
    engine = str(request.param)

    def make(resources: list[dict[str, Any]]) -> Flask:
        url = None
        if engine == "mongodb":
            from tests.storage.conformance.noskhe_test_servers import with_database

            base = request.getfixturevalue("mongo_base")
            url = with_database(base, f"noskhe_authz_{uuid.uuid4().hex[:12]}")
        app = create_app(Settings(data_dir=tmp_path_factory.mktemp("world"), store_url=url))
        admin = Client(app, mint(app, "user/*.cruds"))
        for resource in resources:
            r = admin.put(f"{resource['resourceType']}/{resource['id']}", resource)
            assert r.status_code in (200, 201), r.get_data(as_text=True)
        return app

    yield make
