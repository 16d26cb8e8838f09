"""The validation corpus: invalid resources by category, each with the rule it breaks.

Each case is a resource that breaks exactly one rule, built from a valid base by one
change, with the element path the refusal must name and, for invariants, the
constraint key. The valid half is the official R4 examples of the prescription-related
types (tests/fixtures/r4-prescription-examples.json, less the known-invalid ones) and
the IR profiles' examples.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NS = 'xmlns="http://www.w3.org/1999/xhtml"'
UCUM = "http://unitsofmeasure.org"
TEXT = {"status": "generated", "div": f"<div {NS}>ok</div>"}


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    resource: dict[str, Any]
    path: str  # the FHIRPath of the element the refusal names
    key: str | None = None  # the constraint key, for invariants

    @property
    def id(self) -> str:
        return f"{self.category}:{self.name}"


def _patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "text": TEXT,
        "identifier": [{"system": "http://noskhe.ir/fhir/sid/national-code", "value": "0018243460"}],
        "name": [{"family": "رضایی", "given": ["علی"]}],
        "gender": "male",
        "birthDate": "1991-03-21",
    }


def _rx() -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "text": TEXT,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "00077"}]
        },
        "subject": {"reference": "Patient/p1"},
        "requester": {"reference": "Practitioner/d1"},
        "authoredOn": "2024-11-05T10:00:00+03:30",
        "dosageInstruction": [
            {
                "text": "1 capsule every 8 hours",
                "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
            }
        ],
        "dispenseRequest": {
            "validityPeriod": {"start": "2024-11-05", "end": "2024-12-05"},
            "quantity": {"value": 30, "unit": "capsule"},
        },
    }


def _observation() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "text": TEXT,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
        "subject": {"reference": "Patient/p1"},
        "valueQuantity": {"value": 120, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }


BASES: dict[str, Callable[[], dict[str, Any]]] = {
    "Patient": _patient,
    "MedicationRequest": _rx,
    "Observation": _observation,
}


def changed(base: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    resource = copy.deepcopy(BASES[base]())
    change(resource)
    return resource


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets a dotted path ("dispenseRequest.validityPeriod.end", "name.0.given")."""

    def apply(resource: dict[str, Any]) -> None:
        target: Any = resource
        *steps, last = path.split(".")
        for step in steps:
            target = target[int(step)] if step.isdigit() else target.setdefault(step, {})
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return apply


