"""Server-owned parts of a resource: id, meta.versionId, meta.lastUpdated."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def now_instant() -> str:
    """The current time as a FHIR instant in UTC with milliseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


def stamp(resource: dict[str, Any], id_: str, version: int, last_updated: str) -> dict[str, Any]:
    """A copy of `resource` with the server's id and meta, resourceType/id/meta first."""
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = str(version)
    meta["lastUpdated"] = last_updated
    rest = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": resource["resourceType"], "id": id_, "meta": meta, **rest}


def etag(version: int) -> str:
    return f'W/"{version}"'


def parse_etag(value: str) -> int | None:
    """The version in `W/"3"` (or `"3"`, or `3`); None if it is not one."""
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    return int(text) if text.isdigit() else None
