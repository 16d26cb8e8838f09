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

from flask import Response, request

from fhir_server.api.context import ctx
from fhir_server.api.http import read_json_body
from fhir_server.api.responses import write_response
from fhir_server.eprescription import signature
from fhir_server.eprescription.signing import signing_operation
from fhir_server.outcome import FhirError


def sign_operation(type_: str | None, id_: str | None) -> Response:
    if request.method != "POST" or type_ != "Provenance" or id_ is not None:
        raise FhirError.of(405, "not-supported", "POST the signature Provenance to Provenance/$sign")
    body = read_json_body()
    if not isinstance(body, dict) or body.get("resourceType") != "Provenance":
        raise FhirError.of(400, "invalid", "Provenance/$sign takes a Provenance")
    if not signature.jose_signatures(body):
        raise FhirError.of(
            422, "required", "The Provenance has no application/jose signature", "Provenance.signature"
        )
    c = ctx()
    resource = {k: v for k, v in body.items() if k != "id"}
    with signing_operation(), c.store.session(write=True) as s:
        result = c.repo.create(s, "Provenance", resource)
    return write_response(result)
