"""SQLite index tables: schema, writing index entries, running search plans.

One narrow WITHOUT ROWID table per entry kind. `p` packs the resource type and the
parameter name into one integer (`param_code`): (type number << 32) | crc32(name); the
type numbers come from the fixed, sorted list of R4 resource types. So a row never repeats
the type or parameter name as text, one B-tree seek on `(p, value)` finds matches, and
`p BETWEEN type_low AND type_high` selects all rows of one resource type. Every table has
a second index on `(id, p)` for deleting a resource's rows, includes and sort keys.
Missing text columns hold '' (WITHOUT ROWID primary keys cannot hold NULL).
"""

from __future__ import annotations

import functools
import sqlite3
import zlib
from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server import definitions
from fhir_server.search.entries import (
    CompositeEntry,
    DateEntry,
    NumberEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
    component_values,
)
from fhir_server.search.plan import SearchPlan, SearchResult

TABLES: dict[str, tuple[str, str]] = {
    # kind: (columns after p, primary key order after p)
    "token": ("code TEXT NOT NULL, sys TEXT NOT NULL", "code, sys"),
    "string": ("norm TEXT NOT NULL, exact TEXT NOT NULL", "norm, exact"),
    "reference": ("rid TEXT NOT NULL, rtype TEXT NOT NULL, url TEXT NOT NULL", "rid, rtype, url"),
    "date": ("lo INTEGER NOT NULL, hi INTEGER NOT NULL", "lo, hi"),
    "number": ("lo REAL NOT NULL, hi REAL NOT NULL", "lo, hi"),
    "quantity": (
        "lo REAL NOT NULL, hi REAL NOT NULL, sys TEXT NOT NULL, code TEXT NOT NULL, unit TEXT NOT NULL",
        "lo, hi, sys, code, unit",
    ),
    "uri": ("uri TEXT NOT NULL", "uri"),
    "composite": ("code TEXT NOT NULL, sys TEXT NOT NULL, rest TEXT NOT NULL", "code, sys, rest"),
}
EXTRA_INDEXES = (
    # Widest date range (hi - lo) stored per parameter: bounds `lo` for ge/gt queries.
    "CREATE TABLE IF NOT EXISTS ix_date_width (p INTEGER PRIMARY KEY, w INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_date_hi ON ix_date (p, hi)",
    "CREATE INDEX IF NOT EXISTS ix_reference_url ON ix_reference (p, url) WHERE url != ''",
    # _lastUpdated search and sort read the resources table directly.
    "CREATE INDEX IF NOT EXISTS resources_by_updated ON resources (type, last_updated)",
)

DROPPED_INDEXES = (
    # (p, sys) served only `param=system|` searches (no code), yet every token row paid for
    # it: as many written pages per create as ix_token itself (measured: 9.8 of 52 pages
    # for one create per commit). Such a search now reads the parameter's rows in ix_token.
    "DROP INDEX IF EXISTS ix_token_sys",
)


