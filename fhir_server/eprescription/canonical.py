"""RFC 8785 (JCS) canonical JSON for the values FHIR resources hold.

Keys sorted by UTF-16 code units, no whitespace, strings as JSON with only the required
escapes, numbers in their shortest form (integral floats without a fraction).
"""

from __future__ import annotations

import json
import math
from typing import Any


def canonical(value: Any) -> bytes:
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: str(k).encode("utf-16-be"))
        return "{" + ",".join(f"{_string(str(k))}:{_encode(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, str):
        return _string(value)
    if value is True or value is False or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError("JSON has no NaN or infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)
