"""Build the shipped terminology (terminology/data/*.json) from terminology/sources/*.txt.

The sources are small pipe-separated tables (see the header of each). The output is FHIR
R4 CodeSystems, ValueSets and ConceptMaps, deterministic, committed to the repository and
loaded by ``terminology.shipped_service()``. Synthetic generic codes (every code not
given in drugs.txt) are allocated once and kept stable in sources/generic_codes.lock, so
adding a drug never renumbers the others.

    python scripts/build_terminology.py
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "terminology" / "sources"
OUT = ROOT / "terminology" / "data"
BASE = "http://noskhe.ir/fhir"
VERSION = "1.0.0"
DATE = "2026-11-01"
SYNTHETIC_START = 90001
FA_DIGITS = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")
UNITS_FA = {"mg": "میلی‌گرم", "mcg": "میکروگرم", "g": "گرم", "mL": "میلی‌لیتر", "IU": "واحد"}
ATC = "http://www.whocc.no/atc"
FA = "fa"


def rows(name: str) -> Iterator[list[str]]:
    for line in (SOURCES / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield [cell.strip() for cell in line.split("|")]


def fa_designation(text: str) -> list[dict[str, Any]]:
    return [{"language": FA, "value": text}]


def code_system(
    key: str,
    title: str,
    concepts: list[dict[str, Any]],
    *,
    properties: list[dict[str, Any]] | None = None,
    description: str = "",
    hierarchy: bool = False,
    url: str | None = None,
    content: str = "complete",
    experimental: bool = False,
) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": key,
        "url": url or f"{BASE}/CodeSystem/{key}",
        "version": VERSION,
        "name": "".join(p.capitalize() for p in re.split(r"[-_]", key)),
        "title": title,
        "status": "active",
        "experimental": experimental,
        "date": DATE,
        "publisher": "Noskhe",
        "description": description or title,
        "caseSensitive": True,
        "valueSet": f"{BASE}/ValueSet/{key}",
        "content": content,
        "count": count_concepts(concepts),
    }
    if hierarchy:
        cs["hierarchyMeaning"] = "is-a"
    if properties:
        cs["property"] = properties
    cs["concept"] = concepts
    return cs


def count_concepts(concepts: list[dict[str, Any]]) -> int:
    return sum(1 + count_concepts(c.get("concept", [])) for c in concepts)


def prop(code: str, type_: str, description: str, uri: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code}
    if uri:
        out["uri"] = uri
    out.update({"description": description, "type": type_})
    return out


def simple(key: str, title: str, source: str, **kw: Any) -> dict[str, Any]:
    concepts = [{"code": r[0], "display": r[1], "designation": fa_designation(r[2])} for r in rows(source)]
    return code_system(key, title, concepts, **kw)


# -- drugs ---------------------------------------------------------------------------


def strength_fa(strength: str) -> str:
    out = []
    for token in strength.split():
        unit = token.split("/")
        out.append("/".join(UNITS_FA.get(u, u) for u in unit).translate(FA_DIGITS).replace("%", "٪"))
    return " ".join(out)


def parse_products(spec: str) -> Iterator[tuple[str | None, str, str, str | None]]:
    """(real code or None, strength, form, ATC override or None) for each product."""
    for item in spec.split(";"):
        code = None
        if "=" in item:
            code, item = item.split("=", 1)
        atc = None
        if "@" in item:
            item, atc = item.split("@", 1)
        *strength, form = item.split()
        yield code, " ".join(strength), form, atc


def load_lock() -> dict[str, str]:
    path = SOURCES / "generic_codes.lock"
    if not path.exists():
        return {}
    return dict(line.split("\t", 1)[::-1] for line in path.read_text(encoding="utf-8").splitlines() if line)


def save_lock(lock: dict[str, str]) -> None:
    lines = sorted(f"{code}\t{key}" for key, code in lock.items())
    (SOURCES / "generic_codes.lock").write_text("\n".join(lines) + "\n", encoding="utf-8")


def drug_tables() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    forms = {r[0]: r for r in rows("forms.txt")}
    lock = load_lock()
    used = set(lock.values())
    next_code = max([SYNTHETIC_START - 1, *(int(c) for c in used if int(c) >= SYNTHETIC_START)]) + 1
    generics: list[dict[str, Any]] = []
    ircs: list[dict[str, Any]] = []
    atc_names: dict[str, str] = {}
    for atc, name_en, name_fa, spec in rows("drugs.txt"):
        for real, strength, form, atc_override in parse_products(spec):
            key = f"{name_en}|{strength}|{form}"
            if real is None:
                code = lock.get(key)
                if code is None:
                    code = f"{next_code:05d}"
                    next_code += 1
                    lock[key] = code
            else:
                code = real
            product_atc = atc_override or atc
            atc_names.setdefault(
                product_atc, name_en if not atc_override else f"{name_en} ({forms[form][1]})"
            )
            fe, ff, route = forms[form][1], forms[form][2], forms[form][3]
            display = " ".join(x for x in (name_en, strength, fe) if x)
            display_fa = " ".join(x for x in (name_fa, strength_fa(strength), ff) if x)
            properties: list[dict[str, Any]] = [
                {"code": "ingredient", "valueString": name_en},
                {"code": "atc", "valueCode": product_atc},
                {"code": "doseForm", "valueCode": form},
                {"code": "route", "valueCode": route},
            ]
            if strength:
                properties.append({"code": "strength", "valueString": strength})
            properties.append({"code": "synthetic", "valueBoolean": real is None})
            generics.append(
                {
                    "code": code,
                    "display": display,
                    "designation": fa_designation(display_fa),
                    "property": properties,
                }
            )
            for n in range(1 + (int(code) % 3 == 0)):  # every third product has two IRCs
                irc = f"62{code}{'0' * 7}{n + 1:02d}"
                ircs.append(
                    {
                        "code": irc,
                        "display": f"{display} (IRC {n + 1})",
                        "designation": fa_designation(
                            f"{display_fa} (آی آر سی {n + 1})".translate(FA_DIGITS)
                        ),
                        "property": [
                            {"code": "generic", "valueCode": code},
                            {"code": "synthetic", "valueBoolean": True},
                        ],
                    }
                )
    save_lock(lock)
    generics.sort(key=lambda c: c["code"])
    return generics, ircs, atc_names


def atc_concepts(atc_names: dict[str, str]) -> list[dict[str, Any]]:
    """A fragment of ATC: the main groups, the codes used, and their intermediate levels."""
    groups = {r[0]: r[1] for r in rows("atc_groups.txt")}
    tree: dict[str, dict[str, Any]] = {g: {"code": g, "display": n} for g, n in groups.items()}
    for code in sorted(atc_names):
        parent = tree[code[0]]
        for cut in (3, 4, 5, 7):
            if len(code) < cut:
                break
            part = code[:cut]
            children = parent.setdefault("concept", [])
            node = next((c for c in children if c["code"] == part), None)
            if node is None:
                node = {"code": part}
                if part == code:
                    node["display"] = atc_names[code]
                children.append(node)
            parent = node
    return [tree[g] for g in sorted(tree)]


# -- other code systems ---------------------------------------------------------------


def hierarchical(source: str) -> list[dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    parents: dict[str, str] = {}
    for code, en, fa, parent in rows(source):
        nodes[code] = {"code": code, "display": en, "designation": fa_designation(fa)}
        if parent:
            parents[code] = parent
    roots = []
    for code, node in nodes.items():
        if code in parents:
            nodes[parents[code]].setdefault("concept", []).append(node)
        else:
            roots.append(node)
    return roots


def frequency() -> dict[str, Any]:
    concepts = []
    for code, en, fa, per_day, gts in rows("frequency.txt"):
        props: list[dict[str, Any]] = []
        if per_day:
            props.append({"code": "timesPerDay", "valueDecimal": float(per_day)})
        if gts:
            props.append({"code": "timing", "valueCode": gts})
        concept: dict[str, Any] = {"code": code, "display": en, "designation": fa_designation(fa)}
        if props:
            concept["property"] = props
        concepts.append(concept)
    return code_system(
        "drug-frequency",
        "Drug frequencies (times a day)",
        concepts,
        properties=[
            prop("timesPerDay", "decimal", "Administrations per day"),
            prop("timing", "code", "Equivalent code in v3-GTSAbbreviation"),
        ],
    )


def rvu() -> dict[str, Any]:
    concepts = []
    for code, en, fa, category, loinc in rows("rvu.txt"):
        props: list[dict[str, Any]] = [{"code": "category", "valueCode": category}]
        if loinc:
            props.append({"code": "loinc", "valueCode": loinc})
        props.append({"code": "synthetic", "valueBoolean": True})
        concepts.append({"code": code, "display": en, "designation": fa_designation(fa), "property": props})
    return code_system(
        "rvu",
        "Health service codes (relative value book; synthetic codes)",
        concepts,
        properties=[
            prop("category", "code", "Service category (CodeSystem/service-category)"),
            prop("loinc", "code", "LOINC code of a lab test"),
            prop("synthetic", "boolean", "The code is a synthetic stand-in"),
        ],
        description="Common services of the relative value book. The codes are synthetic "
        "stand-ins in the book's shape; the LOINC codes are real.",
    )


def insurer() -> dict[str, Any]:
    concepts = [
        {
            "code": c,
            "display": en,
            "designation": fa_designation(fa),
            "property": [{"code": "kind", "valueCode": kind}],
        }
        for c, en, fa, kind in rows("insurer.txt")
    ]
    return code_system(
        "insurer",
        "Iranian health insurers",
        concepts,
        properties=[prop("kind", "code", "basic | supplementary")],
    )


def relationship() -> dict[str, Any]:
    """A local copy of HL7's subscriber-relationship (CC0), so bindings check offline."""
    concepts = [
        {"code": "child", "display": "Child", "designation": fa_designation("فرزند")},
        {"code": "parent", "display": "Parent", "designation": fa_designation("والد")},
        {"code": "spouse", "display": "Spouse", "designation": fa_designation("همسر")},
        {"code": "common", "display": "Common Law Spouse", "designation": fa_designation("همسر (عرفی)")},
        {"code": "other", "display": "Other", "designation": fa_designation("سایر")},
        {"code": "self", "display": "Self", "designation": fa_designation("خود بیمه‌شده")},
        {"code": "injured", "display": "Injured Party", "designation": fa_designation("آسیب‌دیده")},
    ]
    cs = code_system(
        "subscriber-relationship",
        "SubscriberPolicyholder Relationship Codes",
        concepts,
        url="http://terminology.hl7.org/CodeSystem/subscriber-relationship",
    )
    cs["version"] = "4.0.1"
    cs["publisher"] = "HL7 (Persian designations by Noskhe)"
    return cs