def _replace(old: str, new: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(resource: dict[str, Any]) -> None:
        resource.pop(old)
        resource[new] = value

    return apply


def _timing(repeat: dict[str, Any]) -> dict[str, Any]:
    return changed("MedicationRequest", _set("dosageInstruction.0.timing.repeat", repeat))


REPEAT = "MedicationRequest.dosageInstruction[0].timing.repeat"


def _invariants() -> Iterator[Case]:
    # ele-1: every element has a value or children
    yield Case(
        "ele-1",
        "name with only an id",
        changed("Patient", _set("name", [{"id": "n1"}])),
        "Patient.name[0]",
        "ele-1",
    )
    yield Case(
        "ele-1",
        "primitive with only an id",
        changed("Patient", _replace("gender", "_gender", {"id": "g"})),
        "Patient.gender",
        "ele-1",
    )
    yield Case(
        "ele-1",
        "period with only an id",
        changed("MedicationRequest", _set("dispenseRequest.validityPeriod", {"id": "v"})),
        "MedicationRequest.dispenseRequest.validityPeriod",
        "ele-1",
    )
    yield Case(
        "ele-1",
        "coding with only an id",
        changed("Observation", _set("code.coding", [{"id": "c"}])),
        "Observation.code.coding[0]",
        "ele-1",
    )
    yield Case(
        "ele-1",
        "repeated primitive with only an id",
        changed("Patient", _set("name", [{"given": [None], "_given": [{"id": "x"}]}])),
        "Patient.name[0].given[0]",
        "ele-1",
    )
    # ext-1: an extension has a value or extensions, not both and not neither
    ext = "http://noskhe.ir/fhir/StructureDefinition/prescription-type"
    yield Case(
        "ext-1",
        "neither",
        changed("Patient", _set("extension", [{"url": ext}])),
        "Patient.extension[0]",
        "ext-1",
    )
    yield Case(
        "ext-1",
        "both",
        changed(
            "Patient",
            _set(
                "extension",
                [{"url": ext, "valueString": "x", "extension": [{"url": "a", "valueString": "b"}]}],
            ),
        ),
        "Patient.extension[0]",
        "ext-1",
    )
    yield Case(
        "ext-1",
        "nested neither",
        changed("Patient", _set("extension", [{"url": ext, "extension": [{"url": "a"}]}])),
        "Patient.extension[0].extension[0]",
        "ext-1",
    )
    yield Case(
        "ext-1",
        "modifierExtension neither",
        changed("MedicationRequest", _set("modifierExtension", [{"url": ext}])),
        "MedicationRequest.modifierExtension[0]",
        "ext-1",
    )
    yield Case(
        "ext-1",
        "extension on a datatype",
        changed("Observation", _set("valueQuantity.extension", [{"url": ext}])),
        "Observation.value.ofType(Quantity).extension[0]",
        "ext-1",
    )
    # dom-2..dom-5: contained resources
    med = {"resourceType": "Medication", "id": "m1", "status": "active"}
    yield Case(
        "dom-2",
        "nested contained",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(
                    contained=[
                        {
                            **med,
                            "contained": [{"resourceType": "Substance", "id": "s", "code": {"text": "x"}}],
                        }
                    ],
                    medicationReference={"reference": "#m1"},
                    medicationCodeableConcept=None,
                )
                or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest",
        "dom-2",
    )
    yield Case(
        "dom-3",
        "contained not referenced",
        changed("MedicationRequest", _set("contained", [med])),
        "MedicationRequest",
        "dom-3",
    )
    yield Case(
        "dom-3",
        "second contained not referenced",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(contained=[med, {**med, "id": "m2"}], medicationReference={"reference": "#m1"})
                or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest",
        "dom-3",
    )
    yield Case(
        "dom-4",
        "contained with versionId",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(
                    contained=[{**med, "meta": {"versionId": "2"}}], medicationReference={"reference": "#m1"}
                )
                or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest",
        "dom-4",
    )
    yield Case(
        "dom-4",
        "contained with lastUpdated",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(
                    contained=[{**med, "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}}],
                    medicationReference={"reference": "#m1"},
                )
                or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest",
        "dom-4",
    )
    yield Case(
        "dom-5",
        "contained with security labels",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(
                    contained=[
                        {
                            **med,
                            "meta": {
                                "security": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                        "code": "R",
                                    }
                                ]
                            },
                        }
                    ],
                    medicationReference={"reference": "#m1"},
                )
                or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest",
        "dom-5",
    )
    # ref-1: a local reference names a contained resource
    yield Case(
        "ref-1",
        "to nothing",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(medicationReference={"reference": "#nope"}) or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest.medication.ofType(Reference)",
        "ref-1",
    )
    yield Case(
        "ref-1",
        "to the container itself",
        changed("Observation", _set("subject", {"reference": "#"})),
        "Observation.subject",
        "ref-1",
    )
    yield Case(
        "ref-1",
        "subject to nothing",
        changed("Observation", _set("subject", {"reference": "#p"})),
        "Observation.subject",
        "ref-1",
    )
    # per-1: a period ends after it starts
    yield Case(
        "per-1",
        "validity period backwards",
        changed(
            "MedicationRequest",
            _set("dispenseRequest.validityPeriod", {"start": "2024-12-05", "end": "2024-11-05"}),
        ),
        "MedicationRequest.dispenseRequest.validityPeriod",
        "per-1",
    )
    yield Case(
        "per-1",
        "across time zones",
        changed(
            "MedicationRequest",
            _set(
                "dispenseRequest.validityPeriod",
                {"start": "2024-11-05T10:00:00Z", "end": "2024-11-05T12:00:00+03:30"},
            ),
        ),
        "MedicationRequest.dispenseRequest.validityPeriod",
        "per-1",
    )
    yield Case(
        "per-1",
        "name period",
        changed("Patient", _set("name.0.period", {"start": "2020", "end": "2019"})),
        "Patient.name[0].period",
        "per-1",
    )
    yield Case(
        "per-1",
        "identifier period",
        changed("Patient", _set("identifier.0.period", {"start": "2020-02-02", "end": "2020-02-01"})),
        "Patient.identifier[0].period",
        "per-1",
    )
    yield Case(
        "per-1",
        "effective period",
        changed(
            "Observation",
            lambda r: r.update(
                effectivePeriod={"start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"}
            ),
        ),
        "Observation.effective.ofType(Period)",
        "per-1",
    )
    # qty-3 and the Quantity profiles
    yield Case(
        "qty-3",
        "code without system",
        changed("Observation", _set("valueQuantity", {"value": 1, "code": "mg"})),
        "Observation.value.ofType(Quantity)",
        "qty-3",
    )
    yield Case(
        "qty-3",
        "dose code without system",
        changed(
            "MedicationRequest",
            _set("dosageInstruction.0.doseAndRate.0.doseQuantity", {"value": 1, "code": "CAP"}),
        ),
        "MedicationRequest.dosageInstruction[0].doseAndRate[0].dose.ofType(Quantity)",
        "qty-3",
    )
    yield Case(
        "qty-3",
        "dispense quantity code without system",
        changed("MedicationRequest", _set("dispenseRequest.quantity", {"value": 30, "code": "CAP"})),
        "MedicationRequest.dispenseRequest.quantity",
        "qty-3",
    )
    yield Case(
        "drt-1",
        "duration code not UCUM",
        changed(
            "MedicationRequest",
            _set(
                "dispenseRequest.expectedSupplyDuration",
                {"value": 7, "system": "http://example.org", "code": "d"},
            ),
        ),
        "MedicationRequest.dispenseRequest.expectedSupplyDuration",
        "drt-1",
    )
    yield Case(
        "drt-1",
        "bounds duration without value",
        changed(
            "MedicationRequest",
            _set("dosageInstruction.0.timing.repeat.boundsDuration", {"system": UCUM, "code": "d"}),
        ),
        f"{REPEAT}.bounds.ofType(Duration)",
        "drt-1",
    )
    yield Case(
        "age-1",
        "negative age",
        {
            "resourceType": "Condition",
            "text": TEXT,
            "subject": {"reference": "Patient/p"},
            "onsetAge": {"value": -3, "system": UCUM, "code": "a"},
        },
        "Condition.onset.ofType(Age)",
        "age-1",
    )
    yield Case(
        "age-1",
        "age not UCUM",
        {
            "resourceType": "Condition",
            "text": TEXT,
            "subject": {"reference": "Patient/p"},
            "onsetAge": {"value": 3, "system": "http://example.org", "code": "a"},
        },
        "Condition.onset.ofType(Age)",
        "age-1",
    )
    # rng-2 and rat-1
    yield Case(
        "rng-2",
        "dose range backwards",
        changed(
            "MedicationRequest",
            _set(
                "dosageInstruction.0.doseAndRate.0",
                {"doseRange": {"low": {"value": 2, "unit": "tab"}, "high": {"value": 1, "unit": "tab"}}},
            ),
        ),
        "MedicationRequest.dosageInstruction[0].doseAndRate[0].dose.ofType(Range)",
        "rng-2",
    )
    yield Case(
        "rng-2",
        "range in converted units",
        changed(
            "Observation",
            lambda r: (
                r.pop("valueQuantity")
                and r.update(
                    valueRange={
                        "low": {"value": 2, "system": UCUM, "code": "g"},
                        "high": {"value": 500, "system": UCUM, "code": "mg"},
                    }
                )
            ),
        ),
        "Observation.value.ofType(Range)",
        "rng-2",
    )
    yield Case(
        "rat-1",
        "numerator only",
        changed(
            "Observation",
            lambda r: r.pop("valueQuantity") and r.update(valueRatio={"numerator": {"value": 1}}),
        ),
        "Observation.value.ofType(Ratio)",
        "rat-1",
    )
    yield Case(
        "rat-1",
        "denominator only",
        changed(
            "Observation",
            lambda r: r.pop("valueQuantity") and r.update(valueRatio={"denominator": {"value": 1}}),
        ),
        "Observation.value.ofType(Ratio)",
        "rat-1",
    )
    # Timing
    yield Case(
        "tim-1",
        "duration without unit",
        _timing({"duration": 1, "frequency": 1, "period": 1, "periodUnit": "d"}),
        REPEAT,
        "tim-1",
    )
    yield Case("tim-2", "period without unit", _timing({"frequency": 1, "period": 8}), REPEAT, "tim-2")
    yield Case("tim-4", "negative duration", _timing({"duration": -1, "durationUnit": "h"}), REPEAT, "tim-4")
    yield Case(
        "tim-5",
        "negative period",
        _timing({"frequency": 1, "period": -8, "periodUnit": "h"}),
        REPEAT,
        "tim-5",
    )
    yield Case(
        "tim-6",
        "periodMax without period",
        _timing({"frequency": 1, "periodMax": 8, "periodUnit": "h"}),
        REPEAT,
        "tim-6",
    )
    yield Case(
        "tim-7",
        "durationMax without duration",
        _timing({"durationMax": 2, "durationUnit": "h"}),
        REPEAT,
        "tim-7",
    )
    yield Case("tim-8", "countMax without count", _timing({"countMax": 3}), REPEAT, "tim-8")
    yield Case("tim-9", "offset without when", _timing({"offset": 30}), REPEAT, "tim-9")
    yield Case("tim-9", "offset with when C", _timing({"offset": 30, "when": ["C"]}), REPEAT, "tim-9")
    yield Case(
        "tim-10",
        "timeOfDay with when",
        _timing({"timeOfDay": ["08:00:00"], "when": ["MORN"]}),
        REPEAT,
        "tim-10",
    )
    # Observation
    yield Case(
        "obs-6",
        "value and dataAbsentReason",
        changed("Observation", _set("dataAbsentReason", {"text": "not asked"})),
        "Observation",
        "obs-6",
    )
    yield Case(
        "obs-7",
        "component repeats the code",
        changed(
            "Observation",
            _set(
                "component",
                [
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                        "valueString": "x",
                    }
                ],
            ),
        ),
        "Observation",
        "obs-7",
    )
    yield Case(
        "obs-3",
        "empty reference range",
        changed("Observation", _set("referenceRange", [{"type": {"text": "normal"}}])),
        "Observation.referenceRange[0]",
        "obs-3",
    )
    # Condition
    condition = {
        "resourceType": "Condition",
        "text": TEXT,
        "subject": {"reference": "Patient/p"},
        "code": {"text": "x"},
    }
    cs = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    vs = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    yield Case(
        "con-4",
        "abated but active",
        {
            **condition,
            "clinicalStatus": {"coding": [{"system": cs, "code": "active"}]},
            "abatementDateTime": "2024-01-01",
        },
        "Condition",
        "con-4",
    )
    yield Case(
        "con-5",
        "entered-in-error with a clinical status",
        {
            **condition,
            "clinicalStatus": {"coding": [{"system": cs, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": vs, "code": "entered-in-error"}]},
        },
        "Condition",
        "con-5",
    )
    yield Case(
        "con-1",
        "stage without summary or assessment",
        {**condition, "stage": [{"type": {"text": "x"}}]},
        "Condition.stage[0]",
        "con-1",
    )
    yield Case(
        "con-2",
        "evidence without code or detail",
        {**condition, "evidence": [{"id": "e", "extension": [{"url": "http://x", "valueString": "y"}]}]},
        "Condition.evidence[0]",
        "con-2",
    )
    # Patient, Organization, ContactPoint, Attachment
    yield Case(
        "pat-1",
        "contact with nothing",
        changed("Patient", _set("contact", [{"gender": "female"}])),
        "Patient.contact[0]",
        "pat-1",
    )
    org = {"resourceType": "Organization", "text": TEXT, "name": "داروخانه"}
    yield Case(
        "org-1",
        "neither identifier nor name",
        {"resourceType": "Organization", "text": TEXT, "active": True},
        "Organization",
        "org-1",
    )
    yield Case(
        "org-2",
        "home address",
        {**org, "address": [{"use": "home", "city": "Tehran"}]},
        "Organization.address[0]",
        "org-2",
    )
    yield Case(
        "org-3",
        "home telecom",
        {**org, "telecom": [{"use": "home", "system": "phone", "value": "021"}]},
        "Organization.telecom[0]",
        "org-3",
    )
    yield Case(
        "cpt-2",
        "value without system",
        changed("Patient", _set("telecom", [{"value": "09121234567"}])),
        "Patient.telecom[0]",
        "cpt-2",
    )
    yield Case(
        "att-1",
        "data without contentType",
        changed("Patient", _set("photo", [{"data": "aGVsbG8="}])),
        "Patient.photo[0]",
        "att-1",
    )
    # MedicationDispense, ServiceRequest, MedicationAdministration, AllergyIntolerance
    md = {
        "resourceType": "MedicationDispense",
        "text": TEXT,
        "status": "completed",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": "Patient/p"},
    }
    yield Case(
        "mdd-1",
        "handed over before prepared",
        {**md, "whenPrepared": "2024-11-05T10:00:00+03:30", "whenHandedOver": "2024-11-05T09:00:00+03:30"},
        "MedicationDispense",
        "mdd-1",
    )
    yield Case(
        "mdd-1",
        "handed over the day before",
        {**md, "whenPrepared": "2024-11-05", "whenHandedOver": "2024-11-04"},
        "MedicationDispense",
        "mdd-1",
    )
    sr = {
        "resourceType": "ServiceRequest",
        "text": TEXT,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
    }
    yield Case(
        "prr-1",
        "order detail without code",
        {**sr, "orderDetail": [{"text": "with contrast"}]},
        "ServiceRequest",
        "prr-1",
    )
    mad = {
        "resourceType": "MedicationAdministration",
        "text": TEXT,
        "status": "completed",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2024-01-01",
    }
    yield Case(
        "mad-1",
        "dosage without dose or rate",
        {**mad, "dosage": {"text": "one"}},
        "MedicationAdministration.dosage",
        "mad-1",
    )
    ai = {"resourceType": "AllergyIntolerance", "text": TEXT, "patient": {"reference": "Patient/p"}}
    ver = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
    clin = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
    yield Case(
        "ait-1",
        "no clinical status",
        {**ai, "verificationStatus": {"coding": [{"system": ver, "code": "confirmed"}]}},
        "AllergyIntolerance",
        "ait-1",
    )
    yield Case(
        "ait-2",
        "entered-in-error with clinical status",
        {
            **ai,
            "clinicalStatus": {"coding": [{"system": clin, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": ver, "code": "entered-in-error"}]},
        },
        "AllergyIntolerance",
        "ait-2",
    )
    # Bundle
    yield from _bundles()


def _bundles() -> Iterator[Case]:
    patient = {"resourceType": "Patient", "text": TEXT}
    entry = {"fullUrl": "urn:uuid:3f1c8e62-7d2b-4a51-9a0e-1b2c3d4e5f60", "resource": patient}
    yield Case(
        "bdl-1",
        "total in a collection",
        {"resourceType": "Bundle", "type": "collection", "total": 1, "entry": [entry]},
        "Bundle",
        "bdl-1",
    )
    yield Case(
        "bdl-2",
        "search in a collection",
        {"resourceType": "Bundle", "type": "collection", "entry": [{**entry, "search": {"mode": "match"}}]},
        "Bundle",
        "bdl-2",
    )
    yield Case(
        "bdl-3",
        "transaction entry without request",
        {"resourceType": "Bundle", "type": "transaction", "entry": [entry]},
        "Bundle",
        "bdl-3",
    )
    yield Case(
        "bdl-4",
        "batch-response entry without response",
        {"resourceType": "Bundle", "type": "batch-response", "entry": [entry]},
        "Bundle",
        "bdl-4",
    )
    yield Case(
        "bdl-5",
        "empty entry",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:3f1c8e62-7d2b-4a51-9a0e-1b2c3d4e5f61"}],
        },
        "Bundle.entry[0]",
        "bdl-5",
    )
    yield Case(
        "bdl-7",
        "fullUrl twice",
        {"resourceType": "Bundle", "type": "collection", "entry": [entry, entry]},
        "Bundle",
        "bdl-7",
    )
    yield Case(
        "bdl-8",
        "fullUrl with a version",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{**entry, "fullUrl": "http://x/fhir/Patient/1/_history/2"}],
        },
        "Bundle.entry[0]",
        "bdl-8",
    )
    doc = {
        "resourceType": "Bundle",
        "type": "document",
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": "urn:uuid:3f1c8e62-7d2b-4a51-9a0e-1b2c3d4e5f62",
        },
        "timestamp": "2024-01-01T00:00:00Z",
    }
    yield Case(
        "bdl-9",
        "document without identifier",
        {**{k: v for k, v in doc.items() if k != "identifier"}, "entry": [entry]},
        "Bundle",
        "bdl-9",
    )
    yield Case(
        "bdl-10",
        "document without timestamp",
        {**{k: v for k, v in doc.items() if k != "timestamp"}, "entry": [entry]},
        "Bundle",
        "bdl-10",
    )
    yield Case("bdl-11", "document not led by a Composition", {**doc, "entry": [entry]}, "Bundle", "bdl-11")
    yield Case(
        "bdl-12",
        "message not led by a MessageHeader",
        {"resourceType": "Bundle", "type": "message", "entry": [entry]},
        "Bundle",
        "bdl-12",
    )
    yield Case(
        "bundle-entry",
        "an invariant inside an entry",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": changed(
                        "MedicationRequest",
                        _set("dispenseRequest.validityPeriod", {"start": "2024-12-05", "end": "2024-11-05"}),
                    )
                }
            ],
        },
        "Bundle.entry[0].resource.dispenseRequest.validityPeriod",
        "per-1",
    )


