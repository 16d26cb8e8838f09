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
from flask import Response, request

from fhir_server.api.context import base_url, ctx
from fhir_server.api.http import fhir_response, read_json_body
from fhir_server.bundles import run_transaction
from fhir_server.eprescription import items
from fhir_server.eprescription.ids import TRACKING_SYSTEM
from fhir_server.eprescription.signing import signing_operation
from fhir_server.outcome import FhirError


def prescribe_operation(type_: str | None, id_: str | None) -> Response:
    if request.method != "POST" or id_ is not None:
        raise FhirError.of(405, "not-supported", "$prescribe takes a transaction Bundle in a POST body")
    bundle = read_json_body()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError.of(400, "invalid", "$prescribe takes a Bundle")
    entries = [_as_post(e) for e in bundle.get("entry") or []]
    if not any((e.get("resource") or {}).get("resourceType") in items.REQUEST_TYPES for e in entries):
        raise FhirError.of(
            422, "business-rule", "A prescription needs at least one MedicationRequest or ServiceRequest"
        )
    ordered = sorted(entries, key=lambda e: (e.get("resource") or {}).get("resourceType") == "Provenance")
    c = ctx()
    with signing_operation():
        response = run_transaction(c.store, c.repo, ordered, base_url(), c.resource_types, "OperationOutcome")
    return fhir_response(_summary(response), 200)


def _as_post(entry: dict[str, Any]) -> dict[str, Any]:
    resource = entry.get("resource") or {}
    req = entry.get("request") or {"method": "POST", "url": resource.get("resourceType", "")}
    return {**entry, "request": req}


def _summary(response: dict[str, Any]) -> dict[str, Any]:
    stored = _stored_items(response)
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


def _stored_items(response: dict[str, Any]) -> list[dict[str, Any]]:
    keys = []
    for entry in response.get("entry") or []:
        location = str((entry.get("response") or {}).get("location") or "")
        type_, _, rest = location.partition("/")
        if type_ in items.REQUEST_TYPES:
            keys.append((type_, rest.split("/")[0]))
    c = ctx()
    with c.store.session() as s:
        return [orjson.loads(c.repo.read(s, t, i).body or b"{}") for t, i in keys]


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
