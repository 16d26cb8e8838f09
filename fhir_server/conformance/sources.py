"""Where the shipped conformance resources come from. Nothing here is stored: each is
derived data committed to the repository, read once per process.

- the R4 core StructureDefinitions (resources, data types, core extensions and
  profiles), SearchParameters and CompartmentDefinitions: `definitions/conformance.json.gz`
  (scripts/derive_definitions.py);
- the R4 core CodeSystems and ValueSets: the terminology service's own catalogue
  (`terminology/data/r4-core.json.gz`), not derived a second time;
- the IR profiles, extensions, NamingSystems, SearchParameters and the ImplementationGuide:
  `profiles/ir-eprescription/`; the IR CodeSystems, ValueSets and ConceptMaps:
  `terminology/data/`;
- the OperationDefinitions of every operation the server offers (the registry).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

import terminology
from fhir_server.definitions import DATA_DIR
from fhir_server.validation.profiles.registry import PROFILES_DIR
from terminology.r4core import r4_core

CORE_FILE = DATA_DIR / "conformance.json.gz"
IR_FILES = (
    "StructureDefinition-*.json",
    "SearchParameter-*.json",
    "NamingSystem-*.json",
    "ImplementationGuide-*.json",
)
# Types whose shipped instances are served read-only beside the ones users store.
CONFORMANCE_TYPES = frozenset(
    {
        "StructureDefinition",
        "SearchParameter",
        "CompartmentDefinition",
        "CodeSystem",
        "ValueSet",
        "ConceptMap",
        "OperationDefinition",
        "NamingSystem",
        "ImplementationGuide",
    }
)


def shipped_resources(profiles_dir: Path = PROFILES_DIR) -> Iterator[dict[str, Any]]:
    """Every shipped conformance resource; a later source wins for the same type and id
    (the IR resources over the R4 core ones)."""
    yield from orjson.loads(gzip.decompress(CORE_FILE.read_bytes()))["resources"]
    yield from r4_core()
    for pattern in IR_FILES:
        for path in sorted(profiles_dir.glob(pattern)):
            yield orjson.loads(path.read_bytes())
    yield from terminology.shipped_resources()
    from fhir_server.operations.definitions import all_definitions

    yield from all_definitions()
