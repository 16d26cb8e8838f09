"""Shared fixtures: an in-process app (Flask test client) and the real server over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.storage.sqlite import SQLiteStore

# The authorization safety net fails the request instead of filtering quietly: any
# test (and any server it starts) that makes it remove something fails.
os.environ["NOSKHE_STRICT_AUTHORIZATION"] = "1"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
EXAMPLES = Path(__file__).parent / "fixtures" / "r4-examples"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path, auth=False))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "store.sqlite3")
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """`fhir-server serve` in a subprocess: the real HTTP server (granian)."""

    def __init__(self, data: Path, *extra: str, workers: int = 2, start_timeout: float = 30) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/fhir"
        cmd = [
            sys.executable,
            "-m",
            "fhir_server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data",
            str(data),
            "--workers",
            str(workers),
            *extra,
        ]
        self.log = open(data / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())
        self._wait(start_timeout)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy in {timeout:g} s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URI of the MongoDB server for this test process: NOSKHE_TEST_MONGODB_URI, or
    else a secantusdb server (MongoDB wire-compatible, from PyPI, test-time only) started
    once per test process on a free loopback port. Tests take a fresh database on it."""
    from tests.storage.conformance.noskhe_test_servers import MONGO_ENV, SecantusServer

    configured = os.environ.get(MONGO_ENV)
    if configured:
        yield configured
        return
    mongo = SecantusServer(tmp_path_factory.mktemp("secantus") / "data")
    yield mongo.uri
    mongo.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    srv = RunningServer(tmp_path_factory.mktemp("server"), "--no-auth")
    yield srv
    srv.stop()
