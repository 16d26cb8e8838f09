"""Pharmacy dispensing: an append-only ledger per prescription item.

Each dispensing record of a national e-prescription item is a MedicationDispense whose
`type` is coded from http://noskhe.ir/fhir/CodeSystem/dispense-type:

- `dispense` (the default): medication handed over; adds its quantity;
- `return`, `correction`: a later record pointing at one dispense (extension
  `dispense-return-of`) that takes part of it back (the medication came back; the record
  overstated what was handed over): subtracts its quantity. Accepted only within the
  policy's window after that dispense was recorded (`dispensing.json`), only from the
  pharmacy that dispensed it, and never more than it gave.

Records never change once written: update, patch and delete answer 409. The
MedicationRequest's running total (extension `dispensed-quantity`) is written by the
server in the same transaction, against the version it read, so it always equals the
sum of the ledger, dispensed minus taken back, and never exceeds quantity x (1 +
repeats). On SQLite the write session holds the single writer lock; on MongoDB two
concurrent records for one item both write the MedicationRequest and one fails (409).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fhir_server import authorization
from fhir_server.eprescription import items
from fhir_server.eprescription.policy import Policy
from fhir_server.eprescription.store_access import find, lookup, read, read_with_version, system_update
from fhir_server.outcome import FhirError, Issue, information
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

DISPENSE_TYPE = "http://noskhe.ir/fhir/CodeSystem/dispense-type"
EXT_RETURN_OF = items.EXT + "dispense-return-of"
KINDS = ("dispense", "return", "correction")


def record_kind(record: dict[str, Any]) -> str:
    """The record's dispense-type code: `dispense` unless it says otherwise."""
    for coding in (record.get("type") or {}).get("coding") or []:
        if coding.get("system") == DISPENSE_TYPE:
            code = str(coding.get("code"))
            if code not in KINDS:
                raise FhirError.of(
                    422,
                    "code-invalid",
                    f"{code!r} is not a code of {DISPENSE_TYPE}",
                    "MedicationDispense.type",
                )
            return code
    return "dispense"


def return_of(record: dict[str, Any]) -> str | None:
    """The id of the dispense a return or correction record undoes."""
    value = items.extension(record, EXT_RETURN_OF)
    return items.ref_id(value, "MedicationDispense") if isinstance(value, dict) else None


def quantity(record: dict[str, Any]) -> float:
    return float((record.get("quantity") or {}).get("value") or 0)


def prescription_of(dispense: dict[str, Any]) -> str | None:
    for ref in dispense.get("authorizingPrescription") or []:
        found = items.ref_id(ref, "MedicationRequest")
        if found:
            return found
    return None


def pharmacy_of(record: dict[str, Any]) -> str | None:
    for performer in record.get("performer") or []:
        ref = (performer.get("actor") or {}).get("reference")
        if isinstance(ref, str) and ref.startswith("Organization/"):
            return ref
    return None


def within_window(recorded: str, now: datetime, days: int) -> bool:
    """True while `now` is at most `days` days after the instant `recorded`."""
    start = datetime.fromisoformat(recorded)  # Python 3.11 reads the Z of an instant
    return now <= start + timedelta(days=days)