def _resource_rules() -> Iterator[Case]:
    """Invariants of other resource types, one case each."""
    p = {"reference": "Patient/p"}
    appt = {
        "resourceType": "Appointment",
        "text": TEXT,
        "status": "booked",
        "participant": [{"actor": p, "status": "accepted"}],
    }
    yield Case(
        "app-1",
        "participant without type or actor",
        {**appt, "participant": [{"status": "accepted"}]},
        "Appointment.participant[0]",
        "app-1",
    )
    yield Case(
        "app-2", "start without end", {**appt, "start": "2024-01-01T10:00:00Z"}, "Appointment", "app-2"
    )
    yield Case("app-3", "booked without times", appt, "Appointment", "app-3")
    yield Case(
        "app-4",
        "cancelation reason while booked",
        {
            **appt,
            "start": "2024-01-01T10:00:00Z",
            "end": "2024-01-01T10:30:00Z",
            "cancelationReason": {"text": "x"},
        },
        "Appointment",
        "app-4",
    )
    yield Case(
        "lst-1",
        "empty reason with entries",
        {
            "resourceType": "List",
            "text": TEXT,
            "status": "current",
            "mode": "working",
            "emptyReason": {"text": "x"},
            "entry": [{"item": p}],
        },
        "List",
        "lst-1",
    )
    yield Case(
        "lst-2",
        "deleted outside changes mode",
        {
            "resourceType": "List",
            "text": TEXT,
            "status": "current",
            "mode": "working",
            "entry": [{"item": p, "deleted": True}],
        },
        "List",
        "lst-2",
    )
    yield Case(
        "lst-3",
        "entry date in a snapshot",
        {
            "resourceType": "List",
            "text": TEXT,
            "status": "current",
            "mode": "snapshot",
            "entry": [{"item": p, "date": "2024-01-01"}],
        },
        "List",
        "lst-3",
    )
    yield Case(
        "grp-1",
        "members of a definitional group",
        {"resourceType": "Group", "text": TEXT, "type": "person", "actual": False, "member": [{"entity": p}]},
        "Group",
        "grp-1",
    )
    fmh = {
        "resourceType": "FamilyMemberHistory",
        "text": TEXT,
        "status": "completed",
        "patient": p,
        "relationship": {"text": "mother"},
    }
    yield Case(
        "fhs-1",
        "age and born",
        {**fmh, "ageAge": {"value": 60, "system": UCUM, "code": "a"}, "bornDate": "1960"},
        "FamilyMemberHistory",
        "fhs-1",
    )
    yield Case(
        "fhs-2", "estimated age without age", {**fmh, "estimatedAge": True}, "FamilyMemberHistory", "fhs-2"
    )
    yield Case(
        "cpl-3",
        "activity with detail and reference",
        {
            "resourceType": "CarePlan",
            "text": TEXT,
            "status": "active",
            "intent": "plan",
            "subject": p,
            "activity": [{"reference": {"reference": "ServiceRequest/1"}, "detail": {"status": "scheduled"}}],
        },
        "CarePlan.activity[0]",
        "cpl-3",
    )
    comp = {
        "resourceType": "Composition",
        "text": TEXT,
        "status": "final",
        "type": {"text": "x"},
        "date": "2024-01-01",
        "author": [p],
        "title": "t",
    }
    yield Case(
        "cmp-1", "empty section", {**comp, "section": [{"title": "x"}]}, "Composition.section[0]", "cmp-1"
    )
    yield Case(
        "cmp-2",
        "empty reason with entries",
        {**comp, "section": [{"entry": [p], "emptyReason": {"text": "x"}}]},
        "Composition.section[0]",
        "cmp-2",
    )
    ae = {
        "resourceType": "AuditEvent",
        "text": TEXT,
        "type": {"code": "rest"},
        "recorded": "2024-01-01T00:00:00Z",
        "agent": [{"requestor": True}],
        "source": {"observer": p},
    }
    yield Case(
        "sev-1",
        "entity with name and query",
        {**ae, "entity": [{"name": "x", "query": "YQ=="}]},
        "AuditEvent.entity[0]",
        "sev-1",
    )
    consent = {
        "resourceType": "Consent",
        "text": TEXT,
        "status": "active",
        "scope": {"text": "x"},
        "category": [{"text": "x"}],
    }
    yield Case("ppc-1", "no policy", consent, "Consent", "ppc-1")
    yield Case(
        "ipn-1",
        "insurance plan without identifier or name",
        {"resourceType": "InsurancePlan", "text": TEXT, "status": "active"},
        "InsurancePlan",
        "ipn-1",
    )
    yield Case(
        "lnk-1",
        "a linkage of one",
        {"resourceType": "Linkage", "text": TEXT, "item": [{"type": "source", "resource": p}]},
        "Linkage",
        "lnk-1",
    )
    goal = {
        "resourceType": "Goal",
        "text": TEXT,
        "lifecycleStatus": "active",
        "description": {"text": "x"},
        "subject": p,
    }
    yield Case(
        "gol-1",
        "target detail without measure",
        {**goal, "target": [{"detailQuantity": {"value": 1}}]},
        "Goal.target[0]",
        "gol-1",
    )
    q = {"resourceType": "Questionnaire", "text": TEXT, "status": "active"}
    yield Case(
        "que-1",
        "group without items",
        {**q, "item": [{"linkId": "1", "type": "group"}]},
        "Questionnaire.item[0]",
        "que-1",
    )
    yield Case(
        "que-2",
        "linkId twice",
        {**q, "item": [{"linkId": "1", "type": "string"}, {"linkId": "1", "type": "string"}]},
        "Questionnaire",
        "que-2",
    )
    yield Case(
        "que-3",
        "display with a code",
        {**q, "item": [{"linkId": "1", "type": "display", "text": "x", "code": [{"code": "c"}]}]},
        "Questionnaire.item[0]",
        "que-3",
    )
    yield Case(
        "que-6",
        "required display",
        {**q, "item": [{"linkId": "1", "type": "display", "text": "x", "required": True}]},
        "Questionnaire.item[0]",
        "que-6",
    )
    yield Case(
        "que-7",
        "exists with a non-boolean answer",
        {
            **q,
            "item": [
                {
                    "linkId": "1",
                    "type": "string",
                    "enableWhen": [{"question": "0", "operator": "exists", "answerString": "x"}],
                }
            ],
        },
        "Questionnaire.item[0].enableWhen[0]",
        "que-7",
    )
    yield Case(
        "qrs-1",
        "answer and items",
        {
            "resourceType": "QuestionnaireResponse",
            "text": TEXT,
            "status": "completed",
            "item": [{"linkId": "1", "answer": [{"valueString": "x"}], "item": [{"linkId": "2"}]}],
        },
        "QuestionnaireResponse.item[0]",
        "qrs-1",
    )
    vs = {"resourceType": "ValueSet", "text": TEXT, "status": "active"}
    yield Case(
        "vsd-1",
        "include without system or valueSet",
        {**vs, "compose": {"include": [{"concept": [{"code": "a"}]}]}},
        "ValueSet.compose.include[0]",
        "vsd-1",
    )
    yield Case(
        "vsd-3",
        "concepts and filters",
        {
            **vs,
            "compose": {
                "include": [
                    {
                        "system": "http://x",
                        "concept": [{"code": "a"}],
                        "filter": [{"property": "p", "op": "=", "value": "v"}],
                    }
                ]
            },
        },
        "ValueSet.compose.include[0]",
        "vsd-3",
    )
    yield Case(
        "csd-1",
        "code twice",
        {
            "resourceType": "CodeSystem",
            "text": TEXT,
            "status": "active",
            "content": "complete",
            "concept": [{"code": "a"}, {"code": "a"}],
        },
        "CodeSystem",
        "csd-1",
    )
    yield Case(
        "inv-1",
        "parameter with value and part",
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "a", "valueString": "x", "part": [{"name": "b", "valueString": "y"}]}],
        },
        "Parameters.parameter[0]",
        "inv-1",
    )
    yield Case(
        "inv-1",
        "task modified before authored",
        {
            "resourceType": "Task",
            "text": TEXT,
            "status": "ready",
            "intent": "order",
            "authoredOn": "2024-02-01",
            "lastModified": "2024-01-01",
        },
        "Task",
        "inv-1",
    )
    yield Case(
        "ces-1",
        "item with category and product",
        {
            "resourceType": "CoverageEligibilityResponse",
            "text": TEXT,
            "status": "active",
            "purpose": ["benefits"],
            "patient": p,
            "created": "2024-01-01",
            "request": {"reference": "CoverageEligibilityRequest/1"},
            "outcome": "complete",
            "insurer": {"reference": "Organization/1"},
            "insurance": [
                {
                    "coverage": {"reference": "Coverage/1"},
                    "item": [{"category": {"text": "x"}, "productOrService": {"text": "y"}}],
                }
            ],
        },
        "CoverageEligibilityResponse.insurance[0].item[0]",
        "ces-1",
    )
    yield Case(
        "imr-1",
        "recommendation without vaccine or disease",
        {
            "resourceType": "ImmunizationRecommendation",
            "text": TEXT,
            "patient": p,
            "date": "2024-01-01",
            "recommendation": [{"forecastStatus": {"text": "due"}}],
        },
        "ImmunizationRecommendation.recommendation[0]",
        "imr-1",
    )
    yield Case(
        "apr-1",
        "no participant type or actor",
        {
            "resourceType": "AppointmentResponse",
            "text": TEXT,
            "appointment": {"reference": "Appointment/1"},
            "participantStatus": "accepted",
        },
        "AppointmentResponse",
        "apr-1",
    )


