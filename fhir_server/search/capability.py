"""Search parameters, includes and revincludes for the CapabilityStatement."""

from __future__ import annotations

from typing import Any

from fhir_server.search.registry import COLUMN_PARAMS, UNSUPPORTED, registry

_INDEXED_TYPES = frozenset({"token", "string", "reference", "date", "number", "quantity", "uri", "composite"})


def capability_search_params(resource_type: str) -> list[dict[str, Any]]:
    """`rest.resource.searchParam` entries: every parameter this server can answer."""
    out: list[dict[str, Any]] = []
    for code, param in sorted(registry().for_type(resource_type).items()):
        if code in UNSUPPORTED or param.type not in _INDEXED_TYPES:
            continue
        if param.expression is None and code not in COLUMN_PARAMS:
            continue
        entry: dict[str, Any] = {"name": code, "definition": param.url, "type": param.type}
        if param.description:
            entry["documentation"] = param.description
        out.append(entry)
    return out


def search_includes(resource_type: str) -> list[str]:
    refs = [c for c, p in sorted(registry().for_type(resource_type).items()) if p.type == "reference"]
    return ["*"] + [f"{resource_type}:{c}" for c in refs]


def search_revincludes(resource_type: str) -> list[str]:
    out: list[str] = []
    for source in sorted(registry().resource_types):
        for code, param in sorted(registry().for_type(source).items()):
            if param.type == "reference" and (not param.targets or resource_type in param.targets):
                out.append(f"{source}:{code}")
    return out
