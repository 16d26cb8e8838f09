"""Test-time servers: a MongoDB wire-compatible server from PyPI (secantusdb) and the real
FHIR server in its own process group (so a test can SIGKILL all of it at once)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

MONGO_ENV = "NOSKHE_TEST_MONGODB_URI"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(uri: str, name: str) -> str:
    """`uri` pointing at database `name` (query options kept)."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _secantusd() -> str | None:
    """The secantusd-py launcher: next to this interpreter (a venv), else on PATH."""
    local = Path(sys.executable).parent / "secantusd-py"
    return str(local) if local.exists() else shutil.which("secantusd-py")


def wait_for_mongo(uri: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    import pymongo

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(uri, serverSelectionTimeoutMS=250)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"secantusd-py exited with {proc.returncode}")
            try:
                client.admin.command("ping")
                return
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"MongoDB at {uri} did not answer in {timeout} s") from None
                time.sleep(0.1)
    finally:
        client.close()


class SecantusServer:
    """`secantusd-py --port P --storage-path DIR` on a free loopback port."""

    def __init__(self, storage: Path, *extra: str) -> None:
        launcher = _secantusd()
        if launcher is None:
            raise RuntimeError(
                f"secantusd-py not found: pip install secantusdb (the test extra), or set {MONGO_ENV}"
            )
        self.storage = storage
        self.extra = extra
        self.launcher = launcher
        self.port = free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.log = open(self.storage.parent / f"{self.storage.name}.log", "ab")  # noqa: SIM115
        cmd = [self.launcher, "--host", "127.0.0.1", "--port", str(self.port),
               "--storage-path", str(self.storage), "--log-level", "WARNING", *self.extra]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_mongo(self.uri, 60, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class FhirServer:
    """`python -m fhir_server serve --no-auth` in its own process group."""

    def __init__(self, data: Path, *extra: str, workers: int = 2, threads: int = 4) -> None:
        self.data = data
        self.extra = extra
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/fhir"
        self.start()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "fhir_server", "serve", "--no-auth", "--host", "127.0.0.1",
               "--port", str(self.port), "--data", str(self.data), "--workers", str(self.workers),
               "--threads", str(self.threads), *self.extra]  # fmt: skip
        self.log = open(self.data / "server.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy()
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready in 60 s")

    def kill(self) -> None:
        """SIGKILL the whole server: the main process and every worker at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