def table(kind: str) -> str:
    return f"ix_{kind}"


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the index tables (idempotent)."""
    for kind, (columns, key) in TABLES.items():
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table(kind)} (p INTEGER NOT NULL, {columns}, "
            f"id TEXT NOT NULL, PRIMARY KEY (p, {key}, id)) WITHOUT ROWID"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS {table(kind)}_by_id ON {table(kind)} (id, p)")
    for sql in EXTRA_INDEXES:
        conn.execute(sql)
    for sql in DROPPED_INDEXES:
        conn.execute(sql)


@functools.cache
def _type_numbers() -> dict[str, int]:
    return {t: i + 1 for i, t in enumerate(sorted(definitions.resource_types()))}


def type_range(type_: str) -> tuple[int, int]:
    """The lowest and highest `p` of any parameter of `type_`."""
    base = _type_numbers()[type_] << 32
    return base, base + 0xFFFFFFFF


@functools.lru_cache(maxsize=65536)
def param_code(type_: str, param: str) -> int:
    number = _type_numbers().get(type_)
    if number is None:
        return -1  # unknown type: matches nothing
    return (number << 32) | zlib.crc32(param.encode("utf-8"))


def _row(p: int, entry: Any) -> tuple[str, tuple[Any, ...]]:
    if isinstance(entry, TokenEntry):
        return "token", (p, entry.code or "", entry.system or "")
    if isinstance(entry, StringEntry):
        return "string", (p, entry.norm, entry.exact)
    if isinstance(entry, ReferenceEntry):
        return "reference", (p, entry.id or "", entry.type or "", entry.url or "")
    if isinstance(entry, DateEntry):
        return "date", (p, entry.low, entry.high)
    if isinstance(entry, NumberEntry):
        return "number", (p, entry.low, entry.high)
    if isinstance(entry, QuantityEntry):
        return "quantity", (p, entry.low, entry.high, entry.system or "", entry.code or "", entry.unit or "")
    if isinstance(entry, UriEntry):
        return "uri", (p, entry.uri)
    return "composite", _composite_row(p, entry)


def _composite_row(p: int, entry: CompositeEntry) -> tuple[Any, ...]:
    first = entry.parts[0]
    code, sys = (first.code or "", first.system or "") if isinstance(first, TokenEntry) else ("", "")
    rest = [component_values(part) for part in entry.parts[1:]]
    return (p, code, sys, orjson.dumps(rest).decode("utf-8"))


_INSERT = {
    kind: f"INSERT OR IGNORE INTO {table(kind)} VALUES ({', '.join('?' * (len(cols.split(',')) + 2))})"
    for kind, (cols, _) in TABLES.items()
}


def replace_index(
    conn: sqlite3.Connection, type_: str, id_: str, index: Sequence[Any], *, fresh: bool = False
) -> None:
    """Delete the resource's index rows and insert `index` (inside the caller's transaction).

    `fresh`: the resource never existed, so there is nothing to delete (saves a probe of
    every index table on create)."""
    if not fresh:
        low, high = type_range(type_)
        for kind in TABLES:
            conn.execute(f"DELETE FROM {table(kind)} WHERE id = ? AND p BETWEEN ? AND ?", (id_, low, high))
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for entry in index:
        kind, values = _row(param_code(type_, entry.param), entry)
        rows.setdefault(kind, []).append((*values, id_))
    for kind, batch in rows.items():
        conn.executemany(_INSERT[kind], batch)
    if "date" in rows:
        _widen(conn, rows["date"])


def _widen(conn: sqlite3.Connection, date_rows: list[tuple[Any, ...]]) -> None:
    widths: dict[int, int] = {}
    for p, lo, hi, _ in date_rows:
        widths[p] = max(widths.get(p, 0), hi - lo)
    conn.executemany(
        "INSERT INTO ix_date_width (p, w) VALUES (?, ?) ON CONFLICT (p) DO UPDATE SET w = max(w, excluded.w)",
        list(widths.items()),
    )


def date_width(conn: sqlite3.Connection, p: int) -> int | None:
    """The widest stored date range of parameter code `p` (None: no dates stored)."""
    row = conn.execute("SELECT w FROM ix_date_width WHERE p = ?", (p,)).fetchone()
    return None if row is None else int(row[0])


def visible_now(only: Any, type_: str | None) -> tuple[str, list[Any]]:
    """A condition on a `history` row: its resource exists now and satisfies `only`."""
    from fhir_server.storage.sqlite_clauses import Scope, condition, reset_aliases

    reset_aliases()
    types = (type_,) if type_ else tuple(sorted(definitions.resource_types()))
    sql, args = condition(only, Scope("r", types))
    return (
        "EXISTS (SELECT 1 FROM resources r WHERE r.type = history.type AND r.id = history.id "
        f"AND r.deleted = 0 AND ({sql}))",
        args,
    )


def run_search(conn: sqlite3.Connection, plan: SearchPlan) -> SearchResult:
    from fhir_server.storage.sqlite_search import execute

    return execute(conn, plan)
