"""Bulk Data status and files (`[base]/_bulk/<job>` and `[base]/_bulk/<job>/<file>`).

Polling answers 202 with X-Progress and Retry-After while the job runs (and takes the
job over when its worker died), 200 with the manifest when it is done, an
OperationOutcome with 500 when it failed; DELETE cancels it and removes its files. Only
the client that started a job may see it (anyone else gets 404, as for an unknown job).
Files are streamed from the data directory or GridFS and need the same token.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

from flask import Blueprint, Response, current_app, g

from fhir_server.api.http import fhir_response, outcome_response
from fhir_server.bulk.access import same_caller
from fhir_server.bulk.files import check_name
from fhir_server.bulk.jobs import Job
from fhir_server.bulk.runner import BulkRunner
from fhir_server.outcome import FhirError, error, information

RUNNER = "bulk_runner"  # app.extensions key
NDJSON = "application/fhir+ndjson"
RETRY_AFTER = "2"


def register_bulk_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/_bulk/<job_id>", "bulk_status", status, methods=["GET"])
    bp.add_url_rule("/_bulk/<job_id>", "bulk_cancel", cancel, methods=["DELETE"])
    bp.add_url_rule("/_bulk/<job_id>/<name>", "bulk_file", output_file, methods=["GET"])


def runner() -> BulkRunner:
    found: BulkRunner = current_app.extensions[RUNNER]
    return found


def _job(job_id: str) -> Job:
    try:
        check_name(job_id)
    except ValueError as exc:
        raise FhirError.of(404, "not-found", "No such bulk job") from exc
    bulk = runner()
    job = bulk.jobs.get(job_id)
    if job is None or not same_caller(job.access, g.get("fhir_access")):
        raise FhirError.of(404, "not-found", "No such bulk job (finished jobs expire)")
    if job.expires_at is not None and job.expires_at < time.time():
        bulk.cancel(job)
        raise FhirError.of(404, "not-found", "The bulk job expired and its files were removed")
    return job


def status(job_id: str) -> Response:
    job = _job(job_id)
    if job.active:
        runner().poke(job)
        return fhir_response(None, 202, {"X-Progress": _progress(job), "Retry-After": RETRY_AFTER})
    if job.state == "failed":
        return outcome_response(500, [error("exception", f"The bulk job failed: {job.message}")])
    headers = {"Expires": formatdate(job.expires_at, usegmt=True)} if job.expires_at else {}
    response = fhir_response(_manifest(job), 200, headers)
    response.content_type = "application/json"
    return response


def cancel(job_id: str) -> Response:
    job = _job(job_id)
    runner().cancel(job)
    return outcome_response(
        202, [information("informational", "The bulk job was cancelled and its files removed")]
    )


def output_file(job_id: str, name: str) -> Response:
    job = _job(job_id)
    listed = {f["name"] for f in [*job.output, *job.errors]}
    data = runner().files.read(job.id, name) if name in listed else None
    if data is None:
        raise FhirError.of(404, "not-found", f"The bulk job has no file {name}")
    return Response(data, 200, content_type=NDJSON)


def _progress(job: Job) -> str:
    done = sum(int(f["count"]) for f in job.output)
    if job.kind == "export":
        types = job.params.get("types") or []
        index = int(job.progress.get("type_index", 0))
        return f"{min(index, len(types))}/{len(types)} types, {done} resources"
    inputs = job.params.get("input") or []
    return f"{int(job.progress.get('input_index', 0))}/{len(inputs)} files, {done} resources"


def _manifest(job: Job) -> dict[str, Any]:
    base = f"{job.params['base_url']}/_bulk/{job.id}"
    return {
        "transactionTime": job.transaction_time,
        "request": job.request,
        "requiresAccessToken": bool(current_app.config.get("NOSKHE_AUTH_ENABLED")),
        "output": [_listed(base, f) for f in job.output],
        "error": [_listed(base, f) for f in job.errors],
    }


def _listed(base: str, item: dict[str, Any]) -> dict[str, Any]:
    out = {"type": item["type"], "url": f"{base}/{item['name']}", "count": item["count"]}
    if "inputUrl" in item:  # an import's per-input outcome
        out["inputUrl"] = item["inputUrl"]
    return out
