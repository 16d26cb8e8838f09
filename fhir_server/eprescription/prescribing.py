"""Writing a prescription item: the server's part of every MedicationRequest and
ServiceRequest create, inside the write's transaction (plain create, transaction
bundle or `$prescribe` alike).

Items submitted together with the same placeholder group value (any value the server
did not issue, e.g. a urn:uuid) become one prescription per prescription type: the
server assigns its id (with a check character), a tracking code shared by the whole
submission, the expiry, eligibility (insured or free), the rules' verdict and shares,
and refuses a duplicate of an open item. The patient's SMS is queued for after commit.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription import claims, context, eligibility, items, notify, paper
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.ids import (
    TRACKING_SYSTEM,
    is_prescription_id,
    new_prescription_id,
    new_tracking_code,
)
from fhir_server.eprescription.messages import issue
from fhir_server.eprescription.policy import Policy
from fhir_server.eprescription.rules_engine import evaluate
from fhir_server.eprescription.stamps import patient_items
from fhir_server.eprescription.store_access import Ahead, adopt, ahead_for, find, memo, read_shared
from fhir_server.outcome import FhirError, Issue, has_errors
from fhir_server.repository.meta import now_instant
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

OPEN = claims.OPEN_STATUSES


class PrescriptionRule:
    types = items.REQUEST_TYPES

    def __init__(self, config: EPrescriptionConfig, policy: Policy) -> None:
        self.config, self.policy = config, policy

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        return items.is_eprescription(resource)

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        if previous is not None:
            if items.is_eprescription(previous) and resource.get("status") not in OPEN:
                claims.release_fingerprint(s, previous)  # closed: the same item may be written again
            return []  # changes.py owns changes
        if not items.is_eprescription(resource):
            return []
        if items.extension(resource, items.EXT_PAPER):
            if paper.writing_paper(s):
                return []  # paper.py applied the rules
            raise FhirError.of(
                422,
                "business-rule",
                "A paper prescription is recorded by the dispensing pharmacy with "
                "MedicationDispense/$record-paper",
            )
        return self.new_item(repo, s, resource)

    def prefetch(self, repo: Repository, reads: StoreSession, item: dict[str, Any]) -> Ahead | None:
        """Before the write lock: what `new_item` will read (the patient, the visit, the named
        coverage, the patient's items for the rules), checked again in the session."""
        pid = items.patient_id(item)
        if not pid or items.extension(item, items.EXT_PAPER):
            return None
        ahead = ahead_for(reads)
        ahead.read(reads, "Patient", pid)
        for type_, id_ in (
            ("Encounter", items.ref_id(item.get("encounter"), "Encounter")),
            ("Coverage", items.coverage_id(item)),
        ):
            if id_:
                ahead.read(reads, type_, id_)
        with suppress(ValueError, FhirError):  # odd input: the session reads it and says why
            issued = date.fromisoformat(items.issued_on(item)) if item.get("authoredOn") else date.today()
            ahead.view(
                reads,
                ("history", pid, issued),
                patient_items(pid),
                lambda: context.patient_history(repo, reads, pid, issued),
            )
        return ahead

    def adopt(self, s: StoreSession, prefetched: Ahead | None) -> None:
        if prefetched is not None:
            adopt(s, prefetched)

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        if items.is_eprescription(current):
            claims.release_fingerprint(s, current)

    def new_item(self, repo: Repository, s: StoreSession, item: dict[str, Any]) -> list[Issue]:
        pid = items.patient_id(item)
        if pid is None or read_shared(s, "Patient", pid) is None:
            raise FhirError.of(
                422, "business-rule", "A prescription item needs subject: an existing Patient", "subject"
            )
        context.check_encounter(s, item)
        item.setdefault("authoredOn", now_instant())
        issued = date.fromisoformat(items.issued_on(item))
        type_ = self._type(item)
        group = self._group(repo, s, item, pid, type_, issued)
        found = self._eligibility(repo, s, item, pid, issued, group)
        found += self._rules(repo, s, item, issued, group)
        found += self._status(item, group)
        self._expiry(item, type_, issued)
        self._refuse_duplicate(repo, s, item, pid, issued, type_)
        group["items"].append(item)
        self._queue_sms(s, pid, group)
        return found

    # -- the parts -------------------------------------------------------------------

    def _type(self, item: dict[str, Any]) -> str:
        kind = items.kind(item)
        type_ = items.extension(item, items.EXT_TYPE) or self.policy.type_for_kind(kind)
        if type_ not in self.policy.types or kind not in self.policy.types[type_]["kinds"]:
            raise FhirError(422, [issue("error", "business-rule", "kind-not-allowed", type=type_, kind=kind)])
        items.set_extension(item, items.EXT_TYPE, "valueCode", type_)
        return str(type_)

    def _group(
        self, repo: Repository, s: StoreSession, item: dict[str, Any], pid: str, type_: str, issued: date
    ) -> dict[str, Any]:
        """The prescription this item joins: one per (placeholder, patient, type) per transaction."""
        placeholder = items.group_value(item) or ""
        groups: dict[tuple[str, ...], dict[str, Any]] = memo(s).setdefault("groups", {})
        key = (placeholder, pid, type_)
        if key not in groups:
            if placeholder and is_prescription_id(placeholder) and _issued(repo, s, placeholder):
                raise FhirError.of(
                    422,
                    "business-rule",
                    f"Prescription {placeholder} already exists: prescription ids are assigned "
                    "by the server; change an existing prescription by editing its items",
                )
            rx = unused_id(s, issued)
            trackings = memo(s).setdefault("tracking", {})
            if (placeholder, pid) not in trackings:
                trackings[(placeholder, pid)] = _unused_tracking(s, pid, rx)
            groups[key] = {"id": rx, "tracking": trackings[(placeholder, pid)], "items": [], "flags": set()}
        group = groups[key]
        items.set_group(item, group["id"])
        items.set_identifier(item, TRACKING_SYSTEM, group["tracking"])
        return group

    def _eligibility(
        self,
        repo: Repository,
        s: StoreSession,
        item: dict[str, Any],
        pid: str,
        issued: date,
        group: dict[str, Any],
    ) -> list[Issue]:
        if "eligibility" not in group:
            group["eligibility"] = eligibility.check(repo, s, pid, issued, items.coverage_id(item))
        result: eligibility.Eligibility = group["eligibility"]
        if result.covered:
            if result.coverage is not None and not items.coverage_id(item):
                item["insurance"] = [{"reference": f"Coverage/{result.coverage['id']}"}]
            return []
        items.set_extension(item, items.EXT_FREE, "valueBoolean", True)
        return self._once(group, "free", lambda: issue("warning", "business-rule", "free"))

    def _rules(
        self, repo: Repository, s: StoreSession, item: dict[str, Any], issued: date, group: dict[str, Any]
    ) -> list[Issue]:
        insurer = group["eligibility"].insurer
        ctx = context.rule_context(repo, s, item, insurer, list(group["items"]), issued)
        result = evaluate(item, ctx, self.policy)
        if has_errors(result.issues):
            raise FhirError(422, result.issues)
        items.set_extension(
            item,
            items.EXT_SHARES,
            "extension",
            [
                {"url": "insurer", "valueDecimal": result.insurer_share},
                {"url": "patient", "valueDecimal": result.patient_share},
            ],
        )
        return result.issues

    def _status(self, item: dict[str, Any], group: dict[str, Any]) -> list[Issue]:
        if self.config.accept_unsigned:
            item["status"] = "active"
            return self._once(group, "unsigned", lambda: issue("warning", "security", "unsigned"))
        item["status"] = "draft"
        return self._once(group, "awaits", lambda: issue("information", "informational", "awaits-signature"))

    def _expiry(self, item: dict[str, Any], type_: str, issued: date) -> None:
        end = issued + timedelta(days=self.policy.expiry_days(type_))
        if item["resourceType"] == "MedicationRequest":
            request = item.setdefault("dispenseRequest", {})
            period = request.get("validityPeriod") or {}
            asked = str(period.get("end") or "9999")[:10]
            end = min(end, date.fromisoformat(asked)) if asked != "9999" else end
            request["validityPeriod"] = {"start": issued.isoformat(), "end": end.isoformat()}
        items.set_extension(item, items.EXT_EXPIRY, "valueDate", end.isoformat())

    def _refuse_duplicate(
        self, repo: Repository, s: StoreSession, item: dict[str, Any], pid: str, issued: date, type_: str
    ) -> None:
        parts = [
            pid,
            items.requester_ref(item) or "",
            issued.isoformat(),
            type_,
            ",".join(sorted(items.code_keys(item))),
            str(items.quantity(item)),
        ]
        fingerprint = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        group = items.group_value(item) or ""
        holder = claims.claim_fingerprint(s, fingerprint, group)
        if holder != group:
            duplicate = issue("error", "duplicate", "duplicate", item=items.label(item), rx=holder)
            raise FhirError(409, [duplicate])
        items.set_identifier(item, items.FINGERPRINT_SYSTEM, fingerprint)

    def _queue_sms(self, s: StoreSession, pid: str, group: dict[str, Any]) -> None:
        mobile = notify.patient_mobile(read_shared(s, "Patient", pid))
        if mobile is None:
            return
        tracking = group["tracking"]
        ids = [g["id"] for g in memo(s)["groups"].values() if g["tracking"] == tracking]
        notify.queue(mobile, tracking, lambda: notify.tracking_text(tracking, ids))

    @staticmethod
    def _once(group: dict[str, Any], flag: str, make: Any) -> list[Issue]:
        if flag in group["flags"]:
            return []
        group["flags"].add(flag)
        return [make()]


def _issued(repo: Repository, s: StoreSession, value: str) -> bool:
    return bool(find(repo, s, "MedicationRequest", [("prescription", value)], 1)) or bool(
        find(repo, s, "ServiceRequest", [("requisition", value)], 1)
    )


def unused_id(s: StoreSession, issued: date) -> str:
    """A new prescription id, made unique by claiming it (a unique index, not a search)."""
    for _ in range(10):
        candidate = new_prescription_id(issued)
        if claims.claim_prescription_id(s, candidate):
            return candidate
    raise FhirError.of(503, "transient", "Could not allocate a prescription id; retry")


def _unused_tracking(s: StoreSession, pid: str, rx: str) -> str:
    """Unique among the patient's items (pharmacies look up national code + tracking code),
    claimed for the submission's first prescription `rx`."""
    for _ in range(10):
        candidate = new_tracking_code()
        if claims.claim_tracking_code(s, pid, candidate, rx):
            return candidate
    raise FhirError.of(503, "transient", "Could not allocate a tracking code; retry")
