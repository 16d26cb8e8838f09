"""CORS: browser apps call the API, discovery, JWKS and OAuth endpoints; the pages stay same-origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from fhir_server.api.cors import ALLOW_HEADERS, EXPOSE_HEADERS, parse_origins
from fhir_server.app import create_app
from fhir_server.config import Settings

APP = "https://app.example.org"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": ", ".join(h.lower() for h in ALLOW_HEADERS),
}
BROWSER_CALLED = [
    "/fhir/Patient/p1",
    "/fhir/MedicationRequest",
    "/fhir/metadata",
    "/fhir/.well-known/smart-configuration",
    "/auth/token",
    "/auth/introspect",
    "/auth/revoke",
    "/auth/register",
    "/auth/jwks",
]


def client_for(tmp_path: Path, origins: str = "*") -> FlaskClient:
    return create_app(Settings(data_dir=tmp_path, auth=True, cors_origins=origins)).test_client()


def split(value: str | None) -> set[str]:
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


@pytest.mark.parametrize("path", BROWSER_CALLED)
def test_preflight_answered_without_a_token(tmp_path: Path, path: str) -> None:
    response = client_for(tmp_path).options(path, headers=PREFLIGHT)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert split(response.headers["Access-Control-Allow-Headers"]) == {h.lower() for h in ALLOW_HEADERS}
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_refused_call_still_readable_by_the_app(tmp_path: Path) -> None:
    response = client_for(tmp_path).get("/fhir/Patient/p1", headers={"Origin": APP})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert split(response.headers["Access-Control-Expose-Headers"]) == {h.lower() for h in EXPOSE_HEADERS}
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_discovery_and_token_errors_carry_cors(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    discovery = client.get("/fhir/.well-known/smart-configuration", headers={"Origin": APP})
    assert discovery.status_code == 200 and discovery.headers["Access-Control-Allow-Origin"] == "*"
    token = client.post("/auth/token", data={"grant_type": "nope"}, headers={"Origin": APP})
    assert token.status_code == 400 and token.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/auth/authorize", "/auth/signin", "/auth/consent", "/auth/enrol"])
def test_cookie_pages_stay_same_origin(tmp_path: Path, path: str) -> None:
    client = client_for(tmp_path)
    assert "Access-Control-Allow-Origin" not in client.options(path, headers=PREFLIGHT).headers
    assert "Access-Control-Allow-Origin" not in client.get(path, headers={"Origin": APP}).headers


def test_configured_origins_only(tmp_path: Path) -> None:
    client = client_for(tmp_path, f"{APP}, https://other.example.org/")
    allowed = client.options("/fhir/Patient/p1", headers=PREFLIGHT)
    assert allowed.headers["Access-Control-Allow-Origin"] == APP
    assert "Origin" in allowed.headers.get("Vary", "")
    stranger = client.options("/fhir/Patient/p1", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert "Access-Control-Allow-Credentials" not in stranger.headers
    assert client.get("/fhir/Patient/p1", headers={"Origin": "https://evil.example"}).status_code == 401


def test_preflight_is_not_audited_and_changes_nothing(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    client.options("/fhir/Patient", headers={**PREFLIGHT, "Access-Control-Request-Method": "POST"})
    open_app = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    assert open_app.get("/fhir/AuditEvent").get_json()["total"] == 0
    assert open_app.get("/fhir/Patient").get_json()["total"] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "*"),
        ("", "*"),
        ("*", "*"),
        ("https://a.example, https://b.example/", ["https://a.example", "https://b.example"]),
        ("https://a.example *", "*"),
    ],
)
def test_origin_setting(text: str | None, expected: object) -> None:
    assert parse_origins(text) == expected
