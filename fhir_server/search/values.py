"""Parsing one search value of each parameter type into plan predicates."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from fhir_server.outcome import FhirError
from fhir_server.search.dates import date_range
from fhir_server.search.normalize import normalize
from fhir_server.search.plan import RangePred, RefPred, StringPred, TokenPred, UriPred

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_SPLIT_COMMA = re.compile(r"(?<!\\),")


def split_or(value: str) -> list[str]:
    """Split a query value on unescaped commas (OR); escapes are kept for the next step."""
    return _SPLIT_COMMA.split(value)


def split_unescaped(value: str, sep: str) -> list[str]:
    return re.split(rf"(?<!\\){re.escape(sep)}", value)


def unescape(value: str) -> str:
    return re.sub(r"\\([,|$\\])", r"\1", value)


def bad(name: str, value: str, why: str) -> FhirError:
    return FhirError.of(400, "invalid", f"Invalid value '{value}' for search parameter '{name}': {why}", name)


def split_prefix(value: str) -> tuple[str, str]:
    if len(value) > 2 and value[:2] in PREFIXES and not value[2].isalpha():
        return value[:2], value[2:]
    return "eq", value


def token_pred(name: str, value: str) -> TokenPred:
    parts = split_unescaped(value, "|")
    if len(parts) == 1:
        return TokenPred(None, unescape(parts[0]) or None)
    if len(parts) > 2:
        raise bad(name, value, "more than one '|'")
    system, code = unescape(parts[0]), unescape(parts[1])
    if not system and not code:
        raise bad(name, value, "empty system and code")
    if not system:
        return TokenPred(None, code, no_system=True)
    return TokenPred(system, code or None)


def of_type_pred(name: str, value: str) -> TokenPred:
    parts = split_unescaped(value, "|")
    if len(parts) != 3 or not all(parts):
        raise bad(name, value, ":of-type needs system|code|value")
    return TokenPred(unescape(parts[0]), f"{unescape(parts[1])}|{unescape(parts[2])}")


def string_pred(value: str, mode: str) -> StringPred:
    text = unescape(value)
    return StringPred(text if mode == "exact" else normalize(text), mode)


_REF_REL = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_REF_ABS_TAIL = re.compile(r"/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def reference_pred(name: str, value: str, targets: tuple[str, ...]) -> RefPred:
    """`id` (any of `targets`), `Type/id`, or an absolute / canonical URL."""
    text = unescape(value)
    m = _REF_REL.match(text)
    if m:
        if targets and m.group(1) not in targets:
            raise bad(name, value, f"{m.group(1)} is not a target of this parameter")
        return RefPred((m.group(1),), m.group(2), None)
    if re.match(r"^[A-Za-z0-9\-.]{1,64}$", text):
        return RefPred(targets, text, None)
    if re.match(r"^(https?|urn):", text):
        return RefPred((), None, text.split("|", 1)[0])
    raise bad(name, value, "not an id, Type/id or absolute URL")


def date_pred(name: str, value: str) -> RangePred:
    prefix, text = split_prefix(value)
    rng = date_range(text)
    if rng is None:
        raise bad(name, value, "not a FHIR date, dateTime or instant")
    return RangePred(prefix, rng[0], rng[1])


def _number(name: str, raw: str, text: str) -> tuple[float, float]:
    """The implicit range of a number given with its precision (100 -> [99.5, 100.5))."""
    try:
        dec = Decimal(text)
    except InvalidOperation as exc:
        raise bad(name, raw, "not a number") from exc
    if not dec.is_finite():
        raise bad(name, raw, "not a finite number")
    exponent = dec.as_tuple().exponent
    half = Decimal(5).scaleb(int(exponent) - 1) if isinstance(exponent, int) else Decimal(0)
    return float(dec - half), float(dec + half)


def number_pred(name: str, value: str) -> RangePred:
    prefix, text = split_prefix(value)
    low, high = _number(name, value, text)
    exact = float(Decimal(text))
    if prefix in ("eq", "ne", "ap"):
        return RangePred(prefix, low, high)
    return RangePred(prefix, exact, exact)


def quantity_pred(name: str, value: str) -> RangePred:
    parts = split_unescaped(value, "|")
    if len(parts) not in (1, 3):
        raise bad(name, value, "expected number or number|system|code")
    base = number_pred(name, parts[0])
    system = unescape(parts[1]) or None if len(parts) == 3 else None
    code = unescape(parts[2]) or None if len(parts) == 3 else None
    return RangePred(base.prefix, base.low, base.high, system, code)


def uri_pred(name: str, value: str, mode: str) -> UriPred:
    text = unescape(value)
    if not text:
        raise bad(name, value, "empty uri")
    if mode != "above":
        return UriPred((text,), mode)
    prefixes = []
    cut = text
    while "/" in cut:
        prefixes.append(cut)
        cut = cut.rsplit("/", 1)[0]
        if cut.endswith(":/") or cut.endswith(":"):
            break
    return UriPred(tuple(prefixes) or (text,), "above")
