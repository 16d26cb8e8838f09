"""Search parameters beyond the R4 core: shipped with the IR profiles, or stored in the server.

Both kinds join the registry when a process starts. A SearchParameter POSTed to a
running server is therefore active after `fhir-server reindex` (which loads it and
indexes the existing data) and a graceful worker reload (`kill -HUP` on the server's main
process), so no query ever runs against a parameter whose index is half-built.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from fhir_server.search.registry import registry
from fhir_server.storage.base import Store

log = logging.getLogger("noskhe.search")
PROFILES_DIR = Path(
    os.environ.get("NOSKHE_PROFILES", Path(__file__).resolve().parents[2] / "profiles" / "ir-eprescription")
)
REQUIRED = ("code", "base", "type", "expression")


def shipped_search_parameters(folder: Path = PROFILES_DIR) -> list[dict[str, Any]]:
    return [orjson.loads(p.read_bytes()) for p in sorted(folder.glob("SearchParameter-*.json"))]


def stored_search_parameters(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        bodies = [orjson.loads(rv.body) for rv in s.iter_current("SearchParameter") if rv.body]
    return [sp for sp in bodies if sp.get("status") == "active"]


def load_custom_search_parameters(store: Store) -> int:
    """Register the shipped and the stored active SearchParameters; returns how many."""
    return _register(shipped_search_parameters()) + _register(stored_search_parameters(store))


def _register(params: Iterable[Mapping[str, Any]]) -> int:
    count = 0
    for sp in params:
        missing = [k for k in REQUIRED if not sp.get(k)]
        if missing:
            log.warning("SearchParameter %s skipped: no %s", sp.get("url"), ", ".join(missing))
            continue
        registry().add(sp)
        count += 1
    return count
