#!/usr/bin/env python3
"""Derive the compact R4 definition files in fhir_server/definitions/ from the official package.

The source is the npm package ``hl7.fhir.r4.examples@4.0.1`` (CC0). It is fetched with
``npm pack`` into a cache directory (default /tmp/noskhe-r4-cache) and unpacked there, so
re-running is cheap. Output (plain, compact JSON, committed to the repository):

- elements.json            element trees of every resource and complex datatype, with the
                           FHIRPath constraints (invariants) and Reference target types
- constraints.json         constraint id -> {key, severity, human, expression}
- valuesets.json           codes of the value sets that are bound with strength=required
- search_parameters.json   all 1,375 core SearchParameters, compacted
- compartments.json        compartment code -> resource type -> parameter names
- resource_types.json      the concrete resource types
- conformance.json.gz      the R4 core StructureDefinitions (resources, data types, core
                           extensions and profiles), SearchParameters and
                           CompartmentDefinitions as full resources without narrative,
                           served read-only through the API (fhir_server.conformance)
- terminology/data/r4-core.json.gz   every R4 core CodeSystem and ValueSet (see
                           derive_core_terminology; also needs hl7.fhir.r4.expansions@4.0.1)

``--examples`` also copies a few small official examples per type into
tests/fixtures/r4-examples/, and every example of the prescription-related types into
tests/fixtures/r4-prescription-examples.json (the validation corpus's valid half), for
tests without network access.

Usage: python scripts/derive_definitions.py [--package-dir DIR] [--cache DIR] [--examples]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
TARBALL = "hl7.fhir.r4.examples-4.0.1.tgz"
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "fhir_server" / "definitions"
EXAMPLES_DIR = ROOT / "tests" / "fixtures" / "r4-examples"
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
PROFILED_TYPES = {
    "http://hl7.org/fhir/StructureDefinition/SimpleQuantity": "SimpleQuantity",
    "http://hl7.org/fhir/StructureDefinition/MoneyQuantity": "MoneyQuantity",
}
# Value sets whose codes come from systems we cannot enumerate locally even when the
# compose looks simple (grammar-based or external code systems).
EXTERNAL_SYSTEMS = {
    "urn:ietf:bcp:47",
    "urn:ietf:bcp:13",
    "http://unitsofmeasure.org",
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "urn:iso:std:iso:4217",
    "urn:iso:std:iso:3166",
}
# Examples copied into tests/fixtures/r4-examples: these named ones, then the smallest few
# of each type.
PREFERRED_EXAMPLES = (
    "Patient-example.json",
    "Practitioner-example.json",
    "Organization-1.json",
    "Encounter-example.json",
    "Coverage-9876B1.json",
    "Medication-med0301.json",
    "MedicationRequest-medrx0302.json",
    "MedicationDispense-meddisp0301.json",
    "ServiceRequest-example.json",
    "Observation-example.json",
    "Bundle-bundle-transaction.json",
    "Bundle-bundle-response.json",
)
EXAMPLE_TYPES = {
    "Patient": 4,
    "Practitioner": 3,
    "PractitionerRole": 2,
    "Organization": 3,
    "Encounter": 3,
    "Coverage": 3,
    "Medication": 4,
    "MedicationRequest": 5,
    "MedicationDispense": 4,
    "ServiceRequest": 4,
    "Observation": 4,
    "Bundle": 3,
}


def fetch_package(cache: Path) -> Path:
    """Return the unpacked package/ folder, running ``npm pack`` only when not cached."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / TARBALL
    if not tarball.exists():
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=cache, check=True, stdout=subprocess.DEVNULL)
    package_dir = cache / "package"
    if not (package_dir / "Bundle-resources.json").exists():
        with tarfile.open(tarball) as tar:
            tar.extractall(cache, filter="data")
    return package_dir


def load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def bundle_resources(path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in load_json(path).get("entry", []) if "resource" in e]


def strip_version(url: str) -> str:
    return url.split("|", 1)[0]


# --------------------------------------------------------------------------- elements