# -- value sets and concept maps ------------------------------------------------------


def value_set(
    key: str,
    title: str,
    includes: list[dict[str, Any]],
    *,
    excludes: list[dict[str, Any]] | None = None,
    inactive: bool | None = None,
) -> dict[str, Any]:
    compose: dict[str, Any] = {}
    if inactive is not None:
        compose["inactive"] = inactive
    compose["include"] = includes
    if excludes:
        compose["exclude"] = excludes
    return {
        "resourceType": "ValueSet",
        "id": key,
        "url": f"{BASE}/ValueSet/{key}",
        "version": VERSION,
        "name": "".join(p.capitalize() for p in key.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "date": DATE,
        "publisher": "Noskhe",
        "description": title,
        "compose": compose,
    }


def concept_map(
    key: str, title: str, source: str, target: str, pairs: list[tuple[str, str, str]]
) -> dict[str, Any]:
    elements: dict[str, dict[str, Any]] = {}
    for code, target_code, display in pairs:
        el = elements.setdefault(code, {"code": code, "target": []})
        el["target"].append({"code": target_code, "display": display, "equivalence": "wider"})
    return {
        "resourceType": "ConceptMap",
        "id": key,
        "url": f"{BASE}/ConceptMap/{key}",
        "version": VERSION,
        "name": "".join(p.capitalize() for p in key.split("-")),
        "title": title,
        "status": "active",
        "date": DATE,
        "publisher": "Noskhe",
        "sourceUri": f"{BASE}/ValueSet/{source.rsplit('/', 1)[-1]}" if source.startswith(BASE) else source,
        "targetUri": f"{BASE}/ValueSet/{target.rsplit('/', 1)[-1]}" if target.startswith(BASE) else target,
        "group": [
            {"source": source, "sourceVersion": VERSION, "target": target, "element": list(elements.values())}
        ],
    }


def whole(system: str) -> dict[str, Any]:
    return {"system": system}


def build() -> list[dict[str, Any]]:
    generics, ircs, atc_names = drug_tables()
    generic_props = [
        prop("ingredient", "string", "Active ingredient(s), English INN"),
        prop("atc", "code", "ATC code (http://www.whocc.no/atc)"),
        prop("doseForm", "code", "Dose form (CodeSystem/dose-form)"),
        prop("route", "code", "Route (CodeSystem/route)"),
        prop("strength", "string", "Strength"),
        prop("synthetic", "boolean", "The code is a synthetic stand-in, not the official code"),
        prop(
            "inactive", "boolean", "No longer prescribable", "http://hl7.org/fhir/concept-properties#inactive"
        ),
    ]
    cs = [
        code_system(
            "generic",
            "Generic drug codes (Iran)",
            generics,
            properties=generic_props,
            description="Generic drug codes: 5 digits, one per ingredient, strength and form. "
            "00076, 00077 and 00078 are real; codes with synthetic=true are stand-ins. "
            "Names, strengths, forms and ATC codes are public facts.",
        ),
        code_system(
            "irc",
            "Iran Rx Code (IRC)",
            ircs,
            properties=[
                prop("generic", "code", "Generic drug code (CodeSystem/generic)"),
                prop("synthetic", "boolean", "The code is a synthetic stand-in"),
                prop(
                    "inactive",
                    "boolean",
                    "No longer prescribable",
                    "http://hl7.org/fhir/concept-properties#inactive",
                ),
            ],
            description="IRC, 16 digits, one per marketed product. All IRCs shipped here are synthetic.",
        ),
        code_system(
            "atc",
            "ATC classification (fragment)",
            atc_concepts(atc_names),
            url=ATC,
            hierarchy=True,
            content="fragment",
            description="The ATC codes the shipped drugs use, with their parents.",
        ),
        simple("dose-form", "Dose forms", "forms.txt"),
        simple("route", "Routes of administration", "routes.txt"),
        frequency(),
        simple("drug-instruction", "Drug timing instructions", "instruction.txt"),
        code_system(
            "service-category",
            "Service categories (TAMIN service types and groups)",
            hierarchical("service_category.txt"),
            hierarchy=True,
        ),
        simple("prescription-type", "Prescription types (TAMIN)", "prescription_type.txt"),
        simple(
            "dispense-type",
            "Dispensing record types",
            "dispense_type.txt",
            description="MedicationDispense.type of a national e-prescription's dispensing records: "
            "returns and corrections are new records pointing at the dispense they undo.",
        ),
        rvu(),
        insurer(),
        simple(
            "province",
            "Provinces of Iran",
            "province.txt",
            description="Iran's 31 provinces. The codes are project codes, not ISO 3166-2.",
        ),
        simple("organization-type", "Organization types", "organization_type.txt"),
        simple(
            "adjudication-reason",
            "Reasons a claim line was reduced or denied",
            "adjudication_reason.txt",
            description="ClaimResponse.item.adjudication.reason: the adjudication rules' findings.",
        ),
        simple("claim-result", "Results of a claim's adjudication", "claim_result.txt"),
        simple("adjudication-review", "Reviewers' decisions on an adjudication", "adjudication_review.txt"),
        simple("measure-group", "Groups of the dashboards' measures", "measure_group.txt"),
        simple("measure-stratifier", "Stratifiers of the dashboards' measures", "measure_stratifier.txt"),
        simple("claim-information", "Claim supporting information categories", "claim_information.txt"),
        simple("specialty", "Practitioner specialties", "specialty.txt"),
        relationship(),
    ]
    cs[2]["version"] = "2026"
    cs[2]["publisher"] = "WHO Collaborating Centre for Drug Statistics Methodology (fragment)"
    generic = f"{BASE}/CodeSystem/generic"
    irc = f"{BASE}/CodeSystem/irc"
    cat = f"{BASE}/CodeSystem/service-category"
    vs = [
        value_set(
            "drugs",
            "All prescribable drugs (generic codes and IRC)",
            [whole(generic), whole(irc)],
            inactive=False,
        ),
        value_set("generic", "Generic drug codes", [whole(generic)]),
        value_set("irc", "Iran Rx Codes", [whole(irc)]),
        value_set("atc", "ATC codes (fragment)", [whole(ATC)]),
        value_set("dose-form", "Dose forms", [whole(f"{BASE}/CodeSystem/dose-form")]),
        value_set("route", "Routes", [whole(f"{BASE}/CodeSystem/route")]),
        value_set("drug-frequency", "Drug frequencies", [whole(f"{BASE}/CodeSystem/drug-frequency")]),
        value_set(
            "drug-instruction", "Drug timing instructions", [whole(f"{BASE}/CodeSystem/drug-instruction")]
        ),
        value_set(
            "service-category",
            "Service request categories",
            [whole(cat)],
            excludes=[{"system": cat, "concept": [{"code": "01"}]}],
        ),
        value_set(
            "imaging-category",
            "Imaging categories",
            [{"system": cat, "filter": [{"property": "concept", "op": "descendent-of", "value": "IMG"}]}],
        ),
        value_set("prescription-type", "Prescription types", [whole(f"{BASE}/CodeSystem/prescription-type")]),
        value_set("dispense-type", "Dispensing record types", [whole(f"{BASE}/CodeSystem/dispense-type")]),
        value_set("rvu", "Health services", [whole(f"{BASE}/CodeSystem/rvu")]),
        value_set(
            "lab-services",
            "Laboratory services",
            [
                {
                    "system": f"{BASE}/CodeSystem/rvu",
                    "filter": [{"property": "category", "op": "=", "value": "02"}],
                }
            ],
        ),
        value_set("insurer", "Insurers", [whole(f"{BASE}/CodeSystem/insurer")]),
        value_set(
            "basic-insurer",
            "Basic insurers",
            [
                {
                    "system": f"{BASE}/CodeSystem/insurer",
                    "filter": [{"property": "kind", "op": "=", "value": "basic"}],
                }
            ],
        ),
        value_set("province", "Provinces", [whole(f"{BASE}/CodeSystem/province")]),
        value_set("organization-type", "Organization types", [whole(f"{BASE}/CodeSystem/organization-type")]),
        value_set(
            "adjudication-reason", "Adjudication reasons", [whole(f"{BASE}/CodeSystem/adjudication-reason")]
        ),
        value_set("claim-result", "Claim results", [whole(f"{BASE}/CodeSystem/claim-result")]),
        value_set(
            "adjudication-review", "Reviewers' decisions", [whole(f"{BASE}/CodeSystem/adjudication-review")]
        ),
        value_set("specialty", "Practitioner specialties", [whole(f"{BASE}/CodeSystem/specialty")]),
        value_set(
            "coverage-relationship",
            "Coverage relationships",
            [whole("http://terminology.hl7.org/CodeSystem/subscriber-relationship")],
        ),
        value_set("icd-10", "ICD-10 diagnoses", [whole("http://hl7.org/fhir/sid/icd-10")]),
    ]
    irc_pairs = [(c["code"], c["property"][0]["valueCode"], "") for c in ircs]
    by_generic = {c["code"]: c for c in generics}
    irc_pairs = [(i, g, by_generic[g]["display"]) for i, g, _ in irc_pairs]
    atc_pairs = [
        (
            c["code"],
            next(p["valueCode"] for p in c["property"] if p["code"] == "atc"),
            atc_names[next(p["valueCode"] for p in c["property"] if p["code"] == "atc")],
        )
        for c in generics
    ]
    cm = [
        concept_map("irc-to-generic", "IRC to generic drug code", irc, generic, irc_pairs),
        concept_map("generic-to-atc", "Generic drug code to ATC", generic, ATC, atc_pairs),
    ]
    return cs + vs + cm


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    resources = build()
    for old in OUT.glob("*.json"):
        old.unlink()
    for res in resources:
        path = OUT / f"{res['resourceType']}-{res['id']}.json"
        path.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    generic = resources[0]
    print(f"wrote {len(resources)} resources to {OUT}; {generic['count']} generic drugs")


if __name__ == "__main__":
    main()
