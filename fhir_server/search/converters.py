"""Typed FHIR values -> index entries, one function per SearchParameter type."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fhir_server.search.dates import MAX_MS, MIN_MS, date_range
from fhir_server.search.entries import (
    Component,
    DateEntry,
    NumberEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)
from fhir_server.search.normalize import normalize

Converter = Callable[[str, Any, str], Iterator[Component]]

_NAME_PARTS = ("family", "given", "prefix", "suffix", "text")
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _string(param: str, text: str) -> StringEntry:
    return StringEntry(param, normalize(text), text)


def _coding_tokens(param: str, coding: Any) -> Iterator[Component]:
    if not isinstance(coding, dict):
        return
    system, code = coding.get("system"), coding.get("code")
    if code is not None or system is not None:
        yield TokenEntry(param, system, code)
    if isinstance(coding.get("display"), str):
        yield _string(param + ":text", coding["display"])


def _identifier_tokens(param: str, ident: dict[str, Any]) -> Iterator[Component]:
    value = ident.get("value")
    yield TokenEntry(param, ident.get("system"), value)
    id_type = ident.get("type")
    if not isinstance(id_type, dict):
        return
    for coding in id_type.get("coding", ()):
        if isinstance(coding, dict) and coding.get("code") is not None:
            yield TokenEntry(param + ":of-type", coding.get("system"), f"{coding['code']}|{value}")
    if isinstance(id_type.get("text"), str):
        yield _string(param + ":text", id_type["text"])


def tokens(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    if isinstance(value, bool):
        yield TokenEntry(param, None, "true" if value else "false")
    elif isinstance(value, str):
        yield TokenEntry(param, None, value)
    elif not isinstance(value, dict):
        return
    elif fhir_type == "CodeableConcept" or "coding" in value:
        for coding in value.get("coding", ()):
            yield from _coding_tokens(param, coding)
        if isinstance(value.get("text"), str):
            yield _string(param + ":text", value["text"])
    elif fhir_type == "Identifier":
        yield from _identifier_tokens(param, value)
    elif fhir_type == "ContactPoint":
        if value.get("value") is not None:
            yield TokenEntry(param, None, value["value"])
    elif fhir_type == "Reference":
        if isinstance(value.get("identifier"), dict):
            yield from _identifier_tokens(param, value["identifier"])
    elif "code" in value or "system" in value:
        yield from _coding_tokens(param, value)
    elif "value" in value:
        yield from _identifier_tokens(param, value)


def strings(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    if isinstance(value, str):
        if value:
            yield _string(param, value)
        return
    if not isinstance(value, dict):
        return
    parts: tuple[str, ...] | None = None
    if fhir_type == "HumanName" or "family" in value or "given" in value:
        parts = _NAME_PARTS
    if parts is None and (fhir_type == "Address" or "line" in value or "city" in value):
        parts = _ADDRESS_PARTS
    for key in parts or ("text", "display"):
        for text in _texts(value.get(key)):
            if text:
                yield _string(param, text)
    if parts is _NAME_PARTS and not value.get("text"):
        full = " ".join([*_texts(value.get("given")), *_texts(value.get("family"))])
        if " " in full:
            yield _string(param, full)  # "given family", so a full-name prefix matches


_ABSOLUTE = re.compile(r"^(?:https?|urn):")
_REL = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_ABS_TAIL = re.compile(r"/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def reference_entry(param: str, ref: str) -> ReferenceEntry | None:
    """Index form of a reference string (relative, absolute or canonical)."""
    m = _REL.match(ref)
    if m:
        return ReferenceEntry(param, m.group(1), m.group(2), None)
    if ref.startswith("#"):
        return None  # contained resource: not searchable across resources
    url = ref.split("|", 1)[0]
    tail = _ABS_TAIL.search(url) if _ABSOLUTE.match(url) else None
    if tail:
        return ReferenceEntry(param, tail.group(1), tail.group(2), url)
    return ReferenceEntry(param, None, None, url)


def references(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    if isinstance(value, str):
        entry = reference_entry(param, value)
        if entry is not None:
            yield entry
        return
    if not isinstance(value, dict):
        return
    if isinstance(value.get("resourceType"), str) and isinstance(value.get("id"), str):
        yield ReferenceEntry(param, value["resourceType"], value["id"], None)  # Bundle.entry[0].resource
        return
    ref = value.get("reference")
    if isinstance(ref, str):
        entry = reference_entry(param, ref)
        if entry is not None:
            yield entry
    ident = value.get("identifier")
    if isinstance(ident, dict):
        yield TokenEntry(param + ":identifier", ident.get("system"), ident.get("value"))


def _period(param: str, value: dict[str, Any]) -> Iterator[Component]:
    start = date_range(value["start"]) if isinstance(value.get("start"), str) else None
    end = date_range(value["end"]) if isinstance(value.get("end"), str) else None
    if start or end:
        yield DateEntry(param, start[0] if start else MIN_MS, end[1] if end else MAX_MS)


def dates(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    if isinstance(value, str):
        rng = date_range(value)
        if rng is not None:
            yield DateEntry(param, rng[0], rng[1])
    elif isinstance(value, dict):
        if "start" in value or "end" in value:
            yield from _period(param, value)
        for event in _texts(value.get("event")):
            yield from dates(param, event, "dateTime")
        bounds = value.get("repeat", {}).get("boundsPeriod") if "repeat" in value else None
        if isinstance(bounds, dict):
            yield from _period(param, bounds)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def numbers(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    n = _num(value)
    if n is not None:
        yield NumberEntry(param, n, n)
    elif isinstance(value, dict):
        n = _num(value.get("value"))
        if n is not None:
            yield NumberEntry(param, n, n)


def _quantity(param: str, q: dict[str, Any], low: float, high: float) -> QuantityEntry:
    code = q.get("code") or q.get("currency")
    system = q.get("system") or ("urn:iso:std:iso:4217" if q.get("currency") else None)
    return QuantityEntry(param, low, high, system, code or q.get("unit"), q.get("unit"))


def quantities(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    if not isinstance(value, dict):
        return
    n = _num(value.get("value"))
    if n is not None:
        yield _quantity(param, value, n, n)
    elif "low" in value or "high" in value:
        low, high = value.get("low") or {}, value.get("high") or {}
        lo, hi = _num(low.get("value")), _num(high.get("value"))
        if lo is not None or hi is not None:
            unit_src = low if lo is not None else high
            yield _quantity(
                param, unit_src, lo if lo is not None else -1e308, hi if hi is not None else 1e308
            )


def uris(param: str, value: Any, fhir_type: str) -> Iterator[Component]:
    if isinstance(value, str) and value:
        yield UriEntry(param, value)


CONVERTERS: dict[str, Converter] = {
    "token": tokens,
    "string": strings,
    "reference": references,
    "date": dates,
    "number": numbers,
    "quantity": quantities,
    "uri": uris,
}