class DispenseRule:
    types = frozenset({"MedicationDispense"})

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        # Whether it is a national item's record needs the store.
        return prescription_of(resource) is not None or return_of(resource) is not None

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        if previous is not None:
            if _in_ledger(s, previous) or _in_ledger(s, resource):
                raise _immutable()
            return []
        if not _in_ledger(s, resource):
            return []  # not a record of a national e-prescription
        mr_id = prescription_of(resource)
        if mr_id is None or not items.is_eprescription(read(s, "MedicationRequest", mr_id)):
            raise FhirError.of(
                422,
                "business-rule",
                "A return or correction names the prescription item of the dispense it undoes",
                "MedicationDispense.authorizingPrescription",
            )
        request, version = read_with_version(s, "MedicationRequest", mr_id)
        _same_patient(resource, request)
        _handed_over(resource)
        _acting_pharmacy(repo, s, resource)
        kind = record_kind(resource)
        if kind == "dispense":
            if return_of(resource) is not None:
                raise FhirError.of(
                    422,
                    "business-rule",
                    "Only return and correction records point at a dispense",
                    "MedicationDispense.extension",
                )
            _substitution(resource, request)
            _open_for_dispensing(request)
            _copy_shares(resource, request)
            delta = quantity(resource)
        else:
            delta = -self._taken_back(repo, s, resource, kind, mr_id)
        return _apply(repo, s, request, version, delta)

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        if _in_ledger(s, current):
            raise _immutable()

    def _taken_back(
        self, repo: Repository, s: StoreSession, record: dict[str, Any], kind: str, mr_id: str
    ) -> float:
        """How much a return or correction takes back, after checking it may."""
        original_id = return_of(record)
        original = read(s, "MedicationDispense", original_id) if original_id else None
        if original is None or record_kind(original) != "dispense" or prescription_of(original) != mr_id:
            raise FhirError.of(
                422,
                "business-rule",
                f"A {kind} points (extension dispense-return-of) at a dispense of the same prescription item",
                "MedicationDispense.extension",
            )
        days = self.policy.undo_window_days(kind)
        recorded = str((original.get("meta") or {}).get("lastUpdated"))
        if days is None or not within_window(recorded, datetime.now(UTC), days):
            raise FhirError.of(
                422,
                "business-rule",
                f"A {kind} is accepted within {days or 0} day(s) of the dispense; "
                f"MedicationDispense/{original_id} was recorded at {recorded}",
            )
        if pharmacy_of(record) != pharmacy_of(original):
            raise FhirError.of(
                422,
                "business-rule",
                f"Only the pharmacy that dispensed ({pharmacy_of(original)}) may record a {kind} of it",
                "MedicationDispense.performer",
            )
        claimed = find(repo, s, "Claim", [("delivery", f"MedicationDispense/{original_id}")], 1)
        if claimed:
            raise FhirError.of(
                409,
                "business-rule",
                f"MedicationDispense/{original_id} was claimed from the insurer (Claim/{claimed[0]['id']}): "
                f"a {kind} can no longer be recorded against it",
            )
        earlier = find(
            repo, s, "MedicationDispense", [("return-of", f"MedicationDispense/{original_id}")], 1000
        )
        left = quantity(original) - sum(quantity(r) for r in earlier)
        if quantity(record) > left:
            raise FhirError.of(
                409,
                "business-rule",
                f"Only {left:g} of MedicationDispense/{original_id} can still be taken back; "
                f"{quantity(record):g} was asked",
            )
        return quantity(record)


def _in_ledger(s: StoreSession, record: dict[str, Any]) -> bool:
    """A record of a national e-prescription item's ledger (or one claiming to undo one)."""
    if return_of(record) is not None or record_kind(record) != "dispense":
        return True
    mr_id = prescription_of(record)
    return mr_id is not None and items.is_eprescription(read(s, "MedicationRequest", mr_id))


def _immutable() -> FhirError:
    return FhirError.of(
        409,
        "business-rule",
        "A dispensing record never changes; record a return or correction (a new MedicationDispense "
        "typed from http://noskhe.ir/fhir/CodeSystem/dispense-type) instead",
    )


def _handed_over(record: dict[str, Any]) -> None:
    if record.get("status") != "completed":
        raise FhirError.of(
            422,
            "business-rule",
            "A dispensing record is written when it happened: status completed",
            "MedicationDispense.status",
        )
    if not quantity(record) > 0:
        raise FhirError.of(
            422, "business-rule", "A dispensing record has a positive quantity", "MedicationDispense.quantity"
        )


