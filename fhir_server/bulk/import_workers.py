"""Import lines prepared in worker processes (`fhir-server import --workers N`):
validation and index extraction (about two thirds of an import's CPU time, see
bench/bulk_bench.py --profile) run in N processes while this one writes what they
return, in input order, in batches. It pays where cores are idle: each worker costs
about 150 MB and a few seconds to start, and on a busy machine one process did better.

Workers are started with `spawn` (never `fork`: the parent holds store connections and
threads) and build the same Repository the parent writes through: the shipped
validation, the terminology with the store's imported code systems, and the store's
custom SearchParameters (they decide the index entries). At most a few chunks are in
flight, so memory stays bounded whatever the size of the input.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import Any

import orjson

from fhir_server.bulk.imports import Line, Prepared, Preparer, prepare_line
from fhir_server.config import Settings
from fhir_server.repository import Repository
from fhir_server.repository.resources import PreparedUpdate
from fhir_server.storage.base import Store

CHUNK = 200  # lines per task
IN_FLIGHT = 2  # chunks queued per worker

_repo: Repository | None = None  # the worker's


def import_repository(settings: Settings, store: Store) -> Repository:
    """The Repository an import writes through: validation on, workflow rules off, with the
    store's custom SearchParameters and imported code systems known."""
    import terminology
    from fhir_server.app import build_repository
    from fhir_server.operations.terminology_support import register_stored
    from fhir_server.search.custom import load_custom_search_parameters

    load_custom_search_parameters(store)
    svc = terminology.shipped_service()
    register_stored(store, svc)
    return build_repository(settings, svc)


@contextmanager
def process_preparer(settings: Settings, workers: int) -> Iterator[Preparer]:
    """A Preparer running on `workers` processes (results in input order), for as long as
    the context lasts (the workers start once)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(settings,)) as pool:

        def prepare(lines: Iterable[Line], expected_type: str | None) -> Iterator[Prepared]:
            pending: deque[tuple[list[Line], Future[list[Any]]]] = deque()
            source = iter(lines)
            while chunk := list(islice(source, CHUNK)):
                task = [(line.number, line.text) for line in chunk]
                pending.append((chunk, pool.submit(_prepare_chunk, task, expected_type)))
                while len(pending) > IN_FLIGHT * workers:
                    yield from _results(*pending.popleft())
            while pending:
                yield from _results(*pending.popleft())

        yield prepare


def _results(chunk: list[Line], future: Future[list[Any]]) -> Iterator[Prepared]:
    for line, outcome in zip(chunk, future.result(), strict=True):
        if isinstance(outcome, PreparedUpdate):  # the resource travels as its text
            yield line, orjson.loads(line.text), outcome
        else:
            yield outcome


def _start(settings: Settings) -> None:
    global _repo
    from fhir_server.storage import open_store

    store = open_store(settings.data_dir, settings.store_url)
    try:
        _repo = import_repository(settings, store)
    finally:
        store.close()


def _prepare_chunk(task: list[tuple[int, bytes]], expected_type: str | None) -> list[Any]:
    assert _repo is not None, "worker not started"
    out: list[Any] = []
    for number, text in task:
        prepared = prepare_line(_repo, Line(number, text), expected_type)
        out.append(prepared[2] if isinstance(prepared, tuple) else prepared)
    return out
