"""Evaluating a Measure for a period: what `$evaluate-measure` and the dashboard call.

Aggregates only: whoever may read MeasureReports (the insurer and ministry roles, an
administrator) gets counts, never the resources behind them; the counting itself runs as
the server.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fhir_server import authorization
from fhir_server.measures import catalog, engine
from fhir_server.measures.report import measure_report
from fhir_server.outcome import FhirError
from fhir_server.storage.base import Store

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository


def evaluate(
    repo: Repository, store: Store, measure_id: str, start: date, end: date, interval: str | None = None
) -> dict[str, Any]:
    """The summary MeasureReport of Measure `measure_id` for the days start..end (Tehran)."""
    return evaluate_kept(repo, store, measure_id, start, end, interval)[0]


def evaluate_kept(
    repo: Repository,
    store: Store,
    measure_id: str,
    start: date,
    end: date,
    interval: str | None = None,
    most: int | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The report, and None; or, with `most`, when more than `most` versions were written
    since the tally was last brought up to date: the report of the tally as kept and the
    instant it stands at (its `date`), without catching up."""
    authorization.current().require("read", "MeasureReport")
    if end < start:
        raise FhirError.of(400, "invalid", f"periodEnd {end} is before periodStart {start}")
    with store.session() as s:
        spec = catalog.spec(catalog.measure(repo, s, measure_id))
    with authorization.as_system():
        found = engine.kept(repo, store, spec, start, end, most) if most is not None else None
        tally = found[0] if found else engine.tally_for(repo, store, spec, start, end)
    try:
        report = measure_report(spec, tally, start, end, interval)
    except ValueError as exc:
        raise FhirError.of(400, "invalid", str(exc)) from exc
    if found is None:
        return report, None
    return {**report, "date": found[1]}, found[1]


def catch_up(repo: Repository, store: Store, measure_ids: list[str]) -> Any:
    """Bring these Measures' tallies up to date in the background (see engine)."""
    with authorization.as_system(), store.session() as s:
        specs = [catalog.spec(catalog.measure(repo, s, m)) for m in measure_ids]
    return engine.catch_up_in_background(repo, store, specs)
