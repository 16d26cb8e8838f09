"""$check-rules: the rules engine on its own (a pharmacy checking a paper prescription).

POST a Bundle (any type) holding the items (MedicationRequest / ServiceRequest) and
optionally the Patient; the insurer is read from a Coverage in the Bundle or the
`insurer` query parameter (none: free). Answers a Parameters with the OperationOutcome
and, per item, the insurer's and the patient's shares. Nothing is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_server.eprescription import context, items
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.eligibility import insurer_code
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.rules_engine import RuleContext, evaluate
from fhir_server.eprescription.store_access import read
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError, has_errors, operation_outcome


def check_rules(req: OperationRequest) -> dict[str, Any]:
    bundle = req.require_body("a Bundle in a POST body")
    issues = req.server.repo.validate(bundle, expected_type="Bundle")  # nothing is stored: all of it
    if has_errors(issues):
        raise FhirError(400, issues)
    resources = [e.get("resource") or {} for e in bundle.get("entry") or []]
    found = [r for r in resources if r.get("resourceType") in items.REQUEST_TYPES]
    if not found:
        raise FhirError.of(
            400, "invalid", "$check-rules needs a Bundle with MedicationRequests or ServiceRequests"
        )
    policy = load_policy(EPrescriptionConfig().policy_dir)
    ctx_ = _context(req, resources, found)
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
    return {"resourceType": "Parameters", "parameter": params}


def _with_others(base: RuleContext, others: list[dict[str, Any]]) -> RuleContext:
    return RuleContext(
        base.insurer, base.patient, base.specialties, others, base.history, base.outpatient, base.today
    )


def _context(
    req: OperationRequest, resources: list[dict[str, Any]], found: list[dict[str, Any]]
) -> RuleContext:
    coverage = next((r for r in resources if r.get("resourceType") == "Coverage"), None)
    insurer = req.text("insurer") or (insurer_code(coverage) if coverage else None)
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    specialty = req.text("specialty")
    server = req.server
    with server.store.session() as s:
        if patient is None:
            patient = read(s, "Patient", items.patient_id(found[0]))
            if patient is not None:  # the outcome speaks of the patient: may the caller read them?
                req.caller.check(s, "read", patient)
        specialties = (
            frozenset([specialty])
            if specialty
            else context.specialties(server.repo, s, items.requester_ref(found[0]))
        )
    return RuleContext(insurer, patient, specialties, today=date.today())


OPERATIONS = (
    Operation(
        name="check-rules",
        title=Text("Check insurance and medical rules", "بررسی قواعد بیمه‌ای و پزشکی"),
        description=Text(
            "Runs the insurer's and the medical rules on prescription items without storing anything "
            "(a pharmacy checking a paper prescription): the issues and each item's insurer and patient "
            "shares.",
            "قواعد بیمه‌ای و پزشکی را بدون ذخیرهٔ چیزی روی اقلام نسخه اجرا می‌کند (داروخانه‌ای که نسخهٔ "
            "کاغذی را بررسی می‌کند): مشکلات و سهم بیمه و بیمار از هر قلم.",
        ),
        levels=("system", "type"),
        types=("MedicationRequest", "ServiceRequest"),
        methods=("POST",),
        handler=check_rules,
        parameters=(
            In(
                "resource",
                "Bundle",
                "A Bundle with the items (MedicationRequest, ServiceRequest), optionally the Patient and "
                "Coverage; posted as the body",
                "Bundle با اقلام (MedicationRequest، ServiceRequest) و در صورت نیاز Patient و Coverage؛ "
                "در بدنه فرستاده می‌شود",
                1,
            ),
            In(
                "insurer",
                "string",
                "The insurer's code (else the Coverage's)",
                "کد بیمه‌گر (وگرنه از Coverage)",
            ),
            In(
                "specialty",
                "string",
                "The prescriber's specialty (else the prescriber's roles)",
                "تخصص تجویزکننده (وگرنه از نقش‌های او)",
            ),
            Out("outcome", "OperationOutcome", "The rules' findings", "یافته‌های قواعد", 1),
            Out(
                "item",
                None,
                "The shares of one item",
                "سهم‌های یک قلم",
                0,
                "*",
                Out("index", "integer", "The item's position among the items", "جایگاه قلم در میان اقلام", 1),
                Out("insurerShare", "decimal", "What the insurer pays", "آنچه بیمه می‌پردازد", 1),
                Out("patientShare", "decimal", "What the patient pays", "آنچه بیمار می‌پردازد", 1),
            ),
        ),
    ),
)
