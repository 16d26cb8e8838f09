"""The CLI subcommands, the SQLite auth store across connections, and the audit sinks."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from smart_auth.audit import QueuedAudit, SafeAudit, auth_event, rest_event
from smart_auth.cli import register_cli, run
from smart_auth.keys import SigningKeys
from smart_auth.passwords import verify_password
from smart_auth.rest import classify
from smart_auth.store import SQLiteAuthStore


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(list(argv)))


def test_clients_add_all_kinds(tmp_path: Path, rs384_key: RSAKey) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [rs384_key.as_dict(private=False)]}))
    base = ["--data", str(tmp_path)]
    assert (
        cli(
            "clients",
            "add",
            *base,
            "--client-id",
            "pub",
            "--public",
            "--redirect-uri",
            "https://app.example/cb",
            "--scope",
            "openid patient/*.rs",
        )
        == 0
    )
    assert (
        cli(
            "clients",
            "add",
            *base,
            "--client-id",
            "conf",
            "--secret",
            "s3cret-value",
            "--redirect-uri",
            "https://app.example/cb",
            "--scope",
            "user/*.rs",
        )
        == 0
    )
    assert (
        cli("clients", "add", *base, "--client-id", "bs", "--jwks-file", str(jwks), "--scope", "system/*.rs")
        == 0
    )
    assert (
        cli(
            "clients",
            "add",
            *base,
            "--client-id",
            "bu",
            "--jwks-url",
            "https://x.example/jwks",
            "--scope",
            "system/*.rs",
        )
        == 0
    )
    store = SQLiteAuthStore(tmp_path / "auth.sqlite3")
    kinds = {c["client_id"]: (c["kind"], c["grant_types"]) for c in store.list_clients()}
    assert kinds["pub"] == ("public", ["authorization_code", "refresh_token"])
    assert kinds["conf"][0] == "symmetric" and kinds["bs"] == ("asymmetric", ["client_credentials"])
    conf = store.get_client("conf")
    assert (
        conf
        and "s3cret-value" not in json.dumps(conf)
        and verify_password("s3cret-value", conf["secret_hash"])
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--public", "--scope", "openid"],  # public without redirect
        ["--public", "--redirect-uri", "relative/cb", "--scope", "openid"],  # not absolute
        ["--public", "--redirect-uri", "https://a.example/cb", "--scope", "patient/X.sr"],  # malformed scope
    ],
)
def test_clients_add_refuses_bad_input(tmp_path: Path, argv: list[str]) -> None:
    assert cli("clients", "add", "--data", str(tmp_path), "--client-id", "x", *argv) == 2


def test_users_add(tmp_path: Path) -> None:
    assert (
        cli(
            "users",
            "add",
            "--data",
            str(tmp_path),
            "--username",
            "dr.a",
            "--password",
            "Passw0rd-long",
            "--role",
            "prescriber",
            "--fhir-user",
            "Practitioner/7",
        )
        == 0
    )
    assert (
        cli(
            "users",
            "add",
            "--data",
            str(tmp_path),
            "--username",
            "pt",
            "--password",
            "Passw0rd-long",
            "--role",
            "patient",
        )
        == 2
    )  # a patient needs Patient/ID
    user = SQLiteAuthStore(tmp_path / "auth.sqlite3").find_user("dr.a")
    assert (
        user
        and user["fhir_user"] == "Practitioner/7"
        and verify_password("Passw0rd-long", user["password_hash"])
    )


def test_keys_rotate_and_retire(tmp_path: Path) -> None:
    old = SigningKeys(SQLiteAuthStore(tmp_path / "auth.sqlite3")).active.kid
    assert cli("keys", "rotate", "--data", str(tmp_path)) == 0
    keys = SigningKeys(SQLiteAuthStore(tmp_path / "auth.sqlite3"))
    assert keys.active.kid != old and len(keys.public_jwks()["keys"]) == 2
    assert cli("keys", "retire", "--data", str(tmp_path), "--kid", str(keys.active.kid)) == 2  # active
    assert cli("keys", "retire", "--data", str(tmp_path), "--kid", str(old)) == 0


def test_safe_audit_swallows_failures() -> None:
    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("store down")

    SafeAudit(broken).record(auth_event("login", True, username="u"))  # no exception


def test_queued_audit_writes_off_thread() -> None:
    written: list[dict[str, Any]] = []
    writer_threads: set[str] = set()

    def write(event: dict[str, Any]) -> None:
        writer_threads.add(threading.current_thread().name)
        written.append(event)

    sink = QueuedAudit(write)
    sink(auth_event("login", True, username="u"))
    sink(rest_event("read", "r", status=200, resource="Patient/1"))
    sink.flush()
    assert len(written) == 2 and writer_threads == {"audit-writer"}


def test_audit_event_shapes() -> None:
    login = auth_event("login", False, username="u", client_id="c", ip="10.0.0.1")
    assert login["resourceType"] == "AuditEvent" and login["type"]["code"] == "110114"
    assert login["subtype"][0]["code"] == "110122" and login["outcome"] == "4"
    assert login["agent"][1]["network"] == {"address": "10.0.0.1", "type": "2"}
    search = rest_event("search-type", "s", status=200, query="name=x", patient="p1")
    assert search["action"] == "E" and {"reference": "Patient/p1"} in [
        e.get("what") for e in search["entity"]
    ]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/fhir/Patient/1", ("read", "Patient/1")),
        ("GET", "/fhir/Patient", ("search-type", None)),
        ("POST", "/fhir/Patient/_search", ("search-type", None)),
        ("POST", "/fhir/Patient", ("create", None)),
        ("PUT", "/fhir/Patient/1", ("update", "Patient/1")),
        ("PATCH", "/fhir/Patient/1", ("patch", "Patient/1")),
        ("DELETE", "/fhir/Patient/1", ("delete", "Patient/1")),
        ("GET", "/fhir/Patient/1/_history/2", ("vread", "Patient/1/_history/2")),
        ("GET", "/fhir/Patient/1/_history", ("history-instance", "Patient/1")),
        ("GET", "/fhir/Patient/_history", ("history-type", None)),
        ("GET", "/fhir/_history", ("history-system", None)),
        ("GET", "/fhir", ("search-system", None)),
        ("POST", "/fhir/Patient/$validate", ("operation", None)),
        ("POST", "/fhir/Patient/1/$everything", ("operation", "Patient/1")),
        ("POST", "/fhir", ("transaction", None)),
    ],
)
def test_classify(method: str, path: str, expected: tuple[str, str | None]) -> None:
    assert classify(method, path, "/fhir") == expected


def test_classify_batch() -> None:
    assert classify("POST", "/fhir", "/fhir", lambda: {"type": "batch"}) == ("batch", None)
