"""One search result from two sources run on the same plan: the store and the shipped
conformance resources.

Both return their page in the plan's keyset order (sort values, type, id), so the merged
page is the first `count` of both (the last `count` when paging backwards), and the
merged page's first and last keys are valid cursors for both sources.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from fhir_server.search.plan import Hit, SearchPlan, SearchResult


def merge_results(
    plan: SearchPlan, stored: SearchResult, shipped: SearchResult, shadowed: Callable[[Hit], bool]
) -> SearchResult:
    """`stored` hits for which `shadowed` is true are left out (a shipped resource with the
    same type and id wins)."""
    descending = [k.descending for k in plan.sort] + [False, False]

    def compare(a: Hit, b: Hit) -> int:
        return _compare(a.sort_key, b.sort_key, descending)

    order = functools.cmp_to_key(compare)
    merged = sorted([h for h in stored.matches if not shadowed(h)] + shipped.matches, key=order)
    count = max(plan.count, 0)
    forward = plan.cursor is None or plan.cursor.forward
    if forward:
        page = merged[:count]
        more = len(merged) > count or stored.next_key is not None or shipped.next_key is not None
        has_next, has_prev = more, plan.cursor is not None
    else:
        page = merged[len(merged) - count :] if count else []
        more = len(merged) > count or stored.prev_key is not None or shipped.prev_key is not None
        has_next, has_prev = True, more
    total = None
    if stored.total is not None and shipped.total is not None:
        total = stored.total + shipped.total
    seen: set[tuple[str, str]] = set()
    included = []
    for hit in [*stored.included, *shipped.included]:
        if (hit.type, hit.id) not in seen:
            seen.add((hit.type, hit.id))
            included.append(hit)
    return SearchResult(
        matches=page,
        included=included,
        total=total,
        next_key=page[-1].sort_key if page and has_next else None,
        prev_key=page[0].sort_key if page and has_prev else None,
    )


def _compare(a: Sequence[object], b: Sequence[object], descending: Sequence[bool]) -> int:
    for x, y, desc in zip(a, b, descending, strict=False):
        c = _compare_values(x, y)
        if c:
            return -c if desc else c
    return 0


def _compare_values(x: object, y: object) -> int:
    """None first (as both engines sort it), numbers before text, then by value."""
    kx, ky = _rank(x), _rank(y)
    if kx != ky:
        return -1 if kx < ky else 1
    if kx == 0:
        return 0
    vx, vy = (x, y) if kx in (1, 2) else (str(x), str(y))
    return -1 if vx < vy else (1 if vx > vy else 0)  # type: ignore[operator]


def _rank(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return 2
    return 3
