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
    authorization.current().require("read", "MeasureReport")
    if end < start:
        raise FhirError.of(400, "invalid", f"periodEnd {end} is before periodStart {start}")
    with store.session() as s:
        spec = catalog.spec(catalog.measure(repo, s, measure_id))
    with authorization.as_system():
        tally = engine.tally_for(repo, store, spec, start, end)
    try:
        return measure_report(spec, tally, start, end, interval)
    except ValueError as exc:
        raise FhirError.of(400, "invalid", str(exc)) from exc
