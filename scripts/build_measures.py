"""Build profiles/ir-eprescription/measures/Measure-*.json: the adoption dashboards' Measures.

Populations are `application/x-fhir-query` criteria; stratifiers and the IR extensions
`measure-date` and `measure-count-distinct` are FHIRPath (with `resolve()`). Written here
so the long province expressions are spelled once. Output is deterministic; commit it.

    python scripts/build_measures.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "profiles" / "ir-eprescription" / "measures"
BASE = "http://noskhe.ir/fhir"
SD = f"{BASE}/StructureDefinition"
CS = f"{BASE}/CodeSystem"
SID = f"{BASE}/sid"
QUERY = "application/x-fhir-query"
FHIRPATH = "text/fhirpath"
DATE = "2026-11-27"

PROVINCE = f".extension.where(url='{SD}/province').value.code.first()"
PAPER = f"extension.where(url='{SD}/prescription-paper').value = true"
NATIONAL_ITEM = f"{SID}/prescription|"
CALLED_OFF = "status:not=entered-in-error,cancelled"
PERFORMED = "registered,partial,preliminary,final,amended,corrected,appended"
DISPENSE_TYPE = f"{CS}/dispense-type"
ORG_TYPE = f"{CS}/organization-type"


def where_issued(type_: str) -> str:
    """The province of the facility an item was issued at: the prescriber's workplace,
    else the visit's clinic, else (a paper prescription) the pharmacy that recorded it."""
    parts = [f"{type_}.requester.resolve().organization", f"{type_}.encounter.resolve().serviceProvider"]
    if type_ == "MedicationRequest":
        parts.append("MedicationRequest.dispenseRequest.performer")
    return "(" + " | ".join(parts)


def concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def population(
    code: str, criteria: str, date: str | None = None, distinct: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": concept("http://terminology.hl7.org/CodeSystem/measure-population", code),
        "criteria": {"language": QUERY, "expression": criteria},
    }
    extension = []
    if date:
        extension.append({"url": f"{SD}/measure-date", "valueString": date})
    if distinct:
        extension.append({"url": f"{SD}/measure-count-distinct", "valueString": distinct})
    if extension:
        out["extension"] = extension
    return out


def stratifier(code: str, expression: str) -> dict[str, Any]:
    return {
        "code": concept(f"{CS}/measure-stratifier", code),
        "criteria": {"language": FHIRPATH, "expression": expression},
    }


def components(code: str, *parts: tuple[str, str]) -> dict[str, Any]:
    """A stratifier of several components (insurer and result): one stratum per combination."""
    return {
        "code": concept(f"{CS}/measure-stratifier", code),
        "component": [
            {
                "code": concept(f"{CS}/measure-stratifier", c),
                "criteria": {"language": FHIRPATH, "expression": e},
            }
            for c, e in parts
        ],
    }


def group(
    code: str, description: str, populations: list[dict[str, Any]], stratifiers: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "code": concept(f"{CS}/measure-group", code),
        "description": description,
        "population": populations,
        "stratifier": stratifiers,
    }


