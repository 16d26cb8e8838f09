"""An in-process server with the people of a prescription already stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.eprescription.cycle_helpers import new_key, people

FHIR = {"Content-Type": "application/fhir+json"}
ENGINES = ["sqlite", "mongodb"]
# Tests over both stores: `pytestmark = BOTH_STORES` in a module (SQLite alone otherwise).
BOTH_STORES = pytest.mark.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture(scope="session")
def mongo_base(mongo_uri: str) -> str:
    """The test process's MongoDB server (tests/conftest.py)."""
    return mongo_uri


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store_url(engine: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite in the test's directory; a fresh MongoDB database otherwise."""
    if engine == "sqlite":
        return None
    from tests.storage.conformance.noskhe_test_servers import with_database

    base = request.getfixturevalue("mongo_base")
    return with_database(base, f"noskhe_rx_{uuid.uuid4().hex[:12]}")


class Api:
    """The Flask test client, speaking FHIR JSON."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(self, path: str, body: Any, status: int | None = 201, **headers: str) -> Any:
        resp = self.client.post("/fhir/" + path, json=body, headers={**FHIR, **headers})
        return self._check(resp, status)

    def put(self, path: str, body: Any, status: int | None = 200) -> Any:
        return self._check(self.client.put("/fhir/" + path, json=body, headers=FHIR), status)

    def get(self, path: str, status: int | None = 200) -> Any:
        return self._check(self.client.get("/fhir/" + path), status)

    def delete(self, path: str, status: int | None = 200) -> Any:
        return self._check(self.client.delete("/fhir/" + path), status)

    @staticmethod
    def _check(resp: Any, status: int | None) -> Any:
        if status is not None:
            assert resp.status_code == status, resp.get_data(as_text=True)
        return resp.get_json(silent=True)


@pytest.fixture
def signing_key() -> dict[str, Any]:
    return new_key()


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str | None) -> Iterator[Any]:
    def make(
        accept_unsigned: bool = False, insured: bool = True, key: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[Flask, Api]:
        monkeypatch.setenv("NOSKHE_ACCEPT_UNSIGNED", "1" if accept_unsigned else "0")
        app = create_app(Settings(data_dir=tmp_path, auth=False, store_url=store_url))
        api = Api(app.test_client())
        for resource in people(insured=insured, key=key, **kw):
            api.put(f"{resource['resourceType']}/{resource['id']}", resource, None)
        return app, api

    yield make


@pytest.fixture
def api(make_app: Any) -> Api:
    """Unsigned prescriptions accepted (active at once): most tests are not about signing."""
    return make_app(accept_unsigned=True)[1]  # type: ignore[no-any-return]


class Pharmacist:
    """A pharmacist's client: bearer token of a user working at one pharmacy."""

    def __init__(self, app: Flask, practitioner: str) -> None:
        from tests.authorization.conftest import mint  # that conftest imports this one

        token = mint(app, "user/MedicationDispense.cruds user/MedicationRequest.rs", fhir_user=practitioner)
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def send(
        self, method: str, path: str, body: Any = None, content_type: str = "application/fhir+json"
    ) -> Any:
        data = None if body is None else orjson.dumps(body)
        headers = {**self.headers, "Content-Type": content_type}
        return self.client.open("/fhir/" + path, method=method, data=data, headers=headers)

    def post(self, path: str, body: Any, status: int) -> Any:
        response = self.send("POST", path, body)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def get(self, path: str) -> Any:
        return self.send("GET", path).get_json()


@pytest.fixture
def pharmacy(make_app: Any, tmp_path: Path, store_url: str | None) -> tuple[Api, Flask]:
    """The open app (to set up) and a secured app on the same store; two pharmacists, one
    at each pharmacy (their PractitionerRoles)."""
    _, api = make_app(accept_unsigned=True)
    for n in (1, 2):
        api.put(f"Practitioner/ph-{n}", {"resourceType": "Practitioner", "id": f"ph-{n}"}, None)
        role = {
            "resourceType": "PractitionerRole",
            "id": f"ph-{n}-role",
            "practitioner": {"reference": f"Practitioner/ph-{n}"},
            "organization": {"reference": f"Organization/pharmacy-{n}"},
        }
        api.put(f"PractitionerRole/ph-{n}-role", role, None)
    return api, create_app(Settings(data_dir=tmp_path, store_url=store_url))
