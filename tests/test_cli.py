"""The `fhir-server` command: refusals and the auth default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings
from tests.conftest import RunningServer


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org"])
def test_no_auth_is_refused_off_loopback(
    tmp_path: Path, host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host, "--data", str(tmp_path), "--no-auth"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fhir_server", "--help"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and "serve" in out.stdout


def test_seed_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmp_path = tmp_path / "data"  # a first run: the directory does not exist yet
    assert main(["seed", "--data", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert main(["seed", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out == first  # the same prescription, not a second one
    from fhir_server.storage.sqlite import SQLiteStore

    with SQLiteStore(tmp_path / "noskhe.sqlite3").session() as s:
        for type_, id_ in [("Patient", "patient-1"), ("Practitioner", "dr-ahmadi")]:
            current = s.current(type_, id_)
            assert current is not None and current.version == 1
    assert (tmp_path / "demo-signing-key.jwk").stat().st_mode & 0o777 == 0o600


def test_seed_gives_a_newcomer_everything_to_try(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fhir_server.demo import DEMO_PASSWORD, DEMO_USERS, SAMPLE_CLIENT
    from smart_auth.passwords import verify_password
    from smart_auth.store import open_auth_store

    assert main(["seed", "--data", str(tmp_path), "--base-url", "http://127.0.0.1:9099/fhir"]) == 0
    rx = capsys.readouterr().out.split("prescription ")[1].split()[0]
    auth = open_auth_store(tmp_path)
    client = auth.get_client(SAMPLE_CLIENT)
    assert client is not None and client["kind"] == "public"
    assert set(client["redirect_uris"]) == {
        "http://127.0.0.1:9099/apps/sample/index.html",
        "http://localhost:9099/apps/sample/index.html",
    }
    roles = set()
    for username, (role, fhir_user, _) in DEMO_USERS.items():
        user = auth.find_user(username)
        assert user and user["role"] == role and user["fhir_user"] == fhir_user
        assert verify_password(DEMO_PASSWORD, user["password_hash"])
        roles.add(role)
    assert roles == {
        "prescriber",
        "pharmacist",
        "paraclinic",
        "receptionist",
        "insurer",
        "ministry",
        "patient",
        "admin",
    }
    auth.close()
    # The demo prescription is signed (active) and prints, with a development token.
    assert main(["token", "--data", str(tmp_path), "--user", "dr.ahmadi"]) == 0
    token = capsys.readouterr().out.strip()
    app = create_app(Settings(data_dir=tmp_path)).test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    items = app.get(f"/fhir/MedicationRequest?prescription={rx}", headers=bearer).get_json()
    assert items["total"] == 2 and {e["resource"]["status"] for e in items["entry"]} == {"active"}
    printout = app.get(f"/fhir/MedicationRequest/$printout?prescription={rx}", headers=bearer)
    assert printout.status_code == 200 and "دکتر مریم احمدی" in printout.get_data(as_text=True)
    # The enrolment directory knows the demo prescriber by national code and mobile.
    from fhir_server.app import build_repository
    from fhir_server.directory import FhirDirectory
    from fhir_server.storage import open_store

    store = open_store(tmp_path, None)
    accounts = FhirDirectory(store, build_repository()).find_practitioner("0451253541", "09121234567")
    store.close()
    assert [(a["role"], a.get("organization")) for a in accounts] == [("prescriber", "درمانگاه نمونه تهران")]


def test_development_token_works_from_loopback_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--data", str(tmp_path)]) == 0
    assert main(["token", "--data", str(tmp_path), "--user", "ali", "--minutes", "5"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    app = create_app(Settings(data_dir=tmp_path)).test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.get("/fhir/Patient/patient-1", headers=bearer).status_code == 200  # the patient's own
    assert app.get("/fhir/Patient/patient-2", headers=bearer).status_code in (403, 404)
    remote = app.get("/fhir/Patient/patient-1", headers=bearer, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert remote.status_code == 401


@pytest.mark.parametrize(
    "args",
    [
        ["--user", "nobody"],
        ["--user", "ph.rezaei", "--scope", "user/Observation.cruds"],
        ["--user", "ali", "--minutes", "0"],
    ],
)
def test_token_refusals(tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--data", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["token", "--data", str(tmp_path), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("fhir-server:")


def test_token_claim_scopes_are_the_pharmacists_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--data", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["token", "--data", str(tmp_path), "--user", "ph.rezaei", "--scope", "user/Claim.cruds"]) == 0
    assert capsys.readouterr().err.split()[0] == "user/Claim.crs?provider=Organization%2Fpharmacy-1"


def test_landing_page_shows_the_way(tmp_path: Path) -> None:
    page = create_app(Settings(data_dir=tmp_path)).test_client().get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="fa" dir="rtl">' in text
    for href in (
        "/fhir/metadata",
        "/fhir/.well-known/smart-configuration",
        "/auth/enrol",
        "/apps/sample/launch.html",
    ):
        assert f'href="{href}' in text
    assert "Noskhe" in text and "نسخه" in text  # Persian with English


@pytest.mark.e2e
def test_auth_is_on_by_default(tmp_path: Path) -> None:
    srv = RunningServer(tmp_path, workers=1)
    try:
        r = requests.get(f"{srv.base}/Patient/patient-1")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.json()["resourceType"] == "OperationOutcome"
        r = requests.get(f"{srv.base}/Patient", headers={"Authorization": "Bearer made-up"})
        assert r.status_code == 401
        assert requests.get(f"{srv.base}/metadata").status_code == 200
    finally:
        srv.stop()


def test_seed_is_refused_off_loopback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--seed` creates accounts whose password is in the README: never on a public address."""
    args = ["serve", "--host", "0.0.0.0", "--base-url", "https://rx.example.ir/fhir", "--seed"]
    assert main([*args, "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seed" in err[0] and "loopback" in err[0]
    assert not (tmp_path / "auth.sqlite3").exists()  # nothing was created


def test_a_development_token_is_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--data", str(tmp_path)]) == 0
    assert main(["token", "--data", str(tmp_path), "--user", "ali", "--minutes", "5"]) == 0
    capsys.readouterr()
    app = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    found = app.get("/fhir/AuditEvent?subtype=token-issued").get_json()
    assert found["total"] == 1
    event = found["entry"][0]["resource"]
    assert event["agent"][0]["who"] == {"reference": "Patient/patient-1", "display": "ali"}
    assert event["agent"][1]["who"]["identifier"]["value"] == "fhir-server-token"
    assert event["entity"][0]["what"]["reference"] == "Patient/patient-1"
    assert "development token, 5 min, loopback only: patient/" in event["outcomeDesc"]
    # a refused token leaves no record
    assert main(["token", "--data", str(tmp_path), "--user", "nobody"]) == 2
    assert app.get("/fhir/AuditEvent?subtype=token-issued&_summary=count").get_json()["total"] == 1
