"""SQLite index tables: schema, row replacement, parameter codes, query plans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from fhir_server.search import extract_index, parse_search, registry
from fhir_server.storage import sqlite_index
from fhir_server.storage.base import ResourceVersion
from fhir_server.storage.sqlite import SQLiteStore
from fhir_server.storage.sqlite_search import _where

NC = "http://noskhe.ir/fhir/sid/national-code"


def _rows(conn: sqlite3.Connection, id_: str) -> int:
    return sum(
        conn.execute(f"SELECT count(*) FROM ix_{k} WHERE id = ?", (id_,)).fetchone()[0]
        for k in sqlite_index.TABLES
    )


def _put(store: SQLiteStore, resource: dict, version: int) -> None:
    with store.session(write=True) as s:
        rv = ResourceVersion(
            resource["resourceType"],
            resource["id"],
            version,
            "2026-01-01T00:00:00.000Z",
            False,
            orjson.dumps(resource),
        )
        s.put(rv, extract_index(resource), version - 1 or None)


def test_schema_is_idempotent(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.sqlite")
    conn = sqlite3.connect(tmp_path / "a.sqlite")
    sqlite_index.create_schema(conn)
    sqlite_index.create_schema(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {f"ix_{k}" for k in sqlite_index.TABLES} <= tables
    store.close()


def test_replace_index_replaces_only_that_resource(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.sqlite")
    patient = {"resourceType": "Patient", "id": "x", "gender": "male", "name": [{"family": "A"}]}
    _put(store, patient, 1)
    _put(store, {"resourceType": "Practitioner", "id": "x", "gender": "male"}, 1)  # same id, other type
    _put(store, {"resourceType": "Patient", "id": "x", "gender": "female"}, 2)
    with store.session() as s:
        genders = [sqlite_index.param_code(t, "gender") for t in ("Patient", "Practitioner")]
        sql = "SELECT code FROM ix_token WHERE id = 'x' AND p IN (?, ?) ORDER BY code"
        rows = s.conn.execute(sql, genders).fetchall()
        assert rows == [("female",), ("male",)]  # Patient's new gender + Practitioner's
        assert s.conn.execute("SELECT count(*) FROM ix_string WHERE id = 'x'").fetchone()[0] == 0
    with store.session(write=True) as s:
        sqlite_index.replace_index(s.conn, "Patient", "x", [])
        sqlite_index.replace_index(s.conn, "Practitioner", "x", [])
        assert _rows(s.conn, "x") == 0
    store.close()


def test_param_codes_do_not_collide() -> None:
    seen: dict[int, str] = {}
    for type_ in registry().resource_types:
        low, high = sqlite_index.type_range(type_)
        for code, param in registry().for_type(type_).items():
            names = [code, f"{code}:text", f"{code}:of-type", f"{code}:identifier"]
            for name in names if param.type in ("token", "reference") else [code]:
                p = sqlite_index.param_code(type_, name)
                assert low <= p <= high
                assert seen.setdefault(p, f"{type_}.{name}") == f"{type_}.{name}"


def test_chain_query_uses_indexes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.sqlite")
    for i in range(30):
        _put(
            store,
            {"resourceType": "Patient", "id": f"p{i}", "identifier": [{"system": NC, "value": str(i)}]},
            1,
        )
        mr = {
            "resourceType": "MedicationRequest",
            "id": f"m{i}",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/p{i}"},
        }
        _put(store, mr, 1)
    plan = parse_search(
        "MedicationRequest", [("subject:Patient.identifier", f"{NC}|7"), ("status", "active")]
    )
    with store.session() as s:
        where, args = _where(s.conn, plan)
        steps = [
            r[3]
            for r in s.conn.execute(f"EXPLAIN QUERY PLAN SELECT r.id FROM resources r WHERE {where}", args)
        ]
    assert not any(step.startswith("SCAN") for step in steps), steps
    assert any("ix_reference" in step or "PRIMARY KEY (p=? AND rid=?" in step for step in steps), steps
    store.close()
