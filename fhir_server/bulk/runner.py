"""Runs bulk jobs on background threads of this process, under a lease in the store.

`start` runs a new job here; `poke` (called whenever someone polls a job) takes over a job
whose lease ran out because its worker died, and resumes it from its checkpoint. Any
worker, on any machine sharing the store, can therefore answer for any job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fhir_server.bulk import jobs as job_records
from fhir_server.bulk.files import FileArea
from fhir_server.bulk.jobs import Job, JobStore, LeaseLost
from fhir_server.repository import Repository
from fhir_server.storage.base import Store

log = logging.getLogger("noskhe.bulk")
DEFAULT_EXPIRY = 24 * 3600.0

Task = Callable[[Job, "BulkRunner", Callable[[Job], Job]], Job]


@dataclass
class BulkSettings:
    expiry_seconds: float = DEFAULT_EXPIRY  # how long output files are kept after a job ends


class BulkRunner:
    def __init__(
        self,
        store: Store,
        repo: Repository,
        files: FileArea,
        tasks: dict[str, Task],
        settings: BulkSettings | None = None,
    ) -> None:
        self.store, self.repo, self.files, self.tasks = store, repo, files, tasks
        self.settings = settings or BulkSettings()
        self.jobs = JobStore(store)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, job: Job) -> None:
        """Run `job` (already stored) on a thread of this process."""
        with self._lock:
            if self._owner_pid_changed():
                self._running.clear()
            thread = self._running.get(job.id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._run, args=(job.id,), name=f"bulk-{job.id}", daemon=True)
            self._running[job.id] = thread
        thread.start()

    def poke(self, job: Job) -> None:
        """Resume a job whose worker stopped renewing its lease."""
        if job.orphaned(time.time()):
            self.start(job)

    def wait(self, job_id: str, timeout: float = 30.0) -> None:
        """Until this process's thread for the job ends (tests, the command line)."""
        thread = self._running.get(job_id)
        if thread is not None:
            thread.join(timeout)

    def _owner_pid_changed(self) -> bool:
        pid = str(os.getpid())
        if self.owner.split(":")[1] != pid:  # forked: the parent's threads are not ours
            self.owner = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"
            return True
        return False

    def _run(self, job_id: str) -> None:
        scan_reads = getattr(self.store, "scan_reads", None)  # the SQLite store's memory bound
        if scan_reads is not None:
            scan_reads()
        found = self.jobs.get(job_id)
        job = self.jobs.claim(found, self.owner) if found is not None else None
        if job is None:
            return
        try:
            job = self.tasks[job.kind](job, self, self.checkpoint)
            job.state, job.finished_at = "done", time.time()
            job.expires_at = job.finished_at + self.settings.expiry_seconds
            job.owner = None
            self.jobs.save(job)
        except LeaseLost:
            self._forget_if_cancelled(job_id)
        except Exception as exc:  # a job's failure is reported through its status
            log.exception("bulk job %s failed", job_id)
            self._fail(job_id, f"{type(exc).__name__}: {exc}")

    def checkpoint(self, job: Job) -> Job:
        """Save progress and renew the lease; LeaseLost when the job was taken or cancelled."""
        if job.owner != self.owner:
            raise LeaseLost(job.id)
        job.lease_until = time.time() + job_records.LEASE_SECONDS
        return self.jobs.save(job)

    def _fail(self, job_id: str, message: str) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.owner != self.owner:
            return
        job.state, job.message, job.finished_at, job.owner = "failed", message, time.time(), None
        job.expires_at = job.finished_at + self.settings.expiry_seconds
        with contextlib.suppress(LeaseLost):
            self.jobs.save(job)

    def _forget_if_cancelled(self, job_id: str) -> None:
        if self.jobs.get(job_id) is None:  # cancelled while we wrote: leave no files behind
            self.files.delete_job(job_id)

    def cancel(self, job: Job) -> None:
        """DELETE: the job and its files are removed; a worker still running it notices at
        its next checkpoint and removes what it wrote since."""
        self.jobs.delete(job.id)
        self.files.delete_job(job.id)

    def sweep(self) -> int:
        """Remove jobs (and files) past their expiry; returns how many."""
        now, removed = time.time(), 0
        for job_id in self.jobs.ids():
            job = self.jobs.get(job_id)
            if job is not None and job.expires_at is not None and job.expires_at < now:
                self.cancel(job)
                removed += 1
        return removed
