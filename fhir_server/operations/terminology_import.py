"""$terminology-import (system level, POST): registry sync through FHIR.

The body is a CodeSystem, ValueSet or ConceptMap, a Bundle of them, or Parameters with
``resource`` parts. Each is planned by ``terminology.plan_import`` (new version; concepts
that disappear become inactive; the same version again is a no-op) and the new versions
are written to the store in one transaction, then registered with the app's service.
``import_into_store`` is the same for the CLI (``fhir-server terminology import FILE``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Response, request

import terminology
from fhir_server.api.context import ctx
from fhir_server.api.http import fhir_response, read_json_body
from fhir_server.operations.terminology_support import register_stored, service, translated_errors
from fhir_server.outcome import FhirError, information, operation_outcome
from fhir_server.repository import Repository
from fhir_server.storage.base import Store
from terminology.importer import ImportPlan, Progress
from terminology.service import TerminologyService


def terminology_import_operation(type_: str | None, id_: str | None) -> Response:
    if type_ is not None or request.method != "POST":
        raise FhirError.of(400, "invalid", "$terminology-import runs as POST [base]/$terminology-import")
    body = read_json_body()
    with translated_errors():
        if isinstance(body, dict) and body.get("resourceType") == "Parameters":
            body = {
                "resourceType": "Bundle",
                "entry": [
                    {"resource": p["resource"]} for p in body.get("parameter") or [] if "resource" in p
                ],
            }
        incoming = terminology.parse_resources(body)
        plan = import_into_store(incoming, ctx().store, ctx().repo, service())
    issues = [information("informational", line) for line in plan.summary().splitlines()]
    return fhir_response(operation_outcome(issues))


def stored_latest(store: Store, svc: TerminologyService) -> Callable[[str, str], dict[str, Any] | None]:
    """The latest version of a url: the service's registry, which the app fills from the
    store at start-up (``register_stored``) and after every import."""

    def current(kind: str, url: str) -> dict[str, Any] | None:
        return svc.resource(kind, url)

    return current


def import_into_store(
    incoming: Iterable[dict[str, Any]],
    store: Store,
    repo: Repository,
    svc: TerminologyService,
    progress: Progress | None = None,
) -> ImportPlan:
    plan = terminology.plan_import(incoming, stored_latest(store, svc), progress)
    if plan.writes:
        with store.session(write=True) as s:
            for res in plan.writes:
                repo.update(s, res["resourceType"], res["id"], res)
        for res in plan.writes:
            svc.register(res)
    return plan


def cli_import(path: Path, store: Store, repo: Repository) -> int:
    """``fhir-server terminology import FILE``: prints a progress bar and a summary."""
    svc = terminology.shipped_service()
    register_stored(store, svc)

    def bar(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\rimport [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()

    try:
        plan = import_into_store(terminology.read_file(path), store, repo, svc, bar)
    except terminology.TerminologyError as exc:
        sys.stderr.write(f"\nfhir-server: {exc.message}\n")
        return 1
    sys.stderr.write("\n")
    print(plan.summary())
    return 0
