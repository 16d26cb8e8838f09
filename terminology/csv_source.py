"""CSV input for registry sync: one concept per row, turned into a CodeSystem.

Columns (a header row is required; order is free):

- ``system`` (required, the CodeSystem url; the same on every row) and ``version``
  (required, the same on every row); ``name`` and ``title`` (optional, first row wins)
- ``code`` (required), ``display`` (required), ``display:fa`` (or any ``display:LANG``:
  a designation in that language), ``definition``
- ``parent``: code of the parent concept (is-a hierarchy), empty for a root
- ``inactive``: ``true`` marks a concept inactive
- ``prop:NAME`` or ``prop:NAME:TYPE`` (TYPE one of code, string, boolean, integer, decimal;
  default string): a concept property; empty cells are left out

Example::

    system,version,code,display,display:fa,prop:atc:code
    http://noskhe.ir/fhir/CodeSystem/generic,1.1.0,00076,Amoxicillin 250 mg capsule,آموکسی‌سیلین ۲۵۰,J01CA04
"""

from __future__ import annotations

import csv
import io
from typing import Any

from .service import TerminologyError

TYPES = {"code": "Code", "string": "String", "boolean": "Boolean", "integer": "Integer", "decimal": "Decimal"}


def _typed(kind: str, raw: str) -> Any:
    if kind == "Boolean":
        return raw.strip().lower() == "true"
    if kind == "Integer":
        return int(raw)
    if kind == "Decimal":
        return float(raw)
    return raw


def code_system_from_csv(data: str) -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    fields = reader.fieldnames or []
    missing = {"system", "version", "code", "display"} - set(fields)
    if missing:
        raise TerminologyError("invalid", f"CSV is missing columns: {', '.join(sorted(missing))}")
    props: dict[str, tuple[str, str]] = {}
    for f in fields:
        if f.startswith("prop:"):
            _, name, *declared_type = f.split(":")
            props[f] = (name, TYPES.get(declared_type[0] if declared_type else "string", "String"))
    concepts: list[dict[str, Any]] = []
    header: dict[str, str] = {}
    has_inactive = False
    for n, row in enumerate(reader, start=2):
        for key in ("system", "version"):
            value = (row.get(key) or "").strip()
            if header.setdefault(key, value) != value:
                raise TerminologyError("invalid", f"CSV line {n}: {key} differs from the first row")
        code = (row.get("code") or "").strip()
        if not code:
            raise TerminologyError("invalid", f"CSV line {n}: empty code")
        concept: dict[str, Any] = {"code": code, "display": (row.get("display") or "").strip()}
        if row.get("definition"):
            concept["definition"] = row["definition"]
        designations = [
            {"language": f.split(":", 1)[1], "value": row[f]}
            for f in fields
            if f.startswith("display:") and row.get(f)
        ]
        if designations:
            concept["designation"] = designations
        properties: list[dict[str, Any]] = []
        if row.get("parent"):
            properties.append({"code": "parent", "valueCode": row["parent"].strip()})
        for f, (name, kind) in props.items():
            if row.get(f):
                try:
                    properties.append({"code": name, f"value{kind}": _typed(kind, row[f].strip())})
                except ValueError as exc:
                    raise TerminologyError("invalid", f"CSV line {n}: bad {kind} in {f}") from exc
        if (row.get("inactive") or "").strip().lower() == "true":
            properties.append({"code": "inactive", "valueBoolean": True})
            has_inactive = True
        if properties:
            concept["property"] = properties
        concepts.append(concept)
    if not concepts:
        raise TerminologyError("invalid", "CSV has no rows")
    first = next(iter(csv.DictReader(io.StringIO(data.lstrip("\ufeff")))))
    declared = [{"code": name, "type": kind[0].lower() + kind[1:]} for name, kind in props.values()]
    if any(row_has(c, "parent") for c in concepts):
        declared.append({"code": "parent", "type": "code"})
    if has_inactive:
        declared.append(
            {"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean"}
        )
    cs: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "url": header["system"],
        "version": header["version"],
        "status": "active",
        "content": "complete",
    }
    if first.get("name"):
        cs["name"] = first["name"]
    if first.get("title"):
        cs["title"] = first["title"]
    if any(row_has(c, "parent") for c in concepts):
        cs["hierarchyMeaning"] = "is-a"
    if declared:
        cs["property"] = declared
    cs["concept"] = concepts
    return cs


def row_has(concept: dict[str, Any], prop: str) -> bool:
    return any(p.get("code") == prop for p in concept.get("property") or [])
