"""The conformance resources shipped with the server (R4 core and IR definitions,
terminology, OperationDefinitions), served read-only beside the stored ones.

- ``shipped()``                 the process's read-only source (see shipped.py)
- ``CONFORMANCE_TYPES``         the types it holds
- ``merge_results``             a search result of the store and the source as one
"""

from fhir_server.conformance.merge import merge_results
from fhir_server.conformance.shipped import ShippedConformance, shipped
from fhir_server.conformance.sources import CONFORMANCE_TYPES

__all__ = ["CONFORMANCE_TYPES", "ShippedConformance", "merge_results", "shipped"]
