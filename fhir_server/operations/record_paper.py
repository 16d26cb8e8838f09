"""MedicationDispense/$record-paper: a pharmacy records a paper prescription it dispensed.

POST a Parameters:

    councilNumber  string      the prescriber's medical council number (نظام پزشکی)
    nationalCode   string      the patient's national code
    pharmacy       Reference   the dispensing pharmacy (Organization)
    date           date        optional: the date written on the paper
    item (1..*)    parts: medication (Coding), quantity (decimal: prescribed),
                   dispensed (decimal: handed over; default the quantity), dosage (string)

The rules run as at prescribing (errors refuse with 422, nothing is stored). Answers a
Parameters with the prescription id, the OperationOutcome, the MedicationRequests
(marked paper) and the MedicationDispenses. The caller needs create on MedicationDispense.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, request

from fhir_server import authorization
from fhir_server.api.context import ctx
from fhir_server.api.http import fhir_response, read_json_body
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.ids import PRESCRIPTION_SYSTEM
from fhir_server.eprescription.paper import PaperItem, PaperPrescription, record
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.prescribing import unused_id
from fhir_server.outcome import FhirError, information, operation_outcome


def record_paper_operation(type_: str | None, id_: str | None) -> Response:
    if request.method != "POST" or type_ != "MedicationDispense" or id_ is not None:
        raise FhirError.of(405, "not-supported", "POST a Parameters to MedicationDispense/$record-paper")
    authorization.current().require("create", "MedicationDispense")
    paper = _parse(read_json_body())
    c = ctx()
    policy = load_policy(EPrescriptionConfig().policy_dir)
    with c.store.session(write=True) as s:
        rx_id = unused_id(s, date.today())
        requests_, dispenses, issues = record(c.repo, s, paper, policy, rx_id)
    params: list[dict[str, Any]] = [
        {"name": "prescription", "valueIdentifier": {"system": PRESCRIPTION_SYSTEM, "value": rx_id}},
        {
            "name": "outcome",
            "resource": operation_outcome(issues or [information("informational", "All OK")]),
        },
        *({"name": "request", "resource": r} for r in requests_),
        *({"name": "dispense", "resource": d} for d in dispenses),
    ]
    return fhir_response({"resourceType": "Parameters", "parameter": params}, 200)


def _value(param: dict[str, Any]) -> Any:
    return next((v for k, v in param.items() if k.startswith("value")), None)


def _parse(body: Any) -> PaperPrescription:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError.of(400, "invalid", "$record-paper takes a Parameters")
    top: dict[str, Any] = {}
    parts: list[PaperItem] = []
    for param in body.get("parameter") or []:
        if param.get("name") == "item":
            parts.append(_item({p.get("name"): _value(p) for p in param.get("part") or []}))
        else:
            top[str(param.get("name"))] = _value(param)
    missing = [n for n in ("councilNumber", "nationalCode", "pharmacy") if not top.get(n)]
    if missing or not parts:
        raise FhirError.of(400, "required", f"$record-paper needs {', '.join(missing or ['an item'])}")
    written = date.fromisoformat(str(top["date"])[:10]) if top.get("date") else None
    return PaperPrescription(
        str(top["councilNumber"]), str(top["nationalCode"]), dict(top["pharmacy"]), parts, written
    )


def _item(part: dict[str, Any]) -> PaperItem:
    coding, quantity = part.get("medication"), part.get("quantity")
    if not isinstance(coding, dict) or not coding.get("code") or not isinstance(quantity, int | float):
        raise FhirError.of(400, "required", "Each item needs medication (Coding) and quantity (decimal)")
    dispensed = part.get("dispensed", quantity)
    if not isinstance(dispensed, int | float) or not 0 < dispensed <= quantity:
        raise FhirError.of(400, "invalid", "dispensed must be more than 0 and at most the quantity")
    return PaperItem(coding, float(quantity), float(dispensed), part.get("dosage"))
