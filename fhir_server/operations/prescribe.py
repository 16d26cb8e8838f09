"""$prescribe: submit a prescription (a transaction Bundle of MedicationRequests and/or
ServiceRequests, optionally the signature Provenance) and get back the prescription
ids, tracking code and statuses, the rules' outcome and the transaction response.

It is the transaction the server would run for the same Bundle, with two conveniences:
signature Provenances are processed after the items they sign, and the answer
summarises the prescriptions as stored after commit (signed ones already active).
"""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.api.bundle import check_envelope
from fhir_server.bundles import run_transaction
from fhir_server.eprescription import items
from fhir_server.eprescription.ids import TRACKING_SYSTEM
from fhir_server.eprescription.signing import signing_operation
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Server, Text
from fhir_server.outcome import FhirError


def prescribe(req: OperationRequest) -> dict[str, Any]:
    bundle = check_envelope(req.require_body("a transaction Bundle"))
    entries = [_as_post(e) for e in bundle.get("entry") or []]
    if not any((e.get("resource") or {}).get("resourceType") in items.REQUEST_TYPES for e in entries):
        raise FhirError.of(
            422, "business-rule", "A prescription needs at least one MedicationRequest or ServiceRequest"
        )
    ordered = sorted(entries, key=lambda e: (e.get("resource") or {}).get("resourceType") == "Provenance")
    c = req.server
    with signing_operation():
        response = run_transaction(c.store, c.repo, ordered, c.base_url, c.resource_types, "OperationOutcome")
    return _summary(c, response)


def _as_post(entry: dict[str, Any]) -> dict[str, Any]:
    resource = entry.get("resource") or {}
    req = entry.get("request") or {"method": "POST", "url": resource.get("resourceType", "")}
    return {**entry, "request": req}


def _summary(server: Server, response: dict[str, Any]) -> dict[str, Any]:
    stored = _stored_items(server, response)
    groups: dict[str, dict[str, Any]] = {}
    for item in stored:
        group = groups.setdefault(items.group_value(item) or "", {"items": [], "tracking": None})
        group["items"].append(item)
        group["tracking"] = items.identifier(item, TRACKING_SYSTEM)
    params: list[dict[str, Any]] = []
    for rx, group in groups.items():
        params.append(
            {
                "name": "prescription",
                "part": [
                    {
                        "name": "id",
                        "valueIdentifier": {"system": "http://noskhe.ir/fhir/sid/prescription", "value": rx},
                    },
                    {"name": "trackingCode", "valueString": group["tracking"]},
                    {"name": "type", "valueCode": items.extension(group["items"][0], items.EXT_TYPE)},
                    {"name": "status", "valueCode": _status(group["items"])},
                    {
                        "name": "free",
                        "valueBoolean": bool(items.extension(group["items"][0], items.EXT_FREE)),
                    },
                    *({"name": "item", "resource": i} for i in group["items"]),
                ],
            }
        )
    outcome = {"resourceType": "OperationOutcome", "issue": _issues(response)}
    params.append({"name": "outcome", "resource": outcome})
    params.append({"name": "response", "resource": response})
    return {"resourceType": "Parameters", "parameter": params}


def _stored_items(server: Server, response: dict[str, Any]) -> list[dict[str, Any]]:
    keys = []
    for entry in response.get("entry") or []:
        location = str((entry.get("response") or {}).get("location") or "")
        type_, _, rest = location.partition("/")
        if type_ in items.REQUEST_TYPES:
            keys.append((type_, rest.split("/")[0]))
    with server.store.session() as s:
        return [orjson.loads(server.repo.read(s, t, i).body or b"{}") for t, i in keys]


def _status(group: list[dict[str, Any]]) -> str:
    statuses = {i.get("status") for i in group}
    return str(statuses.pop()) if len(statuses) == 1 else "mixed"


def _issues(response: dict[str, Any]) -> list[dict[str, Any]]:
    found = [
        issue
        for entry in response.get("entry") or []
        for issue in ((entry.get("response") or {}).get("outcome") or {}).get("issue") or []
        if issue.get("diagnostics") != "All OK"
    ]
    return found or [{"severity": "information", "code": "informational", "diagnostics": "All OK"}]


OPERATIONS = (
    Operation(
        name="prescribe",
        title=Text("Submit a prescription", "ثبت نسخه"),
        description=Text(
            "Stores a prescription (a transaction Bundle of MedicationRequests and/or ServiceRequests, "
            "optionally with the signature Provenance) after the insurer's and medical rules, and "
            "answers with the prescription ids, tracking code, statuses and the rules' outcome. The "
            "patient receives the tracking code by SMS once it is stored.",
            "نسخه را (یک Bundle تراکنشی از MedicationRequest و/یا ServiceRequest و در صورت نیاز "
            "Provenance امضا) پس از قواعد بیمه‌ای و پزشکی ذخیره می‌کند و شناسهٔ نسخه، کد رهگیری، وضعیت‌ها و "
            "نتیجهٔ قواعد را برمی‌گرداند. بیمار پس از ذخیره، کد رهگیری را با پیامک دریافت می‌کند.",
        ),
        levels=("system", "type"),
        types=("MedicationRequest", "ServiceRequest"),
        affects_state=True,
        methods=("POST",),
        handler=prescribe,
        parameters=(
            In(
                "resource",
                "Bundle",
                "The transaction Bundle of the prescription's items; posted as the body",
                "Bundle تراکنشی اقلام نسخه؛ در بدنه فرستاده می‌شود",
                1,
            ),
            Out(
                "prescription",
                None,
                "One prescription as stored",
                "یک نسخه، همان‌گونه که ذخیره شد",
                0,
                "*",
                Out("id", "Identifier", "The prescription id", "شناسهٔ نسخه", 1),
                Out("trackingCode", "string", "The tracking code (کد رهگیری)", "کد رهگیری", 1),
                Out("type", "code", "The prescription type", "نوع نسخه"),
                Out(
                    "status",
                    "code",
                    "The items' status (mixed when they differ)",
                    "وضعیت اقلام (mixed اگر فرق کنند)",
                ),
                Out(
                    "free",
                    "boolean",
                    "True for a prescription outside insurance",
                    "برای نسخهٔ آزاد (بدون بیمه)، true",
                ),
                Out("item", "Resource", "An item as stored", "یک قلم، همان‌گونه که ذخیره شد", 0, "*"),
            ),
            Out("outcome", "OperationOutcome", "The rules' findings", "یافته‌های قواعد", 1),
            Out("response", "Bundle", "The transaction response", "پاسخ تراکنش", 1),
        ),
    ),
)