def type_code(t: dict[str, Any]) -> str:
    """FHIR type code of an ElementDefinition.type entry (System.String -> its fhir-type)."""
    code: str = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", []):
            if ext.get("url") == FHIR_TYPE_EXT:
                return str(ext["valueUrl"])
        return "string"
    for profile in t.get("profile", []):
        if profile in PROFILED_TYPES:
            return PROFILED_TYPES[profile]
    return code


def compact_element(
    el: dict[str, Any], is_resource: bool, constraints: ConstraintTable
) -> dict[str, Any] | None:
    """One element as {p, min, max, t, c?, r?, b?, k?, tp?}; None when prohibited (max=0)."""
    if el.get("max") == "0":
        return None
    path: str = el["path"]
    out: dict[str, Any] = {"p": path, "min": el.get("min", 0), "max": el.get("max", "*")}
    types = [type_code(t) for t in el.get("type", [])]
    # Resource.id is typed System.String/"string" in the snapshot, but is an id.
    if is_resource and path.count(".") == 1 and path.endswith(".id"):
        types = ["id"]
    if types:
        out["t"] = types
    if path.endswith("[x]"):
        base = path.rsplit(".", 1)[1][:-3]
        # JSON names come from the plain type code (doseQuantity, not doseSimpleQuantity)
        codes = [t["code"] for t in el["type"]]
        out["c"] = {base + c[0].upper() + c[1:]: t for c, t in zip(codes, types, strict=True)}
    if "contentReference" in el:
        out["r"] = el["contentReference"].lstrip("#")
    binding = el.get("binding")
    if binding and binding.get("strength") == "required" and binding.get("valueSet"):
        out["b"] = strip_version(binding["valueSet"])
    add_validation_facts(out, el, constraints)
    return out


def derive_elements(
    sds: Iterable[dict[str, Any]], constraints: ConstraintTable
) -> tuple[dict[str, Any], list[str]]:
    types: dict[str, Any] = {}
    resource_types: list[str] = []
    for sd in sds:
        kind = sd.get("kind")
        if kind not in ("resource", "complex-type"):
            continue
        if sd.get("derivation") == "constraint" and sd["name"] not in PROFILED_TYPES.values():
            continue
        name = sd["name"] if sd.get("derivation") == "constraint" else sd["type"]
        if kind == "resource" and not sd.get("abstract"):
            resource_types.append(name)
        is_resource = kind == "resource"
        root, *rest = sd["snapshot"]["element"]
        elements = [compact_element(el, is_resource, constraints) for el in rest]
        types[name] = {
            "kind": "resource" if kind == "resource" else "complex",
            "abstract": bool(sd.get("abstract")),
            "root": sd["type"],
            "elements": [e for e in elements if e is not None],
        }
        root_keys = constraints.ids(root)
        if root_keys:
            types[name]["k"] = root_keys
    return types, sorted(resource_types)


# --------------------------------------------------------------------------- validation facts


class ConstraintTable:
    """The FHIRPath constraints of the snapshots, each stored once under a stable id.

    The id is the constraint key (``per-1``) or, where R4 reuses a key for different
    rules (``inv-1`` on Parameters, Task and TestReport), ``key@path`` of the element
    that defines it."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self._ids: dict[tuple[str, str], str] = {}

    def ids(self, el: dict[str, Any]) -> list[str]:
        out = []
        for c in el.get("constraint", []):
            if "expression" not in c:
                continue
            found = self._ids.get((c["key"], c["expression"]))
            if found is None:
                found = c["key"] if c["key"] not in self.by_id else f"{c['key']}@{el['path']}"
                self._ids[(c["key"], c["expression"])] = found
                self.by_id[found] = {
                    "key": c["key"],
                    "severity": c["severity"],
                    "human": c["human"],
                    "expression": c["expression"],
                }
            if found not in out:
                out.append(found)
        return out


def reference_targets(el: dict[str, Any]) -> list[str]:
    """Resource types a Reference element may point at (["Resource"] for any)."""
    targets: list[str] = []
    for t in el.get("type", []):
        if t["code"] == "Reference":
            targets += [p.rsplit("/", 1)[1] for p in t.get("targetProfile", [])] or ["Resource"]
    return sorted(set(targets))


def add_validation_facts(out: dict[str, Any], el: dict[str, Any], constraints: ConstraintTable) -> None:
    """k: the element's constraint ids; tp: its Reference target types."""
    keys = constraints.ids(el)
    if keys:
        out["k"] = keys
    targets = reference_targets(el)
    if targets:
        out["tp"] = targets


