"""R4 reference rules (references.html) for every Reference element, and contained ids.

- The literal reference is ``Type/id`` (optionally ``/_history/vid``), an absolute
  http(s) URL (whose target type counts when it ends in ``Type/id`` of a FHIR resource
  type), ``#id`` of a contained resource (ref-1 says it must exist), ``#`` from a
  contained resource to its container, or ``urn:uuid:``/``urn:oid:`` inside a Bundle,
  where entries' fullUrls resolve them.
- A conditional reference (``Practitioner?identifier=...``) is resolved only by a
  transaction; anywhere else it is refused, never stored.
- The target's type (from the reference, or from the contained resource it names) is one
  the element's targetProfile allows; ``Reference.type`` is a resource type the element
  allows, and agrees with the reference.
- Contained resources have ids, each one different.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from fhir_server import definitions
from fhir_server.outcome import Issue, error

from .invariants.scope import Scope
from .primitives import ID_RE, OID_RE, UUID_RE

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
_RELATIVE = re.compile(r"([A-Za-z]+)/([^/]*)(/_history/([^/]*))?")
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s]*)?")
_RESTFUL_TAIL = re.compile(r"/([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")
_CONDITIONAL = re.compile(r"([A-Za-z]+)\?(.*)", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


@dataclass(frozen=True, slots=True)
class ReferenceRule:
    """The rules for one Reference element, given the types its targetProfile allows."""

    targets: frozenset[str]  # resource types; "Resource" allows any

    def run(self, value: Any, path: str, type_path: str, scope: Scope, issues: list[Issue]) -> None:
        if type(value) is not dict:
            return
        ref, declared = value.get("reference"), value.get("type")
        target = None
        if type(ref) is str:
            try:
                target = _target_type(ref, scope)
            except _Refused as refused:
                issues.append(error("value", refused.message, f"{path}.reference"))
                return
            if target is not None and not self.allows(target):
                issues.append(error("invalid", self._not_allowed(target, "reference"), f"{path}.reference"))
                return
        if type(declared) is str:
            self._check_type(declared, target, path, issues)

    def allows(self, resource_type: str) -> bool:
        return "Resource" in self.targets or resource_type in self.targets

    def _check_type(self, declared: str, target: str | None, path: str, issues: list[Issue]) -> None:
        name = declared[len(CORE_SD) :] if declared.startswith(CORE_SD) else declared
        if ":" in name or "/" in name:
            return  # the absolute URL of a logical model: nothing to compare
        where = f"{path}.type"
        if name not in definitions.resource_types():
            issues.append(error("invalid", f"Reference.type '{name[:100]}' is not a resource type", where))
        elif target is not None and name != target:
            issues.append(
                error("invalid", f"Reference.type {name} disagrees with the reference to a {target}", where)
            )
        elif not self.allows(name):
            issues.append(error("invalid", self._not_allowed(name, "type"), where))

    def _not_allowed(self, target: str, what: str) -> str:
        allowed = ", ".join(sorted(self.targets))
        return f"This {what} points at a {target}; the element allows only {allowed}"


@functools.cache
def reference_rule(targets: tuple[str, ...]) -> ReferenceRule:
    return ReferenceRule(frozenset(targets or ("Resource",)))


def _target_type(ref: str, scope: Scope) -> str | None:
    """The resource type a literal reference points at (None when it cannot be told),
    or _Refused with the reason it is not a valid reference here."""
    if not ref:
        raise _Refused("An empty reference")
    if ref[0] == "#":
        return _local_target(ref, scope)
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        if not (UUID_RE.fullmatch(ref) or OID_RE.fullmatch(ref)):
            raise _Refused(f"'{ref[:100]}' is not a valid urn:uuid: or urn:oid: reference")
        if not scope.in_bundle:
            raise _Refused(f"{ref[:100]} can only be resolved inside a Bundle, by an entry's fullUrl")
        return None
    conditional = _CONDITIONAL.fullmatch(ref)
    if conditional is not None:
        if not scope.in_transaction:
            raise _Refused(
                f"The conditional reference {ref[:100]} is resolved only by a transaction: "
                "send it in a Bundle of type transaction, or refer to the resource's id"
            )
        return _known_type(conditional.group(1), ref)
    if _SCHEME.match(ref):
        return _absolute_target(ref)
    relative = _RELATIVE.fullmatch(ref)
    if relative is None:
        raise _Refused(f"'{ref[:100]}' is not a reference: expected Type/id, an absolute URL or #id")
    rtype, id_, _, version = relative.groups()
    _check_id(id_, ref)
    if version is not None:
        _check_id(version, ref)
    return _known_type(rtype, ref)


def _local_target(ref: str, scope: Scope) -> str | None:
    if ref == "#":
        root = scope.root
        return root.get("resourceType") if type(root) is dict and scope.root is not scope.resource else None
    for contained in (scope.root.get("contained") if type(scope.root) is dict else None) or []:
        if type(contained) is dict and contained.get("id") == ref[1:]:
            rtype = contained.get("resourceType")
            return rtype if type(rtype) is str else None
    return None  # ref-1 reports a local reference to nothing


def _absolute_target(ref: str) -> str | None:
    """An http(s) URL; its type when it ends like a RESTful FHIR URL ([base]/Type/id)."""
    if _URL.fullmatch(ref) is None:
        raise _Refused(f"'{ref[:100]}' is not a reference: an absolute one is an http(s) URL")
    match = _RESTFUL_TAIL.search(ref.split("?", 1)[0].split("#", 1)[0])
    if match is not None and match.group(1) in definitions.resource_types():
        return match.group(1)
    return None


def _check_id(id_: str, ref: str) -> None:
    if not id_:
        raise _Refused(f"'{ref[:100]}' has no id after the type")
    if ID_RE.fullmatch(id_) is None:
        raise _Refused(f"'{id_[:100]}' in '{ref[:100]}' is not a valid id ([A-Za-z0-9-.], 1-64)")


def _known_type(rtype: str, ref: str) -> str:
    if rtype not in definitions.resource_types():
        raise _Refused(f"'{ref[:100]}' names no resource type ('{rtype[:60]}')")
    return rtype


@dataclass(frozen=True, slots=True)
class ContainedIdsRule:
    """Contained resources have ids, each different (references.html#contained)."""

    def run(self, value: Any, path: str, type_path: str, scope: Scope, issues: list[Issue]) -> None:
        contained = value.get("contained") if type(value) is dict else None
        if type(contained) is not list:
            return
        seen: set[str] = set()
        for i, item in enumerate(contained):
            if type(item) is not dict:
                continue
            id_ = item.get("id")
            if type(id_) is not str:
                issues.append(error("required", "A contained resource needs an id", f"{path}.contained[{i}]"))
                continue
            if id_ in seen:
                issues.append(
                    error(
                        "invalid", f"Two contained resources have the id '{id_}'", f"{path}.contained[{i}].id"
                    )
                )
            seen.add(id_)


CONTAINED_IDS = ContainedIdsRule()
