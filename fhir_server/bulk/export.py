"""The work of an export job: for each type, page through the Repository as the caller
(the same narrowing as a search: a patient's token exports its compartment only) and
write ndjson parts, checkpointing after each part so that another worker can resume.

Every page is read in keyset order (type, id) from the cursor saved in the checkpoint;
resources changed after the job's transactionTime are left out (`_lastUpdated=le`), so an
export running while writes continue is the data as of that instant, minus what changed
since. Reading starts once the store's settled instant has passed the transactionTime: no
version stamped at or before it can commit later, so the next export `_since` it misses
nothing (`Store.settled_instant`). Memory holds one page at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Any
from urllib.parse import parse_qsl

from fhir_server import authorization, search
from fhir_server.bulk.access import access_from
from fhir_server.bulk.files import FileArea
from fhir_server.bulk.jobs import Job
from fhir_server.definitions import compartments
from fhir_server.repository import Repository
from fhir_server.search.plan import (
    AnyClause,
    Clause,
    Cursor,
    IdClause,
    ParamClause,
    RefPred,
    SearchPlan,
    TypeClause,
)
from fhir_server.storage.base import Store

PAGE = 1000
PART_SIZE = 50_000  # resources per output file at most
PART_SECONDS = 10.0  # a part is closed (and the job checkpointed) at least this often
Checkpoint = Callable[[Job], Job]  # saves the job (renewing the lease); raises LeaseLost


def run_export(job: Job, store: Store, repo: Repository, files: FileArea, checkpoint: Checkpoint) -> Job:
    """Run (or resume) an export job to its end; returns it done."""
    types: list[str] = job.params["types"]
    while store.settled_instant() < job.transaction_time:  # about STAMP_WINDOW_SECONDS
        time.sleep(0.1)
    with authorization.acting_as(access_from(job.access)):
        while job.progress.get("type_index", 0) < len(types):
            index = job.progress.get("type_index", 0)
            plan = type_plan(job, types[index])
            job = _export_type(job, index, plan, store, repo, files, checkpoint)
    return job


def _export_type(
    job: Job,
    index: int,
    plan: SearchPlan,
    store: Store,
    repo: Repository,
    files: FileArea,
    checkpoint: Checkpoint,
) -> Job:
    type_ = plan.types[0]
    cursor = job.progress.get("cursor")
    part = int(job.progress.get("part", 1))
    with_shipped = bool(job.params.get("with_shipped"))
    while True:
        name = f"{type_}-{part}.ndjson"
        count, cursor = _write_part(job.id, name, plan, cursor, store, repo, files, with_shipped)
        if count:
            job.output.append({"type": type_, "name": name, "count": count})
            part += 1
        if cursor is None:
            job.progress = {"type_index": index + 1, "cursor": None, "part": 1}
            return checkpoint(job)
        job.progress = {"type_index": index, "cursor": cursor, "part": part}
        job = checkpoint(job)


def _write_part(
    job_id: str,
    name: str,
    plan: SearchPlan,
    cursor: list[Any] | None,
    store: Store,
    repo: Repository,
    files: FileArea,
    with_shipped: bool,
) -> tuple[int, list[Any] | None]:
    """Write one part from `cursor`; returns how many resources and where to go on (None:
    the type is done). The file is created only when there is something to write."""
    out: IO[bytes] | None = None
    count, started = 0, time.monotonic()
    try:
        while True:
            page_plan = replace(plan, cursor=Cursor(True, tuple(cursor)) if cursor else None)
            with store.session() as s:
                result = repo.search(s, page_plan, "search-type", with_shipped=with_shipped)
            for hit in result.matches:
                if hit.body is None:
                    continue
                if out is None:
                    out = files.create(job_id, name)
                out.write(hit.body)
                out.write(b"\n")
                count += 1
            cursor = list(result.next_key) if result.next_key is not None else None
            full = count >= PART_SIZE - PAGE or time.monotonic() - started > PART_SECONDS
            if cursor is None or full:
                return count, cursor
    finally:
        if out is not None:
            out.close()


def type_plan(job: Job, type_: str) -> SearchPlan:
    """The search plan of one exported type: as of the transaction time, since `_since`,
    matching any of its `_typeFilter` queries, inside the patients' compartments."""
    params = job.params
    pairs = [("_lastUpdated", f"le{job.transaction_time}")]
    if params.get("since"):
        pairs.append(("_lastUpdated", f"ge{params['since']}"))
    plan = search.parse_search(type_, pairs, strict=True)
    clauses: list[Clause] = list(plan.clauses)
    filters = params.get("type_filters", {}).get(type_)
    if filters:
        clauses.append(AnyClause(tuple(_filter_clause(type_, query) for query in filters)))
    patients = params.get("patients")
    limit = patient_clause(type_, patients) if patients is not None else None
    if limit is not None:
        clauses.append(limit)
    return replace(plan, clauses=tuple(clauses), count=PAGE, total="none", sort=())


def _filter_clause(type_: str, query: str) -> Clause:
    plan = search.parse_search(type_, parse_qsl(query, keep_blank_values=True), strict=True)
    return TypeClause(type_, plan.clauses)


def patient_clause(type_: str, patients: list[str] | str) -> Clause | None:
    """Inside the compartment of these patients ("*": of any patient; None: no limit)."""
    if patients == "*":
        if type_ == "Patient":
            return None  # every patient is in its own compartment
        preds: tuple[RefPred, ...] = (RefPred(("Patient",), None, None),)
    else:
        preds = tuple(RefPred(("Patient",), i, None) for i in patients)
    clauses: list[Clause] = [
        ParamClause(code, "reference", preds)
        for code in compartments().get("Patient", {}).get(type_, [])
        if code != "{def}"
    ]
    if type_ == "Patient":
        clauses.append(IdClause(tuple(patients)))
    return AnyClause(tuple(clauses))
