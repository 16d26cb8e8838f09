"""Clients that open a connection and never finish their request do not stop the server:
`/healthz` and normal FHIR requests are still answered (a liveness check with a generous
timeout, not a speed test). The HTTP server reads request heads and bodies in its async
front end and gives a worker thread only complete requests."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import FHIR_JSON, RunningServer

pytestmark = pytest.mark.e2e
STALLED = 10
TIMEOUT = 15.0


def _stalled_clients(host: str, port: int) -> list[socket.socket]:
    """Half a request line, a head without its blank line, a body shorter than announced,
    or nothing at all: each stops and waits."""
    partial = [
        b"GET /healthz HT",
        b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nAccept: application/fhir+json\r\n",
        b"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
        b'Content-Length: 5000\r\n\r\n{"resourceType": "Pat',
        b"",
    ]
    clients = []
    for n in range(STALLED):
        sock = socket.create_connection((host, port), timeout=5)
        if partial[n % len(partial)]:
            sock.sendall(partial[n % len(partial)])
        clients.append(sock)
    return clients


def test_stalled_connections_do_not_block_healthz_or_requests(server: RunningServer) -> None:
    url = urlsplit(server.base)
    stalled = _stalled_clients(url.hostname or "127.0.0.1", url.port or 80)
    try:
        time.sleep(0.5)  # let the server take them all in
        started = time.monotonic()
        assert requests.get(f"{url.scheme}://{url.netloc}/healthz", timeout=TIMEOUT).status_code == 200
        created = requests.post(
            f"{server.base}/Patient",
            json={"resourceType": "Patient", "name": [{"family": "Stalled"}]},
            headers=FHIR_JSON,
            timeout=TIMEOUT,
        )
        assert created.status_code == 201, created.text
        read = requests.get(f"{server.base}/Patient/{created.json()['id']}", timeout=TIMEOUT)
        assert read.status_code == 200 and read.json()["name"][0]["family"] == "Stalled"
        assert time.monotonic() - started < TIMEOUT
        # The stalled clients are still connected: nothing was answered or closed for them.
        for sock in stalled:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in stalled:
            sock.close()
