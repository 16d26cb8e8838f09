"""FHIRPath functions fhirpathpy 2.2.4 lacks, for its user invocation table.

fhirpathpy hands these functions the input collection as plain data (JSON values, no
type information), so primitive types are recognised by their JSON shape. The
functions that need the resource being validated (``resolve()``) read it from
``SCOPE``, set by the engine around each evaluation.

- ``hasValue()``: one primitive with a value (FHIR's ele-1 uses it on every element)
- ``htmlChecks()``: the R4 narrative rules (validation.narrative)
- ``resolve()``: ``#id`` and ``#`` inside the resource; other references cannot be read
  by a validator (it sees no store) and give an empty result
- ``conformsTo(url)``: core StructureDefinitions by resource type; this server's own
  profiles by profile validation
- ``memberOf(valueset)``: through the terminology service
- ``lowBoundary([precision])``, ``highBoundary([precision])``: decimals, dates,
  dateTimes and times (FHIRPath 3.0)
- ``getValue()``, ``comparable(quantity)``, ``lastIndexOf(substring)``
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.engine.util import get_data

import terminology
from fhir_server import definitions
from fhir_server.validation.narrative import check_div

from .scope import SCOPE
from .temporal import looks_temporal
from .ucum import in_common_units

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"


def has_value(inputs: list[Any]) -> bool:
    return len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], (dict, list))


def html_checks(inputs: list[Any]) -> bool:
    if len(inputs) != 1 or not isinstance(inputs[0], str):
        return False
    problems = check_div(inputs[0])
    return problems.markup is None and not problems.empty


def resolve(inputs: list[Any]) -> list[Any]:
    scope = SCOPE.get()
    out: list[Any] = []
    for item in inputs:
        ref = item.get("reference") if isinstance(item, dict) else item
        if scope is None or not isinstance(ref, str) or not ref.startswith("#"):
            continue
        if ref == "#":
            out.append(ResourceNode.create_node(scope.root))
            continue
        for contained in (scope.root or {}).get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") == ref[1:]:
                out.append(ResourceNode.create_node(contained))
    return out


def conforms_to(inputs: list[Any], url: str) -> bool | list[Any]:
    if len(inputs) != 1 or not isinstance(inputs[0], dict):
        return []
    item = inputs[0]
    canonical = url.split("|", 1)[0]
    if canonical.startswith(CORE_SD):
        name = canonical[len(CORE_SD) :]
        if name in definitions.resource_types():
            return item.get("resourceType") == name
    from fhir_server.validation.profiles import structure_definitions, validate_against

    if canonical not in structure_definitions():
        raise ValueError(f"conformsTo: the profile {canonical} is not known here")
    return not any(i.severity in ("error", "fatal") for i in validate_against(item, canonical))


def member_of(inputs: list[Any], valueset: str) -> bool | list[Any]:
    if len(inputs) != 1:
        return []
    answers = [terminology.default_service().member(valueset, s, c) for s, c in _codings(inputs[0])]
    if any(a is True for a in answers):
        return True
    return False if answers and all(a is False for a in answers) else []


def _codings(value: Any) -> list[tuple[str | None, str]]:
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    codings = value.get("coding") if "coding" in value else [value]
    return [
        (c.get("system"), c["code"])
        for c in codings or []
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]


def get_value(inputs: list[Any]) -> list[Any]:
    return inputs if has_value(inputs) else []


def last_index_of(inputs: list[Any], substring: str) -> list[Any] | int:
    if len(inputs) != 1 or not isinstance(inputs[0], str):
        return []
    return inputs[0].rfind(substring)


def comparable(inputs: list[Any], other: Any) -> bool | list[Any]:
    """Quantities whose units convert into one another (ucum.py's table)."""
    others = other if isinstance(other, list) else [other]
    if len(inputs) != 1 or len(others) != 1:
        return []
    a, b = (get_data(x) for x in (inputs[0], others[0]))
    if not isinstance(a, dict) or not isinstance(b, dict):
        return []
    probe_a, probe_b = {**a, "value": 1}, {**b, "value": 1}
    return in_common_units(probe_a, probe_b) is not None


_TIME = re.compile(r"([0-9]{2})(:[0-9]{2})?(:[0-9]{2})?(\.[0-9]+)?")


def low_boundary(inputs: list[Any], precision: int | None = None) -> list[Any]:
    return _boundary(inputs, precision, low=True)


def high_boundary(inputs: list[Any], precision: int | None = None) -> list[Any]:
    return _boundary(inputs, precision, low=False)


def _boundary(inputs: list[Any], precision: int | None, *, low: bool) -> list[Any]:
    if len(inputs) != 1:
        return []
    value = inputs[0]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return [_decimal_boundary(Decimal(str(value)), precision, low)]
    if isinstance(value, str) and looks_temporal(value):
        return _date_boundary(value, precision, low)
    if isinstance(value, str) and _TIME.fullmatch(value):
        return _time_boundary(value, precision, low)
    return []


def _decimal_boundary(value: Decimal, precision: int | None, low: bool) -> Decimal:
    """1.587 -> 1.5865 / 1.5875: half a unit of the last written digit either way."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    half = Decimal(5).scaleb(-(places + 1))
    bound = value - half if low else value + half
    digits = 8 if precision is None else precision
    if digits < 0 or digits > 31:
        return bound
    quantum = Decimal(1).scaleb(-digits)
    return bound.quantize(quantum, rounding=ROUND_FLOOR if low else ROUND_CEILING)


_DATE_FILL_LOW = "0001-01-01T00:00:00.000"
_DATE_FILL_HIGH = "9999-12-31T23:59:59.999"
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _date_boundary(value: str, precision: int | None, low: bool) -> list[Any]:
    """@2014.lowBoundary(6) = 2014-01; a dateTime fills to milliseconds with the widest
    time zone (+14:00 low, -12:00 high) when it has none."""
    date_part, _, time_part = value.partition("T")
    is_datetime = bool(time_part) or (precision is not None and precision > 8)
    digits = precision if precision is not None else (17 if is_datetime else 8)
    # digits: 4 year, 6 month, 8 day, 10 hour, 12 minute, 14 second, 17 millisecond
    lengths = {4: 4, 6: 7, 8: 10, 10: 13, 12: 16, 14: 19, 17: 23}
    if digits not in lengths:
        return []
    tz = ""
    body = date_part + ("T" + time_part if time_part else "")
    match = re.search(r"(Z|[+-][0-9]{2}:[0-9]{2})$", body) if time_part else None
    if match:
        tz, body = match.group(1), body[: match.start()]
    fill = _DATE_FILL_LOW if low else _DATE_FILL_HIGH
    if not low and len(body) == 7:  # the last day of the given month
        month = int(body[5:7])
        year = int(body[0:4])
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        last = _DAYS[month - 1] - (1 if month == 2 and not leap else 0)
        fill = fill[:8] + f"{last:02d}" + fill[10:]
    full = body + fill[len(body) :]
    result = full[: lengths[digits]]
    if digits > 8:
        result += tz or ("+14:00" if low else "-12:00")
    return [result]


def _time_boundary(value: str, precision: int | None, low: bool) -> list[Any]:
    digits = 9 if precision is None else precision
    lengths = {2: 2, 4: 5, 6: 8, 9: 12}
    if digits not in lengths:
        return []
    fill = "00:00:00.000" if low else "23:59:59.999"
    return [(value + fill[len(value) :])[: lengths[digits]]]


# fhirpathpy's user invocation table: name -> function and accepted arities
USER_FUNCTIONS: dict[str, dict[str, Any]] = {
    "hasValue": {"fn": has_value},
    "htmlChecks": {"fn": html_checks},
    "resolve": {"fn": resolve},
    "getValue": {"fn": get_value},
    "conformsTo": {"fn": conforms_to, "arity": {1: ["String"]}},
    "memberOf": {"fn": member_of, "arity": {1: ["String"]}},
    "lastIndexOf": {"fn": last_index_of, "arity": {1: ["String"]}},
    "comparable": {"fn": comparable, "arity": {1: ["Any"]}},
    "lowBoundary": {"fn": low_boundary, "arity": {0: [], 1: ["Integer"]}},
    "highBoundary": {"fn": high_boundary, "arity": {0: [], 1: ["Integer"]}},
}
