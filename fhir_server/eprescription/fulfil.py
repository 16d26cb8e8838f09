"""Paraclinic fulfilment: a DiagnosticReport `basedOn` a ServiceRequest performs it.

Each report in a performed status counts one performance; the ServiceRequest completes
when its quantity is reached, and is never performed beyond it (the same once-only rule
as dispensing, checked in the same transaction). A report keeps its service requests and
its patient; an update into or out of a performed status (say `final` to
`entered-in-error`) counts or uncounts it, and deleting a performed report undoes it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription import items
from fhir_server.eprescription.store_access import find, read, read_with_version, system_update
from fhir_server.outcome import FhirError, Issue, information
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

PERFORMED = frozenset({"registered", "partial", "preliminary", "final", "amended", "corrected", "appended"})


def _service_requests(s: StoreSession, report: dict[str, Any]) -> list[str]:
    """The national e-prescription ServiceRequests the report is based on."""
    ids = [i for i in (items.ref_id(r, "ServiceRequest") for r in report.get("basedOn") or []) if i]
    return [i for i in ids if items.is_eprescription(read(s, "ServiceRequest", i))]


class FulfilRule:
    types = frozenset({"DiagnosticReport"})

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        return True

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        requests = _service_requests(s, resource)
        counted, was = _performed(resource), previous is not None and _performed(previous)
        if previous is not None:
            if _service_requests(s, previous) != requests:
                raise FhirError.of(
                    422,
                    "business-rule",
                    "A report cannot move to another service request",
                    "DiagnosticReport.basedOn",
                )
            for sr in requests:
                _same_patient(resource, read(s, "ServiceRequest", sr) or {})
        if counted == was:
            return []
        delta = 1 if counted else -1
        return [issue for sr in requests for issue in _perform(repo, s, sr, resource, delta)]

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        claimed = find(repo, s, "Claim", [("delivery", f"DiagnosticReport/{current['id']}")], 1)
        if claimed:
            raise FhirError.of(
                409,
                "business-rule",
                f"DiagnosticReport/{current['id']} was claimed (Claim/{claimed[0]['id']}): it cannot "
                f"be deleted",
            )
        if _performed(current):
            for sr in _service_requests(s, current):
                _perform(repo, s, sr, current, -1)


def _performed(report: dict[str, Any]) -> bool:
    return report.get("status") in PERFORMED


def _same_patient(report: dict[str, Any], request: dict[str, Any]) -> None:
    # a ServiceRequest always has a subject (1..1); a report may have none (0..1)
    if report.get("subject", {}).get("reference") != request["subject"].get("reference"):
        raise FhirError.of(
            422,
            "business-rule",
            "The report's subject is not the service request's patient",
            "DiagnosticReport.subject",
        )


def _perform(
    repo: Repository, s: StoreSession, sr_id: str, report: dict[str, Any], delta: int
) -> list[Issue]:
    request, version = read_with_version(s, "ServiceRequest", sr_id)
    _same_patient(report, request)
    done, allowed = float(items.extension(request, items.EXT_DISPENSED) or 0), items.quantity(request)
    if delta > 0:
        _open(request, done, allowed)
    total = max(done + delta, 0.0)
    updated = dict(request)
    items.set_extension(updated, items.EXT_DISPENSED, "valueDecimal", total)
    updated["status"] = "completed" if total >= allowed else "active"
    system_update(repo, s, updated, version)
    return [information("informational", f"ServiceRequest/{sr_id}: performed {total:g} of {allowed:g}")]


def _open(request: dict[str, Any], done: float, allowed: float) -> None:
    if done >= allowed:  # `completed` is set by the count alone (changes.py)
        raise FhirError.of(409, "business-rule", "This service was already performed (once only)")
    status = request.get("status")
    if status != "active":
        raise FhirError.of(409, "business-rule", f"The service request is {status}: it cannot be performed")
    expiry = items.extension(request, items.EXT_EXPIRY)
    if expiry and date.today().isoformat() > str(expiry):
        raise FhirError.of(422, "business-rule", f"The service request expired on {expiry}")