def _acting_pharmacy(repo: Repository, s: StoreSession, record: dict[str, Any]) -> None:
    """A signed-in user records only for a pharmacy they work at (their PractitionerRoles);
    a backend service or the server itself names the pharmacy in the record."""
    access = authorization.current().access
    user = access.fhir_user if access is not None else None
    if not user:
        return
    type_, _, id_ = user.partition("/")
    if type_ == "PractitionerRole":
        roles = [r for r in [lookup(s, "PractitionerRole", id_)] if r]
    elif type_ == "Practitioner":
        roles = find(repo, s, "PractitionerRole", [("practitioner", user)], 50)
    else:
        roles = []
    mine = {str((r.get("organization") or {}).get("reference")) for r in roles}
    if pharmacy_of(record) not in mine:
        raise FhirError.of(
            403,
            "forbidden",
            f"{user} does not work at {pharmacy_of(record) or 'the pharmacy named'}: "
            "record dispensing for your own pharmacy",
            "MedicationDispense.performer",
        )


def _apply(
    repo: Repository, s: StoreSession, request: dict[str, Any], version: int, delta: float
) -> list[Issue]:
    done, allowed = float(items.extension(request, items.EXT_DISPENSED) or 0), items.allowed_total(request)
    remaining = allowed - done
    if delta > remaining:
        raise FhirError.of(
            409,
            "business-rule",
            f"Only {remaining:g} of {allowed:g} remain on this prescription; {delta:g} was asked "
            f"(فقط {remaining:g} از {allowed:g} باقی مانده است)",
        )
    total = max(done + delta, 0.0)
    updated = dict(request)
    items.set_extension(updated, items.EXT_DISPENSED, "valueDecimal", total)
    if total >= allowed:
        updated["status"] = "completed"
    elif request.get("status") == "completed":
        updated["status"] = "active"  # a return reopens it
    system_update(repo, s, updated, version)
    return [information("informational", f"Dispensed {total:g} of {allowed:g}; {allowed - total:g} remain")]


def _open_for_dispensing(request: dict[str, Any]) -> None:
    status = request.get("status")
    if status == "draft":
        raise FhirError.of(
            409, "business-rule", "The prescription is not signed yet (draft): it cannot be dispensed"
        )
    if status == "completed":
        raise FhirError.of(409, "business-rule", "Everything on this prescription was already dispensed")
    if status != "active":
        raise FhirError.of(409, "business-rule", f"The prescription is {status}: it cannot be dispensed")
    expiry = items.extension(request, items.EXT_EXPIRY)
    if expiry and date.today().isoformat() > str(expiry):
        raise FhirError.of(422, "business-rule", f"The prescription expired on {expiry}")


def _same_patient(dispense: dict[str, Any], request: dict[str, Any]) -> None:
    if dispense.get("subject", {}).get("reference") != request.get("subject", {}).get("reference"):
        raise FhirError.of(
            422,
            "business-rule",
            "The dispense's subject is not the prescription's patient",
            "MedicationDispense.subject",
        )


def _substitution(dispense: dict[str, Any], request: dict[str, Any]) -> None:
    given, asked = set(items.generic_codes(dispense)), set(items.generic_codes(request))
    substituted = bool((dispense.get("substitution") or {}).get("wasSubstituted"))
    if given and asked and not given & asked and not substituted:
        raise FhirError.of(
            422,
            "business-rule",
            "The dispensed drug differs from the prescribed one: "
            "record substitution.wasSubstituted and its reason",
            "MedicationDispense.substitution",
        )


def _copy_shares(dispense: dict[str, Any], request: dict[str, Any]) -> None:
    for url in (items.EXT_SHARES, items.EXT_FREE, items.EXT_PAPER):
        ext = next((e for e in request.get("extension") or [] if e.get("url") == url), None)
        if ext is not None:
            kept = [e for e in dispense.get("extension") or [] if e.get("url") != url]
            dispense["extension"] = [*kept, ext]
