"""Build profiles/ir-eprescription/StructureDefinition-*.json: differential + snapshot.

The differentials are written below in a compact form (``el(...)``); the snapshot is
generated from the R4 base StructureDefinitions in ``hl7.fhir.r4.examples@4.0.1`` (fetched
with ``npm pack`` into /tmp/noskhe-r4-cache by scripts/derive_definitions.py) by merging
each differential element into the base element with the same path, inserting slices
after their sliced element, and unrolling datatype children that a differential
constrains (``Identifier.system`` under a slice). Output is deterministic; commit it.

    python scripts/build_profiles.py
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from derive_definitions import fetch_package  # noqa: E402

OUT = ROOT / "profiles" / "ir-eprescription"
BASE = "http://noskhe.ir/fhir"
SID = f"{BASE}/sid"
VS = f"{BASE}/ValueSet"
CS = f"{BASE}/CodeSystem"
SD = f"{BASE}/StructureDefinition"
VERSION = "1.0.0"
DATE = "2026-11-01"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
DROPPED = {
    "comment",
    "requirements",
    "mapping",
    "alias",
    "example",
    "meaningWhenMissing",
    "orderMeaning",
}

NATIONAL_CODE_SUM = " + ".join(f"value.substring({i},1).toInteger()*{10 - i}" for i in range(9))
NATIONAL_CODE_R = f"(({NATIONAL_CODE_SUM}) mod 11)"
NATIONAL_CODE_EXPR = (
    "value.matches('^[0-9]{10}$') and value.matches('^([0-9])\\\\1{9}$').not() and "
    f"iif({NATIONAL_CODE_R} < 2, {NATIONAL_CODE_R}, 11 - {NATIONAL_CODE_R}) = "
    "value.substring(9,1).toInteger()"
)


def inv(key: str, en: str, fa: str, expr: str, severity: str = "error") -> dict[str, Any]:
    return {
        "key": key,
        "severity": severity,
        "human": en,
        "_human": {
            "extension": [
                {
                    "url": TRANSLATION,
                    "extension": [{"url": "lang", "valueCode": "fa"}, {"url": "content", "valueString": fa}],
                }
            ]
        },
        "expression": expr,
    }


NATIONAL_CODE_INV = inv(
    "ir-nc-1",
    "A national code has 10 digits, not all the same, and a valid check digit",
    "کد ملی باید ۱۰ رقم، با رقم کنترل درست و نه همه رقم‌ها یکسان باشد",
    NATIONAL_CODE_EXPR,
)


def el(eid: str, **kw: Any) -> dict[str, Any]:
    """One differential element. ``eid`` is the element id (``Patient.identifier:nationalCode``)."""
    path = ".".join(p.split(":")[0] for p in eid.split("."))
    out: dict[str, Any] = {"id": eid, "path": path}
    last = eid.split(".")[-1]
    if ":" in last:
        out["sliceName"] = last.split(":", 1)[1]
    if "short" in kw:
        out["short"] = kw.pop("short")
    for key in ("min", "max"):
        if key in kw:
            out[key] = kw.pop(key) if key == "min" else str(kw.pop(key))
    if "types" in kw:
        out["type"] = [{"code": t} if isinstance(t, str) else t for t in kw.pop("types")]
    out.update(kw)
    if "mustSupport" not in out and ("min" in out or "sliceName" in out):
        out["mustSupport"] = True
    return out


def slicing(path: str, disc: str = "system", rules: str = "open", type_: str = "value") -> dict[str, Any]:
    return {"discriminator": [{"type": type_, "path": disc}], "rules": rules}


def binding(strength: str, vs: str) -> dict[str, Any]:
    return {"strength": strength, "valueSet": f"{VS}/{vs}"}


def ref(*targets: str) -> list[dict[str, Any]]:
    return [
        {
            "code": "Reference",
            "targetProfile": [f"http://hl7.org/fhir/StructureDefinition/{t}" for t in targets],
        }
    ]


PROFILES: dict[str, tuple[str, str, str, list[dict[str, Any]]]] = {}


def profile(key: str, base: str, title: str, purpose: str, elements: list[dict[str, Any]]) -> None:
    PROFILES[key] = (base, title, purpose, elements)


def identifier_slice(
    rtype: str,
    name: str,
    system: str,
    card: tuple[int, str],
    short: str,
    extra: list[dict[str, Any]] | None = None,
    value_inv: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    p = f"{rtype}.identifier:{name}"
    out = [
        el(p, min=card[0], max=card[1], short=short, **({"constraint": [value_inv]} if value_inv else {})),
        el(f"{p}.system", min=1, fixedUri=system),
        el(f"{p}.value", min=1),
    ]
    return out + (extra or [])


profile(
    "ir-patient",
    "Patient",
    "Iranian patient",
    "A patient identified by the national code (کد ملی), "
    "or an infant without a birth certificate identified through the mother's national code.",
    [
        el(
            "Patient",
            constraint=[
                inv(
                    "ir-pat-1",
                    "A patient needs a national code, or the mother's national code (infant)",
                    "بیمار باید کد ملی یا (برای نوزاد) کد ملی مادر داشته باشد",
                    f"identifier.where(system='{SID}/national-code').exists() or "
                    f"extension('{SD}/mother-national-code').exists()",
                ),
                inv(
                    "ir-pat-2",
                    "Mobile numbers are Iranian mobile numbers (09xxxxxxxxx)",
                    "شماره همراه باید شماره همراه ایران باشد (۰۹xxxxxxxxx)",
                    "telecom.where(system='phone' and use='mobile')"
                    ".all(value.matches('^(\\\\+98|0)?9[0-9]{9}$'))",
                ),
            ],
        ),
        el("Patient.extension", slicing=slicing("Patient.extension", "url")),
        el(
            "Patient.extension:motherNationalCode",
            min=0,
            max=1,
            short="Mother's national code (infant)",
            constraint=[
                inv(
                    "ir-pat-3",
                    "The mother's national code must be a valid national code",
                    "کد ملی مادر معتبر نیست",
                    NATIONAL_CODE_EXPR.replace("value.", "value.ofType(string)."),
                )
            ],
        ),
        el("Patient.extension:motherNationalCode.url", fixedUri=f"{SD}/mother-national-code"),
        el("Patient.extension:motherNationalCode.value[x]", min=1, types=["string"]),
        el("Patient.identifier", slicing=slicing("Patient.identifier")),
        *identifier_slice(
            "Patient",
            "nationalCode",
            f"{SID}/national-code",
            (0, "1"),
            "National code (کد ملی)",
            value_inv=NATIONAL_CODE_INV,
        ),
        el("Patient.name", min=1, short="Name, in Persian"),
        el("Patient.name.family", min=1),
        el("Patient.gender", min=1),
        el("Patient.birthDate", min=1),
    ],
)

profile(
    "ir-practitioner",
    "Practitioner",
    "Iranian practitioner",
    "A prescriber: medical council number (نظام پزشکی), national code, specialty.",
    [
        el("Practitioner.identifier", min=1, slicing=slicing("Practitioner.identifier")),
        *identifier_slice("Practitioner", "irimc", f"{SID}/irimc", (1, "1"), "Medical council number"),
        *identifier_slice(
            "Practitioner",
            "nationalCode",
            f"{SID}/national-code",
            (0, "1"),
            "National code",
            value_inv=NATIONAL_CODE_INV,
        ),
        el("Practitioner.name", min=1),
        el("Practitioner.qualification.code", binding=binding("extensible", "specialty")),
    ],
)

profile(
    "ir-practitionerrole",
    "PractitionerRole",
    "Iranian practitioner role",
    "Where a practitioner works: clinic, pharmacy, paraclinic.",
    [
        el("PractitionerRole.practitioner", min=1, types=ref("Practitioner")),
        el("PractitionerRole.organization", min=1, types=ref("Organization")),
        el(
            "PractitionerRole.code",
            min=1,
            max=1,
            binding=binding("required", "organization-type"),
            short="Kind of workplace",
        ),
        el("PractitionerRole.specialty", binding=binding("extensible", "specialty")),
    ],
)

profile(
    "ir-organization",
    "Organization",
    "Iranian health organization",
    "A pharmacy, paraclinic, clinic, hospital or insurer, with its licence and province.",
    [
        el("Organization.extension", slicing=slicing("Organization.extension", "url")),
        el("Organization.extension:province", min=1, max=1, short="Province"),
        el("Organization.extension:province.url", fixedUri=f"{SD}/province"),
        el(
            "Organization.extension:province.value[x]",
            min=1,
            types=["Coding"],
            binding=binding("required", "province"),
        ),
        el("Organization.identifier", min=1, slicing=slicing("Organization.identifier")),
        *identifier_slice(
            "Organization", "licence", f"{SID}/facility-licence", (1, "1"), "Operating licence"
        ),
        el("Organization.type", min=1, max=1, binding=binding("required", "organization-type")),
        el("Organization.name", min=1),
    ],
)

profile(
    "ir-coverage",
    "Coverage",
    "Iranian insurance coverage",
    "Basic or supplementary insurance: insurer, insurance number, relationship, period.",
    [
        el("Coverage.identifier", min=1, slicing=slicing("Coverage.identifier")),
        *identifier_slice(
            "Coverage", "insuranceNumber", f"{SID}/insurance-number", (1, "1"), "Insurance number"
        ),
        el("Coverage.type", min=1, short="Insurer", binding=binding("required", "insurer")),
        el("Coverage.beneficiary", types=ref("Patient")),
        el("Coverage.relationship", min=1, binding=binding("required", "coverage-relationship")),
        el("Coverage.period", min=1),
        el("Coverage.payor", max=1, types=ref("Organization")),
    ],
)

profile(
    "ir-encounter",
    "Encounter",
    "Iranian encounter (visit)",
    "The visit the doctor confirms.",
    [
        el(
            "Encounter",
            constraint=[
                inv(
                    "ir-enc-1",
                    "A finished visit has a start",
                    "ویزیت پایان‌یافته باید زمان شروع داشته باشد",
                    "status = 'finished' implies period.start.exists()",
                )
            ],
        ),
        el("Encounter.subject", min=1, types=ref("Patient")),
        el("Encounter.participant", min=1),
        el("Encounter.participant.individual", min=1, types=ref("Practitioner", "PractitionerRole")),
        el("Encounter.period", min=1),
    ],
)

profile(
    "ir-medicationrequest",
    "MedicationRequest",
    "Iranian drug prescription item",
    "One drug of an e-prescription: generic code and/or IRC, quantity, dosage with coded frequency and "
    "timing instruction, at most 3 repeats; groupIdentifier is the prescription.",
    [
        el(
            "MedicationRequest",
            constraint=[
                inv(
                    "ir-mr-1",
                    "The requester is a practitioner (Practitioner or PractitionerRole)",
                    "تجویزکننده باید پزشک باشد (Practitioner یا PractitionerRole)",
                    "requester.reference.empty() or "
                    "requester.reference.matches('^(Practitioner/|PractitionerRole/|urn:uuid:)')",
                ),
                inv(
                    "ir-mr-2",
                    "Insurance refers to a Coverage",
                    "بیمه باید به یک Coverage ارجاع دهد",
                    "insurance.reference.all(matches('^(Coverage/|urn:uuid:)'))",
                ),
            ],
        ),
        el("MedicationRequest.groupIdentifier", min=1, short="The prescription"),
        el("MedicationRequest.groupIdentifier.system", min=1, fixedUri=f"{SID}/prescription"),
        el("MedicationRequest.groupIdentifier.value", min=1),
        el(
            "MedicationRequest.medication[x]", types=["CodeableConcept"], binding=binding("required", "drugs")
        ),
        el("MedicationRequest.medication[x].coding", min=1, slicing=slicing("x")),
        el("MedicationRequest.medication[x].coding:generic", min=0, max=1, short="Generic drug code"),
        el("MedicationRequest.medication[x].coding:generic.system", min=1, fixedUri=f"{CS}/generic"),
        el("MedicationRequest.medication[x].coding:generic.code", min=1),
        el("MedicationRequest.medication[x].coding:irc", min=0, max=1, short="IRC"),
        el("MedicationRequest.medication[x].coding:irc.system", min=1, fixedUri=f"{CS}/irc"),
        el("MedicationRequest.medication[x].coding:irc.code", min=1),
        el("MedicationRequest.subject", types=ref("Patient")),
        el("MedicationRequest.authoredOn", min=1),
        el("MedicationRequest.requester", min=1),
        el("MedicationRequest.insurance", min=1, max=1),
        el("MedicationRequest.dosageInstruction", min=1, max=1),
        el(
            "MedicationRequest.dosageInstruction.additionalInstruction",
            binding=binding("extensible", "drug-instruction"),
            short="Timing instruction (e.g. after meals)",
        ),
        el("MedicationRequest.dosageInstruction.timing", min=1),
        el(
            "MedicationRequest.dosageInstruction.timing.code",
            min=1,
            short="Frequency (times a day)",
            binding=binding("required", "drug-frequency"),
        ),
        el("MedicationRequest.dispenseRequest", min=1),
        el(
            "MedicationRequest.dispenseRequest.validityPeriod",
            constraint=[
                inv(
                    "ir-mr-3",
                    "The validity period ends after it starts",
                    "پایان مدت اعتبار باید بعد از شروع آن باشد",
                    "start.empty() or end.empty() or start <= end",
                )
            ],
        ),
        el(
            "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed",
            short="At most 3 repeats",
            constraint=[
                inv(
                    "ir-mr-4",
                    "At most 3 repeats are allowed",
                    "حداکثر ۳ بار تکرار نسخه مجاز است",
                    "$this <= 3",
                )
            ],
        ),
        el("MedicationRequest.dispenseRequest.quantity", min=1),
    ],
)

profile(
    "ir-servicerequest",
    "ServiceRequest",
    "Iranian service request",
    "Lab, imaging, physiotherapy, physician and dental services, referral: category, service code from "
    "the relative value book, quantity, reason in ICD-10.",
    [
        el(
            "ServiceRequest",
            constraint=[
                inv(
                    "ir-sr-1",
                    "Reasons are coded in ICD-10",
                    "علت درخواست باید با ICD-10 کدگذاری شود",
                    "reasonCode.coding.all(system = 'http://hl7.org/fhir/sid/icd-10')",
                )
            ],
        ),
        el("ServiceRequest.requisition", min=1, short="The prescription"),
        el("ServiceRequest.requisition.system", min=1, fixedUri=f"{SID}/prescription"),
        el("ServiceRequest.category", min=1, max=1, binding=binding("required", "service-category")),
        el("ServiceRequest.code", min=1, binding=binding("extensible", "rvu")),
        el("ServiceRequest.subject", types=ref("Patient")),
        el("ServiceRequest.authoredOn", min=1),
        el("ServiceRequest.requester", min=1),
        el("ServiceRequest.reasonCode", binding=binding("extensible", "icd-10")),
    ],
)

profile(
    "ir-medicationdispense",
    "MedicationDispense",
    "Iranian drug dispense",
    "A pharmacy hands over a prescribed drug: authorizing prescription, quantity, when, which pharmacy.",
    [
        el(
            "MedicationDispense",
            constraint=[
                inv(
                    "ir-md-1",
                    "A completed dispense says when it was handed over",
                    "تحویل کامل‌شده باید زمان تحویل داشته باشد",
                    "status = 'completed' implies whenHandedOver.exists()",
                )
            ],
        ),
        el(
            "MedicationDispense.medication[x]",
            types=["CodeableConcept"],
            binding=binding("required", "drugs"),
        ),
        el("MedicationDispense.subject", min=1, types=ref("Patient")),
        el("MedicationDispense.performer", min=1, max=1),
        el("MedicationDispense.performer.actor", types=ref("Organization")),
        el("MedicationDispense.authorizingPrescription", min=1, types=ref("MedicationRequest")),
        el("MedicationDispense.quantity", min=1),
    ],
)


# -- snapshot generation ----------------------------------------------------------------


def base_definitions() -> dict[str, dict[str, Any]]:
    pkg = fetch_package(Path("/tmp/noskhe-r4-cache"))
    out = {}
    for name in ("Bundle-resources.json", "Bundle-types.json"):
        for entry in json.loads((pkg / name).read_text(encoding="utf-8"))["entry"]:
            res = entry["resource"]
            if res.get("resourceType") == "StructureDefinition":
                out[res["id"]] = res
    return out


def _trim(e: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in e.items() if k not in DROPPED}
    if "constraint" in out:
        out["constraint"] = [{k: v for k, v in c.items() if k != "xpath"} for c in out["constraint"]]
    return out


def type_children(
    bases: dict[str, dict[str, Any]], type_code: str, prefix_id: str, prefix_path: str
) -> list[dict[str, Any]]:
    """The children of a datatype, re-rooted under an element (``Identifier.system`` ->
    ``Patient.identifier:nationalCode.system``)."""
    sd = bases[type_code]
    out = []
    for e in sd["snapshot"]["element"][1:]:
        rel = e["id"].split(".", 1)[1]
        c = copy.deepcopy(e)
        c["id"] = f"{prefix_id}.{rel}"
        c["path"] = f"{prefix_path}.{e['path'].split('.', 1)[1]}"
        out.append(_trim(c))
    return out


def merge(base: dict[str, Any], diff: dict[str, Any], profile_url: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in diff.items():
        if k == "constraint":
            out["constraint"] = [*out.get("constraint", []), *[dict(c, source=profile_url) for c in v]]
        elif k not in ("id", "path"):
            out[k] = v
    out["id"], out["path"] = diff["id"], diff["path"]
    return out


Node = tuple[dict[str, Any], list[Any]]  # (element, children)


def _tree(elements: list[dict[str, Any]]) -> list[Node]:
    nodes: dict[str, Node] = {}
    roots: list[Node] = []
    for e in elements:
        node: Node = (e, [])
        nodes[e["id"]] = node
        parent = nodes.get(e["id"].rsplit(".", 1)[0]) if "." in e["id"] else None
        (parent[1] if parent else roots).append(node)
    return roots


def _rename(nodes: list[Node], old: str, new: str) -> list[Node]:
    out = []
    for e, kids in nodes:
        c = copy.deepcopy(e)
        c["id"] = new + e["id"][len(old) :]
        out.append((c, _rename(kids, old, new)))
    return out


def snapshot(
    rtype: str, diffs: list[dict[str, Any]], bases: dict[str, dict[str, Any]], url: str
) -> list[dict[str, Any]]:
    by_id = {d["id"]: d for d in diffs}
    needed = {d["id"][:i] for d in diffs for i, ch in enumerate(d["id"]) if ch == "."}
    result: list[dict[str, Any]] = []

    def emit(node: Node) -> None:
        base, kids = node
        merged = merge(base, by_id[base["id"]], url) if base["id"] in by_id else base
        result.append(merged)
        if not kids and base["id"] in needed:
            kids = _tree(_unroll(merged, bases))
        for k in kids:
            emit(k)
        for s in diffs:
            if "sliceName" in s and s["id"].rsplit(":", 1)[0] == base["id"]:
                sliced = merge(merged, s, url)
                result.append(sliced)
                slice_kids = _rename(kids, base["id"], s["id"])
                if not slice_kids and s["id"] in needed:
                    slice_kids = _tree(_unroll(sliced, bases))
                for k in slice_kids:
                    emit(k)

    for root in _tree([_trim(e) for e in bases[rtype]["snapshot"]["element"]]):
        emit(root)
    missing = set(by_id) - {r["id"] for r in result}
    if missing:
        raise SystemExit(f"{url}: differential elements not placed in the snapshot: {sorted(missing)}")
    return result


def _type_code(e: dict[str, Any]) -> str:
    types = e.get("type") or [{"code": "Element"}]
    return str(types[0]["code"])


def _unroll(e: dict[str, Any], bases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The datatype children of an element, re-rooted under it."""
    code = _type_code(e)
    if code in ("BackboneElement", "Element") or code not in bases:
        return []
    return type_children(bases, code, e["id"], e["path"])


