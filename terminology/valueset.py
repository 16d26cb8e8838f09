"""ValueSet compose evaluation: include/exclude, concept lists, filters, nested value sets.

``expand_compose`` turns a ValueSet into an ordered list of ``Entry``s. Systems that are
included whole but not available locally (ICD-10, LOINC, or a CodeSystem with
``content: not-present`` such as R4's SNOMED CT stub) cannot be enumerated: they are
returned as ``open_systems``, and membership in them is decided by the system alone.

A ValueSet that also carries an ``expansion`` (the R4 core ones from the published
expansions package) is answered from it when its compose cannot be evaluated here. A
limited expansion (``limitedExpansion``, or fewer codes than its ``total``) lists members
but cannot deny membership: its systems stay open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .model import CodeSystemIndex, Concept


class ExpansionError(Exception):
    """The value set cannot be expanded (unknown value set, bad filter)."""


@dataclass(frozen=True, slots=True)
class Entry:
    system: str
    version: str | None
    code: str
    display: str | None
    inactive: bool
    abstract: bool
    concept: Concept | None  # None for codes listed in a value set but unknown to us


@dataclass(slots=True)
class Expansion:
    url: str | None
    version: str | None
    entries: list[Entry]
    open_systems: frozenset[str]
    keys: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self.keys = frozenset((e.system, e.code) for e in self.entries)


CodeSystemGetter = Callable[[str, str | None], CodeSystemIndex | None]
ValueSetGetter = Callable[[str], "Expansion"]


def expand_compose(resource: dict[str, Any], get_cs: CodeSystemGetter, get_vs: ValueSetGetter) -> Expansion:
    compose, stored = resource.get("compose"), resource.get("expansion")
    if not isinstance(compose, dict):
        if isinstance(stored, dict):  # a pre-expanded value set
            return _from_expansion(resource, stored)
        raise ExpansionError(f"ValueSet {resource.get('url')} has no compose and no expansion")
    try:
        computed = _evaluate(resource, compose, get_cs, get_vs)
    except ExpansionError:
        if isinstance(stored, dict):
            return _from_expansion(resource, stored)
        raise
    if computed.open_systems and isinstance(stored, dict):
        return _from_expansion(resource, stored)
    return computed


def _evaluate(
    resource: dict[str, Any], compose: dict[str, Any], get_cs: CodeSystemGetter, get_vs: ValueSetGetter
) -> Expansion:
    include_inactive = compose.get("inactive") is not False
    entries: dict[tuple[str, str], Entry] = {}
    open_systems: set[str] = set()
    for inc in compose.get("include") or []:
        found, opened = _component(inc, get_cs, get_vs)
        open_systems |= opened
        for e in found:
            if include_inactive or not e.inactive:
                entries.setdefault((e.system, e.code), e)
    for exc in compose.get("exclude") or []:
        found, _ = _component(exc, get_cs, get_vs)
        for e in found:
            entries.pop((e.system, e.code), None)
    return Expansion(
        resource.get("url"), resource.get("version"), list(entries.values()), frozenset(open_systems)
    )


def _from_expansion(resource: dict[str, Any], expansion: dict[str, Any]) -> Expansion:
    entries: list[Entry] = []

    def walk(items: Iterable[dict[str, Any]]) -> None:
        for c in items:
            if "code" in c and "system" in c:
                entries.append(
                    Entry(
                        c["system"],
                        c.get("version"),
                        c["code"],
                        c.get("display"),
                        c.get("inactive") is True,
                        c.get("abstract") is True,
                        None,
                    )
                )
            walk(c.get("contains") or [])

    walk(expansion.get("contains") or [])
    total = expansion.get("total")
    limited = any(p.get("name") == "limitedExpansion" for p in expansion.get("parameter") or []) or (
        isinstance(total, int) and total > len(entries)
    )
    open_systems = frozenset(e.system for e in entries) if limited else frozenset()
    return Expansion(resource.get("url"), resource.get("version"), entries, open_systems)


def _component(
    inc: dict[str, Any], get_cs: CodeSystemGetter, get_vs: ValueSetGetter
) -> tuple[list[Entry], set[str]]:
    system = inc.get("system")
    nested = [get_vs(url) for url in inc.get("valueSet") or []]
    if system is None:
        if not nested:
            return [], set()
        keep = set.intersection(*(set(e.keys) for e in nested))
        out = [e for e in nested[0].entries if (e.system, e.code) in keep]
        return out, set().union(*(set(e.open_systems) for e in nested))
    cs = get_cs(system, inc.get("version"))
    if cs is not None and cs.content == "not-present":
        cs = None  # a stub without concepts (R4's SNOMED CT): nothing to enumerate
    listed = inc.get("concept")
    if cs is None:
        if listed:
            return [
                Entry(system, inc.get("version"), c["code"], c.get("display"), False, False, None)
                for c in listed
                if isinstance(c.get("code"), str)
            ], set()
        if inc.get("filter"):
            raise ExpansionError(f"Code system {system} is not available, so its filters cannot run")
        return [], {system}
    if listed:
        concepts = [cs.get(c["code"]) for c in listed if isinstance(c.get("code"), str)]
        selected: Iterable[Concept] = [c for c in concepts if c is not None]
    else:
        selected = cs.concepts.values()
        for flt in inc.get("filter") or []:
            selected = _apply_filter(cs, flt, selected)
    out = [Entry(system, cs.version, c.code, c.display, c.inactive, c.abstract, c) for c in selected]
    if nested:
        keep = set.intersection(*(set(e.keys) for e in nested))
        out = [e for e in out if (e.system, e.code) in keep]
    return out, set()


def _apply_filter(cs: CodeSystemIndex, flt: dict[str, Any], concepts: Iterable[Concept]) -> list[Concept]:
    prop, op, value = flt.get("property"), flt.get("op"), flt.get("value")
    if not isinstance(prop, str) or not isinstance(op, str) or not isinstance(value, str):
        raise ExpansionError("A filter needs property, op and value")
    pool = list(concepts)
    if prop in ("concept", "code") and op in ("is-a", "descendent-of", "is-not-a", "generalizes"):
        if op == "generalizes":
            keep = cs.ancestors(value) | {value}
        else:
            keep = cs.descendants(value)
            if op != "descendent-of":
                keep.add(value)
        if op == "is-not-a":
            return [c for c in pool if c.code not in keep]
        return [c for c in pool if c.code in keep]
    if op == "=":
        return [c for c in pool if value in _values(c, prop)]
    if op == "in":
        wanted = {v.strip() for v in value.split(",")}
        return [c for c in pool if wanted & set(_values(c, prop))]
    if op == "not-in":
        unwanted = {v.strip() for v in value.split(",")}
        return [c for c in pool if not unwanted & set(_values(c, prop))]
    if op == "regex":
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ExpansionError(f"Bad regex in filter: {exc}") from exc
        return [c for c in pool if any(pattern.fullmatch(v) for v in _values(c, prop))]
    if op == "exists":
        want = value == "true"
        return [c for c in pool if bool(_values(c, prop)) == want]
    raise ExpansionError(f"Unsupported filter {prop} {op}")


def _values(concept: Concept, prop: str) -> list[str]:
    """String forms of a concept's values for a property (``inactive`` defaults to false)."""
    if prop in ("concept", "code"):
        return [concept.code]
    if prop == "display":
        return [concept.display] if concept.display else []
    if prop == "inactive":
        return ["true" if concept.inactive else "false"]
    out = []
    for code, _, value in concept.properties:
        if code == prop:
            out.append(("true" if value else "false") if isinstance(value, bool) else str(value))
    return out