# --------------------------------------------------------------------------- value sets


class ValueSetExpander:
    """Expands ValueSet.compose locally; returns None for anything not enumerable."""

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self.value_sets: dict[str, dict[str, Any]] = {}
        self.code_systems: dict[str, dict[str, Any]] = {}
        for r in resources:
            if r.get("resourceType") == "ValueSet":
                self.value_sets.setdefault(r["url"], r)
            elif r.get("resourceType") == "CodeSystem":
                self.code_systems.setdefault(r["url"], r)

    def system_codes(self, system: str) -> set[str] | None:
        cs = self.code_systems.get(system)
        if system in EXTERNAL_SYSTEMS or cs is None or cs.get("content") != "complete":
            return None
        codes: set[str] = set()

        def walk(concepts: list[dict[str, Any]]) -> None:
            for c in concepts:
                codes.add(c["code"])
                walk(c.get("concept", []))

        walk(cs.get("concept", []))
        return codes or None

    def expand(self, url: str, seen: frozenset[str] = frozenset()) -> dict[str, set[str]] | None:
        vs = self.value_sets.get(url)
        if vs is None or url in seen or "compose" not in vs:
            return None
        result: dict[str, set[str]] = {}
        for inc in vs["compose"].get("include", []):
            part = self._include(inc, seen | {url})
            if part is None:
                return None
            for system, codes in part.items():
                result.setdefault(system, set()).update(codes)
        for exc in vs["compose"].get("exclude", []):
            if "filter" in exc or "valueSet" in exc or "concept" not in exc:
                return None
            result.get(exc.get("system", ""), set()).difference_update(c["code"] for c in exc["concept"])
        return result

    def _include(self, inc: dict[str, Any], seen: frozenset[str]) -> dict[str, set[str]] | None:
        if "filter" in inc:
            return None
        result: dict[str, set[str]] = {}
        system = inc.get("system")
        if system is not None:
            if "concept" in inc:
                if system in EXTERNAL_SYSTEMS and system != "http://unitsofmeasure.org":
                    return None
                result[system] = {c["code"] for c in inc["concept"]}
            else:
                codes = self.system_codes(system)
                if codes is None:
                    return None
                result[system] = codes
        for vs_url in inc.get("valueSet", []):
            part = self.expand(strip_version(vs_url), seen)
            if part is None:
                return None
            if system is not None:  # intersection of system codes and the value set
                result = {system: result[system] & part.get(system, set())}
            else:
                for s, codes in part.items():
                    result.setdefault(s, set()).update(codes)
        return result


def derive_valuesets(types: dict[str, Any], expander: ValueSetExpander) -> dict[str, Any]:
    urls = sorted({e["b"] for t in types.values() for e in t["elements"] if "b" in e})
    out: dict[str, Any] = {}
    for url in urls:
        expansion = expander.expand(url)
        out[url] = None if expansion is None else {s: sorted(c) for s, c in sorted(expansion.items())}
    return out


# --------------------------------------------------------------------------- search, compartments

SP_KEYS = (
    "url",
    "code",
    "name",
    "base",
    "type",
    "expression",
    "xpathUsage",
    "target",
    "modifier",
    "comparator",
    "multipleOr",
    "multipleAnd",
    "chain",
)


