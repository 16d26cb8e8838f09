"""Compiled per-type lookup structures for the structural validator and the rule walk.

A ``Node`` is the set of JSON properties allowed in one JSON object: the root of a
resource, a complex datatype, or an inline BackboneElement. Nodes are built lazily, once
per process, from fhir_server.definitions; complex children point at shared datatype
nodes, so a type's node is built once however often it is used.

Each child also carries the rules evaluated where it is present (invariants, reference
rules: element_rules.py), and ``walk`` marks the children whose values, or whose
descendants, have any: the rule walk (walk.py) skips everything else.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

from fhir_server import definitions
from fhir_server.definitions import PRIMITIVE_TYPES, ElementDef, TypeDef

from .element_rules import Rule, element_rules, resource_rules
from .primitives import CHECKERS, IDENTIFIER_VALUE, Checker

PRIMITIVE, COMPLEX, RESOURCE = 0, 1, 2
CODED_TYPES = frozenset({"Coding", "CodeableConcept"})


@dataclass(slots=True, eq=False)
class Child:
    """One allowed JSON property of an object (a choice element yields one per type)."""

    name: str  # JSON property name: "given", "valueQuantity"
    label: str  # FHIRPath step: "given", "value.ofType(Quantity)"
    type_code: str
    kind: int  # PRIMITIVE | COMPLEX | RESOURCE
    many: bool
    max: int | None
    choice: str | None  # choice group ("value") or None
    checker: Checker | None = None  # primitives
    node: Node | None = None  # complex types
    codes: frozenset[str] | None = None  # required binding on a code
    system_codes: dict[str, frozenset[str]] | None = None  # required binding on Coding(s)
    rules: tuple[Rule, ...] = ()  # invariants and reference rules of each value
    fhir_type: str = ""  # the values' FHIR type, or the element path of a backbone element
    walk: bool = False  # rules here or below: the rule walk visits it


@dataclass(slots=True, eq=False)
class Node:
    """The allowed properties of one JSON object and which of them are required."""

    name: str  # type name or inline path, for messages
    children: dict[str, Child] = field(default_factory=dict)
    # (JSON names, with their "_" companions, any of which satisfies it; FHIRPath label; min)
    required: list[tuple[tuple[str, ...], str, int]] = field(default_factory=list)
    is_resource: bool = False
    is_extension: bool = False
    rules: tuple[Rule, ...] = ()  # a resource's own rules (dom-*, bdl-*...)
    walk: bool = False  # some child is walked


class _Builder:
    """Builds nodes on demand, sharing one node per (type, path)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[str, str], Node] = {}
        self.children_of: dict[str, dict[str, list[ElementDef]]] = {}

    def _index(self, td: TypeDef) -> dict[str, list[ElementDef]]:
        index = self.children_of.get(td.name)
        if index is None:
            index = {}
            for el in td.elements.values():
                index.setdefault(el.parent, []).append(el)
            self.children_of[td.name] = index
        return index

    def node(self, type_name: str, path: str | None = None) -> Node:
        td = definitions.type_def(type_name)
        path = path or td.root
        key = (type_name, path)
        existing = self.nodes.get(key)
        if existing is not None:
            return existing
        node = Node(
            name=path,
            is_resource=td.kind == "resource" and path == td.root,
            is_extension=type_name == "Extension" and path == td.root,
        )
        self.nodes[key] = node  # registered before filling: types are recursive
        for el in self._index(td).get(path, []):
            self._add(node, td, el)
        return node

    def _add(self, node: Node, td: TypeDef, el: ElementDef) -> None:
        if el.content_reference is not None:
            target = self.node(td.name, el.content_reference)
            node.children[el.name] = Child(
                el.name, el.name, "BackboneElement", COMPLEX, el.many, el.max, None, node=target
            )
            child = node.children[el.name]
            child.rules = element_rules(td.elements[el.content_reference], None)
            child.fhir_type = el.content_reference
            self._require(node, el, (el.name,), el.name)
            return
        if el.choices:
            names = tuple(el.choices)
            for json_name, code in el.choices.items():
                label = f"{el.name}.ofType({_base_type(json_name[len(el.name) :])})"
                node.children[json_name] = self._child(td, el, json_name, label, code, el.name)
            self._require(node, el, names, el.name)
            return
        code = el.types[0] if el.types else "BackboneElement"
        node.children[el.name] = self._child(td, el, el.name, el.name, code, None)
        self._require(node, el, (el.name,), el.name)

    def _child(
        self, td: TypeDef, el: ElementDef, name: str, label: str, code: str, choice: str | None
    ) -> Child:
        if code in PRIMITIVE_TYPES:
            child = Child(name, label, code, PRIMITIVE, el.many, el.max, choice)
            child.checker = IDENTIFIER_VALUE if el.path == "Identifier.value" else CHECKERS[code]
            if el.binding is not None and code == "code":
                child.codes = definitions.required_codes(el.binding)
            child.rules, child.fhir_type = element_rules(el, code), code
            return child
        if code == "Resource":
            return Child(name, label, code, RESOURCE, el.many, el.max, choice, walk=True)
        child = Child(name, label, code, COMPLEX, el.many, el.max, choice)
        if self._index(td).get(el.path):  # inline BackboneElement / Element
            child.node = self.node(td.name, el.path)
            child.rules, child.fhir_type = element_rules(el, None), el.path
        else:
            child.node = self.node(code)
            child.rules, child.fhir_type = element_rules(el, code), _QUANTITIES.get(code, code)
        if el.binding is not None and code in CODED_TYPES:
            child.system_codes = definitions.required_codes_by_system(el.binding)
        return child

    @staticmethod
    def _require(node: Node, el: ElementDef, names: tuple[str, ...], label: str) -> None:
        if el.min > 0:
            keys = tuple(k for name in names for k in (name, "_" + name))
            node.required.append((keys, label, el.min))