def _narratives() -> Iterator[Case]:
    refused = {
        "script": f"<div {NS}><script>alert(1)</script>x</div>",
        "onclick": f'<div {NS}><p onclick="alert(1)">x</p></div>',
        "onerror on img": f'<div {NS}><img src="x" onerror="alert(1)"/></div>',
        "onload on body": f'<div {NS}><body onload="alert(1)">x</body></div>',
        "javascript href": f'<div {NS}><a href="javascript:alert(1)">x</a></div>',
        "obfuscated javascript href": f'<div {NS}><a href=" jav&#x09;ascript:alert(1)">x</a></div>',
        "data href": f'<div {NS}><a href="data:text/html;base64,PHNjcmlwdD4=">x</a></div>',
        "vbscript href": f'<div {NS}><a href="vbscript:msgbox(1)">x</a></div>',
        "iframe": f'<div {NS}><iframe src="https://evil.example"></iframe>x</div>',
        "object": f'<div {NS}><object data="x.swf"></object>x</div>',
        "embed": f'<div {NS}><embed src="x.swf"/>x</div>',
        "form": f'<div {NS}><form action="https://evil.example"><input name="p"/></form>x</div>',
        "base": f'<div {NS}><base href="https://evil.example/"/>x</div>',
        "link stylesheet": f'<div {NS}><link rel="stylesheet" href="https://evil.example/x.css"/>x</div>',
        "style element": f"<div {NS}><style>*{{display:none}}</style>x</div>",
        "head": f"<div {NS}><head><title>t</title></head>x</div>",
        "meta refresh": f'<div {NS}><meta http-equiv="refresh" content="0;url=https://evil.example"/>x</div>',
        "svg": f'<div {NS}><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>x</div>',
        "css expression": f'<div {NS}><span style="width: expression(alert(1))">x</span></div>',
        "css javascript url": f'<div {NS}><span style="background: url(javascript:alert(1))">x</span></div>',
        "css import": f"<div {NS}><span style=\"@import 'https://evil.example/x.css'\">x</span></div>",
        "html entity": f"<div {NS}>&nbsp;x</div>",
        "not well-formed": f"<div {NS}><p>x</div>",
        "wrong namespace": '<div xmlns="http://example.org/html">x</div>',
        "no namespace": "<div>x</div>",
        "processing instruction": f"<div {NS}><?xml-stylesheet href='x'?>x</div>",
        "frame": f'<div {NS}><frame src="x"/>x</div>',
        "button": f"<div {NS}><button>x</button></div>",
        "javascript area": f'<div {NS}><map name="m"><area shape="rect" href="javascript:x()"/></map>x</div>',
        "vbscript image": f'<div {NS}><img src="vbscript:x" alt="x"/></div>',
        "javascript quote cite": f'<div {NS}><q cite="javascript:x()">x</q></div>',
        "data blockquote cite": f'<div {NS}><blockquote cite="data:text/html,x">x</blockquote></div>',
        "input": f'<div {NS}><input type="text"/>x</div>',
        "textarea": f"<div {NS}><textarea>x</textarea></div>",
    }
    for name, div in refused.items():
        yield Case(
            "txt-1",
            name,
            changed("Patient", _set("text", {"status": "generated", "div": div})),
            "Patient.text.div",
            "txt-1",
        )
    for name, div in {
        "whitespace only": f"<div {NS}>  \n </div>",
        "empty paragraph": f"<div {NS}><p/></div>",
        "self-closed div": f"<div {NS}/>",
        "only a line break": f"<div {NS}><br/></div>",
    }.items():
        yield Case(
            "txt-2",
            name,
            changed("Patient", _set("text", {"status": "generated", "div": div})),
            "Patient.text.div",
            "txt-2",
        )


