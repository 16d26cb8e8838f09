"""match: ids satisfying a conditional query (If-None-Exist, conditional update/delete/
patch, conditional references in transactions)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fhir_server.outcome import FhirError
from fhir_server.search.parse import parse_search


def match(session: Any, resource_type: str, params: list[tuple[str, str]], limit: int = 2) -> list[str]:
    """Ids of current `resource_type` resources matching `params`, at most `limit`.

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
    plan = replace(
        plan, count=max(limit, 1), sort=(), includes=(), revincludes=(), total="none", ids_only=True
    )
    result = session.search(plan)
    return [hit.id for hit in result.matches]
