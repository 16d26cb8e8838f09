"""Pharmacy dispensing: the remaining quantity, checked and lowered atomically.

Every MedicationDispense write (create, update, delete) changes how much of its
MedicationRequest was handed over by `delta`, and writes the MedicationRequest's new
running total (extension `dispensed-quantity`) in the same transaction, against the
version it read. On SQLite the write session holds the single writer lock; on MongoDB
two concurrent dispenses of one prescription both write the MedicationRequest and one
of them fails (409, retry). Either way no more than quantity x (1 + repeats) is ever
dispensed. A return (status cancelled/entered-in-error/stopped, a lower quantity, or a
delete) restores the quantity and reopens a completed prescription.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription import items
from fhir_server.eprescription.store_access import read, read_with_version, system_update
from fhir_server.outcome import FhirError, Issue, information
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

COUNTED = frozenset({"preparation", "in-progress", "on-hold", "completed", "unknown"})


def counted(dispense: dict[str, Any] | None) -> float:
    if not dispense or dispense.get("status") not in COUNTED:
        return 0.0
    return float((dispense.get("quantity") or {}).get("value") or 0)


def prescription_of(dispense: dict[str, Any]) -> str | None:
    for ref in dispense.get("authorizingPrescription") or []:
        found = items.ref_id(ref, "MedicationRequest")
        if found:
            return found
    return None


class DispenseRule:
    types = frozenset({"MedicationDispense"})

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        return prescription_of(resource) is not None  # whether it is national needs the store

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        mr_id = prescription_of(resource)
        if mr_id is None or not items.is_eprescription(read(s, "MedicationRequest", mr_id)):
            return []  # not a dispense of a national e-prescription
        if previous is not None and prescription_of(previous) != mr_id:
            raise FhirError.of(422, "business-rule", "A dispense cannot move to another prescription")
        request, version = read_with_version(s, "MedicationRequest", mr_id)
        _same_patient(resource, request)
        _substitution(resource, request)
        delta = counted(resource) - counted(previous)
        if delta > 0:
            _open_for_dispensing(request)
        _copy_shares(resource, request)
        return _apply(repo, s, request, version, delta)

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        mr_id = prescription_of(current)
        if mr_id and counted(current) and items.is_eprescription(read(s, "MedicationRequest", mr_id)):
            request, version = read_with_version(s, "MedicationRequest", mr_id)
            _apply(repo, s, request, version, -counted(current))


def _apply(
    repo: Repository, s: StoreSession, request: dict[str, Any], version: int, delta: float
) -> list[Issue]:
    if not delta:
        return []
    done, allowed = float(items.extension(request, items.EXT_DISPENSED) or 0), items.allowed_total(request)
    remaining = allowed - done
    if delta > remaining:
        raise FhirError.of(
            409,
            "business-rule",
            f"Only {remaining:g} of {allowed:g} remain on this prescription; {delta:g} was asked "
            f"(فقط {remaining:g} از {allowed:g} باقی مانده است)",
        )
    total = max(done + delta, 0.0)
    updated = dict(request)
    items.set_extension(updated, items.EXT_DISPENSED, "valueDecimal", total)
    if total >= allowed:
        updated["status"] = "completed"
    elif request.get("status") == "completed":
        updated["status"] = "active"  # a return reopens it
    system_update(repo, s, updated, version)
    return [information("informational", f"Dispensed {total:g} of {allowed:g}; {allowed - total:g} remain")]


def _open_for_dispensing(request: dict[str, Any]) -> None:
    status = request.get("status")
    if status == "draft":
        raise FhirError.of(
            409, "business-rule", "The prescription is not signed yet (draft): it cannot be dispensed"
        )
    if status == "completed":
        raise FhirError.of(409, "business-rule", "Everything on this prescription was already dispensed")
    if status != "active":
        raise FhirError.of(409, "business-rule", f"The prescription is {status}: it cannot be dispensed")
    expiry = items.extension(request, items.EXT_EXPIRY)
    if expiry and date.today().isoformat() > str(expiry):
        raise FhirError.of(422, "business-rule", f"The prescription expired on {expiry}")


def _same_patient(dispense: dict[str, Any], request: dict[str, Any]) -> None:
    if dispense.get("subject", {}).get("reference") != request.get("subject", {}).get("reference"):
        raise FhirError.of(
            422, "business-rule", "The dispense's subject is not the prescription's patient", "subject"
        )


def _substitution(dispense: dict[str, Any], request: dict[str, Any]) -> None:
    given, asked = set(items.generic_codes(dispense)), set(items.generic_codes(request))
    substituted = bool((dispense.get("substitution") or {}).get("wasSubstituted"))
    if given and asked and not given & asked and not substituted:
        raise FhirError.of(
            422,
            "business-rule",
            "The dispensed drug differs from the prescribed one: "
            "record substitution.wasSubstituted and its reason",
            "substitution",
        )


def _copy_shares(dispense: dict[str, Any], request: dict[str, Any]) -> None:
    for url in (items.EXT_SHARES, items.EXT_FREE, items.EXT_PAPER):
        ext = next((e for e in request.get("extension") or [] if e.get("url") == url), None)
        if ext is not None:
            kept = [e for e in dispense.get("extension") or [] if e.get("url") != url]
            dispense["extension"] = [*kept, ext]
