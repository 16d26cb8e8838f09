"""Gathering what the rules need about an item from the store: patient, prescriber's
specialties, insurer, the patient's other drugs and earlier items."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription import items
from fhir_server.eprescription.rules_engine import RuleContext
from fhir_server.eprescription.stamps import patient_items
from fhir_server.eprescription.store_access import cached, find, lookup, read_shared
from fhir_server.outcome import FhirError
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

SPECIALTY_SYSTEM = "http://noskhe.ir/fhir/CodeSystem/specialty"
LOOKBACK_DAYS = 90
OPEN_DRUG = "active,completed"
CALLED_OFF = frozenset({"cancelled", "entered-in-error"})


def specialties(repo: Repository, s: StoreSession, requester: str | None) -> frozenset[str] | None:
    """Specialty codes of the requester (a PractitionerRole, or a Practitioner's roles)."""
    if not requester:
        return None
    type_, _, id_ = requester.partition("/")
    if type_ == "PractitionerRole":
        roles = [r for r in [lookup(s, "PractitionerRole", id_)] if r]
    elif type_ == "Practitioner":
        roles = find(repo, s, "PractitionerRole", [("practitioner", requester)], 20)
    else:
        return None
    codes = {
        str(c.get("code"))
        for role in roles
        for spec in role.get("specialty") or []
        for c in spec.get("coding") or []
        if c.get("system") == SPECIALTY_SYSTEM
    }
    return frozenset(codes)


def patient_history(repo: Repository, s: StoreSession, patient_id: str, today: date) -> list[dict[str, Any]]:
    since = (today - timedelta(days=LOOKBACK_DAYS)).isoformat()
    subject = f"Patient/{patient_id}"
    drugs = find(
        repo,
        s,
        "MedicationRequest",
        [("subject", subject), ("status", OPEN_DRUG), ("authoredon", f"ge{since}")],
    )
    services = find(
        repo,
        s,
        "ServiceRequest",
        [("subject", subject), ("status", "active,completed"), ("authored", f"ge{since}")],
    )
    return drugs + services


def encounter_is_outpatient(s: StoreSession, item: dict[str, Any]) -> bool:
    encounter = read_shared(s, "Encounter", items.ref_id(item.get("encounter"), "Encounter"))
    code = ((encounter or {}).get("class") or {}).get("code")
    return code not in ("IMP", "ACUTE", "NONAC")


def check_encounter(s: StoreSession, item: dict[str, Any]) -> None:
    """The visit a prescription is written in: the patient's own, and not called off."""
    ref = (item.get("encounter") or {}).get("reference")
    if not ref:
        return
    encounter = read_shared(s, "Encounter", items.ref_id(item.get("encounter"), "Encounter"))
    if encounter is None:
        raise FhirError.of(422, "business-rule", f"{ref} is not a known Encounter", "encounter")
    if (encounter.get("subject") or {}).get("reference") != (item.get("subject") or {}).get("reference"):
        raise FhirError.of(422, "business-rule", f"{ref} is another patient's visit", "encounter")
    if encounter.get("status") in CALLED_OFF:
        raise FhirError.of(
            422, "business-rule", f"{ref} is {encounter['status']}: prescribe in a current visit", "encounter"
        )


def rule_context(
    repo: Repository,
    s: StoreSession,
    item: dict[str, Any],
    insurer: str | None,
    siblings: list[dict[str, Any]],
    today: date,
) -> RuleContext:
    """The context for one item; `siblings` are the other items of its prescription."""
    pid = items.patient_id(item) or ""
    history = (
        cached(s, ("history", pid, today), lambda: patient_history(repo, s, pid, today), patient_items(pid))
        if pid
        else []
    )
    own = items.group_value(item)
    earlier = [h for h in history if items.group_value(h) != own]
    active_drugs = [
        h for h in earlier if h["resourceType"] == "MedicationRequest" and h.get("status") == "active"
    ]
    return RuleContext(
        insurer=insurer,
        patient=read_shared(s, "Patient", pid),
        specialties=cached(
            s,
            ("specialties", items.requester_ref(item)),
            lambda: specialties(repo, s, items.requester_ref(item)),
        ),
        others=[*siblings, *active_drugs],
        history=earlier,
        outpatient=encounter_is_outpatient(s, item),
        today=today,
    )
