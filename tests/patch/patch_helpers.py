"""Building FHIRPath Patch Parameters in tests."""

from __future__ import annotations

from typing import Any


def op(kind: str, path: str, **parts: Any) -> dict[str, Any]:
    """One `operation` parameter. `value=("Date", "1930-01-01")` becomes valueDate; a list of
    parts stays parts; integers become valueInteger; name becomes valueString."""
    out: list[dict[str, Any]] = [
        {"name": "type", "valueCode": kind},
        {"name": "path", "valueString": path},
    ]
    for name, given in parts.items():
        if name == "name":
            out.append({"name": "name", "valueString": given})
        elif isinstance(given, int):
            out.append({"name": name, "valueInteger": given})
        elif isinstance(given, tuple):
            out.append({"name": name, f"value{given[0]}": given[1]})
        else:
            out.append({"name": name, "part": given})
    return {"name": "operation", "part": out}


def params(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(operations)}
