"""Claims: built by the server from what it recorded, or submitted by a provider and
checked against what it recorded; adjudicated at once; never twice for one delivery.

A Claim (use `claim`) names the pharmacy or paraclinic as provider, the patient's
Coverage as insurance and the insurer Organization (found by its code, NamingSystem
`http://noskhe.ir/fhir/sid/insurer`), carries the provider's province (extension), and
points at each delivery it claims (`supportingInfo`, category `delivery`, searchable as
`Claim?delivery=`) and at the prescription item (`prescription` or `referral`). Each
item: the drug or service codes, the service date, the quantity, the unit price of the
tariff in force on that day for that insurer, and the net amount.

Claims and ClaimResponses are written by the server (`server_records.json`): a client
asks through `$claim` or `$submit`, and the token's own narrowing (a pharmacy's
`Claim.crs?provider=<its organization>`) decides, on the stored claim, whether it may.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import authorization
from fhir_server.eprescription import context, eligibility, items
from fhir_server.eprescription.policy import Policy
from fhir_server.eprescription.rules_engine import merged_rule
from fhir_server.eprescription.store_access import find, read
from fhir_server.insurance import deliveries as recorded_deliveries
from fhir_server.insurance import responses
from fhir_server.insurance.acting import audit
from fhir_server.insurance.adjudication import Facts, Line, LineResult, Rule, adjudicate
from fhir_server.insurance.deliveries import Delivery
from fhir_server.insurance.money import line_amount, money, quantity_of
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import new_id, now_instant
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

CLAIM_INFO = "http://noskhe.ir/fhir/CodeSystem/claim-information"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
INSURER_SID = "http://noskhe.ir/fhir/sid/insurer"
PROVINCE_EXT = "http://noskhe.ir/fhir/StructureDefinition/province"
SYSTEMS = {alias: system for system, alias in items.CODE_ALIASES.items()}


@dataclass(frozen=True)
class Payer:
    """Who pays for a prescription item: its Coverage and that coverage's insurer."""

    coverage: dict[str, Any]
    code: str  # the insurer's code (TAMIN, SALAMAT, ...)
    reference: dict[str, Any]  # Claim.insurer: the insurer Organization


@dataclass(frozen=True)
class Recorded:
    """A claim as stored, and its adjudication."""

    claim: dict[str, Any]
    response: dict[str, Any]
    created: bool  # False: the deliveries were claimed before (this is that claim)


def payer_of(repo: Repository, s: StoreSession, item: dict[str, Any]) -> Payer:
    """The payer of an item; 422 for a free (uninsured) prescription."""
    coverage = read(s, "Coverage", items.coverage_id(item))
    code = eligibility.insurer_code(coverage) if coverage else None
    if items.extension(item, items.EXT_FREE) or coverage is None or code is None:
        raise FhirError.of(
            422,
            "business-rule",
            "A free (uninsured) prescription has no insurer to claim from "
            "(نسخهٔ آزاد بیمه‌گری برای ادعای هزینه ندارد)",
        )
    return Payer(coverage, code, insurer_reference(repo, s, code, coverage))


def insurer_reference(
    repo: Repository, s: StoreSession, code: str, coverage: dict[str, Any]
) -> dict[str, Any]:
    """The insurer Organization with this code; without one in the store, a reference
    by identifier only (then no insurer's staff sees the claim until it exists)."""
    identifier = {"system": INSURER_SID, "value": code}
    found = find(repo, s, "Organization", [("identifier", f"{INSURER_SID}|{code}")], 2)
    display = ((coverage.get("payor") or [{}])[0]).get("display") or code
    if len(found) == 1:
        return {"reference": f"Organization/{found[0]['id']}", "identifier": identifier, "display": display}
    return {"identifier": identifier, "display": display}


def province_of(s: StoreSession, provider: str) -> dict[str, Any] | None:
    """The province extension of the provider Organization, to copy onto its claims."""
    org = read(s, "Organization", items.ref_id({"reference": provider}, "Organization"))
    for ext in (org or {}).get("extension") or []:
        if ext.get("url") == PROVINCE_EXT:
            return {"url": PROVINCE_EXT, "valueCoding": ext.get("valueCoding")}
    return None


