"""Batch bundles: every entry on its own, each in its own store transaction."""

from __future__ import annotations

from typing import Any

from fhir_server.api.store_errors import STORE_ERRORS, as_http
from fhir_server.bundles.entry import error_entry, execute, parse_entry
from fhir_server.outcome import FhirError
from fhir_server.repository import Repository
from fhir_server.storage.base import Store


def run_batch(
    store: Store, repo: Repository, entries: list[Any], base_url: str, types: frozenset[str], prefer: str
) -> dict[str, Any]:
    out = []
    for index, entry in enumerate(entries):
        try:
            req = parse_entry(index, entry, base_url, types)
            with store.session(write=req.method not in ("GET", "HEAD")) as s:
                out.append(execute(s, repo, req, base_url, prefer))
        except FhirError as exc:
            out.append(error_entry(exc))
        except STORE_ERRORS as exc:  # this entry's transaction lost or could not run
            out.append(error_entry(as_http(exc)))
    return {"resourceType": "Bundle", "type": "batch-response", "entry": out}
