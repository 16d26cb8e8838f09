"""The whole server with authorization on: real tokens from real flows, scopes enforced.

A patient signs in through the real `fhirclient` (authorization code + PKCE) and sees only
their own compartment; a prescriber writes what the role allows; a backend service with
an RS384 assertion reads system-wide; every FHIR call leaves an AuditEvent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from fhirclient import client as fhir_client
from joserfc.jwk import RSAKey

from fhir_server.cli import main
from tests.conftest import FHIR_JSON, RunningServer
from tests.e2e.smart_tokens import Site, backend_token
from tests.smart_auth.auth_testkit import Browser

pytestmark = pytest.mark.e2e
REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "Kh0sh-Amad-2026"
USER_SCOPES = "openid fhirUser launch/patient offline_access patient/*.rs user/*.cruds"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("secured")
    assert main(["seed", "--data", str(data)]) == 0
    cli = ["--data", str(data)]
    assert (
        main(
            [
                "clients",
                "add",
                *cli,
                "--client-id",
                "app",
                "--public",
                "--redirect-uri",
                REDIRECT,
                "--scope",
                USER_SCOPES,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "users",
                "add",
                *cli,
                "--username",
                "ali",
                "--password",
                PASSWORD,
                "--role",
                "patient",
                "--fhir-user",
                "Patient/patient-1",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "users",
                "add",
                *cli,
                "--username",
                "dr.ahmadi",
                "--password",
                PASSWORD,
                "--role",
                "prescriber",
                "--fhir-user",
                "Practitioner/dr-ahmadi",
            ]
        )
        == 0
    )
    key = RSAKey.generate_key(2048, parameters={"alg": "RS384", "kid": "backend-1"}, private=True)
    (data / "backend.jwks").write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    assert (
        main(
            [
                "clients",
                "add",
                *cli,
                "--client-id",
                "registry",
                "--jwks-file",
                str(data / "backend.jwks"),
                "--scope",
                "system/*.rs",
            ]
        )
        == 0
    )
    srv = RunningServer(data, workers=2)
    yield srv, key
    srv.stop()


NATIONAL_CODES = {"patient-1": "0018243460", "patient-2": "1531257747"}


def sign_in(
    server: RunningServer, username: str, pick: str | None = None, scope: str = "openid fhirUser patient/*.rs"
) -> fhir_client.FHIRClient:
    """fhirclient's authorize URL, the sign-in form, the patient picker (searched by national code)."""
    app = fhir_client.FHIRClient(
        settings={"app_id": "app", "api_base": server.base, "redirect_uri": REDIRECT, "scope": scope}
    )
    browser = Browser(Site(server), PASSWORD)  # type: ignore[arg-type]
    query = NATIONAL_CODES[pick] if pick else None
    app.handle_callback(browser.authorize(app.authorize_url, username, pick, query))
    return app


def bearer(app: fhir_client.FHIRClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.server.auth.access_token}"}


def test_metadata_advertises_oauth_uris(secured: Any) -> None:
    server, _ = secured
    security = requests.get(f"{server.base}/metadata").json()["rest"][0]["security"]
    uris = {e["url"]: e.get("valueUri") for e in security["extension"][0]["extension"]}
    assert uris["authorize"].endswith("/auth/authorize") and uris["token"].endswith("/auth/token")
    smart = requests.get(f"{server.base}/.well-known/smart-configuration").json()
    assert smart["code_challenge_methods_supported"] == ["S256"]


def test_no_token_is_401(secured: Any) -> None:
    server, _ = secured
    r = requests.get(f"{server.base}/Patient/patient-1")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_patient_sees_only_their_compartment(secured: Any) -> None:
    server, _ = secured
    app = sign_in(server, "ali")
    assert app.patient_id == "patient-1"
    own = requests.get(f"{server.base}/Patient/patient-1", headers=bearer(app))
    assert own.status_code == 200 and own.json()["id"] == "patient-1"
    assert requests.get(f"{server.base}/Patient/patient-2", headers=bearer(app)).status_code == 403

    patients = requests.get(f"{server.base}/Patient", headers=bearer(app)).json()
    assert [e["resource"]["id"] for e in patients["entry"]] == ["patient-1"]

    rx = requests.get(
        f"{server.base}/MedicationRequest",
        params={"_include": "MedicationRequest:requester"},
        headers=bearer(app),
    ).json()
    types = [e["resource"]["resourceType"] for e in rx["entry"]]
    assert types.count("MedicationRequest") == 2  # the demo prescription of patient-1: two drugs
    assert "Practitioner" not in types  # patient/*.rs grants no Practitioner outside the compartment

    r = requests.post(
        f"{server.base}/Patient", json={"resourceType": "Patient"}, headers={**FHIR_JSON, **bearer(app)}
    )
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"
    # Another patient's compartment: nothing of it is visible, not even how much there is.
    r = requests.get(
        f"{server.base}/Patient/patient-2/MedicationRequest",
        params={"_total": "accurate"},
        headers=bearer(app),
    )
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["entry"] == []


