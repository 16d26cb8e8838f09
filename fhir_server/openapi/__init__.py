"""The OpenAPI 3.1 document of the FHIR API (`/fhir/openapi.json`), generated from what the
server declares: the CapabilityStatement, the operation registry and the R4 definitions."""

from fhir_server.openapi.document import EPRESCRIPTION_TYPES, openapi_document

__all__ = ["EPRESCRIPTION_TYPES", "openapi_document"]
