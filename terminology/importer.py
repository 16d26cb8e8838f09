"""Registry sync: plan the new versions to store for incoming terminology resources.

``plan_import(incoming, current)`` is pure: it takes the parsed resources and a function
giving the latest stored version of a url, and returns what to write. Rules:

- a url not stored yet: the resource is written as given;
- the same url and version as stored: nothing changes when the content is the same
  (re-importing is a no-op); different content under the same version is refused;
- a new version of a CodeSystem: concepts of the stored version that the new one lacks
  are carried over as inactive (``inactive`` = true), never deleted, so resources citing
  an older version stay valid; the older version itself stays stored under its own id;
- ValueSets and ConceptMaps: the new version is written as given.

New versions get the id ``<name or id>-<version>`` (FHIR id characters), so every
version is its own resource and ``url|version`` keeps resolving.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .csv_source import code_system_from_csv
from .service import KINDS, TerminologyError

Current = Callable[[str, str], dict[str, Any] | None]  # (resourceType, url) -> latest stored
Progress = Callable[[int, int], None]
IGNORED = frozenset({"id", "meta", "text", "date", "count"})
INACTIVE = {"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean"}


@dataclass
class ImportPlan:
    writes: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # url|version already stored as is
    deactivated: dict[str, list[str]] = field(default_factory=dict)  # url|version -> codes made inactive

    def summary(self) -> str:
        lines = [f"new: {r['resourceType']} {r['url']}|{r.get('version', '')}" for r in self.writes]
        lines += [f"unchanged: {u}" for u in self.unchanged]
        lines += [f"inactive in {k}: {len(v)} concept(s)" for k, v in self.deactivated.items() if v]
        return "\n".join(lines) or "nothing to import"


def read_file(path: Path) -> list[dict[str, Any]]:
    """Parse a terminology file: FHIR JSON (one resource or a Bundle) or CSV (see csv_source)."""
    data = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        return [code_system_from_csv(data)]
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise TerminologyError("invalid", f"{path.name} is not JSON or CSV: {exc}") from exc
    return parse_resources(parsed)


def parse_resources(parsed: Any) -> list[dict[str, Any]]:
    """The terminology resources of a resource or a Bundle; anything else is refused."""
    if isinstance(parsed, dict) and parsed.get("resourceType") == "Bundle":
        items = [e.get("resource") for e in parsed.get("entry") or [] if isinstance(e, dict)]
    else:
        items = [parsed]
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("resourceType") not in KINDS:
            kind = item.get("resourceType") if isinstance(item, dict) else type(item).__name__
            raise TerminologyError(
                "invalid", f"Only CodeSystem, ValueSet and ConceptMap can be imported, not {kind}"
            )
        if not isinstance(item.get("url"), str) or not isinstance(item.get("version"), str):
            raise TerminologyError(
                "invalid", f"Each imported {item['resourceType']} needs a url and a version"
            )
        out.append(item)
    return out


def plan_import(
    incoming: Iterable[dict[str, Any]], current: Current, progress: Progress | None = None
) -> ImportPlan:
    items = list(incoming)
    plan = ImportPlan()
    for n, res in enumerate(items, start=1):
        kind, url, version = res["resourceType"], res["url"], res["version"]
        stored = current(kind, url)
        if stored is not None and stored.get("version") == version:
            if not _same_import(stored, res):
                raise TerminologyError(
                    "conflict",
                    f"{kind} {url}|{version} is already stored with different content; "
                    "give the new content a new version",
                    409,
                )
            plan.unchanged.append(f"{url}|{version}")
        else:
            new = dict(res)
            new["id"] = version_id(res)
            new.pop("meta", None)
            if kind == "CodeSystem" and stored is not None:
                gone = _carry_over_inactive(new, stored)
                plan.deactivated[f"{url}|{version}"] = gone
            plan.writes.append(new)
        if progress is not None:
            progress(n, len(items))
    return plan


def version_id(res: dict[str, Any]) -> str:
    base = res.get("name") or res.get("id") or res["url"].rstrip("/").rsplit("/", 1)[-1]
    raw = f"{base}-{res['version']}"
    return re.sub(r"[^A-Za-z0-9\-.]", "-", raw)[:64]


def _content(res: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in res.items() if k not in IGNORED}


def _same_import(stored: dict[str, Any], incoming: dict[str, Any]) -> bool:
    """Is ``stored`` what importing ``incoming`` produced? The same content, except that a
    stored CodeSystem may also hold the inactive concepts carried over from older versions."""
    if incoming["resourceType"] != "CodeSystem":
        return _content(stored) == _content(incoming)
    head = {k: v for k, v in _content(stored).items() if k not in ("concept", "property")}
    if head != {k: v for k, v in _content(incoming).items() if k not in ("concept", "property")}:
        return False
    old, new = _codes(stored.get("concept") or []), _codes(incoming.get("concept") or [])
    if any(old.get(code) != c for code, c in new.items()):
        return False
    return all(_inactive(old[code]) for code in old if code not in new)


def _inactive(concept: dict[str, Any]) -> bool:
    return any(
        p.get("code") == "inactive" and p.get("valueBoolean") is True for p in concept.get("property") or []
    )


def _codes(concepts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for c in concepts:
        out[c["code"]] = c
        out.update(_codes(c.get("concept") or []))
    return out


def _carry_over_inactive(new: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Append the stored concepts the new version lacks, marked inactive; returns their codes
    (only those that were active before: concepts already inactive are carried silently)."""
    present = _codes(new.get("concept") or [])
    old = _codes(stored.get("concept") or [])
    missing = [code for code in old if code not in present]
    if not missing:
        return []
    concepts = list(new.get("concept") or [])
    newly = []
    for code in missing:
        c = {k: v for k, v in old[code].items() if k != "concept"}
        props = [p for p in c.get("property") or [] if p.get("code") != "inactive"]
        was_inactive = any(
            p.get("code") == "inactive" and p.get("valueBoolean") is True
            for p in old[code].get("property") or []
        )
        c["property"] = [*props, {"code": "inactive", "valueBoolean": True}]
        concepts.append(c)
        if not was_inactive:
            newly.append(code)
    new["concept"] = concepts
    declared = list(new.get("property") or [])
    if not any(p.get("code") == "inactive" for p in declared):
        new["property"] = [*declared, INACTIVE]
    if "count" in new:
        new["count"] = len(_codes(concepts))
    return newly
