"""Reading and marking prescription items (MedicationRequest, ServiceRequest) as dicts."""

from __future__ import annotations

from typing import Any

from fhir_server.eprescription.ids import PRESCRIPTION_SYSTEM, TRACKING_SYSTEM

EXT = "http://noskhe.ir/fhir/StructureDefinition/"
EXT_TYPE = EXT + "prescription-type"  # valueCode: a key of policy types.json
EXT_FREE = EXT + "prescription-free"  # valueBoolean: uninsured, written as free (آزاد)
EXT_PAPER = EXT + "prescription-paper"  # valueBoolean: recorded from a paper prescription
EXT_EXPIRY = EXT + "prescription-expiry"  # valueDate
EXT_DISPENSED = EXT + "dispensed-quantity"  # valueDecimal: server-maintained running total
EXT_EDITS = EXT + "prescription-edits"  # valueInteger: edits by the prescriber so far
EXT_SHARES = EXT + "cost-shares"  # complex: insurer / patient percent
FINGERPRINT_SYSTEM = "http://noskhe.ir/fhir/sid/prescription-item-fingerprint"
SERVER_EXTENSIONS = frozenset({EXT_FREE, EXT_EXPIRY, EXT_DISPENSED, EXT_EDITS, EXT_SHARES})
SERVER_IDENTIFIERS = frozenset({TRACKING_SYSTEM, FINGERPRINT_SYSTEM})
REQUEST_TYPES = frozenset({"MedicationRequest", "ServiceRequest"})
CODE_ALIASES = {
    "http://noskhe.ir/fhir/CodeSystem/generic": "generic",
    "http://noskhe.ir/fhir/CodeSystem/irc": "irc",
    "http://noskhe.ir/fhir/CodeSystem/rvu": "rvu",
}
CATEGORY_SYSTEM = "http://noskhe.ir/fhir/CodeSystem/service-category"


def is_eprescription(item: dict[str, Any] | None) -> bool:
    """A national e-prescription item: its prescription id is in the national system.

    Other MedicationRequests and ServiceRequests (a hospital's internal orders, R4
    examples) are plain FHIR resources: the workflow rules leave them alone."""
    if not item or item.get("resourceType") not in REQUEST_TYPES:
        return False
    return (item.get(group_field(item)) or {}).get("system") == PRESCRIPTION_SYSTEM


def group_field(item: dict[str, Any]) -> str:
    return "groupIdentifier" if item["resourceType"] == "MedicationRequest" else "requisition"


def group_value(item: dict[str, Any]) -> str | None:
    ident = item.get(group_field(item)) or {}
    value = ident.get("value")
    return str(value) if value else None


def set_group(item: dict[str, Any], value: str) -> None:
    item[group_field(item)] = {"system": PRESCRIPTION_SYSTEM, "value": value}


def identifier(item: dict[str, Any], system: str) -> str | None:
    for ident in item.get("identifier") or []:
        if ident.get("system") == system:
            return str(ident.get("value"))
    return None


def set_identifier(item: dict[str, Any], system: str, value: str) -> None:
    kept = [i for i in item.get("identifier") or [] if i.get("system") != system]
    item["identifier"] = [*kept, {"system": system, "value": value}]


def extension(item: dict[str, Any], url: str) -> Any:
    for ext in item.get("extension") or []:
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), ext.get("extension"))
    return None


def set_extension(item: dict[str, Any], url: str, key: str, value: Any) -> None:
    kept = [e for e in item.get("extension") or [] if e.get("url") != url]
    item["extension"] = [*kept, {"url": url, key: value}]


def concept(item: dict[str, Any]) -> dict[str, Any]:
    if item["resourceType"] == "MedicationRequest":
        return item.get("medicationCodeableConcept") or {}
    if item["resourceType"] == "MedicationDispense":
        return item.get("medicationCodeableConcept") or {}
    return item.get("code") or {}


def code_keys(item: dict[str, Any]) -> list[str]:
    """'generic|00077', 'irc|...', 'rvu|801001': the keys policy data uses."""
    keys = []
    for coding in concept(item).get("coding") or []:
        alias = CODE_ALIASES.get(coding.get("system"))
        if alias and coding.get("code"):
            keys.append(f"{alias}|{coding['code']}")
    return keys


def generic_codes(item: dict[str, Any]) -> list[str]:
    return [k.split("|", 1)[1] for k in code_keys(item) if k.startswith("generic|")]


def label(item: dict[str, Any]) -> str:
    c = concept(item)
    for coding in c.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    return str(c.get("text") or (code_keys(item) or ["?"])[0])


def kind(item: dict[str, Any]) -> str:
    """'drug' for a medication, else the ServiceRequest's service-category code."""
    if item["resourceType"] == "MedicationRequest":
        return "drug"
    for cat in item.get("category") or []:
        for coding in cat.get("coding") or []:
            if coding.get("system") == CATEGORY_SYSTEM:
                return str(coding.get("code"))
    return "?"


def quantity(item: dict[str, Any]) -> float:
    if item["resourceType"] == "MedicationRequest":
        return float(((item.get("dispenseRequest") or {}).get("quantity") or {}).get("value") or 0)
    return float((item.get("quantityQuantity") or {}).get("value") or 1)


def repeats(item: dict[str, Any]) -> int:
    return int((item.get("dispenseRequest") or {}).get("numberOfRepeatsAllowed") or 0)


def allowed_total(item: dict[str, Any]) -> float:
    """quantity x (1 + repeats): everything the pharmacies may hand over, together."""
    return quantity(item) * (1 + repeats(item))


def ref_id(ref: Any, type_: str) -> str | None:
    text = (ref or {}).get("reference") if isinstance(ref, dict) else None
    if isinstance(text, str) and text.startswith(type_ + "/"):
        return text.split("/")[1]
    return None


def patient_id(item: dict[str, Any]) -> str | None:
    return ref_id(item.get("subject"), "Patient")


def requester_ref(item: dict[str, Any]) -> str | None:
    ref = (item.get("requester") or {}).get("reference")
    return str(ref) if ref else None


def coverage_id(item: dict[str, Any]) -> str | None:
    for ref in item.get("insurance") or []:
        found = ref_id(ref, "Coverage")
        if found:
            return found
    return None


def issued_on(item: dict[str, Any]) -> str:
    return str(item.get("authoredOn") or "")[:10]