# fhirpathpy knows the profiled quantities by their base type
_QUANTITIES = {"SimpleQuantity": "Quantity", "MoneyQuantity": "Quantity"}


def _mark_walks(root: Node) -> None:
    """Set ``walk`` on every node and child reachable from root: a child is walked when
    it has rules, holds resources, or leads to a walked node. Types are recursive, so
    this iterates to a fixed point (flags only ever turn on)."""
    nodes: list[Node] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(c.node for c in node.children.values() if c.node is not None)
    changed = True
    while changed:
        changed = False
        for node in nodes:
            for child in node.children.values():
                walk = child.walk or bool(child.rules) or (child.node is not None and child.node.walk)
                if walk and not child.walk:
                    child.walk = changed = True
                if walk and not node.walk:
                    node.walk = changed = True


def _base_type(suffix: str) -> str:
    """FHIR type named by a choice suffix: "Quantity" (also for SimpleQuantity), "dateTime"."""
    lowered = suffix[0].lower() + suffix[1:]
    return lowered if lowered in PRIMITIVE_TYPES else suffix


_BUILDER = _Builder()
# Nodes are registered before they are filled (types are recursive), so a second thread
# must not see one half-built: building is serialised; cached lookups take no lock.
_BUILD_LOCK = threading.RLock()


@functools.cache
def resource_node(resource_type: str) -> Node:
    """Root node of a concrete resource type (KeyError if unknown)."""
    if resource_type not in definitions.resource_types():
        raise KeyError(resource_type)
    with _BUILD_LOCK:
        node = _BUILDER.node(resource_type)
        node.rules = resource_rules(resource_type)
        _mark_walks(node)
        return node


@functools.cache
def primitive_extension_node() -> Node:
    """Node of a primitive's ``_name`` companion object: only id and extension."""
    with _BUILD_LOCK:
        element = _BUILDER.node("Element")
    return Node(
        name="Element",
        children={k: v for k, v in element.children.items() if k in ("id", "extension")},
    )