def test_revinclude_and_history_do_not_leak(secured: Any) -> None:
    server, _ = secured
    app = sign_in(server, "ali")
    bundle = requests.get(
        f"{server.base}/Patient", params={"_revinclude": "Coverage:beneficiary"}, headers=bearer(app)
    ).json()
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert ("Patient", "patient-2") not in ids
    history = requests.get(f"{server.base}/Patient/_history", headers=bearer(app)).json()
    assert {e["resource"]["id"] for e in history["entry"] if "resource" in e} == {"patient-1"}
    assert "total" not in history


def test_counts_tell_a_patient_nothing_about_another(secured: Any) -> None:
    """The counting leak: system search, `_type`, `POST _search` and a chain by national
    code count only what the token may see; the prescriber sees the record exists."""
    server, _ = secured
    scope = "openid fhirUser user/MedicationRequest.cruds user/Patient.rs"
    writer = sign_in(server, "dr.ahmadi", pick="patient-2", scope=scope)
    rx = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "متادون"},
        "subject": {"reference": "Patient/patient-2"},
    }
    headers = {**FHIR_JSON, **bearer(writer)}
    assert requests.post(f"{server.base}/MedicationRequest", json=rx, headers=headers).status_code == 201
    guess = {
        "_type": "MedicationRequest",
        "patient.identifier": f"http://noskhe.ir/fhir/sid/national-code|{NATIONAL_CODES['patient-2']}",
        "_total": "accurate",
    }
    seen = requests.get(server.base, params=guess, headers=bearer(writer)).json()
    assert seen["total"] >= 1
    patient = bearer(sign_in(server, "ali"))
    for answer in (
        requests.get(server.base, params=guess, headers=patient),
        requests.post(f"{server.base}/_search", data=guess, headers=patient),
        requests.get(f"{server.base}/MedicationRequest", params=guess, headers=patient),
    ):
        assert answer.status_code == 200, answer.text
        assert answer.json()["total"] == 0 and answer.json()["entry"] == []


def test_prescriber_writes_what_the_scope_allows(secured: Any) -> None:
    server, _ = secured
    app = sign_in(server, "dr.ahmadi", pick="patient-2")
    headers = {**FHIR_JSON, **bearer(app)}
    rx = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "آموکسی‌سیلین"},
        "subject": {"reference": "Patient/patient-2"},
    }
    # The app asked only patient/*.rs: a write is refused even for a prescriber.
    assert requests.post(f"{server.base}/MedicationRequest", json=rx, headers=headers).status_code == 403
    writer = sign_in(
        server, "dr.ahmadi", pick="patient-2", scope="openid fhirUser user/MedicationRequest.cruds"
    )
    headers = {**FHIR_JSON, **bearer(writer)}
    assert requests.post(f"{server.base}/MedicationRequest", json=rx, headers=headers).status_code == 201
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    assert requests.post(f"{server.base}/Observation", json=obs, headers=headers).status_code == 403
    # A transaction with one forbidden entry is refused whole.
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": rx, "request": {"method": "POST", "url": "MedicationRequest"}},
            {"resource": obs, "request": {"method": "POST", "url": "Observation"}},
        ],
    }
    assert requests.post(server.base, json=bundle, headers=headers).status_code == 403


def test_backend_service_reads_everything_writes_nothing_and_sees_audit(secured: Any) -> None:
    server, key = secured
    headers = {"Authorization": f"Bearer {backend_token(server, key, 'registry', 'system/*.rs')}"}
    patients = requests.get(f"{server.base}/Patient", params={"_total": "accurate"}, headers=headers).json()
    assert patients["total"] >= 2
    r = requests.post(
        f"{server.base}/Patient", json={"resourceType": "Patient"}, headers={**FHIR_JSON, **headers}
    )
    assert r.status_code == 403
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # audit is written in the background
        events = requests.get(
            f"{server.base}/AuditEvent", params={"_total": "accurate"}, headers=headers
        ).json()
        if events.get("total", 0) > 0:
            break
        time.sleep(0.2)
    assert events["total"] > 0
    assert all(e["resource"]["resourceType"] == "AuditEvent" for e in events["entry"])


def test_data_dir_keeps_secrets_hashed(secured: Any) -> None:
    server, _ = secured
    data = Path(server.log.name).parent
    assert PASSWORD.encode() not in (data / "auth.sqlite3").read_bytes()
