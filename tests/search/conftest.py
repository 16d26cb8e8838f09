"""Fixtures: a fresh SQLite store per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fhir_server.storage.sqlite import SQLiteStore

# search_helpers is imported by name from the tests here, packaged or not.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "db.sqlite")
    yield s
    s.close()
