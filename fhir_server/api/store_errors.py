"""What the store's own errors mean over HTTP: `storage/` raises only these (a version
conflict, a transaction that lost to a concurrent one, a store that is unreachable, takes
no writes or is full); here they become OperationOutcomes with their status."""

from __future__ import annotations

import logging

from fhir_server.outcome import FhirError
from fhir_server.storage.base import (
    StoreFull,
    StoreReadOnly,
    StoreUnavailable,
    TransactionConflict,
    VersionConflict,
    is_disk_full,
)

log = logging.getLogger("noskhe.api")

STORE_ERRORS = (StoreUnavailable, StoreFull, TransactionConflict, VersionConflict)
FULL = "The server's storage is full: nothing was written. Retry after the operator has made room."


def as_http(exc: Exception) -> FhirError:
    if isinstance(exc, StoreFull) or is_disk_full(exc):  # 507: the client's request was fine
        log.error("storage full: %s", exc)
        return FhirError.of(507, "no-store", FULL)
    if isinstance(exc, StoreReadOnly):
        return FhirError.of(503, "not-supported", str(exc))
    if isinstance(exc, StoreUnavailable):
        log.error("store unavailable: %s", exc)  # may name hosts: logged, not shown
        return FhirError.of(503, "transient", "The data store is unavailable")
    if isinstance(exc, TransactionConflict):
        return FhirError.of(409, "conflict", str(exc))
    return FhirError.of(409, "conflict", f"Concurrent write: {exc}")
