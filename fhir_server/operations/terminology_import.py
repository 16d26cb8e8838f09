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

import terminology
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.operations.terminology_support import register_stored, translated_errors
from fhir_server.outcome import information, operation_outcome
from fhir_server.repository import Repository
from fhir_server.storage.base import Store
from terminology.importer import ImportPlan, Progress
from terminology.service import TerminologyService


def terminology_import(req: OperationRequest) -> dict[str, Any]:
    body = req.require_body("a CodeSystem, ValueSet, ConceptMap, a Bundle of them or a Parameters")
    with translated_errors():
        if req.is_parameters:
            body = {"resourceType": "Bundle", "entry": [{"resource": r} for r in req.values("resource")]}
        incoming = terminology.parse_resources(body)
        plan = import_into_store(incoming, req.server.store, req.server.repo, req.server.terminology)
    issues = [information("informational", line) for line in plan.summary().splitlines()]
    return operation_outcome(issues)


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


OPERATIONS = (
    Operation(
        name="terminology-import",
        title=Text("Registry terminology sync", "همگام‌سازی اصطلاحات از ثبت ملی"),
        description=Text(
            "Stores new versions of CodeSystems, ValueSets and ConceptMaps (the body: one of them, a "
            "Bundle of them, or Parameters with resource parts). Concepts that disappear become "
            "inactive; importing the same version again changes nothing.",
            "نسخه‌های تازهٔ CodeSystem، ValueSet و ConceptMap را ذخیره می‌کند (بدنه: یکی از آن‌ها، "
            "یک Bundle از آن‌ها یا Parameters با بخش‌های resource). مفهوم‌های حذف‌شده غیرفعال می‌شوند؛ "
            "ورود دوبارهٔ همان نسخه چیزی را تغییر نمی‌دهد.",
        ),
        levels=("system",),
        affects_state=True,
        methods=("POST",),
        handler=terminology_import,
        parameters=(
            In(
                "resource",
                "Resource",
                "A CodeSystem, ValueSet or ConceptMap to import (or post one, or a Bundle, as the body)",
                "یک CodeSystem، ValueSet یا ConceptMap برای ورود (یا همان یا یک Bundle را در بدنه بفرستید)",
                0,
                "*",
            ),
            Out(
                "return",
                "OperationOutcome",
                "What was stored, left unchanged or made inactive",
                "آنچه ذخیره شد، بی‌تغییر ماند یا غیرفعال شد",
                1,
            ),
        ),
    ),
)
