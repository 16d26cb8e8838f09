"""reindex: rebuild index entries of stored resources in short batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from fhir_server.search.extract import extract_index

BATCH = 500


def _keys(store: Any, resource_type: str | None) -> list[tuple[str, str]]:
    with store.session() as session:
        return [(rv.type, rv.id) for rv in session.iter_current(resource_type, batch=2000)]


def reindex(
    store: Any,
    resource_type: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-extract and rewrite the index of every current resource (of `resource_type`).

    Lists the keys once, then rewrites BATCH resources per short write session, so the
    server keeps serving between batches. Each batch re-reads the bodies inside its write
    session, so a resource updated meanwhile is indexed from its newest version (and one
    created meanwhile was indexed by its own write). Returns the number reindexed."""
    keys = _keys(store, resource_type)
    done = 0
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        with store.session(write=True) as session:
            for rv in session.read_many(batch):
                if rv.body is not None:
                    session.replace_index(rv.type, rv.id, extract_index(orjson.loads(rv.body)))
                    done += 1
        if progress is not None:
            progress(min(start + len(batch), len(keys)), len(keys))
    return done
