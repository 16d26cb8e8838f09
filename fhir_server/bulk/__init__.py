"""Bulk Data (HL7 Bulk Data Access IG 2.0.0, and the SMART bulk-import "ping and pull"
proposal): jobs in the store under a lease (jobs.py), run on background threads of any
worker (runner.py), output files in the data directory or GridFS (files.py).

- ``bulk_runner(store, repo, settings)``  the app's runner, with the export task
- ``export.run_export``                   the work of an export job
"""

from __future__ import annotations

from fhir_server.bulk.export import Checkpoint, run_export
from fhir_server.bulk.files import file_area
from fhir_server.bulk.imports import run_import
from fhir_server.bulk.jobs import Job
from fhir_server.bulk.runner import BulkRunner, BulkSettings
from fhir_server.config import Settings
from fhir_server.repository import Repository
from fhir_server.storage.base import Store

__all__ = ["BulkRunner", "Job", "bulk_runner"]


def bulk_runner(store: Store, repo: Repository, settings: Settings, import_repo: Repository) -> BulkRunner:
    """`repo` serves exports (the caller's narrowing applies); `import_repo` writes imports
    (validation on, workflow rules off)."""

    def export(job: Job, runner: BulkRunner, checkpoint: Checkpoint) -> Job:
        return run_export(job, runner.store, runner.repo, runner.files, checkpoint)

    def import_(job: Job, runner: BulkRunner, checkpoint: Checkpoint) -> Job:
        return run_import(job, runner.store, import_repo, runner.files, checkpoint)

    return BulkRunner(
        store,
        repo,
        file_area(store, settings.data_dir),
        {"export": export, "import": import_},
        BulkSettings(expiry_seconds=settings.bulk_expiry_seconds),
    )