def measure(
    id_: str, title: str, description: str, scoring: str, groups: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "resourceType": "Measure",
        "id": id_,
        "url": f"{BASE}/Measure/{id_}",
        "version": "1.0.0",
        "name": "".join(p.capitalize() for p in id_.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "date": DATE,
        "publisher": "Noskhe",
        "description": description,
        "scoring": concept("http://terminology.hl7.org/CodeSystem/measure-scoring", scoring),
        "group": groups,
    }


def eprescriptions() -> dict[str, Any]:
    drugs = f"MedicationRequest?prescription={NATIONAL_ITEM}&{CALLED_OFF}"
    services = f"ServiceRequest?requisition={NATIONAL_ITEM}&{CALLED_OFF}"
    drug_province = stratifier("province", where_issued("MedicationRequest") + ").resolve()" + PROVINCE)
    service_province = stratifier("province", where_issued("ServiceRequest") + ").resolve()" + PROVINCE)
    source = stratifier("source", f"iif({PAPER}, 'paper', 'electronic')")
    return measure(
        "eprescriptions",
        "E-prescriptions and items by province, electronic and paper (نسخه‌ها و اقلام)",
        "National prescription items (MedicationRequest, ServiceRequest) on the day they were written, "
        "and the prescriptions they belong to (each counted once), by the province of the facility "
        "they were issued at, electronic or recorded from paper, and by drug or service category.",
        "cohort",
        [
            group(
                "drug-items",
                "Drug items",
                [population("initial-population", drugs, "MedicationRequest.authoredOn")],
                [
                    drug_province,
                    source,
                    stratifier(
                        "drug",
                        f"MedicationRequest.medication.as(CodeableConcept).coding.where(system='{CS}/generic').code",
                    ),
                ],
            ),
            group(
                "drug-prescriptions",
                "Drug prescriptions",
                [
                    population(
                        "initial-population",
                        drugs,
                        "MedicationRequest.authoredOn",
                        "MedicationRequest.groupIdentifier.value",
                    )
                ],
                [drug_province, source],
            ),
            group(
                "service-items",
                "Service items",
                [population("initial-population", services, "ServiceRequest.authoredOn")],
                [
                    service_province,
                    stratifier(
                        "category",
                        f"ServiceRequest.category.coding.where(system='{CS}/service-category').code",
                    ),
                ],
            ),
            group(
                "service-prescriptions",
                "Service prescriptions",
                [
                    population(
                        "initial-population",
                        services,
                        "ServiceRequest.authoredOn",
                        "ServiceRequest.requisition.value",
                    )
                ],
                [service_province],
            ),
        ],
    )


def adoption() -> dict[str, Any]:
    prescriber = (
        "iif({type}.requester.reference.startsWith('PractitionerRole/'), "
        "{type}.requester.resolve().practitioner.reference, {type}.requester.reference)"
    )

    def electronic(value: str) -> str:  # nothing (not counted) for what was recorded from paper
        return f"iif({PAPER}, {{}}, {value})"

    pharmacy = "MedicationDispense.performer.actor.where(reference.startsWith('Organization/')).reference"
    paraclinic = (
        "(DiagnosticReport.performer.where(reference.startsWith('Organization/')).reference"
        " | DiagnosticReport.performer.resolve().organization.reference).first()"
    )
    dispensed = (
        f"MedicationDispense?status=completed&prescription:missing=false"
        f"&type:not={DISPENSE_TYPE}|return,{DISPENSE_TYPE}|correction"
    )
    return measure(
        "adoption",
        "Providers who issued or delivered electronic prescriptions, as a share of those registered (مشارکت)",
        "Prescribers who wrote, pharmacies that dispensed and paraclinics that performed at least one "
        "electronic prescription in the period (each counted once), over those registered, by province: "
        "the provinces compared and the best announced.",
        "proportion",
        [
            group(
                "prescribers",
                "Prescribers",
                [
                    population(
                        "numerator",
                        f"MedicationRequest?prescription={NATIONAL_ITEM}&{CALLED_OFF}",
                        "MedicationRequest.authoredOn",
                        electronic(prescriber.format(type="MedicationRequest")),
                    ),
                    population(
                        "numerator",
                        f"ServiceRequest?requisition={NATIONAL_ITEM}&{CALLED_OFF}",
                        "ServiceRequest.authoredOn",
                        prescriber.format(type="ServiceRequest"),
                    ),
                    population(
                        "denominator",
                        "PractitionerRole?role=clinic,hospital&active:not=false",
                        distinct="PractitionerRole.practitioner.reference",
                    ),
                ],
                [
                    stratifier(
                        "province",
                        where_issued("MedicationRequest")
                        + " | "
                        + where_issued("ServiceRequest")[1:]
                        + " | PractitionerRole.organization).resolve()"
                        + PROVINCE,
                    )
                ],
            ),
            group(
                "pharmacies",
                "Pharmacies",
                [
                    population(
                        "numerator", dispensed, "MedicationDispense.whenHandedOver", electronic(pharmacy)
                    ),
                    population("denominator", f"Organization?type={ORG_TYPE}|pharmacy&active:not=false"),
                ],
                [
                    stratifier(
                        "province", "(MedicationDispense.performer.actor.resolve() | Organization)" + PROVINCE
                    )
                ],
            ),
            group(
                "paraclinics",
                "Paraclinics",
                [
                    population(
                        "numerator",
                        f"DiagnosticReport?based-on:missing=false&status={PERFORMED}",
                        "(DiagnosticReport.effective.ofType(dateTime) | DiagnosticReport.issued).first()",
                        paraclinic,
                    ),
                    population(
                        "denominator",
                        f"Organization?type={ORG_TYPE}|laboratory,{ORG_TYPE}|imaging,{ORG_TYPE}|physiotherapy"
                        "&active:not=false",
                    ),
                ],
                [
                    stratifier(
                        "province",
                        "(DiagnosticReport.performer.resolve()"
                        " | DiagnosticReport.performer.resolve().organization.resolve()"
                        " | Organization)" + PROVINCE,
                    )
                ],
            ),
        ],
    )


INSURER = "ClaimResponse.insurer.identifier.value"
RESULT = f"ClaimResponse.extension.where(url='{SD}/claim-result').value.code"
REASON = "ClaimResponse.item.adjudication.reason.coding.code"


def claims() -> dict[str, Any]:
    return measure(
        "claims",
        "Electronic claims submitted and adjudicated (ادعاهای الکترونیک)",
        "Claims on the day they were submitted, and their adjudications on the day they were made: "
        "accepted, reduced or denied, with the reasons of reductions and denials, by province and insurer.",
        "cohort",
        [
            group(
                "claims-submitted",
                "Claims submitted",
                [population("initial-population", "Claim?use=claim", "Claim.created")],
                [
                    stratifier("province", "Claim" + PROVINCE),
                    stratifier("insurer", "Claim.insurer.identifier.value"),
                ],
            ),
            group(
                "claims-adjudicated",
                "Claims adjudicated",
                [population("initial-population", "ClaimResponse?outcome=complete", "ClaimResponse.created")],
                [
                    stratifier("province", "ClaimResponse" + PROVINCE),
                    stratifier("insurer", INSURER),
                    stratifier("result", RESULT),
                    stratifier("reason", REASON),
                    components("insurer-result", ("insurer", INSURER), ("result", RESULT)),
                    components("insurer-reason", ("insurer", INSURER), ("reason", REASON)),
                ],
            ),
        ],
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for m in (eprescriptions(), adoption(), claims()):
        (OUT / f"Measure-{m['id']}.json").write_text(
            json.dumps(m, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    print(f"wrote 3 measures to {OUT}")


if __name__ == "__main__":
    main()
