"""Immutable in-memory forms of CodeSystem concepts, built once per (url, version)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

INACTIVE_STATUS = frozenset({"retired", "inactive", "deprecated"})


@dataclass(frozen=True, slots=True)
class Designation:
    language: str | None
    value: str


@dataclass(frozen=True, slots=True)
class Concept:
    code: str
    display: str | None
    definition: str | None
    designations: tuple[Designation, ...]
    properties: tuple[tuple[str, str, Any], ...]  # (code, value[x] type, value)
    parents: tuple[str, ...]
    inactive: bool
    abstract: bool

    def property_values(self, code: str) -> list[Any]:
        return [v for c, _, v in self.properties if c == code]

    def display_in(self, language: str | None) -> str | None:
        """The display in a language (a designation), falling back to ``display``."""
        if language:
            lang = language.split("-")[0].lower()
            for d in self.designations:
                if d.language and d.language.split("-")[0].lower() == lang:
                    return d.value
        return self.display


@dataclass(slots=True)
class CodeSystemIndex:
    """One version of one CodeSystem: concepts by code and the is-a hierarchy."""

    url: str
    version: str | None
    name: str | None
    title: str | None
    content: str
    case_sensitive: bool
    concepts: dict[str, Concept]
    children: dict[str, tuple[str, ...]]
    property_types: dict[str, str]
    resource: dict[str, Any] = field(repr=False)
    _folded: dict[str, str] = field(default_factory=dict, repr=False)

    def get(self, code: str) -> Concept | None:
        concept = self.concepts.get(code)
        if concept is None and not self.case_sensitive:
            real = self._folded.get(code.casefold())
            concept = self.concepts.get(real) if real else None
        return concept

    def descendants(self, code: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.children.get(code, ()))
        while stack:
            c = stack.pop()
            if c not in out:
                out.add(c)
                stack.extend(self.children.get(c, ()))
        return out

    def ancestors(self, code: str) -> set[str]:
        out: set[str] = set()
        concept = self.concepts.get(code)
        stack = list(concept.parents) if concept else []
        while stack:
            c = stack.pop()
            if c not in out:
                out.add(c)
                parent = self.concepts.get(c)
                if parent is not None:
                    stack.extend(parent.parents)
        return out


def _designations(raw: dict[str, Any]) -> tuple[Designation, ...]:
    return tuple(
        Designation(d.get("language"), d["value"])
        for d in raw.get("designation") or []
        if isinstance(d.get("value"), str)
    )


def _properties(raw: dict[str, Any]) -> tuple[tuple[str, str, Any], ...]:
    out = []
    for p in raw.get("property") or []:
        for key, value in p.items():
            if key.startswith("value"):
                out.append((p.get("code", ""), key[5:], value))
    return tuple(out)


def _is_inactive(props: tuple[tuple[str, str, Any], ...]) -> bool:
    for code, _, value in props:
        if code == "inactive" and value is True:
            return True
        if code == "status" and value in INACTIVE_STATUS:
            return True
    return False


def build_code_system(resource: dict[str, Any]) -> CodeSystemIndex:
    """Index a CodeSystem resource (nested concepts and ``parent``/``child`` properties)."""
    concepts: dict[str, Concept] = {}
    parents: dict[str, list[str]] = {}

    def walk(items: list[dict[str, Any]], parent: str | None) -> None:
        for raw in items:
            code = raw.get("code")
            if not isinstance(code, str):
                continue
            props = _properties(raw)
            ups = parents.setdefault(code, [])
            if parent is not None:
                ups.append(parent)
            ups.extend(v for c, _, v in props if c == "parent" and isinstance(v, str))
            concepts[code] = Concept(
                code=code,
                display=raw.get("display"),
                definition=raw.get("definition"),
                designations=_designations(raw),
                properties=props,
                parents=(),
                inactive=_is_inactive(props),
                abstract=any(c == "notSelectable" and v is True for c, _, v in props),
            )
            walk(raw.get("concept") or [], code)

    walk(resource.get("concept") or [], None)
    children: dict[str, list[str]] = {}
    for code, ups in parents.items():
        unique = tuple(dict.fromkeys(ups))
        if unique:
            c = concepts[code]
            concepts[code] = Concept(
                c.code, c.display, c.definition, c.designations, c.properties, unique, c.inactive, c.abstract
            )
        for up in unique:
            children.setdefault(up, []).append(code)
    case_sensitive = resource.get("caseSensitive") is not False
    index = CodeSystemIndex(
        url=resource.get("url", ""),
        version=resource.get("version"),
        name=resource.get("name"),
        title=resource.get("title"),
        content=resource.get("content", "complete"),
        case_sensitive=case_sensitive,
        concepts=concepts,
        children={k: tuple(v) for k, v in children.items()},
        property_types={
            p["code"]: p.get("type", "string") for p in resource.get("property") or [] if "code" in p
        },
        resource=resource,
    )
    if not case_sensitive:
        index._folded = {c.casefold(): c for c in concepts}
    return index


@functools.lru_cache(maxsize=4096)
def canonical(url: str) -> tuple[str, str | None]:
    """Split ``url|version``."""
    base, _, version = url.partition("|")
    return base, version or None
