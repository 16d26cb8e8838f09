"""Compile SearchParameter FHIRPath expressions into fast extractors.

An extractor maps a resource (plain dict) to typed nodes `(value, fhir_type)`. The common
shapes compile into a list of small steps walked in plain Python, typed statically from the
R4 model (`fhirpathpy.models["r4"]`): dotted paths, `|` unions, choice elements (`value[x]`),
`as(T)` / `ofType(T)` / `(path as T)`, `where(field='literal')` and
`where(resolve() is T)`. Everything else goes to fhirpathpy, compiled once, with
`resolve() is T` rewritten into a reference-prefix test (fhirpathpy has no resolve()); its
results are typed by shape (`guess_type`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fhirpathpy
from fhirpathpy.models import models

from fhir_server import definitions
from fhir_server.search.registry import split_top_level, split_union

Node = tuple[Any, str]
Extractor = Callable[[dict[str, Any]], list[Node]]

_MODEL: dict[str, Any] = models["r4"]
_PATH2TYPE: dict[str, str] = _MODEL["path2Type"]
_CHOICES: dict[str, list[str]] = _MODEL["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]
_BACKBONES = frozenset(p.rsplit(".", 1)[0] for p in _PATH2TYPE)
_PRIMITIVES = definitions.PRIMITIVE_TYPES


def _type_name(choice_suffix: str) -> str:
    lowered = choice_suffix[0].lower() + choice_suffix[1:]
    return lowered if lowered in _PRIMITIVES else choice_suffix


class Unsupported(Exception):
    """The expression needs the general FHIRPath engine."""


@dataclass(frozen=True, slots=True)
class _Field:
    key: str


@dataclass(frozen=True, slots=True)
class _Choice:
    options: tuple[tuple[str, str], ...]  # (json key, fhir type)


@dataclass(frozen=True, slots=True)
class _WhereEq:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class _RefIs:
    type: str


_Step = _Field | _Choice | _WhereEq | _RefIs


def _children(values: list[Any], key: str) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if type(v) is dict:
            child = v.get(key)
            if child is None:
                continue
            if type(child) is list:
                out.extend(child)
            else:
                out.append(child)
    return out


def _ref_is(value: Any, type_: str) -> bool:
    if type(value) is not dict:
        return False
    ref = value.get("reference")
    if not isinstance(ref, str):
        return value.get("type") == type_
    return ref.startswith(type_ + "/") or ("/" + type_ + "/") in ref


def _where_eq(value: Any, key: str, literal: str) -> bool:
    if type(value) is not dict:
        return False
    field = value.get(key)
    return field == literal or (type(field) is list and literal in field)


class _PathCompiler:
    """Resolve one union branch into steps plus the static type of its result."""

    _STEP = re.compile(
        r"(?P<as>(?:as|ofType)\((?P<as_t>\w+)\))"
        r"|(?P<ref>where\(resolve\(\) is (?P<ref_t>\w+)\))"
        r"|(?P<eq>where\((?P<eq_k>\w+)\s*=\s*'(?P<eq_v>[^']*)'\))"
        r"|(?P<field>[A-Za-z_]\w*)$"
    )

    def __init__(self, root: str) -> None:
        self.root = root

    def compile(self, branch: str) -> tuple[list[_Step], list[tuple[str, str]]]:
        text = self._desugar(branch.strip())
        steps_text = _split_dots(text)
        if not steps_text or steps_text[0] != self.root:
            raise Unsupported(branch)
        ctx: str | None = self.root  # model path of the current element
        types: list[tuple[str, str]] = [("", self.root)]  # (choice key, type) of the current nodes
        steps: list[_Step] = []
        for raw in steps_text[1:]:
            m = self._STEP.match(raw)
            if m is None:
                raise Unsupported(branch)
            if m.group("field"):
                if len(types) > 1:
                    raise Unsupported(branch)
                ctx, types, step = self._field(ctx, types[0][1], m.group("field"))
                steps.append(step)
            elif m.group("as"):
                types = self._narrow(types, m.group("as_t"), steps, branch)
                ctx = None
            elif m.group("ref"):
                steps.append(_RefIs(m.group("ref_t")))
            else:
                steps.append(_WhereEq(m.group("eq_k"), m.group("eq_v")))
        return steps, types

    @staticmethod
    def _desugar(text: str) -> str:
        m = re.match(r"^\((.+?) as (\w+)\)(.*)$", text)
        if m:
            text = f"{m.group(1)}.as({m.group(2)}){m.group(3)}"
        return text

    def _field(
        self, ctx: str | None, cur_type: str, name: str
    ) -> tuple[str | None, list[tuple[str, str]], _Step]:
        path = self._path(ctx, cur_type, name)
        if path in _CHOICES:
            options = tuple((name + t, _type_name(t)) for t in _CHOICES[path])
            return path, [(k, t) for k, t in options], _Choice(options)
        t = _PATH2TYPE.get(path)
        if t is None and path in _BACKBONES:
            return path, [("", "BackboneElement")], _Field(name)
        if t is None:
            raise Unsupported(path)
        if t == "System.String":
            t = "string"
        return (path if t in ("BackboneElement", "Element") else t), [("", t)], _Field(name)

    @staticmethod
    def _path(ctx: str | None, cur_type: str, name: str) -> str:
        base = ctx if ctx is not None and cur_type in ("BackboneElement", "Element") else cur_type
        if ctx is not None and ctx == cur_type:
            base = ctx
        path = f"{base}.{name}"
        path = _ELSEWHERE.get(path, path)
        if path not in _PATH2TYPE and path not in _CHOICES and path not in _BACKBONES:
            for abstract in ("DomainResource", "Resource"):
                alt = f"{abstract}.{name}"
                if alt in _PATH2TYPE:
                    return alt
        return path

    @staticmethod
    def _narrow(
        types: list[tuple[str, str]], wanted: str, steps: list[_Step], branch: str
    ) -> list[tuple[str, str]]:
        kept = [(k, t) for k, t in types if t == wanted or t.lower() == wanted.lower()]
        if not kept:
            raise Unsupported(branch)
        last = steps[-1] if steps else None
        if isinstance(last, _Choice):
            steps[-1] = _Choice(tuple(kept))
        elif len(types) != 1:
            raise Unsupported(branch)
        return kept


def _split_dots(text: str) -> list[str]:
    return split_top_level(text, ".")


def _run_steps(steps: list[_Step], types: list[tuple[str, str]], start: Any) -> list[Node]:
    values: list[Any] = [start]
    for step in steps:
        if type(step) is _Field:
            values = _children(values, step.key)
        elif type(step) is _Choice:
            pairs: list[Node] = []
            for key, t in step.options:
                pairs.extend((v, t) for v in _children(values, key))
            if step is steps[-1]:
                return pairs
            values = [v for v, _ in pairs]
        elif type(step) is _WhereEq:
            values = [v for v in values if _where_eq(v, step.key, step.value)]
        elif type(step) is _RefIs:
            values = [v for v in values if _ref_is(v, step.type)]
        if not values:
            return []
    t = types[0][1]
    return [(v, t) for v in values]


def _single_field(key: str, fhir_type: str) -> Extractor:
    """Fast path for `Type.element` (most parameters)."""

    def run(resource: dict[str, Any]) -> list[Node]:
        value = resource.get(key)
        if value is None:
            return []
        if type(value) is list:
            return [(v, fhir_type) for v in value]
        return [(value, fhir_type)]

    return run


def _compiled_branch(root: str, branch: str) -> Extractor:
    steps, types = _PathCompiler(root).compile(branch)
    if len(steps) == 1 and type(steps[0]) is _Field:
        return _single_field(steps[0].key, types[0][1])

    def run(resource: dict[str, Any]) -> list[Node]:
        return _run_steps(steps, types, resource)

    return run


_RESOLVE_IS = re.compile(r"resolve\(\)\s+is\s+(\w+)")


def _fallback(expression: str) -> Extractor:
    rewritten = _RESOLVE_IS.sub(lambda m: f"reference.startsWith('{m.group(1)}/')", expression)
    fn = fhirpathpy.compile(rewritten, _MODEL)

    def run(resource: dict[str, Any]) -> list[Node]:
        try:
            result = fn(resource, {})
        except Exception:
            return []
        return [(v, guess_type(v)) for v in result if v is not None]

    return run


def guess_type(value: Any) -> str:
    """The FHIR type of a value found without static type information, by its shape."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if not isinstance(value, dict):
        return "unknown"
    keys = value.keys()
    if "coding" in keys or ("text" in keys and len(keys) == 1):
        return "CodeableConcept"
    if "reference" in keys or ("identifier" in keys and "type" not in keys and "value" not in keys):
        return "Reference"
    if "start" in keys or "end" in keys:
        return "Period"
    if "event" in keys or "repeat" in keys:
        return "Timing"
    if "low" in keys or "high" in keys:
        return "Range"
    if "family" in keys or "given" in keys:
        return "HumanName"
    if "line" in keys or "city" in keys or "postalCode" in keys:
        return "Address"
    if "value" in keys and isinstance(value["value"], (int, float)):
        return "Quantity"
    if "value" in keys:
        return "Identifier"
    if "code" in keys or "system" in keys:
        return "Coding"
    return "unknown"


