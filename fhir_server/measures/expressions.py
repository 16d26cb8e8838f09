"""FHIRPath for measures: compiled once, with `resolve()` reading the referenced resource
through a per-evaluation resolver (the server's lookups, cached), so a stratifier can
reach the prescriber's organization and its province."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

Lookup = Callable[[str], dict[str, Any] | None]  # "Type/id" -> the resource, or None
_LOOKUP: ContextVar[Lookup | None] = ContextVar("noskhe_measure_lookup", default=None)


def _resolve(inputs: list[Any]) -> list[Any]:
    lookup = _LOOKUP.get()
    found = []
    for value in inputs:
        ref = value.get("reference") if isinstance(value, dict) else value if isinstance(value, str) else None
        target = lookup(ref) if lookup and isinstance(ref, str) and ref.count("/") == 1 else None
        if target is not None:
            found.append(ResourceNode.create_node(target, target["resourceType"]))
    return found


OPTIONS: dict[str, Any] = {"userInvocationTable": {"resolve": {"fn": _resolve}}}


class Expression:
    """A compiled FHIRPath expression evaluated on a resource with a lookup for resolve()."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._compiled = fhirpathpy.compile(text, models["r4"], OPTIONS)

    def __call__(self, resource: dict[str, Any], lookup: Lookup) -> list[Any]:
        token = _LOOKUP.set(lookup)
        try:
            result: list[Any] = self._compiled(resource, {})
            return result
        finally:
            _LOOKUP.reset(token)

    def strings(self, resource: dict[str, Any], lookup: Lookup) -> list[str]:
        """The primitive results as text, each once, in order."""
        out: list[str] = []
        for value in self(resource, lookup):
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if not isinstance(value, dict) and text not in out:
                out.append(text)
        return out
