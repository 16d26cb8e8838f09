"""Structural validation of FHIR R4 resources in JSON form.

``validate_resource(resource, expected_type=...)`` returns OperationOutcome issues (an
empty list when valid). It checks, for every R4 resource type and recursively for
contained resources, Bundle.entry.resource, Parameters.parameter.resource and the like:
known resourceType, unknown elements, choice-type exclusivity, JSON value types,
arrays vs single values, cardinality, primitive formats, empty values/nulls, codes of
required bindings (when the value set is enumerable), and extension structure.

Issue codes (http://hl7.org/fhir/issue-type): ``structure`` (shape, JSON type, unknown
element, cardinality max, empty/null), ``required`` (missing required element),
``value`` (bad primitive format or range), ``too-long``, ``code-invalid`` (required
binding), ``invalid`` (resourceType problems, extension rule ext-1, reference rules),
``invariant`` (an R4 constraint: the diagnostics start with its key, ``per-1: ...``).

A structurally valid resource then goes through the rule walk (walk.py): every R4
invariant of the elements present (invariants/), the narrative rules (narrative.py) and
the reference rules (references.py). Invariants of severity warning give warnings.
Expressions are FHIRPath locations: ``Patient.name[0].given[1]``,
``Observation.value.ofType(Quantity).value``, ``Bundle.entry[0].resource.status``.
"""

from __future__ import annotations

from fhir_server.outcome import Issue, error

from .structure import validate_resource_at
from .walk import check_rules

__all__ = ["validate_resource"]


def validate_resource(resource: object, *, expected_type: str | None = None) -> list[Issue]:
    """Validate a parsed JSON resource; returns the issues found (errors and warnings)."""
    issues: list[Issue] = []
    try:
        validate_resource_at(resource, None, issues, expected_type)
        if not issues:
            assert isinstance(resource, dict)
            check_rules(resource, issues)
    except RecursionError:
        # JSON nested deeper than the interpreter allows: a hostile or broken body
        rtype = resource.get("resourceType") if isinstance(resource, dict) else None
        where = (rtype,) if isinstance(rtype, str) else ()
        issues.append(error("structure", "Resource is nested too deeply", *where))
    return issues
