"""Provenance/$sign: sign prescription items later (after an edit, or when they were
submitted unsigned).

POST the signature Provenance itself (targets: the items; `signature`: the detached JWS,
see `eprescription.signature`). It is verified against the items as stored and the
signer's registered keys, stored, and the items waiting in `draft` become `active`, all
in one transaction. Answers like a create: 201, Location, the stored Provenance. This
and `$prescribe` are the only ways a signature record is written; the caller needs
create on Provenance.
"""

from __future__ import annotations

from fhir_server.eprescription import signature
from fhir_server.eprescription.signing import signing_operation
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError
from fhir_server.repository import WriteResult


def sign(req: OperationRequest) -> WriteResult:
    body = req.require_body("the signature Provenance")
    if not isinstance(body, dict) or body.get("resourceType") != "Provenance":
        raise FhirError.of(400, "invalid", "Provenance/$sign takes a Provenance")
    if not signature.jose_signatures(body):
        raise FhirError.of(
            422, "required", "The Provenance has no application/jose signature", "Provenance.signature"
        )
    resource = {k: v for k, v in body.items() if k != "id"}
    with signing_operation(), req.server.store.session(write=True) as s:
        return req.server.repo.create(s, "Provenance", resource)


OPERATIONS = (
    Operation(
        name="sign",
        title=Text("Sign prescription items", "امضای اقلام نسخه"),
        description=Text(
            "Stores a signature Provenance over prescription items after verifying it against the items "
            "as stored and the signer's registered keys; items waiting for the signature become active, "
            "in the same transaction. Answers like a create (201, Location).",
            "Provenance امضا روی اقلام نسخه را پس از سنجش با اقلام ذخیره‌شده و کلیدهای ثبت‌شدهٔ امضاکننده "
            "ذخیره می‌کند؛ اقلام منتظر امضا در همان تراکنش فعال می‌شوند. پاسخ مانند ایجاد است (۲۰۱، Location).",
        ),
        levels=("type",),
        types=("Provenance",),
        affects_state=True,
        methods=("POST",),
        handler=sign,
        parameters=(
            In(
                "resource",
                "Provenance",
                "The signature Provenance (targets: the items; signature: a detached JWS), as the body",
                "Provenance امضا (هدف: اقلام؛ امضا: JWS جداشده)؛ در بدنه فرستاده می‌شود",
                1,
            ),
            Out("return", "Provenance", "The Provenance as stored", "Provenance ذخیره‌شده", 1),
        ),
    ),
)
