"""One R4 invariant, compiled once, and how its answer becomes an OperationOutcome issue.

The evaluation order for a constraint: its native form (native.py) if it has one; else
its predicate, when it only asks which children are present; else the fast path
(fastpath.py), which hands an input it cannot decide to fhirpathpy; else fhirpathpy
alone. Errata (errata.py) replace an expression before any of them.

An empty result passes: an invariant fails only on false (strict validators that read
empty as false would refuse, for example, every identifier-only Reference under R4's
ref-1). An evaluation error becomes a warning that the rule could not be evaluated; it
never blocks a write.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from fhir_server import definitions
from fhir_server.outcome import Issue, warning

from .engine import Evaluator, compile_with_fhirpathpy
from .errata import ERRATA
from .fastpath import Env, Fn, Predicate, Unsupported, compile_expression, compile_predicate
from .functions import html_checks
from .native import NATIVE, Native, Verdict
from .scope import Scope


@dataclass(eq=False, slots=True)
class Invariant:
    id: str
    key: str
    severity: str  # error | warning
    human: str
    expression: str  # as evaluated (the erratum's, where there is one)
    native: Native | None = None
    fast: Fn | None = None
    predicate: Predicate | None = None  # presence-only rules: one function of the focus
    _reference: Evaluator | None = field(default=None, repr=False)

    def verdict(self, focus: Any, type_path: str, scope: Scope) -> Verdict:
        """True, False, a reason it failed, or None (empty: no answer)."""
        if self.native is not None:
            return self.native(focus, scope)
        if self.predicate is not None and type(focus) is dict:
            return self.predicate(focus)
        if self.fast is not None:
            one = [focus]
            try:
                return truth(self.fast(one, Env(one, scope.resource, scope.root, _html_ok)))
            except Exception:  # Undecided, or a gap in the fast path: fhirpathpy decides
                pass
        return truth(self.reference(focus, type_path, scope))

    def reference(self, focus: Any, type_path: str, scope: Scope) -> list[Any]:
        """The expression evaluated by fhirpathpy (compiled on first use)."""
        if self._reference is None:
            self._reference = compile_with_fhirpathpy(self.expression)
        return self._reference(focus, type_path, scope)

    def run(self, value: Any, path: str, type_path: str, scope: Scope, issues: list[Issue]) -> None:
        try:
            verdict = self.verdict(value, type_path, scope)
        except Exception as exc:  # fhirpathpy raises many kinds; report, do not fail
            issues.append(
                warning("processing", f"{self.key}: the rule could not be evaluated: {str(exc)[:200]}", path)
            )
            return
        if verdict is True or verdict is None:
            return
        detail = f" ({verdict})" if isinstance(verdict, str) else ""
        issues.append(Issue(self.severity, "invariant", f"{self.key}: {self.human}{detail}", (path,)))


def truth(result: list[Any]) -> bool | None:
    """An invariant's result: empty -> None; one boolean -> it; one other item -> True."""
    if not result:
        return None
    if len(result) > 1:
        raise ValueError("the rule gave several values, not one boolean")
    value = result[0]
    return value if isinstance(value, bool) else True


def _html_ok(div: Any) -> bool:
    return html_checks([div])


@functools.cache
def invariant(constraint_id: str) -> Invariant:
    """The compiled form of one constraint of constraints.json."""
    c = definitions.constraint(constraint_id)
    erratum = ERRATA.get(c.id)
    expression = erratum.expression if erratum is not None and erratum.expression else c.expression
    inv = Invariant(c.id, c.key, c.severity, c.human, expression, native=NATIVE.get(c.key))
    if inv.native is None:
        inv.predicate = compile_predicate(expression)
        try:
            inv.fast = compile_expression(expression)
        except Unsupported:
            inv.fast = None
    return inv