def _references() -> Iterator[Case]:
    bad_format = {
        "type without id": "Patient/",
        "space in id": "Patient/a b",
        "unknown type": "Patientx/1",
        "lower-case type": "patient/1",
        "extra segment": "Patient/1/x",
        "id too long": "Patient/" + "1" * 65,
        "bare id": "p1",
        "bad urn:uuid": "urn:uuid:1234",
        "ftp URL": "ftp://example.org/Patient/1",
        "URL with a space": "http://exa mple.org/Patient/1",
        "history without version": "Patient/1/_history/",
        "double slash": "Patient//1",
        "leading slash": "/Patient/1",
        "query on a literal": "Patient/1?x=y",
        "fragment on a literal": "Patient/1#x",
    }
    for name, ref in bad_format.items():
        yield Case(
            "reference-format",
            name,
            changed("Observation", _set("subject", {"reference": ref})),
            "Observation.subject.reference",
        )
    wrong_target = [
        ("Observation", "subject", "Medication/1", "Observation.subject.reference"),
        ("MedicationRequest", "requester", "Observation/1", "MedicationRequest.requester.reference"),
        ("MedicationRequest", "subject", "Practitioner/1", "MedicationRequest.subject.reference"),
        (
            "MedicationRequest",
            "dispenseRequest.performer",
            "Practitioner/1",
            "MedicationRequest.dispenseRequest.performer.reference",
        ),
        (
            "Observation",
            "subject",
            "http://fhir.example.ir/fhir/Medication/1",
            "Observation.subject.reference",
        ),
        ("Patient", "managingOrganization", "Practitioner/1", "Patient.managingOrganization.reference"),
        ("Patient", "link", "Patient/2", ""),
    ]
    for base, element, ref, path in wrong_target:
        if path:
            yield Case(
                "reference-target",
                f"{base}.{element} to {ref}",
                changed(base, _set(element, {"reference": ref})),
                path,
            )
    yield Case(
        "reference-target",
        "generalPractitioner to a Patient",
        changed("Patient", _set("generalPractitioner", [{"reference": "Patient/2"}])),
        "Patient.generalPractitioner[0].reference",
    )
    yield Case(
        "reference-target",
        "link to a Practitioner",
        changed("Patient", _set("link", [{"other": {"reference": "Practitioner/2"}, "type": "seealso"}])),
        "Patient.link[0].other.reference",
    )
    yield Case(
        "reference-target",
        "insurance to a Patient",
        changed("MedicationRequest", _set("insurance", [{"reference": "Patient/1"}])),
        "MedicationRequest.insurance[0].reference",
    )
    yield Case(
        "reference-target",
        "basedOn to a Patient",
        changed("MedicationRequest", _set("basedOn", [{"reference": "Patient/1"}])),
        "MedicationRequest.basedOn[0].reference",
    )
    med = {"resourceType": "Medication", "id": "m1", "status": "active"}
    yield Case(
        "reference-target",
        "subject to a contained Medication",
        changed("Observation", lambda r: r.update(contained=[med], subject={"reference": "#m1"})),
        "Observation.subject.reference",
    )
    yield Case(
        "reference-type",
        "type disagrees",
        changed("Observation", _set("subject", {"reference": "Patient/1", "type": "Group"})),
        "Observation.subject.type",
    )
    yield Case(
        "reference-type",
        "type not allowed",
        changed("Observation", _set("subject", {"type": "Medication", "display": "x"})),
        "Observation.subject.type",
    )
    yield Case(
        "reference-type",
        "type unknown",
        changed("Observation", _set("subject", {"type": "Person2", "display": "x"})),
        "Observation.subject.type",
    )
    yield Case(
        "contained-ids",
        "duplicate",
        changed(
            "MedicationRequest",
            lambda r: (
                r.update(contained=[med, med], medicationReference={"reference": "#m1"})
                or r.pop("medicationCodeableConcept")
            ),
        ),
        "MedicationRequest.contained[1].id",
    )
    yield Case(
        "contained-ids",
        "missing",
        changed(
            "MedicationRequest",
            lambda r: r.update(contained=[{"resourceType": "Medication", "status": "active"}]),
        ),
        "MedicationRequest.contained[0]",
    )
    conditional = "Practitioner?identifier=http://noskhe.ir/fhir/sid/irimc|12345"
    yield Case(
        "conditional-reference",
        "requester",
        changed("MedicationRequest", _set("requester", {"reference": conditional})),
        "MedicationRequest.requester.reference",
    )
    yield Case(
        "conditional-reference",
        "subject",
        changed(
            "Observation",
            _set(
                "subject",
                {"reference": "Patient?identifier=http://noskhe.ir/fhir/sid/national-code|0018243460"},
            ),
        ),
        "Observation.subject.reference",
    )
    yield Case(
        "conditional-reference",
        "in a batch bundle entry",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": changed("MedicationRequest", _set("requester", {"reference": conditional}))}
            ],
        },
        "Bundle.entry[0].resource.requester.reference",
    )
    yield Case(
        "urn-outside-bundle",
        "urn:uuid",
        changed(
            "Observation", _set("subject", {"reference": "urn:uuid:3f1c8e62-7d2b-4a51-9a0e-1b2c3d4e5f60"})
        ),
        "Observation.subject.reference",
    )
    yield Case(
        "urn-outside-bundle",
        "urn:oid",
        changed("Observation", _set("subject", {"reference": "urn:oid:1.2.3.4"})),
        "Observation.subject.reference",
    )


