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

from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.ids import PRESCRIPTION_SYSTEM
from fhir_server.eprescription.paper import PaperItem, PaperPrescription, record
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.prescribing import unused_id
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError, information, operation_outcome


def record_paper(req: OperationRequest) -> dict[str, Any]:
    req.caller.require("create", "MedicationDispense")
    paper = _parse(req.require_body("a Parameters"))
    c = req.server
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
    return {"resourceType": "Parameters", "parameter": params}


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


_ITEM = (
    In("medication", "Coding", "The drug (generic or IRC code)", "دارو (کد ژنریک یا IRC)", 1),
    In("quantity", "decimal", "The quantity prescribed", "مقدار تجویزشده", 1),
    In("dispensed", "decimal", "The quantity handed over (default: all)", "مقدار تحویل‌شده (پیش‌فرض: همه)"),
    In("dosage", "string", "The dosage as written", "دستور مصرف، همان‌گونه که نوشته شده"),
)

OPERATIONS = (
    Operation(
        name="record-paper",
        title=Text("Record a paper prescription", "ثبت نسخهٔ کاغذی"),
        description=Text(
            "A pharmacy records a paper prescription it dispensed: the rules run as at prescribing "
            "(errors refuse with 422 and nothing is stored); the answer holds the prescription id, the "
            "MedicationRequests (marked paper) and the MedicationDispenses.",
            "داروخانه نسخهٔ کاغذی تحویل‌داده‌شده را ثبت می‌کند: قواعد مانند زمان تجویز اجرا می‌شوند (خطاها با "
            "۴۲۲ رد می‌شوند و چیزی ذخیره نمی‌شود)؛ پاسخ شناسهٔ نسخه، MedicationRequestها (با نشان کاغذی) و "
            "MedicationDispenseها را دارد.",
        ),
        levels=("type",),
        types=("MedicationDispense",),
        affects_state=True,
        methods=("POST",),
        handler=record_paper,
        parameters=(
            In(
                "councilNumber",
                "string",
                "The prescriber's medical council number",
                "شمارهٔ نظام پزشکی تجویزکننده",
                1,
            ),
            In("nationalCode", "string", "The patient's national code", "کد ملی بیمار", 1),
            In(
                "pharmacy",
                "Reference",
                "The dispensing pharmacy (Organization)",
                "داروخانهٔ تحویل‌دهنده (Organization)",
                1,
            ),
            In("date", "date", "The date written on the paper", "تاریخ نوشته‌شده روی نسخه"),
            In("item", None, "One item of the paper prescription", "یک قلم از نسخهٔ کاغذی", 1, "*", *_ITEM),
            Out("prescription", "Identifier", "The prescription id given", "شناسهٔ نسخهٔ داده‌شده", 1),
            Out("outcome", "OperationOutcome", "The rules' findings", "یافته‌های قواعد", 1),
            Out("request", "MedicationRequest", "A stored item", "یک قلم ذخیره‌شده", 0, "*"),
            Out("dispense", "MedicationDispense", "A stored dispense", "یک تحویل ذخیره‌شده", 0, "*"),
        ),
    ),
)
