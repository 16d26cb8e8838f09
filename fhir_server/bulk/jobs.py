"""Bulk Data jobs, kept in the store so that any worker or machine can answer for them.

A job is a record (`kind` "bulk-job") holding its request, the caller it runs for, its
progress checkpoint and its output list. Whoever runs it holds a lease (`owner`,
`lease_until`), renewed at every checkpoint; every save is compare-and-set on the
record's version, so two workers can never both run a job: the one whose save fails has
lost the lease and stops. A job whose lease ran out (its worker died) is taken over by
the next worker that looks at it and resumed from its last checkpoint.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from fhir_server.storage.base import Record, Store, VersionConflict

KIND = "bulk-job"
LEASE_SECONDS = 30.0
ACTIVE = ("queued", "running")


@dataclass
class Job:
    id: str
    kind: str  # export | import
    request: str  # the kick-off URL
    transaction_time: str
    access: dict[str, Any] | None  # the caller's token context (None: no authorization)
    params: dict[str, Any]
    state: str = "queued"  # queued | running | done | failed
    progress: dict[str, Any] = field(default_factory=dict)  # the checkpoint to resume from
    output: list[dict[str, Any]] = field(default_factory=list)  # {"type", "name", "count"}
    errors: list[dict[str, Any]] = field(default_factory=list)
    owner: str | None = None
    lease_until: float = 0.0
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    expires_at: float | None = None
    message: str | None = None
    version: int = 0  # the record's version (not stored in the body)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def orphaned(self, now: float) -> bool:
        return self.active and self.lease_until < now

    def to_bytes(self) -> bytes:
        body = asdict(self)
        body.pop("version")
        return orjson.dumps(body)

    @classmethod
    def from_record(cls, record: Record) -> Job:
        return cls(**orjson.loads(record.body), version=record.version)


def new_job_id() -> str:
    return uuid.uuid4().hex


class LeaseLost(Exception):
    """Someone else saved the job since we read it: we no longer run it."""


class JobStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, job_id: str) -> Job | None:
        with self.store.session() as s:
            record = s.record(KIND, job_id)
        return Job.from_record(record) if record is not None else None

    def create(self, job: Job) -> Job:
        return self._put(job, None)

    def save(self, job: Job) -> Job:
        """Compare-and-set: LeaseLost when the job changed since `job` was read."""
        return self._put(job, job.version)

    def delete(self, job_id: str) -> None:
        with self.store.session(write=True) as s:
            s.delete_record(KIND, job_id)

    def ids(self) -> list[str]:
        with self.store.session() as s:
            return s.record_keys(KIND)

    def claim(self, job: Job, owner: str) -> Job | None:
        """Take the lease of an active job nobody (alive) holds; None when another has it."""
        now = time.time()
        if not job.active or (job.owner not in (None, owner) and job.lease_until >= now):
            return None
        job.owner, job.lease_until, job.state = owner, now + LEASE_SECONDS, "running"
        try:
            return self.save(job)
        except LeaseLost:
            return None

    def _put(self, job: Job, expected: int | None) -> Job:
        record = Record(KIND, job.id, (expected or 0) + 1, job.to_bytes())
        try:
            with self.store.session(write=True) as s:
                written = s.put_record(record, expected)
        except VersionConflict as exc:
            raise LeaseLost(job.id) from exc
        job.version = written.version
        return job
