"""Noskhe's terminology service: CodeSystems, ValueSets and ConceptMaps held in memory
with fast indexes, and $lookup, $validate-code, $expand, $translate, $subsumes on them.

Independent of the FHIR server: ``fhir_server`` wires it in through this interface.

- ``shipped_service()``          a service over the shipped data (terminology/data)
- ``TerminologyService``         registry + operations (see service.py)
- ``parameters``                 FHIR Parameters in/out of the operations
- ``importer.plan_import``       registry sync: the new versions to store
- ``normalize.normalize``        Persian/Latin text normalisation
"""

from __future__ import annotations

from .importer import ImportPlan, parse_resources, plan_import, read_file
from .loader import default_service, shipped_resources, shipped_service
from .service import TerminologyError, TerminologyService

DRUGS_VALUESET = "http://noskhe.ir/fhir/ValueSet/drugs"
GENERIC = "http://noskhe.ir/fhir/CodeSystem/generic"
IRC = "http://noskhe.ir/fhir/CodeSystem/irc"
ATC = "http://www.whocc.no/atc"

__all__ = [
    "ATC",
    "DRUGS_VALUESET",
    "GENERIC",
    "IRC",
    "ImportPlan",
    "TerminologyError",
    "TerminologyService",
    "default_service",
    "parse_resources",
    "plan_import",
    "read_file",
    "shipped_resources",
    "shipped_service",
]