def derive_search_parameters(resources: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for sp in resources:
        if sp.get("resourceType") != "SearchParameter":
            continue
        item = {k: sp[k] for k in SP_KEYS if k in sp}
        if "component" in sp:
            item["component"] = [
                {"definition": strip_version(c["definition"]), "expression": c["expression"]}
                for c in sp["component"]
            ]
        out.append(item)
    return out


def derive_compartments(package_dir: Path) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for path in sorted(package_dir.glob("CompartmentDefinition-*.json")):
        cd = load_json(path)
        if cd.get("url", "").startswith("http://hl7.org/fhir/CompartmentDefinition/") and (
            cd["id"] != "example"
        ):
            out[cd["code"]] = {r["code"]: r["param"] for r in cd.get("resource", []) if r.get("param")}
    return out


# --------------------------------------------------------------------------- output


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")


def copy_examples(package_dir: Path) -> None:
    """Copy the smallest few official examples of each type into tests/fixtures/r4-examples."""
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for old in EXAMPLES_DIR.glob("*.json"):
        old.unlink()
    for name in PREFERRED_EXAMPLES:
        shutil.copyfile(package_dir / name, EXAMPLES_DIR / name)
    for rtype, count in EXAMPLE_TYPES.items():
        candidates = []
        for path in package_dir.glob(f"{rtype}-*.json"):
            if load_json(path).get("resourceType") == rtype:
                candidates.append((path.stat().st_size, path.name, path))
        for _, _, path in sorted(candidates)[:count]:
            shutil.copyfile(path, EXAMPLES_DIR / path.name)
    print(f"copied {len(list(EXAMPLES_DIR.glob('*.json')))} examples to {EXAMPLES_DIR.relative_to(ROOT)}")


# --------------------------------------------------------------------------- R4 core terminology

EXPANSIONS_PACKAGE = "hl7.fhir.r4.expansions@4.0.1"
EXPANSIONS_TARBALL = "hl7.fhir.r4.expansions-4.0.1.tgz"
CORE_TERMINOLOGY = ROOT / "terminology" / "data" / "r4-core.json.gz"
TERMINOLOGY_BUNDLES = ("Bundle-valuesets.json", "Bundle-v3-valuesets.json", "Bundle-v2-valuesets.json")


def fetch_expansions(cache: Path) -> Path:
    """The unpacked expansions package (ValueSet-*.json with ``expansion``), cached."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / EXPANSIONS_TARBALL
    if not tarball.exists():
        subprocess.run(
            ["npm", "pack", EXPANSIONS_PACKAGE, "--silent"], cwd=cache, check=True, stdout=subprocess.DEVNULL
        )
    out = cache / "expansions"
    if not (out / "package" / "package.json").exists():
        with tarfile.open(tarball) as tar:
            tar.extractall(out, filter="data")
    return out / "package"


def published_expansions(expansions_dir: Path) -> dict[str, dict[str, Any]]:
    """ValueSet url -> its published ``expansion``, complete ones only.

    The limited ones (``limitedExpansion``: the first 1,000 to 4,000 codes of a SNOMED CT
    or LOINC hierarchy, 4.5 MB) are left out: they can neither list the value set nor deny
    membership, only confirm an arbitrary sample."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(expansions_dir.glob("ValueSet-*.json")):
        vs = load_json(path)
        expansion = vs.get("expansion")
        if not isinstance(expansion, dict):
            continue
        if any(p.get("name") == "limitedExpansion" for p in expansion.get("parameter", [])):
            continue
        out[vs["url"]] = expansion
    return out


def derive_core_terminology(package_dir: Path, expansions_dir: Path) -> list[dict[str, Any]]:
    """Every CodeSystem and ValueSet of R4 (FHIR, v2 and v3 bundles), narrative dropped.

    A ValueSet keeps its compose; when the terminology service cannot evaluate that compose
    here (filters on SNOMED CT or LOINC, codes of systems not held here) and the expansions
    package has its complete expansion, the expansion is added to it, so the service
    answers from the published list."""
    from terminology.service import TerminologyService
    from terminology.valueset import ExpansionError

    resources = []
    for name in TERMINOLOGY_BUNDLES:
        for r in bundle_resources(package_dir / name):
            if r.get("resourceType") in ("CodeSystem", "ValueSet"):
                resources.append({k: v for k, v in r.items() if k != "text"})
    service = TerminologyService(resources)
    expansions = published_expansions(expansions_dir)
    for vs in resources:
        if vs["resourceType"] != "ValueSet" or vs["url"] not in expansions:
            continue
        try:
            enumerable = not service.expansion(vs["url"]).open_systems
        except ExpansionError:
            enumerable = False
        if not enumerable:
            vs["expansion"] = expansions[vs["url"]]
    return resources


CONFORMANCE_BUNDLES = (
    "Bundle-types.json",
    "Bundle-resources.json",
    "Bundle-extensions.json",
    "Bundle-profiles-others.json",
    "Bundle-searchParams.json",
)
CONFORMANCE_TYPES = ("StructureDefinition", "SearchParameter", "CompartmentDefinition")


def write_conformance(package_dir: Path) -> None:
    """The core conformance resources the API serves read-only: one gzip file
    (deterministic), narrative left out (the spec's pages are its home)."""
    resources = []
    for name in CONFORMANCE_BUNDLES:
        for r in bundle_resources(package_dir / name):
            if r.get("resourceType") in CONFORMANCE_TYPES:
                resources.append({k: v for k, v in r.items() if k != "text"})
    data = {"fhirVersion": "4.0.1", "source": "hl7.fhir.r4.examples@4.0.1", "resources": resources}
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    target = OUT_DIR / "conformance.json.gz"
    with gzip.GzipFile(target, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(raw)
    print(f"wrote {len(resources)} conformance resources to {target.relative_to(ROOT)}")


def write_core_terminology(resources: list[dict[str, Any]]) -> None:
    """One gzip file (deterministic: no timestamp), the resources in package order."""
    data = {
        "fhirVersion": "4.0.1",
        "source": [PACKAGE, EXPANSIONS_PACKAGE],
        "resources": resources,
    }
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    with gzip.GzipFile(CORE_TERMINOLOGY, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(raw)
    expanded = sum("expansion" in r for r in resources)
    print(
        f"wrote {CORE_TERMINOLOGY.relative_to(ROOT)} ({CORE_TERMINOLOGY.stat().st_size:,} bytes; "
        f"{len(resources)} resources, {expanded} with a published expansion)"
    )


# every official example of these types is in the validation corpus (valid half)
PRESCRIPTION_TYPES = (
    "MedicationRequest",
    "MedicationDispense",
    "ServiceRequest",
    "Medication",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Coverage",
    "Encounter",
)


def copy_prescription_examples(package_dir: Path) -> None:
    """All examples of the prescription-related types, as one file: name -> resource."""
    out = {}
    for rtype in PRESCRIPTION_TYPES:
        for path in sorted(package_dir.glob(f"{rtype}-*.json")):
            resource = load_json(path)
            if resource.get("resourceType") == rtype:
                out[path.name] = resource
    target = ROOT / "tests" / "fixtures" / "r4-prescription-examples.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"wrote {len(out)} examples to {target.relative_to(ROOT)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--package-dir", type=Path, help="an already unpacked package/ folder")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/noskhe-r4-cache"))
    ap.add_argument("--examples", action="store_true", help="also refresh test fixtures")
    args = ap.parse_args()
    package_dir: Path = args.package_dir or fetch_package(args.cache)

    sds = [
        r
        for f in ("Bundle-types.json", "Bundle-resources.json")
        for r in bundle_resources(package_dir / f)
        if r.get("resourceType") == "StructureDefinition"
    ]
    constraints = ConstraintTable()
    types, resource_types = derive_elements(sds, constraints)
    vs_resources = [
        r
        for f in ("Bundle-valuesets.json", "Bundle-v3-valuesets.json", "Bundle-v2-valuesets.json")
        for r in bundle_resources(package_dir / f)
    ]
    valuesets = derive_valuesets(types, ValueSetExpander(vs_resources))
    search = derive_search_parameters(bundle_resources(package_dir / "Bundle-searchParams.json"))

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_json(OUT_DIR / "elements.json", {"fhirVersion": "4.0.1", "types": types})
    write_json(OUT_DIR / "constraints.json", constraints.by_id)
    write_json(OUT_DIR / "resource_types.json", resource_types)
    write_json(OUT_DIR / "valuesets.json", valuesets)
    write_json(OUT_DIR / "search_parameters.json", search)
    write_json(OUT_DIR / "compartments.json", derive_compartments(package_dir))
    enumerable = sum(v is not None for v in valuesets.values())
    print(
        f"{len(resource_types)} resource types, {len(types)} types, {len(search)} search "
        f"parameters, {enumerable}/{len(valuesets)} required value sets enumerable"
    )
    write_conformance(package_dir)
    write_core_terminology(derive_core_terminology(package_dir, fetch_expansions(args.cache)))
    if args.examples:
        copy_examples(package_dir)
        copy_prescription_examples(package_dir)


if __name__ == "__main__":
    main()
