"""The Measures the server evaluates: the shipped ones (profiles/ir-eprescription/measures,
data replaceable without code) and any stored in the server."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.measures.definitions import MeasureSpec, spec_of
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

MEASURES_DIR = Path(__file__).resolve().parents[2] / "profiles" / "ir-eprescription" / "measures"


@functools.cache
def shipped() -> dict[str, dict[str, Any]]:
    """id -> Measure, as shipped."""
    found = (orjson.loads(p.read_bytes()) for p in sorted(MEASURES_DIR.glob("Measure-*.json")))
    return {m["id"]: m for m in found}


def measure(repo: Repository, s: StoreSession, id_: str) -> dict[str, Any]:
    """A shipped Measure, else a stored one read through the Repository (404 when none)."""
    if id_ in shipped():
        return shipped()[id_]
    found: dict[str, Any] = orjson.loads(repo.read(s, "Measure", id_).body or b"{}")
    return found


@functools.lru_cache(maxsize=64)
def _spec(body: bytes) -> MeasureSpec:
    return spec_of(orjson.loads(body))


def spec(resource: dict[str, Any]) -> MeasureSpec:
    """The evaluable form of a Measure, compiled once per version."""
    return _spec(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS))