PRIMITIVE_CASES: dict[str, list[tuple[str, str, Any, str]]] = {
    # type -> (name, element to set on a Patient/Observation/MedicationRequest, bad value, path)
    "boolean": [
        ("yes", "active", "yes", "Patient.active"),
        ("string", "active", "true", "Patient.active"),
        ("number", "active", 1, "Patient.active"),
    ],
    "integer": [
        ("written with .0", "multipleBirthInteger", 2.0, "Patient.multipleBirth.ofType(integer)"),
        ("fraction", "multipleBirthInteger", 1.5, "Patient.multipleBirth.ofType(integer)"),
        ("too big", "multipleBirthInteger", 2**31, "Patient.multipleBirth.ofType(integer)"),
        ("string", "multipleBirthInteger", "2", "Patient.multipleBirth.ofType(integer)"),
    ],
    "decimal": [
        ("string", "valueQuantity.value", "1.5", "Observation.value.ofType(Quantity).value"),
        ("boolean", "valueQuantity.value", True, "Observation.value.ofType(Quantity).value"),
    ],
    "string": [
        ("number", "name.0.family", 5, "Patient.name[0].family"),
        ("empty", "name.0.family", "", "Patient.name[0].family"),
        ("too long", "name.0.family", "x" * (1024 * 1024 + 1), "Patient.name[0].family"),
    ],
    "code": [
        ("trailing space", "gender", "male ", "Patient.gender"),
        ("leading space", "gender", " male", "Patient.gender"),
        ("not in the value set", "gender", "man", "Patient.gender"),
        ("double space", "maritalStatus.coding.0.code", "a  b", "Patient.maritalStatus.coding[0].code"),
    ],
    # a create ignores the body's own id, so the id type is tried on Meta.versionId
    "id": [
        ("space", "meta.versionId", "a b", "Patient.meta.versionId"),
        ("non-ASCII", "meta.versionId", "ä", "Patient.meta.versionId"),
        ("empty", "meta.versionId", "", "Patient.meta.versionId"),
        ("too long", "meta.versionId", "x" * 65, "Patient.meta.versionId"),
        ("underscore", "meta.versionId", "a_b", "Patient.meta.versionId"),
        ("slash", "meta.versionId", "a/b", "Patient.meta.versionId"),
    ],
    "uri": [
        ("tab", "identifier.0.system", "http://x\ty", "Patient.identifier[0].system"),
        ("space", "identifier.0.system", "http://x y", "Patient.identifier[0].system"),
        ("number", "identifier.0.system", 1, "Patient.identifier[0].system"),
    ],
    "url": [("space", "photo.0.url", "http://x y", "Patient.photo[0].url")],
    "canonical": [("space", "meta.profile.0", "http://x y", "Patient.meta.profile[0]")],
    "oid": [("not an oid", "valueOid", "1.2.3", "")],
    "uuid": [("not a uuid", "valueUuid", "urn:uuid:x", "")],
    "date": [
        ("one-digit month", "birthDate", "2024-1-01", "Patient.birthDate"),
        ("one-digit day", "birthDate", "2024-01-1", "Patient.birthDate"),
        ("two-digit year", "birthDate", "24-01-01", "Patient.birthDate"),
        ("slashes", "birthDate", "2024/01/01", "Patient.birthDate"),
        ("29 February 2023", "birthDate", "2023-02-29", "Patient.birthDate"),
        ("month 13", "birthDate", "2024-13-01", "Patient.birthDate"),
        ("31 February", "birthDate", "2023-02-31", "Patient.birthDate"),
        ("with time", "birthDate", "2024-01-01T00:00:00Z", "Patient.birthDate"),
        ("year 0000", "birthDate", "0000-01-01", "Patient.birthDate"),
    ],
    "dateTime": [
        ("no seconds", "deceasedDateTime", "2024-01-01T10:00Z", "Patient.deceased.ofType(dateTime)"),
        ("space for T", "deceasedDateTime", "2024-01-01 10:00:00Z", "Patient.deceased.ofType(dateTime)"),
        ("30 February", "deceasedDateTime", "2024-02-30", "Patient.deceased.ofType(dateTime)"),
        ("empty fraction", "deceasedDateTime", "2024-01-01T10:00:00.Z", "Patient.deceased.ofType(dateTime)"),
        ("time without zone", "deceasedDateTime", "2024-01-01T10:00:00", "Patient.deceased.ofType(dateTime)"),
        ("hour 24", "deceasedDateTime", "2024-01-01T24:00:00Z", "Patient.deceased.ofType(dateTime)"),
        ("zone +15:00", "deceasedDateTime", "2024-01-01T10:00:00+15:00", "Patient.deceased.ofType(dateTime)"),
    ],
    "instant": [
        ("one-digit zone hour", "meta.lastUpdated", "2024-01-01T10:00:00+3:30", "Patient.meta.lastUpdated"),
        ("date only", "meta.lastUpdated", "2024-01-01", "Patient.meta.lastUpdated"),
        ("no zone", "meta.lastUpdated", "2024-01-01T10:00:00", "Patient.meta.lastUpdated"),
    ],
    "time": [
        ("hour 25", "valueTime", "25:00:00", "Observation.value.ofType(time)"),
        ("no seconds", "valueTime", "10:00", "Observation.value.ofType(time)"),
    ],
    "positiveInt": [
        ("zero", "dosageInstruction.0.timing.repeat.frequency", 0, f"{REPEAT}.frequency"),
        ("string", "dosageInstruction.0.timing.repeat.frequency", "1", f"{REPEAT}.frequency"),
    ],
    "unsignedInt": [
        (
            "negative",
            "dispenseRequest.numberOfRepeatsAllowed",
            -1,
            "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed",
        )
    ],
    "base64Binary": [("not base64", "photo.0.data", "***", "Patient.photo[0].data")],
    "markdown": [("control character", "note", [{"text": "a\x07b"}], "MedicationRequest.note[0].text")],
    "xhtml": [("not a div", "text", {"status": "generated", "div": "<p>x</p>"}, "Patient.text.div")],
}
PRIMITIVE_BASE = {
    "boolean": "Patient",
    "integer": "Patient",
    "decimal": "Observation",
    "string": "Patient",
    "code": "Patient",
    "id": "Patient",
    "uri": "Patient",
    "url": "Patient",
    "canonical": "Patient",
    "oid": "Observation",
    "uuid": "Observation",
    "date": "Patient",
    "dateTime": "Patient",
    "instant": "Patient",
    "time": "Observation",
    "positiveInt": "MedicationRequest",
    "unsignedInt": "MedicationRequest",
    "base64Binary": "Patient",
    "markdown": "MedicationRequest",
    "xhtml": "Patient",
}


