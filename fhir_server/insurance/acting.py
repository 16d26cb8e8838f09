"""Who acts, for which organizations, and the audit trail of what they changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fhir_server import authorization
from fhir_server.eprescription.store_access import find, read
from fhir_server.repository.meta import now_instant
from fhir_server.storage.base import StoreSession
from smart_auth.audit import rest_event

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository


def organizations_of(repo: Repository, s: StoreSession, fhir_user: str | None) -> list[str]:
    """The organizations (`Organization/id`) a user works at: their PractitionerRole's, or
    those of every role of a Practitioner."""
    type_, _, id_ = (fhir_user or "").partition("/")
    if type_ == "PractitionerRole" and id_:
        roles = [r for r in [read(s, "PractitionerRole", id_)] if r]
    elif type_ == "Practitioner" and id_:
        roles = find(repo, s, "PractitionerRole", [("practitioner", str(fhir_user))], 50)
    else:
        return []
    found = {str((r.get("organization") or {}).get("reference") or "") for r in roles}
    return sorted(ref for ref in found if ref.startswith("Organization/"))


def acting_user() -> str | None:
    """The signed-in user behind the request (fhirUser), None for backend services."""
    access = authorization.current().access
    return access.fhir_user if access is not None else None


def audit(
    repo: Repository, s: StoreSession, interaction: str, what: list[str], description: str
) -> dict[str, Any]:
    """An AuditEvent of a change the server made for the acting user, in the same unit."""
    access = authorization.current().access
    event = rest_event(
        interaction,
        "u" if interaction == "update" else "c",
        status=200,
        resource=what[0],
        client_id=access.client_id if access else None,
        fhir_user=access.fhir_user if access else None,
    )
    for ref in what[1:]:
        event["entity"].append({**event["entity"][0], "what": {"reference": ref}})
    event["outcomeDesc"] = description
    event["recorded"] = now_instant()
    with authorization.as_system():
        return repo.create(s, "AuditEvent", event).resource or event
