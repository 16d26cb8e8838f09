"""The caller of a bulk job, kept with the job: a job runs (and resumes, on any worker)
with the authority of the token that started it, no more."""

from __future__ import annotations

from typing import Any

from smart_auth.scopes import AccessContext, ScopeSet


def access_to_dict(access: AccessContext | None) -> dict[str, Any] | None:
    if access is None:
        return None
    return {
        "client_id": access.client_id,
        "scope": access.scope,
        "patient": access.patient,
        "encounter": access.encounter,
        "fhir_user": access.fhir_user,
        "subject": access.subject,
        "role": access.role,
        "token_id": access.token_id,
    }


def access_from(data: dict[str, Any] | None) -> AccessContext | None:
    if data is None:
        return None
    fields = {k: v for k, v in data.items() if k != "scope"}
    return AccessContext(scopes=ScopeSet.parse(data.get("scope")), **fields)


def same_caller(job_access: dict[str, Any] | None, access: AccessContext | None) -> bool:
    """Only the client (and user) that started a job may poll, download or cancel it."""
    if job_access is None:
        return access is None
    if access is None:
        return False
    return (access.client_id, access.subject) == (job_access.get("client_id"), job_access.get("subject"))
