"""The R4 core terminology: every CodeSystem and ValueSet published with FHIR R4 (4.0.1),
FHIR, v2 and v3 ones, read-only, from ``data/r4-core.json.gz``.

The file is derived by ``scripts/derive_definitions.py`` from ``hl7.fhir.r4.examples``
(compositions and code systems) and ``hl7.fhir.r4.expansions`` (published expansions of
value sets whose compose cannot be evaluated here). It is ``{"fhirVersion", "source",
"resources": [CodeSystem | ValueSet, ...]}``: plain FHIR resources without narrative.

It is parsed on first use (about 0.1 s), once per process, and never changes; services
consult it after their own registry (``TerminologyService(base=...)``).
"""

from __future__ import annotations

import functools
import gzip
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

CORE_FILE = Path(__file__).resolve().parent / "data" / "r4-core.json.gz"


class Catalogue:
    """Read-only resources by (kind, url) and (kind, id), loaded lazily from one file."""

    def __init__(self, path: Path = CORE_FILE) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._by_url: dict[tuple[str, str], dict[str, Any]] | None = None
        self._by_id: dict[tuple[str, str], dict[str, Any]] = {}

    def _index(self) -> dict[tuple[str, str], dict[str, Any]]:
        found = self._by_url
        if found is None:
            with self._lock:
                if self._by_url is None:
                    data = orjson.loads(gzip.decompress(self.path.read_bytes()))
                    resources = data["resources"]
                    self._by_id = {(r["resourceType"], r["id"]): r for r in resources}
                    self._by_url = {(r["resourceType"], r["url"]): r for r in resources}
                found = self._by_url
        return found

    def get(self, kind: str, url: str, version: str | None = None) -> dict[str, Any] | None:
        """The resource with this url (and version, when one is asked for)."""
        found = self._index().get((kind, url))
        if found is None or (version is not None and found.get("version") != version):
            return None
        return found

    def by_id(self, kind: str, id_: str) -> dict[str, Any] | None:
        self._index()
        return self._by_id.get((kind, id_))

    def urls(self, kind: str) -> list[str]:
        return sorted(url for k, url in self._index() if k == kind)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._index().values())


@functools.cache
def r4_core() -> Catalogue:
    """The one catalogue of the shipped R4 core terminology (shared by every service)."""
    return Catalogue()
