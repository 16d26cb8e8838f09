"""Index entries: what a resource contributes to search, engine-neutral.

`extract_index` turns a resource into a list of these. SQLite writes each kind to its own
table; MongoDB keeps them inside the resource document. `param` is the SearchParameter
code (`subject`, `_tag`), or a derived name for modifier-only indexes:
`<code>:text` (string entry for a token's CodeableConcept.text / Coding.display),
`<code>:of-type` (token entry for an Identifier: system = type system, code = `type|value`),
`<code>:identifier` (token entry for Reference.identifier).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TokenEntry:
    param: str
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class StringEntry:
    param: str
    norm: str  # normalize(value): prefix / contains matching
    exact: str  # the value as written: :exact matching


@dataclass(frozen=True, slots=True)
class ReferenceEntry:
    """A reference. Relative `Type/id`: type+id, url None. Absolute: url, plus type+id when
    the URL ends in `Type/id`. Canonical: url (version stripped), type/id None."""

    param: str
    type: str | None
    id: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class DateEntry:
    param: str
    low: int  # inclusive, ms since epoch UTC (dates.MIN_MS when open)
    high: int  # inclusive (dates.MAX_MS when open)


@dataclass(frozen=True, slots=True)
class NumberEntry:
    param: str
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class QuantityEntry:
    param: str
    low: float
    high: float
    system: str | None
    code: str | None  # Quantity.code, else Quantity.unit
    unit: str | None


@dataclass(frozen=True, slots=True)
class UriEntry:
    param: str
    uri: str


Component = TokenEntry | StringEntry | ReferenceEntry | DateEntry | NumberEntry | QuantityEntry | UriEntry


def component_values(entry: Component) -> dict[str, Any]:
    """A composite's later component as short keys, the same in every engine's index."""
    if isinstance(entry, TokenEntry):
        return {"s": entry.system or "", "c": entry.code or ""}
    if isinstance(entry, StringEntry):
        return {"n": entry.norm, "e": entry.exact}
    if isinstance(entry, ReferenceEntry):
        return {"t": entry.type or "", "i": entry.id or "", "u": entry.url or ""}
    if isinstance(entry, (DateEntry, NumberEntry)):
        return {"l": entry.low, "h": entry.high}
    if isinstance(entry, QuantityEntry):
        return {
            "l": entry.low,
            "h": entry.high,
            "s": entry.system or "",
            "c": entry.code or "",
            "u": entry.unit or "",
        }
    return {"u": entry.uri}


@dataclass(frozen=True, slots=True)
class CompositeEntry:
    """One combination of component values taken from the same element (e.g. one
    Observation.component): `parts[i]` is an entry for the composite's i-th component."""

    param: str
    parts: tuple[Component, ...]


IndexEntry = Component | CompositeEntry