def _primitives() -> Iterator[Case]:
    for type_, cases in PRIMITIVE_CASES.items():
        base = PRIMITIVE_BASE[type_]
        for name, element, value, path in cases:
            if type_ in ("oid", "uuid"):  # carried by an extension on the Observation
                ext_key = "valueOid" if type_ == "oid" else "valueUuid"
                resource = changed(base, _set("extension", [{"url": "http://example.org/x", ext_key: value}]))
                path = f"Observation.extension[0].value.ofType({type_})"
            elif type_ == "time":
                resource = changed(base, lambda r: r.pop("valueQuantity"))
                resource[element] = value
            elif element == "maritalStatus.coding.0.code":
                resource = changed(
                    base, _set("maritalStatus", {"coding": [{"system": "http://x", "code": value}]})
                )
            elif element == "photo.0.url" or element == "photo.0.data":
                resource = changed(
                    base, _set("photo", [{"contentType": "image/png", element.split(".")[-1]: value}])
                )
            elif element == "meta.profile.0":
                resource = changed(base, _set("meta", {"profile": [value]}))
            else:
                resource = changed(base, _set(element, value))
            yield Case(f"primitive:{type_}", name, resource, path)


def _strings() -> Iterator[Case]:
    for char in ("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f"):
        name = f"U+{ord(char):04X}"
        yield Case(
            "string-control",
            f"{name} in a name",
            changed("Patient", _set("name.0.family", f"a{char}b")),
            "Patient.name[0].family",
        )
        yield Case(
            "string-control",
            f"{name} in a code",
            changed("Patient", _set("gender", f"male{char}")),
            "Patient.gender",
        )
        yield Case(
            "string-control",
            f"{name} in markdown",
            changed("MedicationRequest", _set("note", [{"text": f"a{char}"}])),
            "MedicationRequest.note[0].text",
        )
        yield Case(
            "string-control",
            f"{name} in a concept's text",
            changed("Observation", _set("code.text", f"BP{char}")),
            "Observation.code.text",
        )
        yield Case(
            "string-control",
            f"{name} in a uri",
            changed("Patient", _set("identifier.0.system", f"http://x/{char}")),
            "Patient.identifier[0].system",
        )
    for char in ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"):
        name = f"U+{ord(char):04X}"
        yield Case(
            "string-bidi",
            f"{name} in an identifier",
            changed("Patient", _set("identifier.0.value", f"0018{char}243460")),
            "Patient.identifier[0].value",
        )
        yield Case(
            "string-bidi",
            f"{name} in a system",
            changed("Patient", _set("identifier.0.system", f"http://noskhe.ir/{char}")),
            "Patient.identifier[0].system",
        )
        yield Case(
            "string-bidi",
            f"{name} in a code",
            changed("Observation", _set("code.coding.0.code", f"8480{char}-6")),
            "Observation.code.coding[0].code",
        )


