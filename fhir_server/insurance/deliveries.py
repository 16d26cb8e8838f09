"""What was delivered, as the server recorded it: the facts a claim line is built from
and checked against.

- a `dispense` record (MedicationDispense) of a national e-prescription item, paper ones
  recorded through `$record-paper` included: its quantity net of the returns and
  corrections recorded against it (the dispensing ledger), priced on the day it was
  handed over;
- a paraclinic's report (DiagnosticReport) performing national ServiceRequests: one
  performance of each.

Days are counted in Asia/Tehran. Reads run as the server (callers check the client's
access to the delivery first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription import dispense, fulfil, items
from fhir_server.eprescription.store_access import find, read
from fhir_server.insurance.money import quantity_of
from fhir_server.outcome import FhirError
from fhir_server.storage.base import StoreSession
from fhir_server.tehran import tehran_day

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

DELIVERY_TYPES = ("MedicationDispense", "DiagnosticReport")


@dataclass(frozen=True)
class Delivery:
    """One thing handed over or performed, ready to be claimed."""

    ref: str  # MedicationDispense/id or DiagnosticReport/id
    item: dict[str, Any]  # the prescription item (MedicationRequest or ServiceRequest)
    record: dict[str, Any]  # the MedicationDispense or DiagnosticReport
    patient: str  # Patient/id
    provider: str  # Organization/id of the pharmacy or paraclinic
    keys: tuple[str, ...]  # what was delivered: generic|..., irc|..., rvu|...
    label: str
    quantity: Decimal  # net of returns
    unit: str | None
    day: date  # of delivery, in Tehran
    recorded_share: int | None  # insurer percent recorded at dispensing


def of_record(repo: Repository, s: StoreSession, record: dict[str, Any]) -> list[Delivery]:
    """The deliveries a MedicationDispense or DiagnosticReport stands for."""
    if record.get("resourceType") == "MedicationDispense":
        return [of_dispense(repo, s, record)]
    return of_report(s, record)


def of_dispense(repo: Repository, s: StoreSession, record: dict[str, Any]) -> Delivery:
    """The delivery a dispense record stands for; 422 for one that cannot be claimed."""
    ref = f"MedicationDispense/{record['id']}"
    if dispense.record_kind(record) != "dispense":
        raise _unclaimable(ref, "returns and corrections are taken off the dispense they undo")
    if record.get("status") != "completed":
        raise _unclaimable(ref, "only a completed dispense was handed over")
    item = read(s, "MedicationRequest", dispense.prescription_of(record))
    if not items.is_eprescription(item):
        raise _unclaimable(ref, "it is not the dispense of a national e-prescription item")
    assert item is not None
    undone = find(repo, s, "MedicationDispense", [("return-of", ref)], 1000)
    net = quantity_of(dispense.quantity(record)) - sum(
        (quantity_of(dispense.quantity(r)) for r in undone), Decimal(0)
    )
    provider = dispense.pharmacy_of(record)
    if provider is None:
        raise _unclaimable(ref, "it names no pharmacy (performer.actor Organization)")
    day = tehran_day(record.get("whenHandedOver") or (record.get("meta") or {}).get("lastUpdated"))
    assert day is not None
    unit = ((record.get("quantity") or {}).get("unit")) or None
    return Delivery(
        ref,
        item,
        record,
        str((record.get("subject") or {}).get("reference")),
        provider,
        tuple(items.code_keys(record) or items.code_keys(item)),
        items.label(record if items.code_keys(record) else item),
        max(net, Decimal(0)),
        unit,
        day,
        _recorded_share(record),
    )


def of_report(s: StoreSession, report: dict[str, Any]) -> list[Delivery]:
    """One delivery per national ServiceRequest the report performed; 422 if none."""
    ref = f"DiagnosticReport/{report['id']}"
    if report.get("status") not in fulfil.PERFORMED:
        raise _unclaimable(ref, f"a {report.get('status')} report performed nothing")
    provider = _report_provider(s, report)
    if provider is None:
        raise _unclaimable(ref, "it names no performing organization (performer)")
    day = tehran_day(
        report.get("effectiveDateTime")
        or report.get("issued")
        or (report.get("meta") or {}).get("lastUpdated")
    )
    assert day is not None
    found = []
    for based_on in report.get("basedOn") or []:
        item = read(s, "ServiceRequest", items.ref_id(based_on, "ServiceRequest"))
        if item is None or not items.is_eprescription(item):
            continue
        found.append(
            Delivery(
                ref,
                item,
                report,
                str((report.get("subject") or {}).get("reference")),
                provider,
                tuple(items.code_keys(item)),
                items.label(item),
                Decimal(1),
                None,
                day,
                _recorded_share(item),
            )
        )
    if not found:
        raise _unclaimable(ref, "it performed no national e-prescription service request")
    return found


def _report_provider(s: StoreSession, report: dict[str, Any]) -> str | None:
    """The organization that performed it: an Organization performer, or a
    PractitionerRole's organization."""
    for performer in report.get("performer") or []:
        ref = str(performer.get("reference") or "")
        if ref.startswith("Organization/"):
            return ref
        role = read(s, "PractitionerRole", items.ref_id(performer, "PractitionerRole"))
        org = str(((role or {}).get("organization") or {}).get("reference") or "")
        if org.startswith("Organization/"):
            return org
    return None


def _recorded_share(resource: dict[str, Any]) -> int | None:
    """The insurer's percent recorded on the dispense (copied from the item) or item."""
    parts = items.extension(resource, items.EXT_SHARES) or []
    for part in parts if isinstance(parts, list) else []:
        if part.get("url") == "insurer" and part.get("valueDecimal") is not None:
            return int(part["valueDecimal"])
    return None


def _unclaimable(ref: str, why: str) -> FhirError:
    return FhirError.of(422, "business-rule", f"{ref} cannot be claimed: {why}")
