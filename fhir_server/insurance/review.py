"""An insurer's reviewer accepts or adjusts an adjudication (ClaimResponse/$adjust).

Only people who work at the ClaimResponse's insurer may (their token reads it through
its own narrowing, and their workplace is the insurer), only before the claim is
settled, and only downwards: a reviewer lowers the quantity paid for an item, never
raises it above what the rules allowed. Each decision writes, in one unit, a new version
of the ClaimResponse (extension adjudication-review; the items and totals recomputed
with a `reviewer` finding in Persian and English), a Provenance naming who changed what
and why, and an AuditEvent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import authorization
from fhir_server.eprescription.policy import Policy
from fhir_server.insurance import claims, deliveries, responses
from fhir_server.insurance.acting import acting_user, audit, organizations_of
from fhir_server.insurance.adjudication import Finding, cap
from fhir_server.insurance.deliveries import Delivery
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import now_instant
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

REVIEW_EXT = "http://noskhe.ir/fhir/StructureDefinition/adjudication-review"
REVIEW_SYSTEM = "http://noskhe.ir/fhir/CodeSystem/adjudication-review"
DECISIONS = ("accepted", "adjusted")


@dataclass(frozen=True)
class Decision:
    decision: str  # accepted | adjusted
    note: str  # why (required)
    quantities: Mapping[int, Decimal]  # item sequence -> the quantity paid for (adjusted)


def review(
    repo: Repository, s: StoreSession, response_id: str, decision: Decision, policy: Policy
) -> dict[str, Any]:
    """Apply a reviewer's decision to ClaimResponse/`response_id`; the new version."""
    current = repo.read(s, "ClaimResponse", response_id)  # the caller's own narrowing
    response: dict[str, Any] = orjson.loads(current.body or b"{}")
    who = _reviewer(repo, s, response)
    if "payment" in response:
        raise FhirError.of(
            409,
            "business-rule",
            f"ClaimResponse/{response_id} was settled on {response['payment'].get('date')}: it can no longer "
            "be adjusted (پس از تسویه قابل اصلاح نیست)",
        )
    if decision.decision == "adjusted":
        updated = _adjusted(repo, s, response, decision, who, policy)
    else:
        updated = dict(response)
    updated["extension"] = [
        *[e for e in updated.get("extension") or [] if e.get("url") != REVIEW_EXT],
        {"url": REVIEW_EXT, "valueCoding": {"system": REVIEW_SYSTEM, "code": decision.decision}},
    ]
    updated["id"], updated["meta"] = response_id, response.get("meta")
    with authorization.as_system():
        written = repo.update(s, "ClaimResponse", response_id, updated, current.version).resource or updated
        version = f"ClaimResponse/{response_id}/_history/{written['meta']['versionId']}"
        provenance = repo.create(
            s, "Provenance", _provenance(version, current.version, who, response, decision)
        )
    assert provenance.resource is not None
    provenance_ref = f"Provenance/{provenance.resource['id']}"
    audit(repo, s, "update", [version, provenance_ref], f"{decision.decision} by {who}: {decision.note}")
    return written


def _reviewer(repo: Repository, s: StoreSession, response: dict[str, Any]) -> str:
    """The signed-in reviewer; 403 unless they work at the ClaimResponse's insurer."""
    who = acting_user()
    insurer = str((response.get("insurer") or {}).get("reference") or "")
    if not who or not insurer or insurer not in organizations_of(repo, s, who):
        raise FhirError.of(
            403,
            "forbidden",
            f"Only a reviewer of the claim's insurer ({insurer or 'unknown'}) may accept or adjust "
            "its adjudication",
        )
    return who


def _adjusted(
    repo: Repository, s: StoreSession, response: dict[str, Any], decision: Decision, who: str, policy: Policy
) -> dict[str, Any]:
    claim_id = str((response.get("request") or {}).get("reference") or "").partition("/")[2]
    with authorization.as_system():
        claim = claims.stored(repo, s, claim_id)
    recorded = _recorded(repo, s, claim)
    if not recorded:
        raise FhirError.of(
            422, "business-rule", f"Claim/{claim_id} claims nothing recorded: nothing to adjust"
        )
    payer = claims.payer_of(repo, s, recorded[0].item)
    lines = claims.adjudicate_claim(repo, s, claim, claims.item_deliveries(claim, recorded), payer, policy)
    sequences = {line.sequence for line in lines}
    unknown = sorted(set(decision.quantities) - sequences)
    if unknown:
        raise FhirError.of(
            422, "invalid", f"Claim/{claim_id} has no item {unknown[0]}", "Parameters.parameter"
        )
    finding = Finding("reviewer", {"who": who, "note": decision.note})
    adjusted = []
    for line in lines:
        wanted = decision.quantities.get(line.sequence)
        if wanted is None:
            adjusted.append(line)
            continue
        try:
            adjusted.append(cap(line, wanted, finding))
        except ValueError as exc:
            raise FhirError.of(422, "business-rule", f"Item {line.sequence}: {exc}") from exc
    rebuilt = responses.claim_response(claim, adjusted, str(response.get("created") or now_instant()))
    return {**response, **{k: rebuilt[k] for k in ("item", "total", "disposition", "extension")}} | (
        {"processNote": rebuilt["processNote"]} if "processNote" in rebuilt else {}
    )


def _recorded(repo: Repository, s: StoreSession, claim: dict[str, Any]) -> list[Delivery]:
    found: list[Delivery] = []
    for ref in claims.delivery_refs(claim).values():
        type_, _, id_ = ref.partition("/")
        with authorization.as_system():
            record = claims.stored(repo, s, id_, type_)
        found += deliveries.of_record(repo, s, record)
    return found


def _provenance(
    version: str, previous: int, who: str, response: dict[str, Any], decision: Decision
) -> dict[str, Any]:
    insurer = (response.get("insurer") or {}).get("reference")
    return {
        "resourceType": "Provenance",
        "target": [{"reference": version}],
        "recorded": now_instant(),
        "activity": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE"}]
        },
        "reason": [{"text": decision.note}],
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "verifier",
                        }
                    ]
                },
                "who": {"reference": who},
                **({"onBehalfOf": {"reference": insurer}} if insurer else {}),
            }
        ],
        "entity": [
            {
                "role": "revision",
                "what": {"reference": f"ClaimResponse/{response['id']}/_history/{previous}"},
            }
        ],
    }
