"""Changes to a prescription item after it was written.

- Edit (clinical content changes): once, and only before anything was dispensed or
  performed; the item then waits for a new signature (unless unsigned ones are accepted).
- Cancel (status cancelled/revoked): before dispensing; after a partial dispense only
  the rest is cancelled (the MedicationRequest becomes `stopped`).
- Delete: only on the day of issue and only if nothing was dispensed.
- Closed items (completed, cancelled, stopped, revoked, entered-in-error) do not change.
- The server's parts (prescription id, tracking code, counters, expiry, shares) are kept.
- Status moves only along the workflow: a client may cancel (or call off as
  entered-in-error before anything happened), put on hold and resume; `active` comes
  from a verified signature, `completed` from dispensing or fulfilment, `draft` from an
  edit, all written by the server itself (`authorization.as_system()`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fhir_server import authorization
from fhir_server.eprescription import items
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.signature import signed_view
from fhir_server.outcome import FhirError, Issue, information
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

CLOSED = frozenset({"completed", "cancelled", "stopped", "revoked", "entered-in-error"})
CANCELLED = frozenset({"cancelled", "revoked", "stopped"})
# What a client may set by itself, from where: the rest is the workflow's (see above).
CLIENT_MOVES = {("active", "on-hold"), ("on-hold", "active")}
MAX_EDITS = 1


def acted_on(item: dict[str, Any]) -> float:
    """How much was dispensed or performed."""
    return float(items.extension(item, items.EXT_DISPENSED) or 0)


class ChangeRule:
    types = items.REQUEST_TYPES

    def __init__(self, config: EPrescriptionConfig) -> None:
        self.config = config

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        return False  # only changes of stored items

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        if previous is None or not items.is_eprescription(previous) or authorization.current().system:
            return []  # new items are prescribing.py's; the server's own moves are the workflow
        _keep_server_parts(resource, previous)
        old, new = previous.get("status"), resource.get("status")
        if old in CLOSED:
            raise _conflict(f"The item is {old}; it cannot change any more")
        if new in CANCELLED:
            return _cancel(resource, previous)
        if new == "entered-in-error":
            if acted_on(previous):
                raise _conflict("Part of this item was dispensed or performed; cancel the rest instead")
            return []
        self._check_move(str(old), str(new))
        if signed_view(resource) != signed_view(previous):
            return self._edit(resource, previous)
        return []

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        if not items.is_eprescription(current):
            return
        if acted_on(current):
            raise _conflict("Part of this item was dispensed or performed; it cannot be deleted")
        if items.issued_on(current) != date.today().isoformat():
            raise _conflict(
                "A prescription item can be deleted only on the day it was issued; cancel it instead"
            )

    def _check_move(self, old: str, new: str) -> None:
        if old == new or (old, new) in CLIENT_MOVES:
            return
        if old == "draft" and new == "active":
            if self.config.accept_unsigned:
                return
            raise FhirError.of(422, "security", "An item becomes active when its signature verifies: sign it")
        if new == "completed":
            raise _conflict("An item is completed by dispensing or performing it, not by a change")
        raise _conflict(f"An item cannot move from {old} to {new}")

    def _edit(self, resource: dict[str, Any], previous: dict[str, Any]) -> list[Issue]:
        if acted_on(previous):
            raise _conflict("Part of this item was already dispensed or performed: it cannot be edited")
        edits = int(items.extension(previous, items.EXT_EDITS) or 0)
        if edits >= MAX_EDITS:
            raise _conflict("A prescription may be edited only once; cancel it and write a new one")
        items.set_extension(resource, items.EXT_EDITS, "valueInteger", edits + 1)
        if self.config.accept_unsigned:
            return [information("informational", "Edited; the signature must be renewed")]
        resource["status"] = "draft"
        return [information("informational", "Edited: the item waits for a new signature")]


def _cancel(resource: dict[str, Any], previous: dict[str, Any]) -> list[Issue]:
    done = acted_on(previous)
    if not done:
        return []
    if resource["resourceType"] == "ServiceRequest":
        raise _conflict("The service was already performed; it cannot be cancelled")
    resource["status"] = "stopped"
    return [information("informational", f"Only the rest is cancelled: {done:g} was already dispensed")]


def _keep_server_parts(resource: dict[str, Any], previous: dict[str, Any]) -> None:
    field = items.group_field(previous)
    if items.group_value(resource) not in (None, items.group_value(previous)):
        raise FhirError.of(422, "business-rule", "The prescription id cannot change", field)
    resource[field] = previous.get(field)
    kept_ext = [e for e in previous.get("extension") or [] if e.get("url") in items.SERVER_EXTENSIONS]
    own_ext = [e for e in resource.get("extension") or [] if e.get("url") not in items.SERVER_EXTENSIONS]
    if kept_ext or own_ext:
        resource["extension"] = own_ext + kept_ext
    kept_ids = [i for i in previous.get("identifier") or [] if i.get("system") in items.SERVER_IDENTIFIERS]
    own_ids = [i for i in resource.get("identifier") or [] if i.get("system") not in items.SERVER_IDENTIFIERS]
    if kept_ids or own_ids:
        resource["identifier"] = own_ids + kept_ids
    if resource["resourceType"] == "MedicationRequest" and previous.get("dispenseRequest"):
        period = previous["dispenseRequest"].get("validityPeriod")
        if period:
            resource.setdefault("dispenseRequest", {})["validityPeriod"] = period


def _conflict(text: str) -> FhirError:
    return FhirError.of(409, "business-rule", text)