def _number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when whole (what FHIR decimals look like)."""
    return int(value) if value == value.to_integral_value() else float(str(value))


def _concept(delivery: Delivery) -> dict[str, Any]:
    codings = [{"system": SYSTEMS[k.split("|")[0]], "code": k.split("|", 1)[1]} for k in delivery.keys]
    return {"coding": codings, "text": delivery.label}


def build(
    deliveries: Sequence[Delivery], payer: Payer, province: dict[str, Any] | None, policy: Policy
) -> dict[str, Any]:
    """The Claim for `deliveries` (of one patient, one provider, one payer), each item
    priced from the tariff in force on its service date."""
    first = deliveries[0]
    refs = list(dict.fromkeys(d.ref for d in deliveries))
    claim_items: list[dict[str, Any]] = []
    total = 0
    for n, d in enumerate(deliveries, 1):
        price = policy.tariffs.price(payer.code, d.keys, d.day)
        unit = price.rials if price else 0
        quantity: dict[str, Any] = {"value": _number(d.quantity)}
        if d.unit:
            quantity["unit"] = d.unit
        claim_items.append(
            {
                "sequence": n,
                "informationSequence": [refs.index(d.ref) + 1],
                "productOrService": _concept(d),
                "servicedDate": d.day.isoformat(),
                "quantity": quantity,
                "unitPrice": money(unit),
                "net": money(line_amount(d.quantity, unit)),
            }
        )
        total += line_amount(d.quantity, unit)
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "status": "active",
        "type": _claim_type(first),
        "use": "claim",
        "patient": {"reference": first.patient},
        "created": now_instant(),
        "insurer": payer.reference,
        "provider": {"reference": first.provider},
        "priority": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]
        },
        "supportingInfo": [_delivery_info(n, ref) for n, ref in enumerate(refs, 1)],
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{payer.coverage['id']}"}}
        ],
        "item": claim_items,
        "total": money(total),
    }
    claim.update(_prescription(deliveries))
    if province is not None:
        claim["extension"] = [province]
    return claim


def _claim_type(delivery: Delivery) -> dict[str, Any]:
    code = "pharmacy" if delivery.ref.startswith("MedicationDispense/") else "professional"
    return {"coding": [{"system": CLAIM_TYPE, "code": code}]}


def _delivery_info(sequence: int, ref: str) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "category": {"coding": [{"system": CLAIM_INFO, "code": "delivery"}]},
        "valueReference": {"reference": ref},
    }


def _prescription(deliveries: Sequence[Delivery]) -> dict[str, Any]:
    """Claim.prescription (a MedicationRequest) or .referral (a ServiceRequest), when all
    the deliveries are of one prescription item."""
    found = {f"{d.item['resourceType']}/{d.item['id']}" for d in deliveries}
    if len(found) != 1:
        return {}
    ref = found.pop()
    return {"prescription" if ref.startswith("MedicationRequest/") else "referral": {"reference": ref}}


def delivery_refs(claim: dict[str, Any]) -> dict[int, str]:
    """supportingInfo sequence -> the delivery it names (category delivery)."""
    found = {}
    for info in claim.get("supportingInfo") or []:
        codes = {(c.get("system"), c.get("code")) for c in (info.get("category") or {}).get("coding") or []}
        ref = str((info.get("valueReference") or {}).get("reference") or "")
        if (CLAIM_INFO, "delivery") in codes and ref.split("/")[0] in (
            "MedicationDispense",
            "DiagnosticReport",
        ):
            found[int(info.get("sequence") or 0)] = ref
    return found


def _item_keys(item: dict[str, Any]) -> list[str]:
    return items.code_keys({"resourceType": "ServiceRequest", "code": item.get("productOrService")})


def item_deliveries(claim: dict[str, Any], deliveries: Sequence[Delivery]) -> list[Delivery | None]:
    """For each claim item, the recorded delivery behind it: named by its
    informationSequence and sharing one of its codes; None when nothing recorded is."""
    refs = delivery_refs(claim)
    out: list[Delivery | None] = []
    for item in claim.get("item") or []:
        named = {refs.get(int(n)) for n in item.get("informationSequence") or []}
        keys = set(_item_keys(item))
        out.append(next((d for d in deliveries if d.ref in named and keys & set(d.keys)), None))
    return out


def adjudicate_claim(
    repo: Repository,
    s: StoreSession,
    claim: dict[str, Any],
    deliveries: Sequence[Delivery | None],
    payer: Payer,
    policy: Policy,
) -> list[LineResult]:
    """Every item of `claim` adjudicated against the delivery behind it (same order)."""
    prior_auth = any(i.get("preAuthRef") for i in claim.get("insurance") or [])
    patient = items.ref_id(claim.get("patient"), "Patient") or ""
    results = []
    for item, delivery in zip(claim.get("item") or [], deliveries, strict=True):
        line = _line(item, delivery, prior_auth)
        if delivery is None:
            rule, specialties = Rule(insurer_share=0), frozenset[str]()
        else:
            rule = Rule.of(merged_rule(delivery.item, payer.code, policy))
            specialties = context.specialties(repo, s, items.requester_ref(delivery.item)) or frozenset()
        member = eligibility.valid_on(payer.coverage, patient, line.service_date)
        facts = Facts(payer.code, member, specialties)
        keys = delivery.keys if delivery else tuple(_item_keys(item))
        results.append(
            adjudicate(line, rule, facts, policy.tariffs.price(payer.code, keys, line.service_date))
        )
    return results


def _line(item: dict[str, Any], delivery: Delivery | None, prior_auth: bool) -> Line:
    quantity = quantity_of((item.get("quantity") or {}).get("value", 1))
    delivered = delivery.quantity if delivery else Decimal(0)
    day = item.get("servicedDate") or (delivery.day.isoformat() if delivery else None)
    return Line(
        int(item["sequence"]),
        str((item.get("productOrService") or {}).get("text") or (delivery.label if delivery else "?")),
        quantity,
        int((item.get("unitPrice") or {}).get("value") or 0),
        delivered,
        date.fromisoformat(str(day)[:10]) if day else date.today(),
        delivery.recorded_share if delivery else None,
        prior_auth,
    )


def record(
    repo: Repository,
    s: StoreSession,
    claim: dict[str, Any],
    deliveries: Sequence[Delivery],
    payer: Payer,
    policy: Policy,
    again: str = "return",
) -> Recorded:
    """Store `claim` for `deliveries` and its adjudication, in session `s`.

    Each delivery is claimed once (a unique claim in the store): when one was claimed
    before, `again="return"` answers that claim and its response (the same request
    repeated), `again="refuse"` 409. The caller's token must allow creating this very
    claim (its narrowing: its own provider), checked on the stored claim."""
    claim_id = new_id()
    refs = sorted({d.ref for d in deliveries})
    for ref in refs:
        holder = s.claim(f"claimed-delivery|{ref}", claim_id)
        if holder != claim_id:
            if again == "return" and len(refs) == 1:
                return _earlier(repo, s, holder)
            raise FhirError.of(409, "duplicate", f"{ref} was already claimed (Claim/{holder})")
    authorization.current().require("create", "Claim")
    with authorization.as_system():
        stored = repo.create(s, "Claim", claim, id_=claim_id).resource or claim
    authorization.current().check(s, "create", stored)
    lines = adjudicate_claim(repo, s, stored, item_deliveries(stored, deliveries), payer, policy)
    response = responses.claim_response(stored, lines, now_instant())
    with authorization.as_system():
        written = repo.create(s, "ClaimResponse", response).resource or response
    result = responses.claim_result(written)
    what = [f"ClaimResponse/{written['id']}/_history/1", f"Claim/{claim_id}"]
    audit(repo, s, "create", what, f"adjudicated: {result}")
    return Recorded(stored, written, True)


def stored(repo: Repository, s: StoreSession, id_: str, type_: str = "Claim") -> dict[str, Any]:
    """A stored resource read through the Repository (404, 410, or 403 for the caller)."""
    found: dict[str, Any] = orjson.loads(repo.read(s, type_, id_).body or b"{}")
    return found


def _earlier(repo: Repository, s: StoreSession, claim_id: str) -> Recorded:
    """The claim made before for the same delivery, as the caller may see it."""
    claim = stored(repo, s, claim_id)
    found = find(repo, s, "ClaimResponse", [("request", f"Claim/{claim_id}")], 2)
    if not found:
        raise FhirError.of(409, "conflict", f"Claim/{claim_id} has no adjudication yet")
    return Recorded(claim, stored(repo, s, found[0]["id"], "ClaimResponse"), False)


def checked(
    repo: Repository, s: StoreSession, submitted: Any
) -> tuple[dict[str, Any], list[Delivery], Payer]:
    """A provider-built Claim checked against what the server recorded, and completed
    from it: the deliveries it names must exist, be the caller's to see, be the claim's
    provider's, of the claim's patient and of one payer. The insurer, coverage, patient,
    province, dates and amounts are the server's; the provider's quantities and unit
    prices are kept (the adjudication holds them to the records and the tariff)."""
    if not isinstance(submitted, dict) or submitted.get("resourceType") != "Claim":
        raise FhirError.of(
            400, "invalid", "Claim/$submit takes a Claim (as the body or the resource parameter)"
        )
    if submitted.get("use") != "claim":
        raise FhirError.of(
            422,
            "not-supported",
            "Only use=claim is processed (not preauthorization or predetermination)",
            "Claim.use",
        )
    refs = delivery_refs(submitted)
    if not refs:
        raise FhirError.of(
            422,
            "required",
            f"Name each delivery claimed: supportingInfo with category {CLAIM_INFO}|delivery and a "
            "valueReference to the MedicationDispense or DiagnosticReport",
            "Claim.supportingInfo",
        )
    found: list[Delivery] = []
    for ref in sorted(set(refs.values())):
        type_, _, id_ = ref.partition("/")
        found += recorded_deliveries.of_record(repo, s, stored(repo, s, id_, type_))
    provider = str((submitted.get("provider") or {}).get("reference") or "")
    patient = str((submitted.get("patient") or {}).get("reference") or "")
    for d in found:
        if d.provider != provider:
            raise FhirError.of(
                422,
                "business-rule",
                f"{provider or 'The provider'} did not deliver {d.ref} ({d.provider} did)",
                "Claim.provider",
            )
        if d.patient != patient:
            raise FhirError.of(
                422, "business-rule", f"{d.ref} was delivered to {d.patient}, not {patient}", "Claim.patient"
            )
    payers = {(items.coverage_id(d.item), items.extension(d.item, items.EXT_FREE)) for d in found}
    if len(payers) != 1:
        raise FhirError.of(422, "business-rule", "The deliveries of one claim are paid by one coverage")
    payer = payer_of(repo, s, found[0].item)
    return _completed(submitted, payer, province_of(s, provider)), found, payer


def _completed(submitted: dict[str, Any], payer: Payer, province: dict[str, Any] | None) -> dict[str, Any]:
    claim_items = []
    total = 0
    for n, item in enumerate(submitted.get("item") or [], 1):
        if not isinstance(item, dict):
            raise FhirError.of(400, "invalid", "Claim.item must be objects")
        price = item.get("unitPrice") or {}
        unit = price.get("value", 0)
        if (
            isinstance(unit, bool)
            or not isinstance(unit, int)
            or unit < 0
            or price.get("currency", "IRR") != "IRR"
        ):
            raise FhirError.of(
                422, "invalid", "unitPrice is a whole number of rials (IRR)", f"Claim.item[{n - 1}].unitPrice"
            )
        try:
            quantity = quantity_of((item.get("quantity") or {}).get("value", 1))
        except ValueError as exc:
            raise FhirError.of(422, "invalid", str(exc), f"Claim.item[{n - 1}].quantity") from exc
        amount = line_amount(quantity, unit)
        total += amount
        claim_items.append({**item, "sequence": n, "unitPrice": money(unit), "net": money(amount)})
    if not claim_items:
        raise FhirError.of(422, "required", "A claim has at least one item", "Claim.item")
    pre_auth = [ref for i in submitted.get("insurance") or [] for ref in i.get("preAuthRef") or []]
    insurance: dict[str, Any] = {
        "sequence": 1,
        "focal": True,
        "coverage": {"reference": f"Coverage/{payer.coverage['id']}"},
    }
    if pre_auth:
        insurance["preAuthRef"] = pre_auth
    completed = {k: v for k, v in submitted.items() if k not in ("id", "meta", "extension", "text")}
    completed.update(
        status="active",
        created=now_instant(),
        insurer=payer.reference,
        insurance=[insurance],
        item=claim_items,
        total=money(total),
    )
    if province is not None:
        completed["extension"] = [province]
    return completed
