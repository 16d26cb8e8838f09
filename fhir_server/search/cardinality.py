"""Whether a date parameter yields at most one entry per resource.

Then all AND-ed conditions on it must hold for that one entry, and a store may answer
`date=ge2026-03-01&date=lt2026-03-03` with a single index range scan.
"""

from __future__ import annotations

import functools
import re

from fhir_server import definitions
from fhir_server.search.registry import SearchParam, split_union

_AS = re.compile(r"^\((.+?) as (\w+)\)$|^(.+?)\.as\((\w+)\)$")
_SINGLE_LEAVES = frozenset({"date", "dateTime", "instant", "Period"})


def _path_and_types(branch: str) -> tuple[str, tuple[str, ...] | None]:
    m = _AS.match(branch.strip())
    if m:
        path, wanted = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return path, (wanted,)
    return branch.strip(), None


def _element_single(root: str, path: str) -> tuple[bool, tuple[str, ...]]:
    tree = definitions.element_tree(root)
    steps = path.split(".")
    if steps[0] != root or not all(s.isidentifier() for s in steps):
        return False, ()
    types: tuple[str, ...] = ()
    for i in range(2, len(steps) + 1):
        prefix = ".".join(steps[:i])
        element = tree.get(prefix) or tree.get(prefix + "[x]")
        if element is None or element.many:
            return False, ()
        types = tuple(element.choices.values()) if element.is_choice else element.types
    return True, types


@functools.cache
def _single(root: str, expression: str) -> bool:
    branches = split_union(expression)
    if len(branches) != 1:
        return False
    path, wanted = _path_and_types(branches[0])
    try:
        single, types = _element_single(root, path)
    except KeyError:
        return False
    leaves = set(wanted) if wanted else set(types)
    return single and bool(leaves) and leaves <= _SINGLE_LEAVES


def single_valued(param: SearchParam) -> bool:
    return (
        param.type == "date"
        and param.expression is not None
        and _single(param.resource_type, param.expression)
    )
