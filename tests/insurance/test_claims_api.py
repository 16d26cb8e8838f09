"""Claims over the API with the tokens each role gets, on both stores: a pharmacy claims
its own deliveries (net of returns), once; an insurer sees and reviews its own members'
claims only; nobody writes Claims or ClaimResponses but through the operations."""

from __future__ import annotations

from typing import Any

from tests.eprescription.cycle_helpers import dispense, drug, prescriptions, service, submission, take_back
from tests.insurance.conftest import BOTH_STORES, Claims, paper, tariff

pytestmark = BOTH_STORES
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
REASON = "http://noskhe.ir/fhir/CodeSystem/adjudication-reason"
RESULT = "http://noskhe.ir/fhir/StructureDefinition/claim-result"


def amounts(response: dict[str, Any], sequence: int = 1) -> dict[str, Any]:
    item = next(i for i in response["item"] if i["itemSequence"] == sequence)
    out: dict[str, Any] = {}
    for a in item["adjudication"]:
        code = a["category"]["coding"][0]["code"]
        out[code] = a["amount"]["value"] if "amount" in a else a["value"]
        if "reason" in a:
            out["reason"] = a["reason"]["coding"][0]["code"]
    return out


def result(response: dict[str, Any]) -> str:
    return next(e["valueCoding"]["code"] for e in response["extension"] if e["url"] == RESULT)


def delivered(world: Claims, qty: float = 15, returned: float = 3) -> dict[str, Any]:
    """Amoxicillin 500 x 20 prescribed; pharmacy-1 hands over `qty`, `returned` come back."""
    item = prescriptions(
        world.api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200)
    )[0]["items"][0]
    given = world.api.post("MedicationDispense", dispense(item, qty))
    if returned:
        world.api.post("MedicationDispense", take_back(given, returned))
    return given  # type: ignore[no-any-return]


