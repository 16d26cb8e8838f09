"""Result parameters: _sort, _count, _total, _include, _revinclude, _summary, _elements,
_type and the paging cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fhir_server.outcome import FhirError, Issue, warning
from fhir_server.search.paging import decode_cursor
from fhir_server.search.plan import Cursor, Include, SortKey
from fhir_server.search.registry import registry

DEFAULT_COUNT = 20
MAX_COUNT = 1000
RESULT_PARAMS = frozenset(
    {"_sort", "_count", "_total", "_include", "_revinclude", "_summary", "_elements", "_cursor", "_type"}
)
IGNORED_PARAMS = frozenset({"_format", "_pretty"})
_SORTABLE = frozenset({"token", "string", "reference", "date", "number", "quantity", "uri"})


@dataclass
class Controls:
    types: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    count: int = DEFAULT_COUNT
    total: str = "auto"
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()
    summary: str | None = None
    elements: tuple[str, ...] | None = None
    cursor: Cursor | None = None
    warnings: list[Issue] = field(default_factory=list)
    link_params: list[tuple[str, str]] = field(default_factory=list)


def _bad(param: str, msg: str) -> FhirError:
    return FhirError.of(400, "invalid", msg, param)


def _sort_keys(types: Sequence[str], raw: str) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for item in raw.split(","):
        desc = item.startswith("-")
        code = item.lstrip("-").strip()
        if code in ("_id", "_lastUpdated"):
            keys.append(SortKey(code, code.lstrip("_"), desc))
            continue
        defs = [registry().get(t, code) for t in types]
        if not types or any(d is None or d.type not in _SORTABLE for d in defs):
            raise _bad("_sort", f"Cannot sort by '{code}'")
        first = defs[0]
        assert first is not None
        keys.append(SortKey(code, first.type, desc))
    return tuple(keys)


def _include(raw: str, iterate: bool, reverse: bool, types: Sequence[str], name: str) -> Include:
    if raw == "*":
        if reverse or not types:
            raise _bad(name, f"{name}=* needs a resource type")
        return Include(types[0], "*", None, iterate)
    parts = raw.split(":")
    if len(parts) not in (2, 3) or parts[0] not in registry().resource_types:
        raise _bad(name, f"Malformed {name} '{raw}'")
    source, code = parts[0], parts[1]
    target = parts[2] if len(parts) == 3 else None
    if code != "*":
        param = registry().get(source, code)
        if param is None or param.type != "reference":
            raise _bad(name, f"'{code}' is not a reference parameter of {source}")
    return Include(source, code, target, iterate)


def _count(raw: str) -> int:
    if not raw.isdigit():
        raise _bad("_count", f"_count must be a non-negative integer, not '{raw}'")
    return min(int(raw), MAX_COUNT)


def _types_param(raw: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in raw.split(",") if t.strip())
    unknown = [t for t in names if t not in registry().resource_types]
    if unknown:
        raise _bad("_type", f"Unknown resource type(s) in _type: {', '.join(unknown)}")
    return names


def parse_controls(resource_type: str | None, params: Sequence[tuple[str, str]], strict: bool) -> Controls:
    c = Controls()
    for key, raw in params:
        if key == "_type":
            c.types = _types_param(raw)
            c.link_params.append((key, raw))
    types = (resource_type,) if resource_type else c.types
    for key, raw in params:
        base, _, mod = key.partition(":")
        if base not in RESULT_PARAMS or base == "_type":
            continue
        if base != "_cursor":
            c.link_params.append((key, raw))
        _apply(c, types, base, mod, raw)
    if c.summary == "count":
        c.count, c.total = 0, "accurate"
    elif c.count == 0 and c.total == "auto":
        c.total = "accurate"  # `_count=0` asks how many match (fhirpy's count())
    return c


def _apply(c: Controls, types: Sequence[str], base: str, mod: str, raw: str) -> None:
    if base == "_sort":
        c.sort = _sort_keys(types, raw)
    elif base == "_count":
        c.count = _count(raw)
    elif base == "_total":
        if raw not in ("none", "estimate", "accurate"):
            raise _bad("_total", "_total must be none, estimate or accurate")
        c.total = raw
    elif base in ("_include", "_revinclude"):
        if mod not in ("", "iterate", "recurse"):
            raise _bad(base, f"Unknown modifier :{mod} on {base}")
        inc = _include(raw, mod != "", base == "_revinclude", types, base)
        if base == "_include":
            c.includes += (inc,)
        else:
            c.revincludes += (inc,)
    elif base == "_summary":
        if raw not in ("true", "false", "text", "data", "count"):
            raise _bad("_summary", "_summary must be true, false, text, data or count")
        c.summary = None if raw == "false" else raw
    elif base == "_elements":
        c.elements = tuple(e.strip() for e in raw.split(",") if e.strip())
    elif base == "_cursor":
        c.cursor = decode_cursor(raw)
    else:
        c.warnings.append(warning("not-supported", f"Parameter {base} ignored", base))
