"""When a searchset carries `Bundle.total`, the same in every engine.

- `_total=accurate` / `_total=estimate` (and `_summary=count`, `_count=0`): always, an
  exact count of every match.
- otherwise (`auto`): whenever it is cheap: the first page holding every match counts
  itself; else the store counts when its index narrows the candidates to at most
  TOTAL_CAP (answered from the index alone) or CHECK_CAP (each candidate checked against
  further criteria). Beyond that it is omitted: an exact count costs time proportional
  to the matches, on every page, for a number most clients never read; `_total=accurate`
  asks for it.
- `_total=none`: only when free (the first page holds every match).
"""

from __future__ import annotations

from fhir_server.search.plan import SearchPlan

TOTAL_CAP = 1000
CHECK_CAP = 200  # ~17 µs per candidate checked (SQLite, 2 shared cores): ~3.5 ms at most


def exact_total_wanted(plan: SearchPlan) -> bool:
    return plan.total in ("accurate", "estimate")


def free_total(plan: SearchPlan, page_size: int, more: bool) -> int | None:
    """The total a first page knows without counting: all of it, when nothing follows."""
    if plan.count > 0 and plan.cursor is None and not more:
        return page_size
    return None


def bounded_total(plan: SearchPlan, counted: int | None) -> int | None:
    """A count taken up to TOTAL_CAP + 1 matches, as a total when it is exact."""
    if plan.total != "auto" or counted is None or counted > TOTAL_CAP:
        return None
    return counted