NodeExtractor = Callable[[Any], list[Node]]


def compile_relative(root: str, base_branch: str, expression: str) -> NodeExtractor:
    """An extractor for `expression` evaluated on the nodes `base_branch` selects (composite
    components). Raises Unsupported when either side is not a simple path."""
    skip = len(_PathCompiler(root).compile(base_branch)[0])
    parts: list[tuple[list[_Step], list[tuple[str, str]]]] = []
    for branch in split_union(expression):
        steps, types = _PathCompiler(root).compile(f"{base_branch}.{branch}")
        parts.append((steps[skip:], types))

    def run(node: Any) -> list[Node]:
        out: list[Node] = []
        for steps, types in parts:
            out.extend(_run_steps(steps, types, node) if steps else [(node, types[0][1])])
        return out

    return run


def compile_branches(root: str, expression: str) -> list[str]:
    """The union branches of `expression` that compile to simple paths (composite roots)."""
    kept = []
    for branch in split_union(expression):
        try:
            _PathCompiler(root).compile(branch)
        except Unsupported:
            continue
        kept.append(branch)
    return kept


def leaf_types(root: str, expression: str) -> frozenset[str] | None:
    """The FHIR types `expression` yields (`code`, `CodeableConcept`, ...); None when some
    branch is not a simple path."""
    found: set[str] = set()
    for branch in split_union(expression):
        try:
            _, types = _PathCompiler(root).compile(branch)
        except Unsupported:
            return None
        found.update(t for _, t in types)
    return frozenset(found)


