"""What the current request's token allows, enforced on interactions and on each resource.

The API layer sets the request's `Authorizer` (from the SMART access token); the
repository, search, history and bundle code ask it. Without a token context (`--no-auth`,
the CLI, background jobs) everything is allowed.

A scope may confine access to a patient's compartment and/or to resources matching a
query (`patient/Observation.rs?category=laboratory`). Such checks need the stored
resource: writes are checked after they are written and before the transaction commits,
so a refused write rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fhir_server import definitions, search
from fhir_server.outcome import FhirError, error
from fhir_server.search.entries import ReferenceEntry
from fhir_server.storage.base import StoreSession
from smart_auth.scopes import AccessContext, Decision

ALLOW_ALL = Decision(True)


class Authorizer:
    def __init__(self, access: AccessContext | None) -> None:
        self.access = access

    @property
    def unrestricted(self) -> bool:
        return self.access is None

    @property
    def patient(self) -> str | None:
        return self.access.patient if self.access else None

    def require(self, interaction: str, type_: str) -> Decision:
        """The decision for an interaction on a type; 403 when no scope grants it."""
        if self.access is None:
            return ALLOW_ALL
        decision = self.access.decide(interaction, type_)
        if not decision.allowed:
            raise _forbidden(f"The token's scopes do not allow {interaction} on {type_}")
        return decision

    def permits(self, s: StoreSession, decision: Decision, resource: Mapping[str, Any]) -> bool:
        if decision.unrestricted:
            return True

        def matches(res: Mapping[str, Any], params: tuple[tuple[str, str], ...]) -> bool:
            query = [*params, ("_id", str(res.get("id")))]
            return bool(search.match(s, str(res["resourceType"]), query, 1))

        return decision.permits(resource, in_patient_compartment, matches)

    def check(self, s: StoreSession, interaction: str, resource: Mapping[str, Any]) -> None:
        """403 unless the interaction is allowed on this very resource."""
        decision = self.require(interaction, str(resource["resourceType"]))
        if not self.permits(s, decision, resource):
            type_, id_ = resource["resourceType"], resource.get("id")
            raise _forbidden(f"The token does not allow {interaction} on {type_}/{id_}")

    def visible(self, s: StoreSession, interaction: str, resource: Mapping[str, Any]) -> bool:
        """Whether a resource may be shown (search results, includes, history); never raises."""
        if self.access is None:
            return True
        decision = self.access.decide(interaction, str(resource["resourceType"]))
        return decision.allowed and self.permits(s, decision, resource)

    def compartment_for(self, interaction: str, type_: str) -> str | None:
        """The one patient whose compartment a search must stay in, when scopes confine it so."""
        decision = self.require(interaction, type_)
        patients = {c.patient for c in decision.constraints}
        if decision.constraints and len(patients) == 1 and None not in patients:
            return patients.pop()
        return None

    def filter_bundle(self, s: StoreSession, bundle: dict[str, Any], interaction: str) -> dict[str, Any]:
        """Drop the entries (matches, includes, history versions) the token may not see.

        Matches need `interaction` (search or history); included resources need read.
        An entry without a resource (a deletion in history) is kept only for an
        unconfined token, since even an id can identify a patient's record."""
        if self.access is None:
            return bundle
        kept = []
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource")
            mode = (entry.get("search") or {}).get("mode")
            if mode == "outcome":
                kept.append(entry)
            elif resource is None:
                if self._unconfined(interaction, _entry_type(entry)):
                    kept.append(entry)
            elif self.visible(s, "read" if mode == "include" else interaction, resource):
                kept.append(entry)
        return {**bundle, "entry": kept}

    def _unconfined(self, interaction: str, type_: str | None) -> bool:
        if type_ is None or self.access is None:
            return False
        return self.access.decide(interaction, type_).unrestricted


def _entry_type(entry: Mapping[str, Any]) -> str | None:
    url = str((entry.get("request") or {}).get("url") or entry.get("fullUrl") or "")
    parts = [p for p in url.split("/") if p]
    return parts[-2] if len(parts) >= 2 else None


def in_patient_compartment(resource: Mapping[str, Any], patient_id: str) -> bool:
    type_ = str(resource.get("resourceType"))
    if type_ == "Patient" and resource.get("id") == patient_id:
        return True
    params = set(definitions.compartments().get("Patient", {}).get(type_, ()))
    if not params:
        return False
    return any(
        isinstance(e, ReferenceEntry) and e.param in params and e.type == "Patient" and e.id == patient_id
        for e in search.extract_index(dict(resource))
    )


def _forbidden(text: str) -> FhirError:
    return FhirError(403, [error("forbidden", text)])


_UNRESTRICTED = Authorizer(None)
_current: ContextVar[Authorizer | None] = ContextVar("noskhe_authorizer", default=None)


def current() -> Authorizer:
    return _current.get() or _UNRESTRICTED


@contextmanager
def acting_as(access: AccessContext | None) -> Iterator[Authorizer]:
    """Run a block (a request) under a token's authority."""
    authorizer = Authorizer(access)
    token = _current.set(authorizer)
    try:
        yield authorizer
    finally:
        _current.reset(token)


def set_for_request(access: AccessContext | None) -> Any:
    """For Flask's before/teardown hooks: returns the token to pass to `reset`."""
    return _current.set(Authorizer(access))


def reset(token: Any) -> None:
    _current.reset(token)
