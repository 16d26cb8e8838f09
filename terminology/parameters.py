"""FHIR Parameters in and out of the terminology operations (no HTTP here).

``read_parameters`` merges query pairs and a Parameters body into one name -> values map;
the ``*_parameters`` functions render results as the R4 operation outputs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .conceptmap import Mapping
from .service import ExpandPage, LookupResult, TerminologyError, ValidationResult

Args = dict[str, list[Any]]


def read_parameters(query: Iterable[tuple[str, str]], body: Any = None) -> Args:
    """Operation inputs from the URL and an optional Parameters body (values as JSON)."""
    args: Args = {}
    for name, value in query:
        args.setdefault(name, []).append(value)
    if body is None:
        return args
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise TerminologyError("invalid", "The body must be a Parameters resource")
    for p in body.get("parameter") or []:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise TerminologyError("invalid", "Each parameter needs a name")
        values = [v for k, v in p.items() if k.startswith("value")]
        if "resource" in p:
            values.append(p["resource"])
        args.setdefault(p["name"], []).extend(values)
    return args


def one(args: Args, name: str) -> Any:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise TerminologyError("invalid", f"Parameter {name} may be given once")
    return values[0]


def text(args: Args, name: str) -> str | None:
    value = one(args, name)
    if value is None or isinstance(value, str):
        return value
    raise TerminologyError("invalid", f"Parameter {name} must be a string")


def integer(args: Args, name: str) -> int | None:
    value = one(args, name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise TerminologyError("invalid", f"Parameter {name} must be a non-negative integer")


def boolean(args: Args, name: str) -> bool:
    value = one(args, name)
    return value is True or value == "true"


def coding(args: Args) -> tuple[str | None, str | None, str | None, str | None]:
    """(system, code, version, display) from system/code or coding or codeableConcept."""
    system, code = text(args, "system"), text(args, "code")
    version, display = text(args, "version") or text(args, "systemVersion"), text(args, "display")
    c = one(args, "coding")
    if c is None:
        cc = one(args, "codeableConcept")
        if isinstance(cc, dict):
            codings = cc.get("coding") or []
            c = codings[0] if codings else None
    if isinstance(c, dict):
        system = system or c.get("system")
        code = code or c.get("code")
        version = version or c.get("version")
        display = display or c.get("display")
    return system, code, version, display


def _param(name: str, kind: str, value: Any) -> dict[str, Any]:
    return {"name": name, f"value{kind}": value}


def parameters(params: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": params}


def lookup_parameters(found: LookupResult, wanted: Iterable[str] = ()) -> dict[str, Any]:
    cs, concept = found.system, found.concept
    out = [_param("name", "String", cs.name or cs.title or cs.url)]
    if cs.version:
        out.append(_param("version", "String", cs.version))
    if found.display:
        out.append(_param("display", "String", found.display))
    if concept.definition:
        out.append(_param("definition", "String", concept.definition))
    if concept.abstract:
        out.append(_param("abstract", "Boolean", True))
    for d in concept.designations:
        part: list[dict[str, Any]] = []
        if d.language:
            part.append(_param("language", "Code", d.language))
        part.append(_param("value", "String", d.value))
        out.append({"name": "designation", "part": part})
    wanted = set(wanted)
    props = [(c, k, v) for c, k, v in concept.properties if not wanted or c in wanted]
    props += [("parent", "Code", p) for p in concept.parents if not wanted or "parent" in wanted]
    props += [
        ("child", "Code", c) for c in cs.children.get(concept.code, ()) if not wanted or "child" in wanted
    ]
    if (
        concept.inactive
        and (not wanted or "inactive" in wanted)
        and not any(c == "inactive" for c, _, _ in props)
    ):
        props.append(("inactive", "Boolean", True))
    for c, k, v in props:
        out.append({"name": "property", "part": [_param("code", "Code", c), _param("value", k, v)]})
    return parameters(out)


def validation_parameters(result: ValidationResult) -> dict[str, Any]:
    out = [_param("result", "Boolean", result.result)]
    if result.message:
        out.append(_param("message", "String", result.message))
    if result.display:
        out.append(_param("display", "String", result.display))
    if result.code:
        out.append(_param("code", "Code", result.code))
    if result.system:
        out.append(_param("system", "Uri", result.system))
    if result.version:
        out.append(_param("version", "String", result.version))
    if result.inactive:
        out.append(_param("inactive", "Boolean", True))
    return parameters(out)


def expansion_valueset(
    valueset: dict[str, Any], page: ExpandPage, language: str | None = None, designations: bool = False
) -> dict[str, Any]:
    """The ValueSet with an ``expansion`` (compose left out: the client asked for codes)."""
    out = {k: v for k, v in valueset.items() if k not in ("compose", "expansion", "text", "meta")}
    params: list[dict[str, Any]] = [_param("offset", "Integer", page.offset)]
    if page.filter:
        params.append(_param("filter", "String", page.filter))
    if language:
        params.append(_param("displayLanguage", "Code", language))
    contains = []
    for e in page.entries:
        item: dict[str, Any] = {"system": e.system}
        if e.version:
            item["version"] = e.version
        if e.abstract:
            item["abstract"] = True
        if e.inactive:
            item["inactive"] = True
        item["code"] = e.code
        shown = e.concept.display_in(language) if e.concept is not None else e.display
        if shown:
            item["display"] = shown
        if designations and e.concept is not None and e.concept.designations:
            item["designation"] = [
                {"language": d.language, "value": d.value} if d.language else {"value": d.value}
                for d in e.concept.designations
            ]
        contains.append(item)
    out["expansion"] = {
        "identifier": f"urn:uuid:{uuid.uuid4()}",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total": page.total,
        "offset": page.offset,
        "parameter": params,
    }
    if contains:
        out["expansion"]["contains"] = contains
    return out


def translate_parameters(found: list[Mapping]) -> dict[str, Any]:
    out: list[dict[str, Any]] = [_param("result", "Boolean", bool(found))]
    if not found:
        out.append(_param("message", "String", "No mapping found"))
    for m in found:
        concept: dict[str, Any] = {"system": m.target_system, "code": m.target_code}
        if m.target_display:
            concept["display"] = m.target_display
        part = [_param("equivalence", "Code", m.equivalence), _param("concept", "Coding", concept)]
        if m.map_url:
            part.append(_param("source", "Uri", m.map_url))
        out.append({"name": "match", "part": part})
    return parameters(out)


def subsumes_parameters(outcome: str) -> dict[str, Any]:
    return parameters([_param("outcome", "Code", outcome)])
