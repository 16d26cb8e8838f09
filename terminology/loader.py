"""The shipped terminology: terminology/data/*.json, built by scripts/build_terminology.py,
over the R4 core CodeSystems and ValueSets (data/r4-core.json.gz, see r4core.py)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from .r4core import r4_core
from .service import TerminologyService

DATA_DIR = Path(__file__).resolve().parent / "data"


@functools.cache
def shipped_resources() -> tuple[dict[str, Any], ...]:
    """Every shipped CodeSystem, ValueSet and ConceptMap (parsed once per process)."""
    out = []
    for path in sorted(DATA_DIR.glob("*.json")):
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return tuple(out)


def shipped_service() -> TerminologyService:
    """A new service holding the shipped resources over the R4 core ones (indexes build
    lazily on first use)."""
    return TerminologyService(shipped_resources(), base=r4_core())


@functools.cache
def default_service() -> TerminologyService:
    """One shared service over the shipped data, for callers without an app."""
    return shipped_service()
