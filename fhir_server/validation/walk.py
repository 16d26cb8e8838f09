"""The rule walk: runs each present element's rules (invariants, reference rules).

It follows the same nodes as the structural walk but visits only children marked
``walk`` (model.py), so a resource pays for the rules of what it contains and nothing
else. It runs after the structural walk found no error: the rules may assume the
resource's JSON has the right shape. Nested resources (contained, Bundle entries,
Parameters resources) get their own %resource; a contained resource keeps its
container as %rootResource.
"""

from __future__ import annotations

from typing import Any

from fhir_server.outcome import Issue

from .invariants.scope import Scope
from .model import COMPLEX, RESOURCE, Child, Node, resource_node


def check_rules(resource: dict[str, Any], issues: list[Issue]) -> None:
    """Append the rule issues of a structurally valid resource."""
    rtype = resource["resourceType"]
    _resource(resource, rtype, Scope(resource, resource), issues)


def _resource(resource: dict[str, Any], path: str, scope: Scope, issues: list[Issue]) -> None:
    rtype = resource["resourceType"]
    node = resource_node(rtype)
    for rule in node.rules:
        rule.run(resource, path, rtype, scope, issues)
    if node.walk:
        _object(resource, node, path, scope, issues)


def _object(obj: dict[str, Any], node: Node, path: str, scope: Scope, issues: list[Issue]) -> None:
    children = node.children
    for key, value in obj.items():
        child = children.get(key)
        if child is None or not child.walk:
            continue
        where = f"{path}.{child.label}"
        if type(value) is list:
            for i, item in enumerate(value):
                if item is not None:
                    _value(item, child, f"{where}[{i}]", scope, issues)
        else:
            _value(value, child, where, scope, issues)


def _value(value: Any, child: Child, path: str, scope: Scope, issues: list[Issue]) -> None:
    for rule in child.rules:
        rule.run(value, path, child.fhir_type, scope, issues)
    if child.kind == COMPLEX:
        assert child.node is not None
        if child.node.walk:
            _object(value, child.node, path, scope, issues)
    elif child.kind == RESOURCE:
        _resource(value, path, _nested_scope(value, child, scope), issues)


def _nested_scope(resource: dict[str, Any], child: Child, scope: Scope) -> Scope:
    if child.name == "contained":
        return Scope(resource, scope.root, scope.in_bundle, scope.in_transaction)
    outer = scope.resource
    if type(outer) is dict and outer.get("resourceType") == "Bundle":
        return Scope(resource, resource, True, outer.get("type") == "transaction")
    return Scope(resource, resource, scope.in_bundle, scope.in_transaction)