def test_pharmacy_claims_what_went_out_once(claims_world: Claims) -> None:
    given = delivered(claims_world)
    ph1 = claims_world.staff("ph-1")
    response = ph1.call("POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201)
    price = tariff("generic|00077")
    submitted = 12 * price  # 15 handed over, 3 returned
    benefit = (
        submitted * 70 // 100
    )  # TAMIN pays 70% of drugs; the rial it cannot split stays with the patient
    assert amounts(response) == {
        "submitted": submitted,
        "eligible": submitted,
        "eligpercent": 70,
        "benefit": benefit,
        "copay": submitted - benefit,
    }
    assert result(response) == "accepted" and response["requestor"] == {
        "reference": "Organization/pharmacy-1"
    }
    claim_id = response["request"]["reference"].split("/")[1]
    claim = ph1.call("GET", f"Claim/{claim_id}", status=200)
    assert claim["provider"] == {"reference": "Organization/pharmacy-1"}
    assert claim["insurer"]["reference"] == "Organization/ins-tamin"
    assert claim["insurance"][0]["coverage"] == {"reference": "Coverage/cov-1"}
    assert claim["item"][0]["quantity"]["value"] == 12 and claim["item"][0]["unitPrice"]["value"] == price
    assert claim["supportingInfo"][0]["valueReference"] == {"reference": f"MedicationDispense/{given['id']}"}
    assert claim["extension"][0]["valueCoding"]["code"] == "28"  # the pharmacy's province
    again = ph1.call("POST", f"MedicationDispense/{given['id']}/$claim", {}, status=200)
    assert again["id"] == response["id"]
    assert ph1.ids(f"Claim?delivery=MedicationDispense/{given['id']}") == {claim_id}
    # once claimed, the dispense can no longer be taken back
    claims_world.api.post("MedicationDispense", take_back(given, 1), 409)


def test_another_pharmacy_cannot_claim_it(claims_world: Claims) -> None:
    given = delivered(claims_world)
    ph2 = claims_world.staff("ph-2")
    ph2.call("POST", f"MedicationDispense/{given['id']}/$claim", {}, status=403)
    assert claims_world.api.get("Claim")["total"] == 0  # nothing was kept
    ph2.call("POST", "MedicationDispense/nope/$claim", {}, status=404)


def test_insurers_see_their_own_members_claims_only(claims_world: Claims) -> None:
    given = delivered(claims_world, returned=0)
    response = claims_world.staff("ph-1").call(
        "POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201
    )
    tamin, salamat = claims_world.staff("rev-tamin"), claims_world.staff("rev-salamat")
    assert tamin.ids("ClaimResponse") == {response["id"]}
    assert salamat.ids("ClaimResponse") == set() and salamat.ids("Claim") == set()
    salamat.call("GET", f"ClaimResponse/{response['id']}", status=403)
    assert claims_world.staff("ph-2").ids("ClaimResponse") == set()
    assert claims_world.staff("ph-1").ids("ClaimResponse?result=accepted") == {response["id"]}
    assert tamin.ids("ClaimResponse?province=28&insurer=Organization/ins-tamin") == {response["id"]}
    # the ministry sees no claim at all, only aggregates
    claims_world.staff("moh-1").call("GET", "ClaimResponse", status=403)


def test_claims_are_written_through_the_operations_only(claims_world: Claims) -> None:
    given = delivered(claims_world, returned=0)
    response = claims_world.staff("ph-1").call(
        "POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201
    )
    tamin = claims_world.staff("rev-tamin")
    changed = {**response, "disposition": "paid in full"}
    for who in (tamin, claims_world.staff("ph-1")):
        who.call("PUT", f"ClaimResponse/{response['id']}", changed, status=405)
        who.call("DELETE", f"ClaimResponse/{response['id']}", status=405)
        who.call("POST", "ClaimResponse", {**response, "id": None}, status=405)
    claim_id = response["request"]["reference"].split("/")[1]
    claims_world.staff("ph-1").call("POST", "Claim", {"resourceType": "Claim"}, status=405)
    claims_world.api.delete(f"Claim/{claim_id}", 405)  # not even without authorization
    assert claims_world.api.get(f"ClaimResponse/{response['id']}")["meta"]["versionId"] == "1"


def test_reviewer_adjusts_with_provenance_and_audit(claims_world: Claims) -> None:
    given = delivered(claims_world, returned=0)  # 15 handed over
    response = claims_world.staff("ph-1").call(
        "POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201
    )
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "decision", "valueCode": "adjusted"},
            {"name": "note", "valueString": "دو عدد تحویل نشده بود"},
            {
                "name": "item",
                "part": [
                    {"name": "sequence", "valuePositiveInt": 1},
                    {"name": "quantity", "valueDecimal": 13},
                ],
            },
        ],
    }
    claims_world.staff("ph-1").call("POST", f"ClaimResponse/{response['id']}/$adjust", body, status=403)
    claims_world.staff("rev-salamat").call(
        "POST", f"ClaimResponse/{response['id']}/$adjust", body, status=403
    )
    tamin = claims_world.staff("rev-tamin")
    adjusted = tamin.call("POST", f"ClaimResponse/{response['id']}/$adjust", body, status=200)
    price = tariff("generic|00077")
    eligible = 13 * price
    assert amounts(adjusted) == {
        "submitted": 15 * price,
        "eligible": eligible,
        "reason": "reviewer",
        "eligpercent": 70,
        "benefit": eligible * 70 // 100,
        "copay": eligible - eligible * 70 // 100,
    }
    assert result(adjusted) == "reduced" and adjusted["meta"]["versionId"] == "2"
    notes = {n["language"]["coding"][0]["code"]: n["text"] for n in adjusted["processNote"]}
    assert "دو عدد تحویل نشده بود" in notes["fa"] and "Practitioner/rev-tamin" in notes["en"]
    provenance = claims_world.api.get(f"Provenance?target=ClaimResponse/{response['id']}/_history/2")["entry"]
    assert len(provenance) == 1
    record = provenance[0]["resource"]
    assert record["agent"][0]["who"] == {"reference": "Practitioner/rev-tamin"}
    assert record["agent"][0]["onBehalfOf"] == {"reference": "Organization/ins-tamin"}
    assert record["reason"][0]["text"] == "دو عدد تحویل نشده بود"
    found = claims_world.api.get(f"AuditEvent?entity=ClaimResponse/{response['id']}&_count=50")["entry"]
    described = sorted(e["resource"].get("outcomeDesc", "") for e in found)
    assert "adjudicated: accepted" in described  # the adjudication itself
    assert "adjusted by Practitioner/rev-tamin: دو عدد تحویل نشده بود" in described
    # never more than the rules allowed
    up = {
        **body,
        "parameter": [
            *body["parameter"][:2],
            {
                "name": "item",
                "part": [
                    {"name": "sequence", "valuePositiveInt": 1},
                    {"name": "quantity", "valueDecimal": 16},
                ],
            },
        ],
    }
    tamin.call("POST", f"ClaimResponse/{response['id']}/$adjust", up, status=422)
    accept = {
        "resourceType": "Parameters",
        "parameter": [{"name": "decision", "valueCode": "accepted"}, {"name": "note", "valueString": "ok"}],
    }
    assert (
        tamin.call("POST", f"ClaimResponse/{response['id']}/$adjust", accept, status=200)["meta"]["versionId"]
        == "3"
    )
    for bad in (
        {"resourceType": "Parameters", "parameter": []},
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "decision", "valueCode": "paid"}, {"name": "note", "valueString": "x"}],
        },
    ):
        tamin.call("POST", f"ClaimResponse/{response['id']}/$adjust", bad, status=400)


