"""_include and _revinclude (with :iterate), engine-neutral: the rounds and limits.

Each store engine supplies the three lookups (`IncludeSource`); the walk over them is the
same everywhere: round one follows every include from the page's matches, later rounds
only the `:iterate` ones from what the previous round added, until nothing new turns up,
MAX_ROUNDS pass, or MAX_INCLUDED resources are included. Only what the plan's
`include_limits` allow is read (authorization: the engine compiles each type's clause into
the read), and only that is followed further.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from fhir_server.search.plan import Clause, Hit, Include, SearchPlan

MAX_INCLUDED = 1000
MAX_ROUNDS = 4

Key = tuple[str, str]


class IncludeSource(Protocol):
    def forward(self, inc: Include, ids: Sequence[str]) -> set[Key]:
        """Targets referenced by `ids` (of inc.source_type) through the include's parameter."""
        ...

    def reverse(self, inc: Include, target_type: str, ids: Sequence[str]) -> set[Key]:
        """Resources of inc.source_type that reference `ids` (of target_type)."""
        ...

    def read(self, type_: str, ids: Sequence[str], limit: Clause | None) -> list[Hit]:
        """The current, non-deleted resources of `type_` among `ids` (that satisfy `limit`)."""
        ...


def by_type(keys: Iterable[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for t, i in keys:
        grouped.setdefault(t, []).append(i)
    return grouped


def _round(source: IncludeSource, plan: SearchPlan, sources: Iterable[Key], iterate_only: bool) -> set[Key]:
    grouped = by_type(sources)
    found: set[Key] = set()
    for inc in plan.includes:
        if (inc.iterate or not iterate_only) and inc.source_type in grouped:
            found |= source.forward(inc, grouped[inc.source_type])
    for inc in plan.revincludes:
        if inc.iterate or not iterate_only:
            for target_type, ids in grouped.items():
                found |= source.reverse(inc, target_type, ids)
    return found


def _read(source: IncludeSource, plan: SearchPlan, keys: Iterable[Key]) -> list[Hit]:
    hits: list[Hit] = []
    for type_, ids in sorted(by_type(keys).items()):
        if plan.include_limits is None:
            hits.extend(source.read(type_, sorted(ids), None))
            continue
        limit = plan.include_limit(type_)
        if limit is not None:
            hits.extend(source.read(type_, sorted(ids), limit))
    return hits


def collect_includes(source: IncludeSource, plan: SearchPlan, matches: Sequence[Hit]) -> list[Hit]:
    """Resources included by the plan's _include/_revinclude for this page (not matches)."""
    if not plan.includes and not plan.revincludes:
        return []
    seen: set[Key] = {(h.type, h.id) for h in matches}
    frontier: set[Key] = set(seen)
    result: list[Hit] = []
    for round_ in range(MAX_ROUNDS):
        new = _round(source, plan, frontier, iterate_only=round_ > 0) - seen
        if not new:
            break
        hits = _read(source, plan, new)[: MAX_INCLUDED - len(result)]
        result.extend(hits)
        seen |= new
        frontier = {(h.type, h.id) for h in hits}
        if len(result) >= MAX_INCLUDED:
            break
    return result
