"""The `fhir-server` command: refusals and the auth default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fhir_server.cli import main
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
    assert main(["seed", "--data", str(tmp_path)]) == 0
    assert main(["seed", "--data", str(tmp_path)]) == 0
    from fhir_server.storage.sqlite import SQLiteStore

    with SQLiteStore(tmp_path / "noskhe.sqlite3").session() as s:
        patient = s.current("Patient", "patient-1")
        assert patient is not None and patient.version == 1


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
