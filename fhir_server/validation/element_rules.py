"""The rules evaluated on each element beyond its structure: R4 invariants and the
reference rules. The model (model.py) attaches them to the elements once; the walk
(walk.py) runs them where the elements are present.

An element's invariants are its own constraints plus those of its type (Period's per-1 on
every Period). ele-1 and ext-1 are left to the structural walk, which already looks at
every element and extension.
"""

from __future__ import annotations

from typing import Any, Protocol

from fhir_server import definitions
from fhir_server.definitions import PRIMITIVE_TYPES, ElementDef
from fhir_server.outcome import Issue

from .invariants.checks import invariant
from .invariants.scope import Scope
from .references import CONTAINED_IDS, reference_rule

STRUCTURAL = frozenset({"ele-1", "ext-1"})


class Rule(Protocol):
    def run(self, value: Any, path: str, type_path: str, scope: Scope, issues: list[Issue]) -> None: ...


def element_rules(el: ElementDef, type_code: str | None) -> tuple[Rule, ...]:
    """The rules of one element holding values of ``type_code`` (None: inline backbone)."""
    ids = list(el.constraints)
    if type_code is not None and type_code not in PRIMITIVE_TYPES and type_code in definitions.type_names():
        ids += definitions.type_def(type_code).constraints
    rules: list[Rule] = [
        invariant(i) for i in dict.fromkeys(ids) if definitions.constraint(i).key not in STRUCTURAL
    ]
    if type_code == "Reference":
        rules.append(reference_rule(el.targets))
    return tuple(rules)


def resource_rules(type_name: str) -> tuple[Rule, ...]:
    """The rules of a resource as a whole: its root constraints (dom-*, bdl-*...)."""
    td = definitions.type_def(type_name)
    rules: list[Rule] = [
        invariant(i) for i in dict.fromkeys(td.constraints) if definitions.constraint(i).key not in STRUCTURAL
    ]
    if f"{td.root}.contained" in td.elements:
        rules.append(CONTAINED_IDS)
    return tuple(rules)
