"""The end of search execution, written once for every engine, which only renders it.

- Ranges: what each prefix (`eq`, `ne`, `gt`, `lt`, `ge`, `le`, `sa`, `eb`, `ap`) means for
  a stored range [lo, hi] against the query's range [low, high], as an OR of ANDs of
  bounds on the two columns (`prefix_ranges`); the string prefix scan's upper bound.
- Sorting: the value a resource without the sort parameter sorts by (missing values sort
  last both ways), and the direction of each sort column for a page and its cursor.
- Paging: rows strictly after a cursor's key (`keyset_terms`), and the page itself:
  the rows read (one more than the page size tells whether there is more), turned back
  for a "previous" page, next/previous keys, and `Bundle.total` as `search.totals` says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fhir_server.search.dates import MAX_MS, MIN_MS
from fhir_server.search.plan import Hit, SearchPlan, SearchResult
from fhir_server.search.totals import bounded_total, free_total

Bound = tuple[str, str, float]  # ("lo" | "hi", "<" | "<=" | ">" | ">=", value)

_MISSING_LAST: dict[str, tuple[Any, Any]] = {  # (ascending, descending)
    "date": (MAX_MS + 1, MIN_MS - 1),
    "number": (1e308, -1e308),
    "quantity": (1e308, -1e308),
}


def prefix_ranges(prefix: str, low: float, high: float, is_date: bool) -> list[list[Bound]]:
    """The stored ranges [lo, hi] a prefixed query range [low, high] matches (FHIR R4 3.1.1.4.1.4)."""
    within: list[Bound] = [("lo", ">=", low), ("hi", "<=", high)]
    if prefix == "ap":
        margin = abs(time.time() * 1000 - low) * 0.1 if is_date else abs(high - low) / 2 + abs(low) * 0.1
        near_low, near_high = low - margin, high + margin
        if is_date:
            near_low, near_high = int(near_low), int(near_high)
        return [[("hi", ">=", near_low), ("lo", "<=", near_high)]]
    table: dict[str, list[list[Bound]]] = {
        "eq": [within],
        "ne": [[("lo", "<", low)], [("hi", ">", high)]],
        "gt": [[("hi", ">", high)]],
        "lt": [[("lo", "<", low)]],
        "ge": [[("hi", ">", high)], within],
        "le": [[("lo", "<", low)], within],
        "sa": [[("lo", ">", high)]],
        "eb": [[("hi", "<", low)]],
    }
    return table[prefix]


def next_prefix(value: str) -> str:
    """The smallest string after every string that starts with `value`."""
    return value[:-1] + chr(ord(value[-1]) + 1) if value else "\U0010ffff"


def missing_sort_value(kind: str, descending: bool) -> Any:
    """What a resource without the sort parameter sorts by: last, in either direction."""
    return _MISSING_LAST.get(kind, ("\U0010ffff", ""))[1 if descending else 0]


def column_directions(plan: SearchPlan) -> list[bool]:
    """Descending or not, per column read (the sort keys, then type and id), for the
    page asked: a "previous" page reads backwards from its cursor."""
    forward = plan.cursor is None or plan.cursor.forward
    return [k.descending != (not forward) for k in plan.sort] + [not forward, not forward]


def keyset_terms(descending: list[bool]) -> list[tuple[int, str]]:
    """Rows strictly after a key: OR over i of (columns before i equal, column i beyond)."""
    return [(i, "<" if d else ">") for i, d in enumerate(descending)]


def finish(
    plan: SearchPlan,
    rows: list[Hit],
    total: int | None,
    count_upto: Callable[[], int | None],
    included: Callable[[list[Hit]], list[Hit]],
) -> SearchResult:
    """The page from the rows read (at most `plan.count + 1`, in reading order), an exact
    total when one was counted, a bounded count when cheap, and the included resources."""
    more = len(rows) > plan.count
    hits = rows[: plan.count]
    forward = plan.cursor is None or plan.cursor.forward
    if not forward:
        hits.reverse()
    has_next = more if forward else True
    has_prev = plan.cursor is not None if forward else more
    if total is None:
        total = free_total(plan, len(hits), more)
    if total is None and plan.total == "auto":
        total = bounded_total(plan, count_upto())
    return SearchResult(
        matches=hits,
        included=[] if plan.ids_only else included(hits),
        total=total,
        next_key=hits[-1].sort_key if hits and has_next else None,
        prev_key=hits[0].sort_key if hits and has_prev else None,
    )
