"""The FHIR interactions over a store session (validation, versioning, indexing)."""

from fhir_server.repository.resources import Repository, WriteResult

__all__ = ["Repository", "WriteResult"]
