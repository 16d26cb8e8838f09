"""Bulk import: ndjson lines into the store, as a migration.

Each resource is written through the Repository under the system identity with its own
id (an update), validated structurally and against its profiles like any write, with the
e-prescription workflow rules off: imported dispenses, signatures and histories are taken
as they are. Importing the same data again changes nothing (an update with the same
content is a no-op). AuditEvents are not imported: the server audits the import itself.
A line that cannot be imported gives one OperationOutcome in the error file, naming the
input and the line; the others go on.

Lines are validated and indexed outside the write lock, then written in batches (one
write unit per batch); a batch that fails is written again one line at a time so that
only the bad line is refused.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from fhir_server import authorization
from fhir_server.bulk.files import FileArea
from fhir_server.bulk.jobs import Job
from fhir_server.outcome import FhirError, Issue
from fhir_server.repository import Repository
from fhir_server.repository.resources import PreparedUpdate
from fhir_server.storage.base import Store

BATCH = 200
NOT_IMPORTED = frozenset({"AuditEvent"})  # the server writes its own audit trail
FETCH_TIMEOUT = 60.0
Checkpoint = Callable[[Job], Job]


@dataclass
class Counts:
    written: int = 0
    errors: int = 0
    lines: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    text: bytes


@dataclass(frozen=True)
class Problem:
    number: int
    issues: list[Issue]


# What preparing a line gave: the line, the resource and its prepared update; a Problem;
# or None for a blank line.
Prepared = tuple[Line, dict[str, Any], PreparedUpdate] | Problem | None
# Prepares lines in order (in this process, or in worker processes: bulk/parallel.py).
Preparer = Callable[[Iterable[Line], str | None], Iterator[Prepared]]


class Importer:
    """Writes ndjson lines through the Repository as the system."""

    def __init__(self, store: Store, repo: Repository, preparer: Preparer | None = None) -> None:
        self.store, self.repo = store, repo
        self.preparer = preparer or self._prepare

    def run(
        self, lines: Iterable[Line], expected_type: str | None, problems: Callable[[Problem], None]
    ) -> Counts:
        counts = Counts()
        batch: list[tuple[Line, dict[str, Any], PreparedUpdate]] = []
        with authorization.as_system():
            for prepared in self.preparer(lines, expected_type):
                counts.lines += 1
                if isinstance(prepared, Problem):
                    problems(prepared)
                    counts.errors += 1
                elif prepared is not None:
                    batch.append(prepared)
                if len(batch) >= BATCH:
                    self._write(batch, counts, problems)
                    batch = []
            self._write(batch, counts, problems)
        return counts

    def _prepare(self, lines: Iterable[Line], expected_type: str | None) -> Iterator[Prepared]:
        for line in lines:
            yield prepare_line(self.repo, line, expected_type)

    @staticmethod
    def _parse(line: Line, expected_type: str | None) -> dict[str, Any] | None:
        if not line.text.strip():
            return None
        try:
            resource = orjson.loads(line.text)
        except orjson.JSONDecodeError as exc:
            raise FhirError.of(400, "structure", f"Line {line.number} is not JSON: {exc}") from exc
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise FhirError.of(400, "structure", f"Line {line.number} is not a FHIR resource")
        type_ = resource["resourceType"]
        if expected_type is not None and type_ != expected_type:
            raise FhirError.of(
                400, "invalid", f"Line {line.number} is a {type_}, the input is {expected_type}"
            )
        if type_ in NOT_IMPORTED:
            raise FhirError.of(422, "business-rule", f"Line {line.number}: {type_} is not imported")
        if not isinstance(resource.get("id"), str) or not resource["id"]:
            raise FhirError.of(400, "required", f"Line {line.number}: an imported resource needs its id")
        return resource

    def _write(
        self,
        batch: list[tuple[Line, dict[str, Any], PreparedUpdate]],
        counts: Counts,
        problems: Callable[[Problem], None],
    ) -> None:
        if not batch:
            return
        try:
            with self.store.session(write=True) as s:
                for _, resource, prepared in batch:
                    self.repo.update(s, resource["resourceType"], resource["id"], resource, prepared=prepared)
        except FhirError:
            if len(batch) == 1:
                line = batch[0][0]
                try:
                    with self.store.session(write=True) as s:
                        res, prep = batch[0][1], batch[0][2]
                        self.repo.update(s, res["resourceType"], res["id"], res, prepared=prep)
                except FhirError as exc:
                    problems(Problem(line.number, exc.issues))
                    counts.errors += 1
                    return
            else:
                for item in batch:  # find the line that failed; the rest are written
                    self._write([item], counts, problems)
                return
        for _, resource, _ in batch:
            counts.written += 1
            counts.by_type[resource["resourceType"]] = counts.by_type.get(resource["resourceType"], 0) + 1


def prepare_line(repo: Repository, line: Line, expected_type: str | None) -> Prepared:
    """Parse and check one line as the system (validation and index entries, no store)."""
    try:
        resource = Importer._parse(line, expected_type)
        if resource is None:
            return None
        with authorization.as_system():
            return line, resource, repo.prepare_update(resource["resourceType"], resource["id"], resource)
    except FhirError as exc:
        return Problem(line.number, exc.issues)


def file_lines(path: Path) -> Iterator[Line]:
    with path.open("rb") as fh:
        yield from (Line(n, text) for n, text in enumerate(fh, start=1))


def url_lines(url: str) -> Iterator[Line]:
    """Stream the lines of an ndjson URL (http(s) on the allow-list, or file://)."""
    if url.startswith("file://"):
        yield from file_lines(Path(urllib.request.url2pathname(url.removeprefix("file://"))))
        return
    request = urllib.request.Request(url, headers={"Accept": "application/fhir+ndjson"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        yield from (Line(n, text) for n, text in enumerate(response, start=1))


def run_import(job: Job, store: Store, repo: Repository, files: FileArea, checkpoint: Checkpoint) -> Job:
    """Run (or resume) an import job: one input at a time; an input cut short by a dead
    worker is read again from its start (importing a line twice changes nothing)."""
    inputs: list[dict[str, Any]] = job.params["input"]
    importer = Importer(store, repo)
    while (index := int(job.progress.get("input_index", 0))) < len(inputs):
        item = inputs[index]
        name = f"errors-{index + 1}.ndjson"
        sink = _ErrorFile(files, job.id, name, item["url"])
        try:
            counts = importer.run(url_lines(item["url"]), item.get("type"), sink.add)
        except (OSError, ValueError) as exc:
            counts = Counts(errors=1)
            sink.add(Problem(0, [Issue("error", "exception", f"Cannot read {item['url']}: {exc}")]))
        finally:
            sink.close()
        result = f"result-{index + 1}.ndjson"
        _write_result(files, job.id, result, item["url"], counts)
        job.output.append(
            {
                "type": "OperationOutcome",
                "name": result,
                "count": 1,
                "inputUrl": item["url"],
                "imported": counts.written,
            }
        )
        if sink.count:
            job.errors.append(
                {"type": "OperationOutcome", "name": name, "count": sink.count, "inputUrl": item["url"]}
            )
        job.progress = {"input_index": index + 1}
        job = checkpoint(job)
    return job


def _write_result(files: FileArea, job: str, name: str, input_url: str, counts: Counts) -> None:
    """The informational outcome of one input: what was imported."""
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(counts.by_type.items())) or "nothing"
    text = f"{input_url}: {counts.lines} line(s); imported {kinds}; {counts.errors} refused"
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
    }
    with files.create(job, name) as out:
        out.write(orjson.dumps(outcome) + b"\n")


class _ErrorFile:
    """Per-line OperationOutcomes, written as they come (created on the first one)."""

    def __init__(self, files: FileArea, job: str, name: str, input_url: str) -> None:
        self.files, self.job, self.name, self.input_url = files, job, name, input_url
        self.out: IO[bytes] | None = None
        self.count = 0

    def add(self, problem: Problem) -> None:
        if self.out is None:
            self.out = self.files.create(self.job, self.name)
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    **issue.to_fhir(),
                    "location": [f"{self.input_url}#line={problem.number}"],
                }
                for issue in problem.issues
            ],
        }
        self.out.write(orjson.dumps(outcome) + b"\n")
        self.count += 1

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
