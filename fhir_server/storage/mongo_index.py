"""Index entries inside the resource document, and the MongoDB indexes over them.

A resource document carries its search index entries in one array per entry kind, each
element tagged with the parameter code `p`:

    tok: [{p, s, c}]             token: system, code ('' when absent)
    str: [{p, n, e}]             string: normalized, exact
    ref: [{p, t, i, u}]          reference: target type, id, absolute/canonical url
    dt:  [{p, l, h}]             date: inclusive ms range
    num: [{p, l, h}]             number
    qty: [{p, l, h, s, c, un}]   quantity
    uri: [{p, u}]
    cmp: [{p, s, c, r0, r1..}]   composite: first component as token, the others as r<i>

Compound multikey indexes `(t, <kind>.p, <kind>.<value>)` answer `$elemMatch` queries with
bounds on the parameter and the value. Two maps, `sa` (ascending) and `sd` (descending),
hold each sortable parameter's sort value (the smallest / largest entry, as the SQLite
engine's MIN/MAX subqueries compute it), so `_sort` never unpacks the arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from fhir_server.search.entries import (
    CompositeEntry,
    DateEntry,
    NumberEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
    component_values,
)

FIELDS: dict[str, str] = {
    "token": "tok",
    "string": "str",
    "reference": "ref",
    "date": "dt",
    "number": "num",
    "quantity": "qty",
    "uri": "uri",
    "composite": "cmp",
}
ALL_FIELDS = tuple(FIELDS.values())


def _element(entry: Any) -> tuple[str, dict[str, Any]]:
    p = entry.param
    if isinstance(entry, TokenEntry):
        return "tok", {"p": p, "s": entry.system or "", "c": entry.code or ""}
    if isinstance(entry, StringEntry):
        return "str", {"p": p, "n": entry.norm, "e": entry.exact}
    if isinstance(entry, ReferenceEntry):
        return "ref", {"p": p, "t": entry.type or "", "i": entry.id or "", "u": entry.url or ""}
    if isinstance(entry, DateEntry):
        return "dt", {"p": p, "l": entry.low, "h": entry.high}
    if isinstance(entry, NumberEntry):
        return "num", {"p": p, "l": entry.low, "h": entry.high}
    if isinstance(entry, QuantityEntry):
        return "qty", {
            "p": p,
            "l": entry.low,
            "h": entry.high,
            "s": entry.system or "",
            "c": entry.code or "",
            "un": entry.unit or "",
        }
    if isinstance(entry, UriEntry):
        return "uri", {"p": p, "u": entry.uri}
    assert isinstance(entry, CompositeEntry)
    first = entry.parts[0]
    code, sys = (first.code or "", first.system or "") if isinstance(first, TokenEntry) else ("", "")
    doc: dict[str, Any] = {"p": p, "s": sys, "c": code}
    for i, part in enumerate(entry.parts[1:]):
        doc[f"r{i}"] = component_values(part)
    return "cmp", doc


# Which element keys give the ascending (min) and descending (max) sort value per field.
_SORT_KEYS = {"tok": ("c", "c"), "str": ("n", "n"), "ref": ("i", "i"), "dt": ("l", "h"),
              "num": ("l", "h"), "qty": ("l", "h"), "uri": ("u", "u")}  # fmt: skip


def index_fields(index: Sequence[Any]) -> dict[str, Any]:
    """The document fields for `index`: the arrays of the kinds it has (an empty array is
    left out: in a multikey index every empty array is the same key, which some engines
    treat as one shared entry that concurrent writes conflict on) and the sort maps
    `sa` / `sd`. `unset_fields` names the kinds to remove when replacing entries."""
    arrays: dict[str, list[dict[str, Any]]] = {f: [] for f in ALL_FIELDS}
    seen: dict[str, set[tuple[Any, ...]]] = {f: set() for f in ALL_FIELDS}
    asc: dict[str, Any] = {}
    desc: dict[str, Any] = {}
    for entry in index:
        field, element = _element(entry)
        key = tuple(sorted((k, repr(v)) for k, v in element.items()))
        if key in seen[field]:  # the SQLite engine's INSERT OR IGNORE: no duplicates
            continue
        seen[field].add(key)
        arrays[field].append(element)
        keys = _SORT_KEYS.get(field)
        if keys is not None:
            p = element["p"]
            low, high = element[keys[0]], element[keys[1]]
            asc[p] = low if p not in asc else min(asc[p], low)
            desc[p] = high if p not in desc else max(desc[p], high)
    return {**{f: a for f, a in arrays.items() if a}, "sa": asc, "sd": desc}


def unset_fields(fields: dict[str, Any]) -> dict[str, str]:
    """The `$unset` that removes the entry kinds `fields` does not have."""
    return {f: "" for f in ALL_FIELDS if f not in fields}


def _ix(*keys: tuple[str, int], name: str, **kw: Any) -> IndexModel:
    return IndexModel(list(keys), name=name, **kw)


A, D = ASCENDING, DESCENDING

# One index per kind, led by (type, parameter): every index costs each write one key per
# entry of that kind, so rarer forms (`system|`, `:exact`, absolute references, `gt` dates)
# scan the (type, parameter) range of their kind's index instead of having their own.
RESOURCE_INDEXES = [
    _ix(("t", A), ("i", A), name="type_id"),
    _ix(("t", A), ("lu", A), name="type_updated"),
    _ix(("t", A), ("tok.p", A), ("tok.c", A), ("tok.s", A), name="token"),
    _ix(("t", A), ("str.p", A), ("str.n", A), name="string"),
    _ix(("t", A), ("ref.p", A), ("ref.i", A), ("ref.t", A), name="reference"),
    _ix(("t", A), ("dt.p", A), ("dt.l", A), ("dt.h", A), name="date"),
    _ix(("t", A), ("num.p", A), ("num.l", A), name="number"),
    _ix(("t", A), ("qty.p", A), ("qty.l", A), name="quantity"),
    _ix(("t", A), ("uri.p", A), ("uri.u", A), name="uri"),
    _ix(("t", A), ("cmp.p", A), ("cmp.c", A), name="composite"),
]
HISTORY_INDEXES = [
    _ix(("q", D), name="seq"),  # unique by construction; a unique index would need the shard key
    _ix(("t", A), ("q", D), name="type_seq"),
    _ix(("t", A), ("i", A), ("q", D), name="resource_seq"),
]