def structure_definition(key: str, bases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rtype, title, purpose, diffs = PROFILES[key]
    url = f"{SD}/{key}"
    diffs = _expand_choice_children(diffs, rtype)
    snap = snapshot(rtype, diffs, bases, url)
    return {
        "resourceType": "StructureDefinition",
        "id": key,
        "url": url,
        "version": VERSION,
        "name": "".join(p.capitalize() for p in key.split("-")).replace("Ir", "IR", 1),
        "title": title,
        "status": "active",
        "experimental": False,
        "date": DATE,
        "publisher": "Noskhe",
        "description": purpose,
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": rtype,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{rtype}",
        "derivation": "constraint",
        "snapshot": {"element": snap},
        "differential": {"element": diffs},
    }


def _expand_choice_children(diffs: list[dict[str, Any]], rtype: str) -> list[dict[str, Any]]:
    return diffs


def extension_definitions() -> list[dict[str, Any]]:
    def ext(
        key: str,
        title: str,
        context: str | list[str],
        value_type: str,
        vs: str | None = None,
        target: str | None = None,
    ) -> dict[str, Any]:
        kind: dict[str, Any] = {"code": value_type}
        if target:
            kind["targetProfile"] = [f"http://hl7.org/fhir/StructureDefinition/{target}"]
        value: dict[str, Any] = {
            "id": "Extension.value[x]",
            "path": "Extension.value[x]",
            "min": 1,
            "type": [kind],
        }
        if vs:
            value["binding"] = binding("required", vs)
        contexts = [context] if isinstance(context, str) else context
        return {
            "resourceType": "StructureDefinition",
            "id": key,
            "url": f"{SD}/{key}",
            "version": VERSION,
            "name": "".join(p.capitalize() for p in key.split("-")),
            "title": title,
            "status": "active",
            "date": DATE,
            "publisher": "Noskhe",
            "fhirVersion": "4.0.1",
            "kind": "complex-type",
            "abstract": False,
            "context": [{"type": "element", "expression": c} for c in contexts],
            "type": "Extension",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint",
            "differential": {
                "element": [
                    {"id": "Extension", "path": "Extension", "short": title, "max": "1"},
                    {"id": "Extension.url", "path": "Extension.url", "fixedUri": f"{SD}/{key}"},
                    value,
                ]
            },
        }

    return [
        ext(
            "mother-national-code",
            "Mother's national code (infant without a birth certificate)",
            "Patient",
            "string",
        ),
        ext(
            "province",
            "Province (of an organization; on claims and their responses, the provider's)",
            ["Organization", "Claim", "ClaimResponse", "PaymentReconciliation"],
            "Coding",
            "province",
        ),
        ext(
            "claim-result",
            "How the claim as a whole was adjudicated",
            "ClaimResponse",
            "Coding",
            "claim-result",
        ),
        ext(
            "adjudication-review",
            "The insurer reviewer's decision on the adjudication (ClaimResponse/$adjust)",
            "ClaimResponse",
            "Coding",
            "adjudication-review",
        ),
        ext(
            "measure-date",
            "FHIRPath: the day (in Tehran) a resource counts on in this population; without it, as of now",
            "Measure.group.population",
            "string",
        ),
        ext(
            "measure-count-distinct",
            "FHIRPath: the value counted once in this population (a prescription id, a pharmacy)",
            "Measure.group.population",
            "string",
        ),
        ext(
            "search-token-system",
            "The system of the plain strings a token SearchParameter indexes "
            "(bare and system|code both find them)",
            "SearchParameter",
            "uri",
        ),
        ext(
            "dispense-return-of",
            "The dispense a return or correction undoes (R4's partOf cannot point at a MedicationDispense)",
            "MedicationDispense",
            "Reference",
            target="MedicationDispense",
        ),
    ]


NAMING_SYSTEMS = [
    ("national-code", "National code (کد ملی)", "10 digits with a mod-11 check digit"),
    (
        "irimc",
        "Medical council number (نظام پزشکی)",
        "Issued by the Islamic Republic of Iran Medical Council",
    ),
    ("insurance-number", "Insurance number", "Insurer member id"),
    ("prescription", "Prescription id", "One e-prescription; MedicationRequest.groupIdentifier"),
    ("tracking-code", "Tracking code (کد رهگیری)", "Given to the patient when a prescription is saved"),
    ("insurer", "Insurer code", "An insurer Organization's code (a code of CodeSystem insurer: TAMIN, ...)"),
    (
        "settlement",
        "Monthly settlement",
        "A PaymentReconciliation of one insurer, provider and Jalali month: INSURER|Organization/id|YYYY-MM",
    ),
    (
        "facility-licence",
        "Facility operating licence",
        "Licence of a pharmacy, clinic, paraclinic or hospital",
    ),
]

SEARCH_PARAMETERS = [
    (
        "Patient",
        "national-code",
        "token",
        f"Patient.identifier.where(system='{SID}/national-code')",
        "A patient's national code",
    ),
    (
        "MedicationRequest",
        "generic-code",
        "token",
        f"MedicationRequest.medication.as(CodeableConcept).coding.where(system='{CS}/generic')",
        "The generic drug code of a prescribed drug",
    ),
    (
        "MedicationRequest",
        "prescription",
        "token",
        "MedicationRequest.groupIdentifier",
        "The prescription a drug item belongs to",
    ),
    ("Coverage", "insurer", "token", "Coverage.type", "The insurer of a coverage"),
    (
        "Patient",
        "mother-national-code",
        "token",
        f"Patient.extension.where(url='{SD}/mother-national-code').value",
        "An infant without a birth certificate, by the mother's national code (a bare code or "
        f"{SID}/national-code|code)",
        f"{SID}/national-code",
    ),
    *(
        (
            type_,
            "province",
            "token",
            f"{type_}.extension.where(url='{SD}/province').value",
            "The province of the claim's provider",
        )
        for type_ in ("Claim", "ClaimResponse")
    ),
    (
        "ClaimResponse",
        "result",
        "token",
        f"ClaimResponse.extension.where(url='{SD}/claim-result').value",
        "The adjudication of the claim as a whole: accepted, reduced or denied",
    ),
    (
        "Claim",
        "delivery",
        "reference",
        "Claim.supportingInfo.value.as(Reference)",
        "The deliveries claimed (MedicationDispense, DiagnosticReport)",
    ),
    (
        "MedicationDispense",
        "return-of",
        "reference",
        f"MedicationDispense.extension.where(url='{SD}/dispense-return-of').value",
        "The dispense a return or correction record undoes",
    ),
]


def naming_system(key: str, name: str, description: str) -> dict[str, Any]:
    return {
        "resourceType": "NamingSystem",
        "id": key,
        "name": "".join(p.capitalize() for p in key.split("-")),
        "status": "active",
        "kind": "identifier",
        "date": DATE,
        "publisher": "Noskhe",
        "responsible": "Noskhe",
        "description": f"{name}: {description}",
        "uniqueId": [{"type": "uri", "value": f"{SID}/{key}", "preferred": True}],
    }


def search_parameter(
    base: str, code: str, type_: str, expression: str, description: str, token_system: str | None = None
) -> dict[str, Any]:
    """`token_system`: the system the plain strings a token parameter indexes belong to."""
    key = f"{base.lower()}-{code}"
    extension = [{"url": f"{SD}/search-token-system", "valueUri": token_system}] if token_system else []
    return {
        "resourceType": "SearchParameter",
        "id": key,
        **({"extension": extension} if extension else {}),
        "url": f"{BASE}/SearchParameter/{key}",
        "version": VERSION,
        "name": code.replace("-", "_"),
        "status": "active",
        "date": DATE,
        "publisher": "Noskhe",
        "description": description,
        "code": code,
        "base": [base],
        "type": type_,
        "expression": expression,
        "xpathUsage": "normal",
    }


IG_ID = "ir-eprescription"
TERMINOLOGY_DIR = ROOT / "terminology" / "data"


def implementation_guide() -> dict[str, Any]:
    """The ImplementationGuide of what this folder and terminology/data/ hold (written last,
    from the files themselves, so it lists exactly what is shipped)."""
    files = sorted(OUT.glob("*-*.json")) + sorted(TERMINOLOGY_DIR.glob("*-*.json"))
    resources = []
    for path in files:
        res = json.loads(path.read_text(encoding="utf-8"))
        if res["resourceType"] == "ImplementationGuide":
            continue
        resources.append(_ig_resource(res, example=False))
    for path in sorted((OUT / "examples").glob("*.json")):
        res = json.loads(path.read_text(encoding="utf-8"))
        entry = _ig_resource(res, example=True)
        profile = next(iter((res.get("meta") or {}).get("profile") or []), None)
        if profile:
            entry.pop("exampleBoolean")
            entry["exampleCanonical"] = profile
        resources.append(entry)
    pages = [
        {"nameUrl": f"{p.stem}.html", "title": p.stem, "generation": "markdown"}
        for p in sorted((OUT / "pages").glob("*.md"))
    ]
    return {
        "resourceType": "ImplementationGuide",
        "id": IG_ID,
        "url": f"{BASE}/ImplementationGuide/{IG_ID}",
        "version": VERSION,
        "name": "IrEPrescription",
        "title": "Iran national electronic prescription (نسخه الکترونیک)",
        "status": "active",
        "date": DATE,
        "publisher": "Noskhe",
        "description": (
            "Profiles, extensions, identifier systems, search parameters and terminology of Iran's "
            "national electronic prescription as served by Noskhe. / پروفایل‌ها، افزونه‌ها، سامانه‌های "
            "شناسه، پارامترهای جست‌وجو و اصطلاحات نسخهٔ الکترونیک ملی ایران در نسخه."
        ),
        "packageId": "ir.noskhe.eprescription",
        "license": "Apache-2.0",
        "fhirVersion": ["4.0.1"],
        "definition": {
            "resource": resources,
            "page": {
                "nameUrl": "index.html",
                "title": "IR e-prescription",
                "generation": "markdown",
                "page": pages,
            },
        },
    }


def _ig_resource(res: dict[str, Any], example: bool) -> dict[str, Any]:
    name = res.get("title") or res.get("name") or res["id"]
    entry: dict[str, Any] = {
        "reference": {"reference": f"{res['resourceType']}/{res['id']}"},
        "name": str(name),
        "exampleBoolean": example,
    }
    if res.get("description"):
        entry["description"] = res["description"]
    return entry


def page(sd: dict[str, Any]) -> str:
    """A short human-readable page: purpose, constrained elements, invariants."""
    lines = [
        f"# {sd['title']} (`{sd['id']}`)",
        "",
        sd["description"],
        "",
        f"- Canonical: `{sd['url']}`",
        f"- Base: `{sd['baseDefinition']}`",
        f"- Example(s): `examples/{sd['type']}-{sd['id']}*.json`",
        "",
        "| element | card. | rule | meaning |",
        "| --- | --- | --- | --- |",
    ]
    invariants = []
    for e in sd["differential"]["element"]:
        card = f"{e.get('min', '')}..{e.get('max', '')}" if ("min" in e or "max" in e) else ""
        rules = []
        for k, v in e.items():
            if k.startswith(("fixed", "pattern")):
                rules.append(f"{k} `{v}`")
        if "binding" in e:
            rules.append(f"{e['binding']['strength']} `{e['binding']['valueSet'].rsplit('/', 1)[-1]}`")
        if "slicing" in e:
            rules.append("sliced by " + ", ".join(d["path"] for d in e["slicing"]["discriminator"]))
        if "type" in e:
            rules.append("type " + ", ".join(t["code"] for t in e["type"]))
        invariants += e.get("constraint", [])
        lines.append(f"| `{e['id']}` | {card} | {'; '.join(rules)} | {e.get('short', '')} |")
    if invariants:
        lines += ["", "## Invariants", "", "| key | rule | قاعده |", "| --- | --- | --- |"]
        for c in invariants:
            fa = c["_human"]["extension"][0]["extension"][1]["valueString"]
            lines.append(f"| `{c['key']}` | {c['human']} | {fa} |")
        lines += ["", "The FHIRPath expressions are in the StructureDefinition."]
    return "\n".join(lines) + "\n"


def main() -> None:
    bases = base_definitions()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pages").mkdir(exist_ok=True)
    for key in PROFILES:
        sd = structure_definition(key, bases)
        write(OUT / f"StructureDefinition-{key}.json", sd)
        (OUT / "pages" / f"{key}.md").write_text(page(sd), encoding="utf-8")
    for sd in extension_definitions():
        write(OUT / f"StructureDefinition-{sd['id']}.json", sd)
    for ns in NAMING_SYSTEMS:
        write(OUT / f"NamingSystem-{ns[0]}.json", naming_system(*ns))
    for sp in SEARCH_PARAMETERS:
        res = search_parameter(*sp)
        write(OUT / f"SearchParameter-{res['id']}.json", res)
    write(OUT / f"ImplementationGuide-{IG_ID}.json", implementation_guide())
    print(
        f"wrote {len(PROFILES)} profiles, {len(extension_definitions())} extensions, "
        f"{len(NAMING_SYSTEMS)} naming systems, "
        f"{len(SEARCH_PARAMETERS)} search parameters to {OUT}"
    )


def write(path: Path, res: dict[str, Any]) -> None:
    path.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
