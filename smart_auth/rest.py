"""Which FHIR RESTful interaction an HTTP request is (for audit), from its method and path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

READ_LIKE = {"GET", "HEAD"}


def classify(
    method: str, path: str, base: str, body: Callable[[], Any] | None = None
) -> tuple[str, str | None]:
    """(interaction code, resource reference or None) for a request under the FHIR base path."""
    parts = [p for p in path[len(base) :].split("/") if p]
    if parts and parts[-1].startswith("$"):
        # only an instance-level operation has a resource to refer to (a bare type is no reference)
        return "operation", "/".join(parts[:-1]) if len(parts) == 3 else None
    if not parts:
        return _system(method, body)
    if "_history" in parts:
        return _history(parts)
    if parts[0].startswith("_"):
        return "search-system", None
    if len(parts) == 1:
        return _type_level(method, parts[0])
    if parts[1] == "_search":
        return "search-type", None
    ref = f"{parts[0]}/{parts[1]}"
    return {"GET": "read", "HEAD": "read", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
        method, "operation"
    ), ref


def _system(method: str, body: Callable[[], Any] | None) -> tuple[str, str | None]:
    if method in READ_LIKE:
        return "search-system", None
    bundle = body() if body else None
    kind = bundle.get("type") if isinstance(bundle, dict) else None
    return ("batch" if kind == "batch" else "transaction"), None


def _history(parts: list[str]) -> tuple[str, str | None]:
    index = parts.index("_history")
    if index == 0:
        return "history-system", None
    if index == 1:
        return "history-type", None
    ref = f"{parts[0]}/{parts[1]}"
    return ("vread", f"{ref}/_history/{parts[3]}") if len(parts) > index + 1 else ("history-instance", ref)


def _type_level(method: str, type_: str) -> tuple[str, str | None]:
    if method in READ_LIKE:
        return "search-type", None
    if method == "POST":
        return "create", None
    if method == "PUT":
        return "update", None  # conditional update
    if method == "DELETE":
        return "delete", None  # conditional delete
    return "patch", None
