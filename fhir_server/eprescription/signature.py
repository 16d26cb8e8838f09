"""The prescriber's signature: a detached JWS (ES256 or RS256) over the RFC 8785
canonical JSON of the signed items, carried in a Provenance.

What is signed is each target's clinical content (the `signed_view`): the fields the
prescriber decides, not those the server assigns (id, prescription id, tracking code,
status, expiry, shares). The payload is the JSON array of the views in the order of
`Provenance.target`. `Provenance.signature.data` is base64 of the compact JWS with an
empty payload part (`header..signature`); the header's `kid` names one of the signer's
registered keys (Practitioner extension `signing-key`, a public JWK as JSON text).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from fhir_server.eprescription import items
from fhir_server.eprescription.canonical import canonical
from fhir_server.eprescription.store_access import lookup
from fhir_server.storage.base import StoreSession

JOSE = "application/jose"
ALGORITHMS = ["ES256", "RS256"]
EXT_KEY = items.EXT + "signing-key"
SIGNED_FIELDS = {
    "MedicationRequest": (
        "intent",
        "subject",
        "encounter",
        "requester",
        "medicationCodeableConcept",
        "dosageInstruction",
        "substitution",
        "reasonCode",
        "note",
        "category",
    ),
    "ServiceRequest": (
        "intent",
        "subject",
        "encounter",
        "requester",
        "category",
        "code",
        "quantityQuantity",
        "orderDetail",
        "bodySite",
        "reasonCode",
        "note",
    ),
}
QUANTITY_FIELDS = ("quantity", "numberOfRepeatsAllowed")


def signed_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {k: item[k] for k in SIGNED_FIELDS[item["resourceType"]] if k in item}
    dispense = {k: v for k, v in (item.get("dispenseRequest") or {}).items() if k in QUANTITY_FIELDS}
    if dispense:
        view["dispenseRequest"] = dispense
    return {"resourceType": item["resourceType"], **view}


def payload(targets: list[dict[str, Any]]) -> bytes:
    return canonical([signed_view(t) for t in targets])


def sign(targets: list[dict[str, Any]], private_jwk: dict[str, Any], alg: str = "ES256") -> str:
    """The base64 `signature.data` for these items (what a prescriber's software does)."""
    key = (ECKey if private_jwk["kty"] == "EC" else RSAKey).import_key(private_jwk)
    header = {"alg": alg, "kid": private_jwk.get("kid")}
    compact = jws.serialize_compact(header, payload(targets), key)
    head, _, sig = compact.split(".")
    return base64.b64encode(f"{head}..{sig}".encode()).decode()


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str
    signer: str | None = None


def verify(data: str, targets: list[dict[str, Any]], keys: list[dict[str, Any]]) -> Verdict:
    try:
        compact = base64.b64decode(data, validate=True).decode()
        head, empty, sig = compact.split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return Verdict(False, "signature.data is not a base64 detached compact JWS")
    if empty:
        return Verdict(False, "the JWS must be detached (empty payload part)")
    if header.get("alg") not in ALGORITHMS:
        return Verdict(False, f"alg must be one of {', '.join(ALGORITHMS)}")
    body = base64.urlsafe_b64encode(payload(targets)).rstrip(b"=").decode()
    for jwk in keys:
        if header.get("kid") and jwk.get("kid") not in (None, header["kid"]):
            continue
        if _verifies(f"{head}.{body}.{sig}", jwk, header["alg"]):
            return Verdict(True, "verified")
    return Verdict(False, "the signature does not verify against the signer's registered keys")


def _verifies(compact: str, jwk: dict[str, Any], alg: str) -> bool:
    try:
        key = (ECKey if jwk.get("kty") == "EC" else RSAKey).import_key(jwk)
        jws.deserialize_compact(compact, key, algorithms=[alg])
        return True
    except (JoseError, ValueError, TypeError):
        return False


def practitioner_keys(s: StoreSession, practitioner_ref: str | None) -> list[dict[str, Any]]:
    practitioner = lookup(s, "Practitioner", items.ref_id({"reference": practitioner_ref}, "Practitioner"))
    found = []
    for ext in (practitioner or {}).get("extension") or []:
        if ext.get("url") == EXT_KEY and ext.get("valueString"):
            try:
                found.append(json.loads(ext["valueString"]))
            except ValueError:
                continue
    return found


def signer_of(s: StoreSession, requester: str | None) -> str | None:
    """The Practitioner who answers for a requester (itself, or a PractitionerRole's)."""
    if requester and requester.startswith("Practitioner/"):
        return requester
    if requester and requester.startswith("PractitionerRole/"):
        role = lookup(s, "PractitionerRole", requester.split("/", 1)[1])
        ref = ((role or {}).get("practitioner") or {}).get("reference")
        return str(ref) if ref else None
    return None


def jose_signatures(provenance: dict[str, Any]) -> list[dict[str, Any]]:
    return [sig for sig in provenance.get("signature") or [] if sig.get("sigFormat") == JOSE]


def key_extension(public_jwk: dict[str, Any]) -> dict[str, Any]:
    public = {k: v for k, v in public_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
    return {"url": EXT_KEY, "valueString": json.dumps(public, sort_keys=True)}
