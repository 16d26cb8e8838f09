"""fhirpathpy, set up for invariants: the R4 model, the missing functions, a silent trace.

``trace()`` (ref-1 and dom-3 call it) prints its values to stdout by default, and those
values are patient data: here it prints nothing. The engine is the reference the fast
path (fastpath.py) and the native checks (native.py) are tested against, and the
fallback for what they leave undecided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from .functions import USER_FUNCTIONS
from .scope import SCOPE, Scope

MODEL: dict[str, Any] = models["r4"]


def _silent_trace(label: str, values: Any) -> None:
    """trace() output would be patient data in the logs: drop it."""


OPTIONS: dict[str, Any] = {
    "returnRawData": True,
    "traceFn": _silent_trace,
    "userInvocationTable": USER_FUNCTIONS,
}

Evaluator = Callable[[Any, str, Scope], list[Any]]


def compile_with_fhirpathpy(expression: str) -> Evaluator:
    """(focus, FHIR type or element path of the focus, scope) -> the result collection."""
    compiled = fhirpathpy.compile(expression, MODEL, OPTIONS)

    def evaluate(focus: Any, type_path: str, scope: Scope) -> list[Any]:
        token = SCOPE.set(scope)
        try:
            node = ResourceNode.create_node(focus, type_path)
            variables = {"resource": scope.resource, "rootResource": scope.root}
            result: list[Any] = compiled(node, variables)
            return result
        finally:
            SCOPE.reset(token)

    return evaluate
