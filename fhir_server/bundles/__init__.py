"""Bundles POSTed to the base URL: transaction (all or nothing) and batch (independent)."""

from fhir_server.bundles.batch import run_batch
from fhir_server.bundles.transaction import run_transaction

__all__ = ["run_batch", "run_transaction"]
