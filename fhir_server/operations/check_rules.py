"""$check-rules: the rules engine on its own (a pharmacy checking a paper prescription).

POST a Bundle (any type) holding the items (MedicationRequest / ServiceRequest) and
optionally the Patient; the insurer is read from a Coverage in the Bundle or the
`insurer` query parameter (none: free). Answers a Parameters with the OperationOutcome
and, per item, the insurer's and the patient's shares. Nothing is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, request

from fhir_server import authorization
from fhir_server.api.context import ctx
from fhir_server.api.http import fhir_response, read_json_body
from fhir_server.eprescription import context, items
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.eligibility import insurer_code
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.rules_engine import RuleContext, evaluate
from fhir_server.eprescription.store_access import read
from fhir_server.outcome import FhirError, operation_outcome


def check_rules_operation(type_: str | None, id_: str | None) -> Response:
    if request.method != "POST":
        raise FhirError.of(405, "not-supported", "$check-rules takes a Bundle in a POST body")
    bundle = read_json_body()
    resources = [e.get("resource") or {} for e in (bundle or {}).get("entry") or []]
    found = [r for r in resources if r.get("resourceType") in items.REQUEST_TYPES]
    if not found:
        raise FhirError.of(
            400, "invalid", "$check-rules needs a Bundle with MedicationRequests or ServiceRequests"
        )
    policy = load_policy(EPrescriptionConfig().policy_dir)
    ctx_ = _context(resources, found)
    issues, shares = [], []
    for index, item in enumerate(found):
        where = f"Bundle.entry[{resources.index(item)}].resource"
        result = evaluate(item, _with_others(ctx_, found), policy, where)
        issues += result.issues
        shares.append(
            {
                "name": "item",
                "part": [
                    {"name": "index", "valueInteger": index},
                    {"name": "insurerShare", "valueDecimal": result.insurer_share},
                    {"name": "patientShare", "valueDecimal": result.patient_share},
                ],
            }
        )
    params = [{"name": "outcome", "resource": operation_outcome(issues)}, *shares]
    return fhir_response({"resourceType": "Parameters", "parameter": params})


def _with_others(base: RuleContext, others: list[dict[str, Any]]) -> RuleContext:
    return RuleContext(
        base.insurer, base.patient, base.specialties, others, base.history, base.outpatient, base.today
    )


def _context(resources: list[dict[str, Any]], found: list[dict[str, Any]]) -> RuleContext:
    coverage = next((r for r in resources if r.get("resourceType") == "Coverage"), None)
    insurer = request.args.get("insurer") or (insurer_code(coverage) if coverage else None)
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    specialty = request.args.get("specialty")
    with ctx().store.session() as s:
        if patient is None:
            patient = read(s, "Patient", items.patient_id(found[0]))
            if patient is not None:  # the outcome speaks of the patient: may the caller read them?
                authorization.current().check(s, "read", patient)
        specialties = (
            frozenset([specialty])
            if specialty
            else context.specialties(ctx().repo, s, items.requester_ref(found[0]))
        )
    return RuleContext(insurer, patient, specialties, today=date.today())
