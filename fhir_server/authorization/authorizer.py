"""What the current request's token allows: interactions, queries and single resources.

Searches and history are narrowed before they run (`narrow`, `history_only`: the token's
grants become plan clauses, see `grants`). Single resources are checked where they are
read or written (`check`): a scope may confine access to a patient's compartment and/or
to resources matching a query (`patient/Observation.rs?category=laboratory`), which
needs the stored resource; writes are checked after they are written and before the
transaction commits, so a refused write rolls back.

Without a token (`--no-auth`, the CLI) everything is allowed. The server's own work (the
workflow's follow-up writes, audit records) runs as `SYSTEM`: allowed everything, and the
only identity that may write what clients never may (AuditEvent, running totals).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from fhir_server import definitions, search
from fhir_server.authorization.grants import Grants
from fhir_server.outcome import FhirError, error
from fhir_server.search.entries import ReferenceEntry
from fhir_server.search.plan import Clause, Hit, SearchPlan
from fhir_server.storage.base import StoreSession
from smart_auth.scopes import AccessContext, Decision

ALLOW_ALL = Decision(True)
log = logging.getLogger("noskhe.authorization")
# Tests set this: the safety net then fails the request instead of quietly filtering.
STRICT_ENV = "NOSKHE_STRICT_AUTHORIZATION"


class SafetyNetTripped(AssertionError):
    """The narrowed query returned something the token may not see: a narrowing bug."""


class Authorizer:
    def __init__(self, access: AccessContext | None, *, system: bool = False) -> None:
        self.access = access
        self.system = system
        self._grants = Grants(access) if access is not None else None

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

    # -- queries -----------------------------------------------------------------------

    def narrow(self, plan: SearchPlan, interaction: str) -> SearchPlan:
        """The plan limited to what the token may see (403 for a type it may not search)."""
        return plan if self._grants is None else self._grants.narrow(plan, interaction)

    def grant(self, interaction: str, type_: str) -> Clause | None:
        """The clause resources of `type_` must satisfy (see Grants.grant); None: refused."""
        if self._grants is None:
            return None
        return self._grants.grant(interaction, type_)

    def history_only(self, interaction: str, type_: str | None) -> Clause | None:
        """Which resources' history the token may see (None: all); 403 for a refused type."""
        return None if self._grants is None else self._grants.only(interaction, type_)

    # -- single resources --------------------------------------------------------------

    def permits(self, s: StoreSession, decision: Decision, resource: Mapping[str, Any]) -> bool:
        if decision.unrestricted:
            return True

        def matches(res: Mapping[str, Any], params: tuple[tuple[str, str], ...]) -> bool:
            query = [*params, ("_id", str(res.get("id")))]
            return bool(s.search(search.match_plan(str(res["resourceType"]), query, 1)).matches)

        return decision.permits(resource, in_patient_compartment, matches)

    def check(self, s: StoreSession, interaction: str, resource: Mapping[str, Any]) -> None:
        """403 unless the interaction is allowed on this very resource."""
        decision = self.require(interaction, str(resource["resourceType"]))
        if not self.permits(s, decision, resource):
            type_, id_ = resource["resourceType"], resource.get("id")
            raise _forbidden(f"The token does not allow {interaction} on {type_}/{id_}")

    def visible(self, s: StoreSession, interaction: str, resource: Mapping[str, Any]) -> bool:
        """Whether a resource may be shown; never raises."""
        if self.access is None:
            return True
        decision = self.access.decide(interaction, str(resource["resourceType"]))
        return decision.allowed and self.permits(s, decision, resource)

    def version_visible(self, resource: Mapping[str, Any]) -> bool:
        """Whether a past version may be shown in history: it must have been inside the
        token's patient compartment too (its scope queries are judged on the resource as
        it is now, by the narrowed history query)."""
        if self.access is None:
            return True
        decision = self.access.decide("read", str(resource["resourceType"]))
        return decision.allowed and decision.permits(resource, in_patient_compartment, _any_params)

    def safety_net(self, s: StoreSession, interaction: str, hits: list[Hit], mode: str) -> list[Hit]:
        """The after-the-fact check of what a narrowed query returned. It must never remove
        anything: when it does, the narrowing has a bug, which is logged (and fails the
        request under NOSKHE_STRICT_AUTHORIZATION, as in the test suite)."""
        if self.access is None:
            return hits
        kept = []
        for hit in hits:
            resource = _body(hit)
            if resource is None or self.visible(s, interaction if mode == "match" else "read", resource):
                kept.append(hit)
                continue
            log.error("authorization safety net removed %s/%s (%s): narrowing bug", hit.type, hit.id, mode)
            if os.environ.get(STRICT_ENV) == "1":
                raise SafetyNetTripped(f"{hit.type}/{hit.id} passed the narrowed query but is not visible")
        return kept


def _body(hit: Hit) -> dict[str, Any] | None:
    import orjson

    return orjson.loads(hit.body) if hit.body else None


def _any_params(resource: Mapping[str, Any], params: tuple[tuple[str, str], ...]) -> bool:
    return True


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
