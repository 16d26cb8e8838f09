"""The issuer and every URL the server writes come from its configuration, never from the
request: a client choosing the Host header (or X-Forwarded-* without --trust-proxy)
changes nothing; off loopback the server does not start without a base URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings
from smart_auth.dev_tokens import mint

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def test_the_base_url_is_configured_or_derived_from_the_bound_loopback_address() -> None:
    assert (
        Settings(host="127.0.0.1", port=9090, base_url=None).public_base_url == "http://127.0.0.1:9090/fhir"
    )
    assert Settings(host="::1", port=9090, base_url=None).public_base_url == "http://[::1]:9090/fhir"
    configured = Settings(host="0.0.0.0", base_url="https://rx.example.ir/fhir/")
    configured.check()
    assert configured.public_base_url == "https://rx.example.ir/fhir"
    with pytest.raises(ValueError, match="--base-url"):
        Settings(host="0.0.0.0", base_url=None).check()
    with pytest.raises(ValueError, match="https"):  # OAuth refuses http off loopback
        Settings(host="0.0.0.0", base_url="http://10.1.2.3:8080/fhir").check()
    with pytest.raises(ValueError, match="absolute"):
        Settings(host="127.0.0.1", base_url="rx.example.ir/fhir").check()
    Settings(host="127.0.0.1", base_url="http://localhost:8080/fhir").check()


def test_serve_refuses_to_start_off_loopback_without_a_base_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOSKHE_BASE_URL", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--base-url" in err[0] and "Host header" in err[0]
    assert not (tmp_path / "noskhe.sqlite3").exists()  # refused before anything was opened


@pytest.fixture
def secured(tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path, host="127.0.0.1", port=8123, base_url=None))


def test_discovery_and_issuer_ignore_the_host_header(secured: Flask) -> None:
    client = secured.test_client()
    smart = client.get("/fhir/.well-known/smart-configuration", headers=EVIL).get_json()
    assert smart["issuer"] == "http://127.0.0.1:8123/fhir"
    assert smart["token_endpoint"] == "http://127.0.0.1:8123/auth/token"
    assert all("evil" not in str(v) for v in smart.values())
    security = client.get("/fhir/metadata", headers=EVIL).get_json()["rest"][0]["security"]
    assert "evil" not in str(security) and "127.0.0.1:8123" in str(security)


def test_token_requests_with_another_host_are_answered(secured: Flask) -> None:
    """Authlib checks the request's URL is https or loopback: it is the configured one."""
    response = secured.test_client().post(
        "/auth/token", data={"grant_type": "client_credentials", "client_id": "nobody"}, headers=EVIL
    )
    assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client"


def test_locations_full_urls_and_links_use_the_configured_base(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, auth=False, base_url="https://rx.example.ir/fhir"))
    client = app.test_client()
    for n in range(3):
        created = client.post(
            "/fhir/Patient", json={"resourceType": "Patient"}, headers={**FHIR_JSON, **EVIL}
        )
        assert created.headers["Location"].startswith("https://rx.example.ir/fhir/Patient/"), n
    page = client.get("/fhir/Patient?_count=1", headers=EVIL).get_json()
    urls = [link["url"] for link in page["link"]] + [e["fullUrl"] for e in page["entry"]]
    assert urls and all(u.startswith("https://rx.example.ir/fhir/") for u in urls)
    history = client.get("/fhir/Patient/_history", headers=EVIL).get_json()
    assert all(e["fullUrl"].startswith("https://rx.example.ir/fhir/") for e in history["entry"])


@pytest.mark.parametrize("trust_proxy", [False, True])
def test_forwarded_headers_count_only_behind_a_trusted_proxy(tmp_path: Path, trust_proxy: bool) -> None:
    """A development token works only from loopback: X-Forwarded-For moves the client off
    it only when the server trusts the proxy (and never the URLs the server writes)."""
    app = create_app(Settings(data_dir=tmp_path, trust_proxy=trust_proxy))
    service = app.extensions["smart_auth"]
    service.add_user("dr.ahmadi", "Kh0sh-Amad-2026", "prescriber", fhir_user="Practitioner/dr")
    token, _ = mint(service.store, "dr.ahmadi")
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.9", **EVIL}
    response = app.test_client().get("/fhir/Patient", headers=headers)
    assert response.status_code == (401 if trust_proxy else 200)
    smart = app.test_client().get("/fhir/.well-known/smart-configuration", headers=headers).get_json()
    assert smart["issuer"] == "http://127.0.0.1:8080/fhir"


def test_the_configured_base_url_wins_over_the_host(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, auth=False, base_url="https://fhir.example.ir/r4/"))
    r = app.test_client().post(
        "/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON, base_url="http://127.0.0.1:8080"
    )
    assert r.headers["Location"] == f"https://fhir.example.ir/r4/Patient/{r.get_json()['id']}/_history/1"
