"""Fixtures of the smart_auth tests; the helpers live in auth_testkit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_testkit import Server, build_app, free_port, register_defaults
from joserfc.jwk import ECKey, RSAKey
from werkzeug.serving import make_server

from smart_auth import passwords


@pytest.fixture(scope="session", autouse=True)
def _cheap_scrypt() -> Iterator[None]:
    """Tests hash dozens of passwords; production cost stays N=2**14 (verify reads it from the hash)."""
    original = passwords.N
    passwords.N = 2**10
    yield
    passwords.N = original


@pytest.fixture(scope="session")
def rs384_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"alg": "RS384", "kid": "rs-1"}, private=True)


@pytest.fixture(scope="session")
def es384_key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"alg": "ES384", "kid": "es-1"}, private=True)


@pytest.fixture(params=["sqlite", "mongodb"])
def auth_store_url(request: pytest.FixtureRequest) -> str | None:
    """The auth store of a test, on each engine in turn: None for SQLite in the test's
    directory, else a fresh database on the test process's MongoDB server."""
    if request.param == "sqlite":
        return None
    from tests.storage.conformance.noskhe_test_servers import with_database

    return with_database(request.getfixturevalue("mongo_uri"), f"noskhe_auth_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def server(
    tmp_path: Path, rs384_key: RSAKey, es384_key: ECKey, auth_store_url: str | None
) -> Iterator[Server]:
    port = free_port()
    app, srv = build_app(tmp_path, port, store_url=auth_store_url)
    register_defaults(srv, rs384_key, es384_key)
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    http.shutdown()
    thread.join(5)
