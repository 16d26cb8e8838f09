"""What the store's own errors mean over HTTP: `storage/` raises only these (a version
conflict, a transaction that lost to a concurrent one, a store that is unreachable or
takes no writes); here they become OperationOutcomes with their status."""

from __future__ import annotations

import logging

from fhir_server.outcome import FhirError
from fhir_server.storage.base import StoreReadOnly, StoreUnavailable, TransactionConflict, VersionConflict

log = logging.getLogger("noskhe.api")

STORE_ERRORS = (StoreUnavailable, TransactionConflict, VersionConflict)


def as_http(exc: Exception) -> FhirError:
    if isinstance(exc, StoreReadOnly):
        return FhirError.of(503, "not-supported", str(exc))
    if isinstance(exc, StoreUnavailable):
        log.error("store unavailable: %s", exc)  # may name hosts: logged, not shown
        return FhirError.of(503, "transient", "The data store is unavailable")
    if isinstance(exc, TransactionConflict):
        return FhirError.of(409, "conflict", str(exc))
    return FhirError.of(409, "conflict", f"Concurrent write: {exc}")
