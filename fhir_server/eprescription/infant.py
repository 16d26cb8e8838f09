"""An infant without a birth certificate is served on the mother's documents (Salamat's
guide): the infant's Patient carries the mother's national code (extension
`mother-national-code`, searchable as `Patient?mother-national-code=`), and whoever
hands over the infant's medicine must see whose child it is: the infant's name and
birth date with the mother's name.

The mother's name comes from the infant's own record (a `contact` whose relationship is
mother) or else from the mother's Patient record, found by her national code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MOTHER_CODE_EXT = "http://noskhe.ir/fhir/StructureDefinition/mother-national-code"
# Codings that say "mother" on Patient.contact.relationship (HL7 v3 RoleCode, SNOMED CT).
MOTHER_CODINGS = frozenset(
    {
        ("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "MTH"),
        ("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "NMTH"),
        ("http://snomed.info/sct", "72705000"),
    }
)


def mother_code(patient: dict[str, Any] | None) -> str | None:
    """The mother's national code on an infant's record; None for anyone else."""
    for ext in (patient or {}).get("extension") or []:
        if ext.get("url") == MOTHER_CODE_EXT and ext.get("valueString"):
            return str(ext["valueString"])
    return None


def person_name(resource: dict[str, Any] | None) -> str | None:
    """A HumanName as people write it: its text, else prefix, given and family names."""
    names = (resource or {}).get("name") or []
    if isinstance(names, dict):  # Patient.contact.name is one HumanName
        names = [names]
    for name in names:
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return None


def _is_mother(contact: dict[str, Any]) -> bool:
    return any(
        (coding.get("system"), coding.get("code")) in MOTHER_CODINGS
        for concept in contact.get("relationship") or []
        for coding in concept.get("coding") or []
    )


def mother_name(
    patient: dict[str, Any] | None, find_mother: Callable[[str], dict[str, Any] | None]
) -> str | None:
    """The infant's mother's name: from the infant's mother contact, else the Patient
    `find_mother(national code)` returns; None when the patient is not such an infant."""
    code = mother_code(patient)
    if code is None:
        return None
    for contact in (patient or {}).get("contact") or []:
        if _is_mother(contact) and person_name(contact):
            return person_name(contact)
    return person_name(find_mother(code))
