"""Paper prescriptions (نسخه کاغذی): recorded by the pharmacy that dispenses them.

The pharmacy gives the prescriber's council number, the patient's national code and the
items it handed over. The server records them as a prescription of its own, marked
paper: MedicationRequests (prescription id assigned, the rules applied exactly as at
prescribing: errors refuse, warnings pass, shares computed) and, in the same
transaction, the MedicationDispenses against them (the dispense rule counts them).
Only this path may write a paper item: a client cannot skip the rules by marking an
ordinary MedicationRequest as paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from fhir_server import authorization
from fhir_server.eprescription import context, eligibility, items
from fhir_server.eprescription.ids import PRESCRIPTION_SYSTEM
from fhir_server.eprescription.policy import Policy
from fhir_server.eprescription.rules_engine import evaluate
from fhir_server.eprescription.store_access import find, memo
from fhir_server.outcome import FhirError, Issue, has_errors
from fhir_server.repository.meta import now_instant
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code"
IRIMC = "http://noskhe.ir/fhir/sid/irimc"
GENERIC = "http://noskhe.ir/fhir/CodeSystem/generic"


@dataclass(frozen=True)
class PaperItem:
    medication: dict[str, Any]  # a Coding
    quantity: float
    dispensed: float
    dosage: str | None = None


@dataclass(frozen=True)
class PaperPrescription:
    council_number: str
    national_code: str
    pharmacy: dict[str, Any]  # a Reference
    items: list[PaperItem]
    written: date | None = None  # the date on the paper


def writing_paper(s: StoreSession) -> bool:
    """True while this session records a paper prescription (see PrescriptionRule)."""
    return bool(memo(s).get("paper"))


def record(
    repo: Repository, s: StoreSession, paper: PaperPrescription, policy: Policy, rx_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Issue]]:
    """(MedicationRequests, MedicationDispenses, issues) written in the session `s`."""
    patient = _one(repo, s, "Patient", NATIONAL_CODE, paper.national_code, "nationalCode")
    prescriber = _one(repo, s, "Practitioner", IRIMC, paper.council_number, "councilNumber")
    today = date.today()
    covered = eligibility.check(repo, s, patient["id"], today)
    drafts = [_request(i, patient, prescriber, paper, rx_id, covered) for i in paper.items]
    issues: list[Issue] = []
    for n, item in enumerate(drafts):
        ctx = context.rule_context(repo, s, item, covered.insurer, drafts[:n], today)
        ctx.specialties = None  # the paper's prescriber is not checked for specialty here
        result = evaluate(item, ctx, policy, f"Parameters.parameter[item][{n}]")
        if has_errors(result.issues):
            raise FhirError(422, result.issues)
        issues += result.issues
        shares = [
            {"url": "insurer", "valueDecimal": result.insurer_share},
            {"url": "patient", "valueDecimal": result.patient_share},
        ]
        items.set_extension(item, items.EXT_SHARES, "extension", shares)
    memo(s)["paper"] = True
    try:
        with authorization.as_system():  # the paper's items are the server's record
            stored = [repo.create(s, "MedicationRequest", item).resource or {} for item in drafts]
    finally:
        memo(s)["paper"] = False
    dispenses = []
    for given, request in zip(paper.items, stored, strict=True):
        written = repo.create(s, "MedicationDispense", _dispense(given, request, paper))
        issues += written.warnings
        dispenses.append(written.resource or {})
    return stored, dispenses, issues


def _one(repo: Repository, s: StoreSession, type_: str, system: str, value: str, name: str) -> dict[str, Any]:
    found = find(repo, s, type_, [("identifier", f"{system}|{value}")], 2)
    if len(found) != 1:
        raise FhirError.of(422, "not-found", f"No single {type_} has {name} {value}", name)
    return found[0]


def _request(
    item: PaperItem,
    patient: dict[str, Any],
    prescriber: dict[str, Any],
    paper: PaperPrescription,
    rx_id: str,
    covered: eligibility.Eligibility,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "groupIdentifier": {"system": PRESCRIPTION_SYSTEM, "value": rx_id},
        "medicationCodeableConcept": {"coding": [item.medication]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "requester": {"reference": f"Practitioner/{prescriber['id']}"},
        "authoredOn": (paper.written or date.today()).isoformat(),
        # the pharmacy that recorded the paper dispensed it (and places it in its province)
        "dispenseRequest": {"quantity": {"value": item.quantity}, "performer": paper.pharmacy},
        "extension": [
            {"url": items.EXT_PAPER, "valueBoolean": True},
            {"url": items.EXT_TYPE, "valueCode": "drug"},
        ],
    }
    if item.dosage:
        request["dosageInstruction"] = [{"text": item.dosage}]
    if covered.covered and covered.coverage is not None:
        request["insurance"] = [{"reference": f"Coverage/{covered.coverage['id']}"}]
    else:
        request["extension"].append({"url": items.EXT_FREE, "valueBoolean": True})
    return request


def _dispense(item: PaperItem, request: dict[str, Any], paper: PaperPrescription) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "medicationCodeableConcept": request["medicationCodeableConcept"],
        "subject": request["subject"],
        "performer": [{"actor": paper.pharmacy}],
        "authorizingPrescription": [{"reference": f"MedicationRequest/{request['id']}"}],
        "quantity": {"value": item.dispensed},
        "whenHandedOver": now_instant(),
    }
