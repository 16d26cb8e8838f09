"""$verify: does a prescription's signature verify? For any pharmacy or paraclinic.

`MedicationRequest/[id]/$verify`, `ServiceRequest/[id]/$verify`, or
`[type]/$verify?prescription=ID`: every signature Provenance over the prescription's
items is checked against the items as stored now and the signer's registered keys.
Answers Parameters: valid (all items covered by a verifying signature), signer, and an
OperationOutcome saying why not.
"""

from __future__ import annotations

from typing import Any

from fhir_server.eprescription import items, signature
from fhir_server.eprescription.store_access import find, prescription_items, read
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError, error, information, operation_outcome
from fhir_server.repository import Repository
from fhir_server.storage.base import StoreSession


def verify(req: OperationRequest) -> dict[str, Any]:
    repo = req.server.repo
    with req.server.store.session() as s:
        targets = _items(req, s)
        repo.read(s, targets[0]["resourceType"], targets[0]["id"])  # the token may read it
        signed, signer, reasons = _check(repo, s, targets)
    valid = len(signed) == len(targets)
    issues = [information("informational", "The signature verifies")] if valid else reasons
    if not valid and not reasons:
        issues = [error("security", "The prescription is not signed")]
    params = [
        {"name": "valid", "valueBoolean": valid},
        {"name": "outcome", "resource": operation_outcome(issues)},
    ]
    if signer:
        params.insert(1, {"name": "signer", "valueReference": {"reference": signer}})
    return {"resourceType": "Parameters", "parameter": params}


def _items(req: OperationRequest, s: StoreSession) -> list[dict[str, Any]]:
    type_, id_ = req.type, req.id
    if type_ in items.REQUEST_TYPES and id_:
        item = read(s, type_, id_)
        rx = items.group_value(item) if item else None
    else:
        rx = req.text("prescription")
    if not rx:
        raise FhirError.of(400, "invalid", "Name the prescription: [type]/[id]/$verify or ?prescription=ID")
    found = prescription_items(req.server.repo, s, rx, by_prescription_id=not id_)
    if not found:
        raise FhirError.of(404, "not-found", f"Prescription {rx} is not known")
    return found


def _check(
    repo: Repository, s: StoreSession, targets: list[dict[str, Any]]
) -> tuple[set[str], str | None, list[Any]]:
    wanted = {f"{t['resourceType']}/{t['id']}": t for t in targets}
    signed: set[str] = set()
    signer, reasons = None, []
    provenances = find(repo, s, "Provenance", [("target", ",".join(wanted))], 50)
    for prov in provenances:
        refs = [str(r.get("reference")).split("/_history")[0] for r in prov.get("target") or []]
        # One signature may span several prescriptions (a drug and a lab one written
        # together): it is over all its targets, as stored now.
        covered = [t for t in (wanted.get(r) or _stored(s, r) for r in refs) if t is not None]
        for sig in signature.jose_signatures(prov):
            who = str((sig.get("who") or {}).get("reference") or "")
            verdict = signature.verify(str(sig.get("data")), covered, signature.practitioner_keys(s, who))
            if verdict.valid and all(signature.signer_of(s, items.requester_ref(t)) == who for t in covered):
                signed |= {r for r in refs if r in wanted}
                signer = who
            else:
                reasons.append(error("security", verdict.reason))
    return signed, signer, reasons


def _stored(s: StoreSession, ref: str) -> dict[str, Any] | None:
    type_, _, id_ = ref.partition("/")
    return read(s, type_, id_) if type_ in items.REQUEST_TYPES else None


OPERATIONS = (
    Operation(
        name="verify",
        title=Text("Verify a prescription's signature", "تأیید امضای نسخه"),
        description=Text(
            "Checks every signature Provenance over the prescription's items against the items as stored "
            "now and the signer's registered keys: valid when every item is covered by a verifying "
            "signature of its prescriber.",
            "هر Provenance امضا روی اقلام نسخه را با اقلام ذخیره‌شدهٔ کنونی و کلیدهای ثبت‌شدهٔ امضاکننده "
            "می‌سنجد: معتبر است اگر امضای درست تجویزکننده همهٔ اقلام را در بر بگیرد.",
        ),
        levels=("type", "instance"),
        types=("MedicationRequest", "ServiceRequest"),
        handler=verify,
        parameters=(
            In("prescription", "string", "The prescription id (at type level)", "شناسهٔ نسخه (در سطح نوع)"),
            Out("valid", "boolean", "True when the signature verifies", "اگر امضا درست باشد، true", 1),
            Out("signer", "Reference", "Who signed", "امضاکننده"),
            Out("outcome", "OperationOutcome", "Why not, when it does not", "دلیل، اگر درست نباشد", 1),
        ),
    ),
)
