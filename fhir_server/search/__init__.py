"""FHIR search: SearchParameter registry, index extraction, query plans, searchset Bundles.

Public API (used by the repository/REST layer and the stores):
- `extract_index(resource) -> list[IndexEntry]` on every write
- `parse_search(resource_type, params, *, compartment=None, strict=False) -> SearchPlan`
- `search_bundle(plan, result, base_url, request_path) -> dict` (the result of
  `Repository.search`, the one way to run a plan)
- `match_plan(resource_type, params, limit=2) -> SearchPlan` (conditional interactions)
- `apply_elements(resource, summary, elements) -> dict`
- `capability_search_params(type)`, `search_includes(type)`, `search_revincludes(type)`
- `reindex(store, resource_type=None, progress=None) -> int`
- `registry()` (with `Registry.add(search_parameter)` for custom parameters)
"""

from __future__ import annotations

from fhir_server.search.bundle import search_bundle
from fhir_server.search.capability import capability_search_params, search_includes, search_revincludes
from fhir_server.search.elements import apply_elements
from fhir_server.search.entries import IndexEntry
from fhir_server.search.extract import extract_index
from fhir_server.search.match import match_plan
from fhir_server.search.parse import parse_search
from fhir_server.search.plan import SearchPlan, SearchResult
from fhir_server.search.registry import registry
from fhir_server.search.reindex import reindex

__all__ = [
    "IndexEntry",
    "SearchPlan",
    "SearchResult",
    "apply_elements",
    "capability_search_params",
    "extract_index",
    "match_plan",
    "parse_search",
    "registry",
    "reindex",
    "search_bundle",
    "search_includes",
    "search_revincludes",
]