def test_submit_checked_against_what_was_recorded(claims_world: Claims) -> None:
    given = delivered(claims_world)  # 15 handed over, 3 returned
    price = tariff("generic|00077")
    claim = {
        "resourceType": "Claim",
        "status": "active",
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]
        },
        "use": "claim",
        "patient": {"reference": "Patient/pat-1"},
        "created": "2026-01-01",
        "provider": {"reference": "Organization/pharmacy-1"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-1"}}],
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {
                    "coding": [
                        {"system": "http://noskhe.ir/fhir/CodeSystem/claim-information", "code": "delivery"}
                    ]
                },
                "valueReference": {"reference": f"MedicationDispense/{given['id']}"},
            }
        ],
        "item": [
            {
                "sequence": 1,
                "informationSequence": [1],
                "productOrService": {
                    "coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "00077"}]
                },
                "quantity": {"value": 15},
                "unitPrice": {"value": price + 1000, "currency": "IRR"},
            },
            {
                "sequence": 2,
                "informationSequence": [1],
                "productOrService": {
                    "coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "90043"}]
                },
                "quantity": {"value": 1},
                "unitPrice": {"value": 5000, "currency": "IRR"},
            },
        ],
    }
    ph2 = claims_world.staff("ph-2")
    ph2.call(
        "POST", "Claim/$submit", {**claim, "provider": {"reference": "Organization/pharmacy-2"}}, status=422
    )
    ph1 = claims_world.staff("ph-1")
    ph1.call("POST", "Claim/$submit", {**claim, "patient": {"reference": "Patient/other"}}, status=422)
    ph1.call("POST", "Claim/$submit", {**claim, "use": "preauthorization"}, status=422)
    ph1.call("POST", "Claim/$submit", {**claim, "supportingInfo": []}, status=422)
    response = ph1.call("POST", "Claim/$submit", claim, status=201)
    first = amounts(response, 1)
    assert first["submitted"] == 15 * (price + 1000) and first["eligible"] == 12 * price
    assert first["reason"] == "over-delivered"
    codes = [n["text"] for n in response["processNote"] if n["language"]["coding"][0]["code"] == "en"]
    assert any("12 recorded as delivered" in c for c in codes) and any("above the tariff" in c for c in codes)
    second = amounts(response, 2)
    assert (second["eligible"], second["benefit"], second["reason"]) == (0, 0, "not-delivered")
    assert result(response) == "reduced"
    ph1.call("POST", "Claim/$submit", claim, status=409)  # the dispense was claimed
    ph1.call("POST", f"MedicationDispense/{given['id']}/$claim", {}, status=200)  # ... by that claim