def _structure() -> Iterator[Case]:
    yield Case("structure", "unknown element", changed("Patient", _set("nickname", "x")), "Patient.nickname")
    yield Case(
        "structure",
        "two choices",
        changed("Patient", lambda r: r.update(deceasedBoolean=True, deceasedDateTime="2024-01-01")),
        "Patient.deceased.ofType(dateTime)",
    )
    yield Case(
        "structure",
        "array for a single value",
        changed("Patient", _set("gender", ["male"])),
        "Patient.gender",
    )
    yield Case(
        "structure",
        "missing required",
        changed("MedicationRequest", lambda r: r.pop("intent")),
        "MedicationRequest.intent",
    )
    yield Case("structure", "null", changed("Patient", _set("gender", None)), "Patient.gender")
    yield Case("structure", "empty array", changed("Patient", _set("name", [])), "Patient.name")
    yield Case(
        "binding",
        "status not in the value set",
        changed("MedicationRequest", _set("status", "done")),
        "MedicationRequest.status",
    )
    yield Case(
        "binding",
        "intent not in the value set",
        changed("MedicationRequest", _set("intent", "wish")),
        "MedicationRequest.intent",
    )


def invalid_cases() -> list[Case]:
    cases = [
        *_invariants(),
        *_resource_rules(),
        *_narratives(),
        *_references(),
        *_primitives(),
        *_strings(),
        *_structure(),
    ]
    return [c for c in cases if c.path]


def valid_examples() -> dict[str, dict[str, Any]]:
    """Official R4 examples of the prescription-related types (less the known-invalid)
    and the IR profiles' examples."""
    known = json.loads((FIXTURES / "r4-known-invalid.json").read_text(encoding="utf-8"))
    official = json.loads((FIXTURES / "r4-prescription-examples.json").read_text(encoding="utf-8"))
    out = {name: r for name, r in official.items() if name not in known}
    for path in sorted((ROOT / "profiles" / "ir-eprescription" / "examples").glob("*.json")):
        out[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def known_invalid_examples() -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """The listed known-invalid examples among the prescription-related ones, with why."""
    known = json.loads((FIXTURES / "r4-known-invalid.json").read_text(encoding="utf-8"))
    official = json.loads((FIXTURES / "r4-prescription-examples.json").read_text(encoding="utf-8"))
    return {name: (official[name], known[name]) for name in official if name in known}
