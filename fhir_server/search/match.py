"""match_plan: the search behind conditional interactions (If-None-Exist, conditional
update/delete/patch, conditional references in transactions) and the server's lookups."""

from __future__ import annotations

from dataclasses import replace

from fhir_server.outcome import FhirError
from fhir_server.search.parse import parse_search
from fhir_server.search.plan import SearchPlan


def match_plan(resource_type: str, params: list[tuple[str, str]], limit: int = 2) -> SearchPlan:
    """A plan for the ids of current `resource_type` resources matching `params`, at most
    `limit`, run through `Repository.search` like any other search.

    Unknown parameters are errors here (a conditional operation must not silently match
    more than asked), and a query with no criteria is refused."""
    criteria = [
        (k, v)
        for k, v in params
        if not k.startswith("_")
        or k in ("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "_has")
        or k.startswith("_has:")
    ]
    if not criteria:
        raise FhirError.of(412, "invalid", "A conditional operation needs search criteria")
    plan = parse_search(resource_type, criteria, strict=True)
    return replace(
        plan, count=max(limit, 1), sort=(), includes=(), revincludes=(), total="none", ids_only=True
    )