def test_paraclinic_claims_a_report(claims_world: Claims) -> None:
    rx = prescriptions(
        claims_world.api.post("MedicationRequest/$prescribe", submission([service("801001")]), 200)
    )[0]
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": "CBC"},
        "subject": {"reference": "Patient/pat-1"},
        "basedOn": [{"reference": f"ServiceRequest/{rx['items'][0]['id']}"}],
        "performer": [{"reference": "Organization/lab-1"}],
        "effectiveDateTime": "2026-11-20T09:00:00+03:30",
    }
    stored = claims_world.api.post("DiagnosticReport", report)
    lab = claims_world.staff("lab-1")
    response = lab.call("POST", f"DiagnosticReport/{stored['id']}/$claim", {}, status=201)
    price = tariff("rvu|801001")
    assert amounts(response)["submitted"] == price and amounts(response)["benefit"] == price * 70 // 100
    refused = claims_world.api.delete(f"DiagnosticReport/{stored['id']}", 409)  # a claimed report stays
    claims = claims_world.api.get(f"Claim?delivery=DiagnosticReport/{stored['id']}")
    claim_id = claims["entry"][0]["resource"]["id"]
    assert [(i["severity"], i["code"], i["diagnostics"]) for i in refused["issue"]] == [
        (
            "error",
            "business-rule",
            f"DiagnosticReport/{stored['id']} was claimed (Claim/{claim_id}): it cannot be deleted",
        )
    ]
    assert claims_world.api.get(f"DiagnosticReport/{stored['id']}")["status"] == report["status"]


def test_a_paper_prescription_is_claimed_like_an_electronic_one(claims_world: Claims) -> None:
    body = paper()
    answer = claims_world.api.post("MedicationDispense/$record-paper", body, 200)
    (given,) = [p["resource"] for p in answer["parameter"] if p["name"] == "dispense"]
    claims_world.staff("ph-1").call("POST", f"MedicationDispense/{given['id']}/$claim", {}, status=403)
    response = claims_world.staff("ph-2").call(
        "POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201
    )
    price = tariff("generic|90043")
    assert amounts(response) == {  # TAMIN pays 90 % of metformin (policy/rules/TAMIN.json)
        "submitted": 30 * price,
        "eligible": 30 * price,
        "eligpercent": 90,
        "benefit": 30 * price * 90 // 100,
        "copay": 30 * price - 30 * price * 90 // 100,
    }
    claim = claims_world.api.get(response["request"]["reference"])
    assert claim["provider"] == {"reference": "Organization/pharmacy-2"}
    assert claim["extension"][0]["valueCoding"]["code"] == "12"  # pharmacy-2's province


def test_not_a_member_on_the_day_of_delivery(claims_world: Claims) -> None:
    given = delivered(claims_world, returned=0)
    coverage = claims_world.api.get("Coverage/cov-1")
    ended = {**coverage, "period": {"start": "2020-01-01", "end": "2021-01-01"}}
    claims_world.api.put("Coverage/cov-1", ended, 200)
    response = claims_world.staff("ph-1").call(
        "POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201
    )
    line = amounts(response)
    assert (line["eligible"], line["benefit"], line["reason"]) == (0, 0, "not-member")
    assert result(response) == "denied"
    notes = [n["text"] for n in response["processNote"] if n["language"]["coding"][0]["code"] == "fa"]
    assert notes  # the reason in Persian too
