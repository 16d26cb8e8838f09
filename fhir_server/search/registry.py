"""The SearchParameter registry: core R4 definitions plus custom SearchParameter resources.

Each definition is bound per resource type (`SearchParam.resource_type`) with its FHIRPath
expression cut down to the union branches for that type, so a multi-base parameter such as
`clinical-patient` becomes one entry per base. Parameters based on `Resource` and
`DomainResource` apply to every resource type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fhir_server import definitions

# Parameters answered from the resources table (not from index entries).
COLUMN_PARAMS = frozenset({"_id", "_lastUpdated"})
# Parameters nobody can index: full text and named queries.
UNSUPPORTED = frozenset({"_text", "_content", "_query", "_list", "_filter", "near"})
_ABSTRACT = ("Resource", "DomainResource")
# On a token SearchParameter over plain strings: the system those strings belong to, so
# `system|code` finds them as a bare code does (the mother's national code is a string).
TOKEN_SYSTEM_EXT = "http://noskhe.ir/fhir/StructureDefinition/search-token-system"


@dataclass(frozen=True, slots=True)
class ComponentDef:
    definition: str
    expression: str
    code: str  # code of the component's own SearchParameter
    type: str


@dataclass(frozen=True, slots=True)
class SearchParam:
    code: str
    url: str
    type: str  # number date string token reference composite quantity uri special
    resource_type: str
    expression: str | None  # FHIRPath restricted to resource_type (None: not indexable)
    targets: tuple[str, ...] = ()
    components: tuple[ComponentDef, ...] = ()
    description: str = ""
    token_system: str | None = None  # see TOKEN_SYSTEM_EXT


def split_top_level(text: str, separator: str) -> list[str]:
    """Split FHIRPath text on `separator` where it is outside parentheses and quotes."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def split_union(expression: str) -> list[str]:
    """Split a FHIRPath expression on top-level `|` (not inside parentheses or quotes)."""
    return [p.strip() for p in split_top_level(expression, "|") if p.strip()]


_ROOT = re.compile(r"^\(*\s*([A-Za-z]+)")


def restrict_expression(expression: str | None, resource_type: str) -> str | None:
    """The union branches of `expression` rooted at `resource_type` (or Resource/
    DomainResource, re-rooted at `resource_type`); None when no branch applies."""
    if not expression:
        return None
    kept: list[str] = []
    for part in split_union(expression):
        m = _ROOT.match(part)
        if m is None:
            continue
        root = m.group(1)
        if root == resource_type:
            kept.append(part)
        elif root in _ABSTRACT:
            kept.append(part[: m.start(1)] + resource_type + part[m.end(1) :])
    return " | ".join(kept) if kept else None


class Registry:
    """Search parameters by resource type and code. `add` is the hook for custom ones."""

    def __init__(self, resource_types: Iterable[str]) -> None:
        self._types = frozenset(resource_types)
        self._by_type: dict[str, dict[str, SearchParam]] = {t: {} for t in self._types}
        self._by_url: dict[str, Mapping[str, Any]] = {}
        self.generation = 0  # bumped on every add; extractor caches key on it

    @property
    def resource_types(self) -> frozenset[str]:
        return self._types

    def add(self, sp: Mapping[str, Any]) -> None:
        """Register a SearchParameter (core compact dict or a SearchParameter resource)."""
        url = str(sp.get("url", ""))
        self._by_url[url] = sp
        bases = list(sp.get("base", ()))
        if any(b in _ABSTRACT for b in bases):
            bases = sorted(self._types)
        for base in bases:
            if base in self._types:
                self._by_type[base][str(sp["code"])] = self._bind(sp, base)
        self.generation += 1

    def _bind(self, sp: Mapping[str, Any], base: str) -> SearchParam:
        components = tuple(self._component(c) for c in sp.get("component", ()))
        return SearchParam(
            code=str(sp["code"]),
            url=str(sp.get("url", "")),
            type=str(sp["type"]),
            resource_type=base,
            expression=restrict_expression(sp.get("expression"), base),
            targets=tuple(sp.get("target", ())),
            components=components,
            description=str(sp.get("description", "")),
            token_system=_token_system(sp),
        )

    def _component(self, comp: Mapping[str, Any]) -> ComponentDef:
        ref = self._by_url.get(str(comp["definition"]), {})
        return ComponentDef(
            str(comp["definition"]),
            str(comp["expression"]),
            str(ref.get("code", "")),
            str(ref.get("type", "token")),
        )

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        return self._by_type.get(resource_type, {}).get(code)

    def for_type(self, resource_type: str) -> dict[str, SearchParam]:
        return self._by_type.get(resource_type, {})


def _token_system(sp: Mapping[str, Any]) -> str | None:
    for ext in sp.get("extension") or ():
        if isinstance(ext, Mapping) and ext.get("url") == TOKEN_SYSTEM_EXT and ext.get("valueUri"):
            return str(ext["valueUri"])
    return None


def _sorted_core(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Components refer to other parameters by URL: register non-composites first.
    return sorted(params, key=lambda p: p.get("type") == "composite")


@functools.cache
def registry() -> Registry:
    """The process-wide registry, built once from the vendored R4 definitions."""
    reg = Registry(definitions.resource_types())
    for sp in _sorted_core(definitions.search_parameters()):
        reg.add(sp)
    return reg
