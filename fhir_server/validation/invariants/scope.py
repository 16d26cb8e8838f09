"""Where an element being checked sits: its resource, that resource's container, and
whether it is inside a Bundle (where ``urn:uuid:`` references resolve) or a transaction
(where conditional references do)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Scope:
    resource: Any  # %resource: the resource holding the element
    root: Any  # %rootResource: its container, for a contained resource; else itself
    in_bundle: bool = False  # inside a Bundle entry
    in_transaction: bool = False  # inside an entry of a transaction Bundle


# the scope of the evaluation in progress, for functions fhirpathpy calls without it
SCOPE: ContextVar[Scope | None] = ContextVar("fhirpath_scope", default=None)
