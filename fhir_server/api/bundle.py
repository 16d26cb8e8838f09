"""POST of a Bundle to the base URL: dispatch to transaction or batch processing."""

from __future__ import annotations

from typing import Any

from fhir_server.api.context import base_url, ctx
from fhir_server.api.http import prefer_return
from fhir_server.bundles import run_batch, run_transaction
from fhir_server.outcome import FhirError, has_errors


def check_envelope(bundle: Any) -> dict[str, Any]:
    """400 unless `bundle` is a structurally valid Bundle, its entries' resources aside
    (those are validated one by one as they are written)."""
    envelope = bundle
    if isinstance(bundle, dict) and isinstance(bundle.get("entry"), list):
        envelope = {**bundle, "entry": [_without_resource(e) for e in bundle["entry"]]}
    issues = ctx().repo.validate(envelope, expected_type="Bundle")
    if has_errors(issues):
        raise FhirError(400, issues)
    checked: dict[str, Any] = bundle
    return checked


def process_bundle(bundle: Any) -> dict[str, Any]:
    c = ctx()
    check_envelope(bundle)
    kind = bundle.get("type")
    entries = bundle.get("entry") or []
    run = {"transaction": run_transaction, "batch": run_batch}.get(kind)
    if run is None:
        raise FhirError.of(
            400,
            "invalid",
            f"Only transaction and batch bundles can be posted here, not {kind!r}",
            "Bundle.type",
        )
    return run(c.store, c.repo, entries, base_url(), c.resource_types, prefer_return())


def _without_resource(entry: Any) -> Any:
    if isinstance(entry, dict) and "resource" in entry:
        return {k: v for k, v in entry.items() if k != "resource"} or entry
    return entry
