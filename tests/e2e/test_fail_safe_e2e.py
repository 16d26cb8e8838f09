"""The real `fhir-server serve`: a data directory it cannot use stops it with one line and
exit status 3 (nothing half-started, no traceback); malformed request bodies on the wire
are 4xx OperationOutcomes, never a 5xx."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningServer, free_port

pytestmark = pytest.mark.e2e


def unopenable(tmp: Path) -> Path:
    (tmp / "a-file").write_text("")
    return tmp / "a-file" / "data"  # under a regular file


def read_only(tmp: Path) -> Path:
    return Path("/sys")  # no one, root included, creates a file there


def damaged_database(tmp: Path) -> Path:
    (tmp / "noskhe.sqlite3").write_bytes(b"this is not an SQLite database, it was overwritten" * 100)
    return tmp


def damaged_key_file(tmp: Path) -> Path:
    (tmp / "smart-signing-keys.json").write_text(json.dumps({"active": "k1", "keys": [{"kty": "RSA"}]}))
    return tmp


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (unopenable, "Not a directory"),
        (read_only, "read-only"),
        (damaged_database, "damaged"),
        (damaged_key_file, "signing key file"),
    ],
)
def test_a_data_directory_that_cannot_be_used_stops_the_server(tmp_path: Path, make, says: str) -> None:  # type: ignore[no-untyped-def]
    data = make(tmp_path)
    cmd = [sys.executable, "-m", "fhir_server", "serve", "--data", str(data), "--port", str(free_port())]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 3, done.stderr
    assert len(lines) == 1 and lines[0].startswith("fhir-server: ") and says in lines[0], done.stderr
    assert done.stdout == ""  # no banner: nothing was started


MALFORMED_CHUNKED = {
    "size is not hex": b"ZZ\r\n{}\r\n0\r\n\r\n",
    "size overflows": b"FFFFFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
    "negative size": b"-2\r\n{}\r\n0\r\n\r\n",
    "no terminating chunk": b"2\r\n{}\r\n",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> RunningServer:
    srv = RunningServer(tmp_path_factory.mktemp("fail-safe"), "--no-auth", workers=1)
    yield srv  # type: ignore[misc]
    srv.stop()


@pytest.mark.parametrize("body", MALFORMED_CHUNKED.values(), ids=list(MALFORMED_CHUNKED))
def test_a_malformed_chunked_body_is_a_4xx(server: RunningServer, body: bytes) -> None:
    head = (
        "POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:300]
    assert b'"resourceType":"OperationOutcome"' in answer