def first_keys(root: str, expression: str) -> frozenset[str] | None:
    """Top-level JSON keys the expression reads: when a resource has none of them the
    extractor yields nothing, so callers can skip it. None when unknown (fallback)."""
    keys: set[str] = set()
    for branch in split_union(expression):
        try:
            steps, _ = _PathCompiler(root).compile(branch)
        except Unsupported:
            return None
        if not steps:
            return None
        first = steps[0]
        if isinstance(first, _Field):
            keys.add(first.key)
        elif isinstance(first, _Choice):
            keys.update(k for k, _ in first.options)
        else:
            return None
    return frozenset(keys)


_KEYWORDS = frozenset(
    ["and", "or", "xor", "implies", "is", "as", "not", "in", "contains", "div", "mod", "true", "false"]
)
_UNSAFE = ("%", "$", "descendants", "children", "repeat", "resolve", "trace", "iif", "ofType")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def root_keys(root: str, expression: str) -> frozenset[str] | None:
    """Top-level JSON keys a FHIRPath expression can read, for expressions the compiler
    leaves to fhirpathpy; None when that cannot be told safely. Only expressions whose
    every path starts at `root.name` qualify (no `%resource`, `$this`, `descendants()`,
    `children()`...); for a resource with none of these keys the result equals the result
    on a bare `{"resourceType": root}`. Choice elements count with all their JSON keys."""
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "''", expression)
    if any(word in text for word in _UNSAFE):
        return None
    keys: set[str] = set()
    calls: list[bool] = []  # per open parenthesis: a function call (else a grouping)
    prev = ""  # the last significant character before the current position
    i = 0
    after_type_op = False
    while i < len(text):
        ch = text[i]
        m = _IDENT.match(text, i)
        if m:
            word = m.group(0)
            in_call = any(calls)
            if prev != "." and not in_call and not after_type_op and word not in _KEYWORDS and word != root:
                return None  # a path that does not start at the root type
            after_type_op = word in ("is", "as")
            if word == root and text.startswith(".", m.end()):
                name = _IDENT.match(text, m.end() + 1)
                if name is None:
                    return None
                keys.add(name.group(0))
            prev = word[-1]
            i = m.end()
            continue
        if ch == "(":
            calls.append(prev.isalnum() or prev == "_")
        elif ch == ")":
            if not calls:
                return None
            calls.pop()
        if not ch.isspace():
            prev = ch
        i += 1
    if not keys:
        return None
    out: set[str] = set()
    for key in keys:
        path = f"{root}.{key}"
        names = [key + t for t in _CHOICES[path]] if path in _CHOICES else [key]
        out.update(names)
        out.update("_" + n for n in names)
    return frozenset(out)


def compile_expression(root: str, expression: str) -> Extractor:
    """An extractor for `expression` evaluated on resources of type `root`."""
    branches: list[Extractor] = []
    for branch in split_union(expression):
        try:
            branches.append(_compiled_branch(root, branch))
        except Unsupported:
            branches.append(_fallback(branch))
    if len(branches) == 1:
        return branches[0]

    def run(resource: dict[str, Any]) -> list[Node]:
        out: list[Node] = []
        for branch_fn in branches:
            out.extend(branch_fn(resource))
        return out

    return run
