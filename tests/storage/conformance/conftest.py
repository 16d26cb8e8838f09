"""Store-conformance fixtures: every test here runs against SQLite and MongoDB.

MongoDB is the test process's server (`mongo_uri` in tests/conftest.py). Each test gets a
fresh database of its own.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from noskhe_test_servers import with_database

from fhir_server.storage import open_store
from fhir_server.storage.base import Store

ENGINES = ["sqlite", "mongodb"]
StoreFactory = Callable[[], Store]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_factory(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """Opens stores on one fresh database; several handles act like several processes."""
    url: str | None = None
    if engine == "mongodb":
        url = with_database(request.getfixturevalue("mongo_uri"), f"noskhe_t_{uuid.uuid4().hex[:12]}")
    opened: list[Store] = []

    def open_one() -> Store:
        s = open_store(tmp_path / "data", url)
        opened.append(s)
        return s

    yield open_one
    if url is not None and opened:
        from fhir_server.storage.mongo import MongoStore

        first = opened[0]
        assert isinstance(first, MongoStore)
        first.client.drop_database(first.db.name)
    for s in opened:
        s.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()
