"""What a conditional interaction depends on, as keys a write unit locks
(`StoreSession.lock`), so that two units never both act on a stale answer to "does a
match exist?" while units that cannot affect each other's answers share nothing.

- Criteria with an `identifier=system|value` parameter (one value, no modifier) can only
  match resources carrying that identifier: the unit locks `identifier|Type|system|value`.
  Conditional creates, updates, patches and deletes, and a transaction's conditional
  references, on one identifier serialise; on different identifiers they run at once.
- Any other criteria (a name, a birth date, several identifiers in one OR, `_id`, ...)
  could match anything of the type: the unit locks `type|Type`, and conditional
  interactions with such criteria serialise per type across the cluster.
- Once a unit has locked anything, every resource it stores locks the identifier keys it
  carries (also those stored before). Two units can only both act on stale answers if
  each stores what the other's criteria match; a resource matching identifier criteria
  carries that identifier, so the two lock at least one common key.

Plain creates, updates and deletes search nothing and lock nothing of this (updates and
deletes claim the resource they read). The e-prescription workflow does not use this:
it claims the patient whose items its rules read and the item it dispenses, and makes
ids, tracking codes and duplicates unique with the store's claims (`eprescription.claims`).
"""

from __future__ import annotations

import weakref
from typing import Any

from fhir_server.storage.base import StoreSession

Query = list[tuple[str, str]]

# Units that matched conditionally, and what the others stored so far (weakly: a unit's
# session object lives as long as the unit).
_MATCHED: weakref.WeakSet[Any] = weakref.WeakSet()
_STORED: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def criteria_key(type_: str, query: Query) -> str:
    """The one key the criteria depend on (see the module's description)."""
    for name, value in query:
        if name != "identifier" or "," in value or "\\" in value:
            continue
        system, bar, code = value.partition("|")
        if bar and system and code:
            return identifier_key(type_, system, code)
    return f"type|{type_}"


def identifier_key(type_: str, system: str, value: str) -> str:
    return f"identifier|{type_}|{system}|{value}"


def identifier_keys(resource: dict[str, Any]) -> list[str]:
    type_ = str(resource.get("resourceType"))
    return [
        identifier_key(type_, str(ident["system"]), str(ident["value"]))
        for ident in resource.get("identifier") or []
        if isinstance(ident, dict) and ident.get("system") and ident.get("value")
    ]


def before_match(s: StoreSession, type_: str, query: Query) -> None:
    """Lock what a conditional match depends on, and from now on what the unit stores."""
    if s not in _MATCHED:
        _MATCHED.add(s)
        for key in _STORED.pop(s, []):
            s.lock(key)
    s.lock(criteria_key(type_, query))


def after_store(s: StoreSession, resource: dict[str, Any]) -> None:
    """Lock the identifier keys of a stored resource when the unit matched conditionally;
    else remember them, in case it does later."""
    keys = identifier_keys(resource)
    if s in _MATCHED:
        for key in keys:
            s.lock(key)
    elif keys:
        _STORED.setdefault(s, []).extend(keys)
