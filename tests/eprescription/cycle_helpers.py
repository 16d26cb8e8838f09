"""Building blocks for e-prescription tests: the people, the items, the submission."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from joserfc.jwk import ECKey

from fhir_server.eprescription.signature import key_extension, sign

GENERIC = "http://noskhe.ir/fhir/CodeSystem/generic"
RVU = "http://noskhe.ir/fhir/CodeSystem/rvu"
NATIONAL = "http://noskhe.ir/fhir/sid/national-code"
TRACKING = "http://noskhe.ir/fhir/sid/tracking-code"
PRESCRIPTION = "http://noskhe.ir/fhir/sid/prescription"
TODAY = date.today().isoformat()


def new_key(kid: str = "dr-key-1") -> dict[str, Any]:
    key = ECKey.generate_key("P-256", private=True)
    return {**key.as_dict(private=True), "kid": kid}


def people(
    national_code: str = "0018243460",
    insured: bool = True,
    key: dict[str, Any] | None = None,
    gender: str = "female",
    specialty: str = "GP",
) -> list[dict[str, Any]]:
    """Patient, Practitioner (with a signing key), PractitionerRole, Coverage, Encounter, pharmacy."""
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": "dr-1",
        "identifier": [{"system": "http://noskhe.ir/fhir/sid/irimc", "value": "123456"}],
        "name": [{"text": "دکتر علی رضایی"}],
    }
    if key is not None:
        practitioner["extension"] = [key_extension(key)]
    out = [
        {
            "resourceType": "Patient",
            "id": "pat-1",
            "identifier": [{"system": NATIONAL, "value": national_code}],
            "name": [{"text": "مریم احمدی"}],
            "gender": gender,
            "birthDate": "1985-03-21",
            "telecom": [{"system": "phone", "value": "09121234567", "use": "mobile"}],
        },
        practitioner,
        {
            "resourceType": "PractitionerRole",
            "id": "role-1",
            "practitioner": {"reference": "Practitioner/dr-1"},
            "specialty": [
                {"coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/specialty", "code": specialty}]}
            ],
        },
        {"resourceType": "Organization", "id": "pharmacy-1", "name": "داروخانه شفا"},
        {"resourceType": "Organization", "id": "pharmacy-2", "name": "داروخانه سینا"},
        {
            "resourceType": "Encounter",
            "id": "enc-1",
            "status": "arrived",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": "Patient/pat-1"},
            "participant": [{"individual": {"reference": "Practitioner/dr-1"}}],
            "period": {"start": TODAY},
        },
    ]
    if insured:
        out.append(
            {
                "resourceType": "Coverage",
                "id": "cov-1",
                "status": "active",
                "type": {"coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/insurer", "code": "TAMIN"}]},
                "beneficiary": {"reference": "Patient/pat-1"},
                "payor": [{"display": "سازمان تأمین اجتماعی"}],
                "period": {"start": "2020-01-01", "end": "2099-12-31"},
            }
        )
    return out


def drug(code: str, qty: float = 10, repeats: int = 0, display: str | None = None) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "groupIdentifier": {"system": PRESCRIPTION, "value": "new"},
        "medicationCodeableConcept": {
            "coding": [{"system": GENERIC, "code": code, **({"display": display} if display else {})}]
        },
        "subject": {"reference": "Patient/pat-1"},
        "encounter": {"reference": "Encounter/enc-1"},
        "requester": {"reference": "Practitioner/dr-1"},
        "insurance": [{"reference": "Coverage/cov-1"}],
        "dosageInstruction": [
            {
                "text": "روزی سه بار",
                "timing": {
                    "code": {
                        "coding": [
                            {"system": "http://noskhe.ir/fhir/CodeSystem/drug-frequency", "code": "TID"}
                        ]
                    }
                },
            }
        ],
        "dispenseRequest": {"numberOfRepeatsAllowed": repeats, "quantity": {"value": qty}},
    }


def service(code: str, category: str = "02", qty: float = 1) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "requisition": {"system": PRESCRIPTION, "value": "new"},
        "category": [
            {"coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/service-category", "code": category}]}
        ],
        "code": {"coding": [{"system": RVU, "code": code}]},
        "quantityQuantity": {"value": qty},
        "subject": {"reference": "Patient/pat-1"},
        "encounter": {"reference": "Encounter/enc-1"},
        "requester": {"reference": "Practitioner/dr-1"},
        "insurance": [{"reference": "Coverage/cov-1"}],
    }


def submission(items: list[dict[str, Any]], key: dict[str, Any] | None = None) -> dict[str, Any]:
    """A transaction Bundle of the items, signed with `key` when given."""
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": i,
            "request": {"method": "POST", "url": i["resourceType"]},
        }
        for i in items
    ]
    if key is not None:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "request": {"method": "POST", "url": "Provenance"},
                "resource": provenance([str(e["fullUrl"]) for e in entries], items, key),
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def provenance(targets: list[str], items: list[dict[str, Any]], key: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Provenance",
        "target": [{"reference": t} for t in targets],
        "recorded": f"{TODAY}T10:00:00Z",
        "agent": [{"who": {"reference": "Practitioner/dr-1"}}],
        "signature": [
            {
                "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1"}],
                "when": f"{TODAY}T10:00:00Z",
                "who": {"reference": "Practitioner/dr-1"},
                "sigFormat": "application/jose",
                "data": sign(items, key),
            }
        ],
    }


def prescriptions(result: dict[str, Any]) -> list[dict[str, Any]]:
    """$prescribe's answer as [{id, trackingCode, status, type, free, items}]."""
    found = []
    for p in result["parameter"]:
        if p["name"] != "prescription":
            continue
        parts: dict[str, Any] = {"items": []}
        for part in p["part"]:
            if part["name"] == "item":
                parts["items"].append(part["resource"])
            else:
                parts[part["name"]] = next(v for k, v in part.items() if k.startswith("value"))
        parts["id"] = parts["id"]["value"]
        found.append(parts)
    return found


DISPENSE_TYPE = "http://noskhe.ir/fhir/CodeSystem/dispense-type"
RETURN_OF = "http://noskhe.ir/fhir/StructureDefinition/dispense-return-of"


def take_back(
    given: dict[str, Any], qty: float, kind: str = "return", pharmacy: str | None = None
) -> dict[str, Any]:
    """A return (or correction) record of part of the dispense `given`."""
    record = {k: v for k, v in given.items() if k not in ("id", "meta", "extension", "type")}
    if pharmacy is not None:
        record["performer"] = [{"actor": {"reference": f"Organization/{pharmacy}"}}]
    return {
        **record,
        "type": {"coding": [{"system": DISPENSE_TYPE, "code": kind}]},
        "extension": [
            {"url": RETURN_OF, "valueReference": {"reference": f"MedicationDispense/{given['id']}"}}
        ],
        "quantity": {"value": qty},
    }


def dispense(
    mr: dict[str, Any], qty: float, pharmacy: str = "pharmacy-1", code: str | None = None
) -> dict[str, Any]:
    coding = mr["medicationCodeableConcept"]["coding"]
    if code is not None:
        coding = [{"system": GENERIC, "code": code}]
    return {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "medicationCodeableConcept": {"coding": coding},
        "subject": mr["subject"],
        "performer": [{"actor": {"reference": f"Organization/{pharmacy}"}}],
        "authorizingPrescription": [{"reference": f"MedicationRequest/{mr['id']}"}],
        "quantity": {"value": qty},
        "whenHandedOver": f"{TODAY}T11:00:00Z",
    }
