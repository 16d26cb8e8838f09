"""extract_index: every index entry of a resource, for all parameters of its type."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fhir_server.search.compiler import (
    Extractor,
    NodeExtractor,
    Unsupported,
    compile_branches,
    compile_expression,
    compile_relative,
    first_keys,
    root_keys,
)
from fhir_server.search.converters import CONVERTERS, Converter
from fhir_server.search.entries import Component, CompositeEntry, IndexEntry, TokenEntry
from fhir_server.search.registry import COLUMN_PARAMS, SearchParam, registry, split_union


@dataclass(frozen=True, slots=True)
class _Plain:
    code: str
    extract: Extractor
    convert: Converter
    keys: frozenset[str] | None  # top-level keys read (None: always run)
    absent: tuple[IndexEntry, ...] = ()  # the entries of a resource without any of `keys`

    def entries(self, resource: dict[str, Any]) -> list[IndexEntry]:
        out: list[IndexEntry] = []
        for value, fhir_type in self.extract(resource):
            out.extend(self.convert(self.code, value, fhir_type))
        return out


@dataclass(frozen=True, slots=True)
class _Branch:
    """One union branch of a composite's expression (`Observation`, `Observation.component`):
    the nodes it selects, and per component an extractor run on each node (or, for a
    `%resource.` component, on the resource)."""

    root: NodeExtractor
    parts: tuple[tuple[str, NodeExtractor, Converter, bool], ...]  # code, extract, convert, on resource


@dataclass(frozen=True, slots=True)
class _Composite:
    code: str
    branches: tuple[_Branch, ...]
    keys: frozenset[str] | None
    absent: tuple[IndexEntry, ...] = ()

    def entries(self, resource: dict[str, Any]) -> list[IndexEntry]:
        out: list[IndexEntry] = []
        for branch in self.branches:
            for node, _ in branch.root(resource):
                out.extend(self._combine(branch, resource, node))
        return out

    def _combine(self, branch: _Branch, resource: dict[str, Any], node: Any) -> list[IndexEntry]:
        """Every combination of component values found on the same node."""
        per_part: list[list[Component]] = []
        for code, extract, convert, on_resource in branch.parts:
            source = resource if on_resource else node
            found = [e for v, t in extract(source) for e in convert(code, v, t) if e.param == code]
            if not found:
                return []
            per_part.append(found)
        return [CompositeEntry(self.code, tuple(combo)) for combo in itertools.product(*per_part)]


_Indexer = _Plain | _Composite
_RESOURCE_VAR = "%resource."


def _component(root: str, branch: str, comp: Any) -> tuple[str, NodeExtractor, Converter, bool]:
    expression: str = comp.expression
    convert = CONVERTERS[comp.type]
    if expression.startswith(_RESOURCE_VAR):  # MolecularSequence: %resource.referenceSeq...
        return comp.code, compile_relative(root, root, expression[len(_RESOURCE_VAR) :]), convert, True
    return comp.code, compile_relative(root, branch, expression), convert, False


def _composite(param: SearchParam) -> _Composite | None:
    """Every union branch of the expression, each with all its components; None when a
    branch or component is not a simple path (the parameter is then not indexed)."""
    assert param.expression is not None
    root = param.resource_type
    try:
        names = compile_branches(root, param.expression)
        branches = tuple(
            _Branch(compile_expression(root, b), tuple(_component(root, b, c) for c in param.components))
            for b in names
        )
    except (Unsupported, KeyError):
        return None
    if not branches or len(names) != len(split_union(param.expression)):
        return None
    return _Composite(param.code, branches, first_keys(root, param.expression))


def _indexer(param: SearchParam) -> _Indexer | None:
    if param.expression is None or param.code in COLUMN_PARAMS:
        return None
    if param.type == "composite":
        return _composite(param)
    convert = CONVERTERS.get(param.type)
    if convert is None:
        return None
    if param.type == "token" and param.token_system:
        convert = functools.partial(_system_tokens, param.token_system, convert)
    extract = compile_expression(param.resource_type, param.expression)
    keys = first_keys(param.resource_type, param.expression)
    if keys is not None:
        return _Plain(param.code, extract, convert, keys)
    # A FHIRPath fallback (slow): when its root keys are known, a resource without them
    # gets the (constant) entries of a bare resource, computed once.
    keys = root_keys(param.resource_type, param.expression)
    plain = _Plain(param.code, extract, convert, None)
    if keys is None:
        return plain
    bare = tuple(plain.entries({"resourceType": param.resource_type}))
    return _Plain(param.code, extract, convert, keys, bare)


def _system_tokens(
    system: str, convert: Converter, code: str, value: Any, fhir_type: str
) -> Iterator[Component]:
    """Tokens of a parameter whose plain-string values belong to `system`."""
    if isinstance(value, str):
        yield TokenEntry(code, system, value)
    else:
        yield from convert(code, value, fhir_type)


@functools.lru_cache(maxsize=512)
def _indexers(resource_type: str, generation: int) -> tuple[_Indexer, ...]:
    params = registry().for_type(resource_type).values()
    return tuple(ix for ix in map(_indexer, params) if ix is not None)


_Selection = tuple[tuple[_Indexer, ...], tuple[IndexEntry, ...]]
_SELECTIONS: dict[tuple[str, int, tuple[str, ...]], _Selection] = {}


def _select(resource_type: str, generation: int, keys: tuple[str, ...]) -> _Selection:
    """The indexers to run on a resource with these top-level keys, and the constant
    entries of the others (cached per key set: resources of one shape share it)."""
    cache_key = (resource_type, generation, keys)
    found = _SELECTIONS.get(cache_key)
    if found is None:
        present = frozenset(keys)
        run: list[_Indexer] = []
        constant: list[IndexEntry] = []
        for indexer in _indexers(resource_type, generation):
            if indexer.keys is None or not indexer.keys.isdisjoint(present):
                run.append(indexer)
            else:
                constant.extend(indexer.absent)
        if len(_SELECTIONS) > 4096:
            _SELECTIONS.clear()
        found = _SELECTIONS[cache_key] = (tuple(run), tuple(constant))
    return found


def extract_index(resource: dict[str, Any]) -> list[IndexEntry]:
    """All index entries of `resource`. May hold duplicates (stores ignore them): removing
    them here would cost more than the extraction of most parameters."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return []
    run, constant = _select(resource_type, registry().generation, tuple(resource))
    out: list[IndexEntry] = list(constant)
    for indexer in run:
        out.extend(indexer.entries(resource))
    return out
