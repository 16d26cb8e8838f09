"""R4 (4.0.1) invariants known to be wrong, and what is evaluated instead.

Each entry names the constraint id, the expression used in its place (None: the native
check in native.py stands in for it) and why, with the erratum: the later FHIR version
(R4B 4.3.0 or R5 5.0.0) that corrected it, or what the published text says the
expression meant. Everything else in constraints.json is evaluated exactly as published.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Erratum:
    expression: str | None  # the corrected FHIRPath, or None when native.py implements it
    reason: str


ERRATA: dict[str, Erratum] = {
    "ref-1": Erratum(
        "reference.exists() implies (reference.startsWith('#').not() or "
        "(reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids')) or "
        "(reference='#' and %rootResource!=%resource))",
        "R4's ref-1 fails a reference with only an identifier (its result is empty, which "
        "strict validators read as false) and '#', the reference from a contained resource "
        "to its container (references.html#contained allows it). R5 5.0.0 ref-1 adds both "
        "cases; the native form in native.py follows it.",
    ),
    "dom-3": Erratum(
        "contained.where((('#'+id in (%resource.descendants().reference | "
        "%resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri) | "
        "%resource.descendants().ofType(url))) or descendants().where(reference = '#').exists() "
        "or descendants().where(ofType(canonical) = '#').exists() or "
        "descendants().where(ofType(uri) = '#').exists()).not()).trace('unmatched', id).empty()",
        "R4 writes as(canonical) on collections (as() takes one item) and tests as(canonical) "
        "= '#' twice where the second was meant for uri; R4B 4.3.0 dom-3 uses ofType() and "
        "tests uri. The native form in native.py follows R4B.",
    ),
    "con-3": Erratum(
        "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology."
        "hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or "
        "category.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-category'"
        " and code='problem-list-item').empty()",
        "R4 compares each category (a CodeableConcept) with the string 'problem-list-item', "
        "which is never equal, so the warning fires on every Condition with a category and no "
        "clinicalStatus. Its own text ('clinicalStatus SHALL be present if verificationStatus is "
        "not entered-in-error and category is problem-list-item') is evaluated instead, on the "
        "category's codings. It is a warning either way.",
    ),
    "que-7": Erratum(
        "operator = 'exists' implies (answer is boolean)",
        "R4 tests answer is Boolean, the FHIRPath System type, which a FHIR boolean answer is "
        "not (answerBoolean fails); the rule's text says 'the value must be a boolean'. "
        "R4B 4.3.0 que-7 names the FHIR type, boolean.",
    ),
}
