"""Compile a StructureDefinition snapshot into a tree of the checks a profile adds.

Only what the profile adds to R4 is kept (the structural validator checks R4 itself):
cardinality that differs from the base, slices, fixed and pattern values, bindings to
local value sets, the profile's own invariants, and type restrictions of choices.
Elements with nothing to check and no checked descendants are pruned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fhirpathpy

from fhir_server.validation.invariants.engine import MODEL, OPTIONS

from .native import NATIVE

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
LOCAL_VALUESETS = "http://noskhe.ir/fhir/ValueSet/"


@dataclass(slots=True)
class Invariant:
    key: str
    severity: str
    human_en: str
    human_fa: str
    expression: str
    evaluate: Callable[[Any, dict[str, Any]], list[Any]] | None  # compiled FHIRPath
    native: Callable[[object], bool] | None


@dataclass(slots=True, eq=False)
class Element:
    id: str
    name: str  # JSON name without [x]
    label: str  # FHIRPath step for messages
    keys: tuple[str, ...]  # JSON keys that hold this element (several for a choice)
    types: tuple[str, ...]
    min: int
    max: int | None
    check_card: bool
    fixed: Any = None
    pattern: Any = None
    binding: tuple[str, str] | None = None  # (strength, value set url)
    invariants: list[Invariant] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)
    slices: list[Element] = field(default_factory=list)
    discriminators: tuple[str, ...] = ()
    closed: bool = False
    match: dict[str, Any] = field(default_factory=dict)  # discriminator path -> value (slices)
    restrict_types: bool = False
    choice_prefix: str | None = None

    def has_checks(self) -> bool:
        return bool(
            self.check_card
            or self.fixed is not None
            or self.pattern is not None
            or self.binding
            or self.invariants
            or self.children
            or self.slices
            or self.restrict_types
        )


@dataclass(slots=True)
class CompiledProfile:
    url: str
    type: str
    root: Element


def _upper(code: str) -> str:
    return code[0].upper() + code[1:]


def _max(value: str | None) -> int | None:
    return None if value in (None, "*") else int(value)


def _fa(constraint: dict[str, Any]) -> str:
    for ext in (constraint.get("_human") or {}).get("extension", []):
        if ext.get("url") == TRANSLATION:
            parts = {p.get("url"): p for p in ext.get("extension", [])}
            if parts.get("lang", {}).get("valueCode") == "fa":
                return str(parts.get("content", {}).get("valueString", ""))
    return str(constraint.get("human", ""))


def _invariant(c: dict[str, Any]) -> Invariant:
    key = c["key"]
    native = NATIVE.get(key)
    # the engine's options: the functions fhirpathpy lacks, and a trace() that prints nothing
    compiled = None if native else fhirpathpy.compile(c["expression"], MODEL, OPTIONS)
    return Invariant(
        key, c.get("severity", "error"), c.get("human", key), _fa(c), c["expression"], compiled, native
    )


def _fixed(e: dict[str, Any], prefix: str) -> Any:
    for k, v in e.items():
        if k.startswith(prefix):
            return v
    return None


def _element(e: dict[str, Any], url: str, differential_ids: set[str]) -> Element:
    last = e["path"].rsplit(".", 1)[-1]
    types = tuple(t["code"] for t in e.get("type") or [])
    name = last[:-3] if last.endswith("[x]") else last
    if last.endswith("[x]"):
        keys = tuple(name + _upper(t) for t in types)
        label = f"{name}.ofType({types[0]})" if len(types) == 1 else name
    else:
        keys, label = (name,), name
    base = e.get("base") or {}
    is_slice = "sliceName" in e
    check_card = (
        is_slice
        or e.get("min", 0) > base.get("min", 0)
        or (_max(e.get("max")) is not None and _max(e.get("max")) != _max(base.get("max", "*")))
    )
    binding = None
    b = e.get("binding") or {}
    if b.get("strength") in ("required", "extensible") and str(b.get("valueSet", "")).startswith(
        LOCAL_VALUESETS
    ):
        binding = (b["strength"], b["valueSet"].split("|")[0])
    invariants = [_invariant(c) for c in e.get("constraint") or [] if c.get("source") == url]
    slicing = e.get("slicing") or {}
    return Element(
        id=e["id"],
        name=name,
        label=label,
        keys=keys,
        types=types,
        min=int(e.get("min", 0)),
        max=_max(e.get("max")),
        check_card=check_card,
        fixed=_fixed(e, "fixed"),
        pattern=_fixed(e, "pattern"),
        binding=binding,
        invariants=invariants,
        discriminators=tuple(d["path"] for d in slicing.get("discriminator") or []),
        closed=slicing.get("rules") == "closed",
        restrict_types=last.endswith("[x]") and e["id"] in differential_ids and "type" in e,
        choice_prefix=name if last.endswith("[x]") else None,
    )


def compile_profile(sd: dict[str, Any]) -> CompiledProfile:
    url = sd["url"]
    differential_ids = {d["id"] for d in (sd.get("differential") or {}).get("element", [])}
    elements = sd["snapshot"]["element"]
    nodes: dict[str, Element] = {}
    root: Element | None = None
    for e in elements:
        node = _element(e, url, differential_ids)
        nodes[e["id"]] = node
        if root is None:
            root = node
            continue
        parent_id, _, _ = e["id"].rpartition(".")
        if "sliceName" in e:
            sliced = nodes[e["id"].rsplit(":", 1)[0]]
            sliced.slices.append(node)
        else:
            nodes[parent_id].children.append(node)
    assert root is not None
    for node in nodes.values():
        for s in node.slices:
            for d in node.discriminators:
                s.match[d] = _discriminator_value(s, d)
    _prune(root)
    return CompiledProfile(url, sd["type"], root)


def _discriminator_value(slice_: Element, path: str) -> Any:
    node = slice_
    for step in path.split("."):
        nxt = next((c for c in node.children if c.name == step), None)
        if nxt is None:
            return None
        node = nxt
    return node.fixed if node.fixed is not None else node.pattern


def _prune(node: Element) -> bool:
    node.children = [c for c in node.children if _prune(c)]
    for s in node.slices:
        _prune(s)
    return node.has_checks()
