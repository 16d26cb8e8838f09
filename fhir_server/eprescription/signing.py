"""The write rule for signature Provenances: verify at submission, then activate.

A Provenance with a `application/jose` signature over MedicationRequests or
ServiceRequests is verified inside the write's transaction against the targets as
stored; a signature that does not verify refuses the write (422). When it verifies,
the targets waiting in `draft` become `active`.

Signature records are written only by the operations that own them (`$prescribe`, and
`Provenance/$sign` for signing later), inside `signing_operation()`; any other create,
and every update, patch or delete of one, is refused (405).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription import items, signature
from fhir_server.eprescription.store_access import read_with_version, system_update
from fhir_server.outcome import FhirError, Issue, information
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository


_IN_OPERATION: ContextVar[bool] = ContextVar("noskhe_signing_operation", default=False)


@contextmanager
def signing_operation() -> Iterator[None]:
    """Run a block as one of the operations that write signature records."""
    token = _IN_OPERATION.set(True)
    try:
        yield
    finally:
        _IN_OPERATION.reset(token)


def _not_allowed(text: str) -> FhirError:
    return FhirError.of(405, "not-supported", text)


class SigningRule:
    types = frozenset({"Provenance"})

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        return bool(signature.jose_signatures(resource))

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        sigs = signature.jose_signatures(resource)
        if previous is not None and (sigs or signature.jose_signatures(previous)):
            raise _not_allowed("A signature record cannot be changed; sign again with Provenance/$sign")
        if not sigs:
            return []
        if not _IN_OPERATION.get():
            raise _not_allowed(
                "Signatures are submitted with MedicationRequest/$prescribe or Provenance/$sign"
            )
        found = [_target(s, ref) for ref in resource.get("target") or []]
        targets = [t for t in found if t is not None and items.is_eprescription(t[0])]
        if not targets:
            return []
        for sig in sigs:
            _check(s, sig, [t for t, _ in targets])
        for item, version in targets:
            if item.get("status") == "draft":
                system_update(repo, s, {**item, "status": "active"}, version)
        return [information("informational", f"Signature verified; {len(targets)} item(s) signed")]

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        if signature.jose_signatures(current):
            raise _not_allowed("A signature record cannot be deleted")


def _target(s: StoreSession, ref: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
    text = str(ref.get("reference") or "")
    type_, _, id_ = text.partition("/")
    if type_ not in items.REQUEST_TYPES:
        return None
    rv = s.current(type_, id_.split("/_history")[0])
    if rv is None or rv.deleted:
        return None
    return read_with_version(s, type_, rv.id)


def _check(s: StoreSession, sig: dict[str, Any], targets: list[dict[str, Any]]) -> None:
    who = str((sig.get("who") or {}).get("reference") or "")
    for item in targets:
        if signature.signer_of(s, items.requester_ref(item)) != who:
            raise FhirError.of(
                422,
                "security",
                f"{who or 'The signer'} is not the prescriber of {item['resourceType']}/{item['id']}",
                "Provenance.signature.who",
            )
    verdict = signature.verify(str(sig.get("data") or ""), targets, signature.practitioner_keys(s, who))
    if not verdict.valid:
        raise FhirError.of(
            422, "security", f"Signature rejected: {verdict.reason}", "Provenance.signature.data"
        )
