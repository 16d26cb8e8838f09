"""The base URL in Location headers and bundle fullUrls: the configured one, else the
request's own scheme and Host (per request, also when one server answers several names)."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.conftest import FHIR_JSON

PATIENT = {"resourceType": "Patient", "gender": "female"}


def _location(client: FlaskClient, base: str) -> tuple[str, str]:
    r = client.post("/fhir/Patient", json=PATIENT, headers=FHIR_JSON, base_url=base)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.headers["Location"], r.get_json()["id"]


def test_location_follows_each_requests_scheme_and_host(client: FlaskClient) -> None:
    for base, expected in [
        ("http://a.example:8080", "http://a.example:8080/fhir"),
        ("https://b.example", "https://b.example/fhir"),
        ("http://a.example:8080", "http://a.example:8080/fhir"),  # again, after another host
        ("http://b.example", "http://b.example/fhir"),  # same host, other scheme
        ("https://b.example:443", "https://b.example/fhir"),  # the default port is dropped
    ]:
        location, pid = _location(client, base)
        assert location == f"{expected}/Patient/{pid}/_history/1"


def test_the_configured_base_url_wins_over_the_host(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, auth=False, base_url="https://fhir.example.ir/r4/"))
    location, pid = _location(app.test_client(), "http://127.0.0.1:8080")
    assert location == f"https://fhir.example.ir/r4/Patient/{pid}/_history/1"
