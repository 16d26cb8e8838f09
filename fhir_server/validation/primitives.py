"""Checks of FHIR R4 primitive values in JSON form (http://hl7.org/fhir/R4/datatypes.html).

Each checker takes the JSON value and returns None when valid, or (issue code, message).
Wrong JSON types give ``structure``; bad lexical forms give ``value``; strings over the
size limit give ``too-long``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import partial

Problem = tuple[str, str] | None
Checker = Callable[[object], Problem]

MAX_STRING_CHARS = 1024 * 1024  # a server limit; the spec only says strings SHOULD be < 1 MB
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"

DATE_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
DATETIME_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_TZ})?)?)?")
INSTANT_RE = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_TZ}")
TIME_RE = re.compile(_TIME)
ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# ASCII whitespace only, as in the reference (Java) validator
CODE_RE = re.compile(r"[^\s]+(\s[^\s]+)*", re.ASCII)
URI_RE = re.compile(r"\S*", re.ASCII)
OID_RE = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BASE64_RE = re.compile(r"[A-Za-z0-9+/=\s]+")
# R4 strings: no code points below U+0020 but tab, LF and CR (datatypes.html#string)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# bidirectional overrides and isolates, refused in identifiers and codes: they make a
# code or an identifier display as something else (Trojan Source, CVE-2021-42574)
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_NO_BIDI_KINDS = frozenset({"code", "id", "uri", "url", "canonical", "oid", "uuid", "identifier"})
# the root is a div (not <divx>), whole: nothing before its start tag or after its end tag
_DIV_RE = re.compile(r"<div(\s[^<>]*)?(/>|>.*</div\s*>)", re.DOTALL)

_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _calendar_ok(value: str) -> bool:
    """Day exists in its month (regexes allow 2023-02-31); assumes the regex matched."""
    if len(value) < 10:
        return True
    year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= _DAYS_IN_MONTH[month]


def _string_problem(value: object, kind: str) -> tuple[str, str]:
    """Why a checker refused a value before reading it: not a string, empty, or too long."""
    if type(value) is not str:
        return ("structure", f"Expected a JSON string for {kind}, found {_json_type(value)}")
    if not value:
        return ("value", f"Empty string is not a valid {kind}")
    return ("too-long", f"{kind} longer than {MAX_STRING_CHARS} characters")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# The checkers are partials of plain functions rather than closures, so the code that runs
# on every value is a module-level function (what mutation testing can reach; see Makefile).
def _pattern(kind: str, regex: re.Pattern[str], calendar: bool = False, limit: bool = True) -> Checker:
    return partial(_check_pattern, kind, regex.fullmatch, calendar, limit)


def _check_pattern(
    kind: str, fullmatch: Callable[[str], object], calendar: bool, limit: bool, value: object
) -> Problem:
    if type(value) is not str or not value or (limit and len(value) > MAX_STRING_CHARS):
        return _string_problem(value, kind)
    if fullmatch(value) is None or (calendar and not _calendar_ok(value)):
        return ("value", f"Not a valid {kind}: {value[:100]!r}")
    return _text_problem(kind, value)


def _plain(kind: str) -> Checker:
    return partial(_check_plain, kind)


def _check_plain(kind: str, value: object) -> Problem:
    if type(value) is not str or not value or len(value) > MAX_STRING_CHARS:
        return _string_problem(value, kind)
    return _text_problem(kind, value)


def _text_problem(kind: str, value: str) -> Problem:
    """R4 string rules every string-based primitive keeps: no control characters but
    tab, LF and CR; no bidirectional overrides in identifiers and codes."""
    if value.isascii() and value.isprintable():
        return None  # the common case, at C speed: neither control nor bidi characters
    control = _CONTROL_RE.search(value)
    if control is not None:
        return ("value", f"{kind} contains the control character U+{ord(control.group()):04X}")
    if kind in _NO_BIDI_KINDS:
        bidi = _BIDI_RE.search(value)
        if bidi is not None:
            return ("value", f"{kind} contains the bidirectional control character U+{ord(bidi.group()):04X}")
    return None


def check_boolean(value: object) -> Problem:
    if type(value) is not bool:
        return ("structure", f"Expected a JSON boolean, found {_json_type(value)}")
    return None


def check_decimal(value: object) -> Problem:
    if type(value) is int:
        return None
    if type(value) is not float:
        return ("structure", f"Expected a JSON number for decimal, found {_json_type(value)}")
    if not math.isfinite(value):
        return ("value", "decimal must be a finite number")
    return None


def _integer(kind: str, low: int) -> Checker:
    return partial(_check_integer, kind, low)


def _check_integer(kind: str, low: int, value: object) -> Problem:
    if type(value) is not int:
        if type(value) is float and value.is_integer():
            # JSON "1.0" - FHIR integers are written without a fraction part
            return ("value", f"{kind} must be written without a fraction: {value}")
        return ("structure", f"Expected a JSON integer for {kind}, found {_json_type(value)}")
    if value < low or value > INT32_MAX:
        return ("value", f"{kind} out of range [{low}, {INT32_MAX}]: {value}")
    return None


def check_xhtml(value: object) -> Problem:
    if type(value) is not str or not value:  # no size limit: narratives may be large
        return _string_problem(value, "xhtml")
    if _DIV_RE.fullmatch(value.strip()) is None:
        return ("value", "Narrative.div must be an XHTML <div> element")
    return _text_problem("xhtml", value)


CHECKERS: dict[str, Checker] = {
    "boolean": check_boolean,
    "decimal": check_decimal,
    "integer": _integer("integer", INT32_MIN),
    "unsignedInt": _integer("unsignedInt", 0),
    "positiveInt": _integer("positiveInt", 1),
    "string": _plain("string"),
    "markdown": _plain("markdown"),
    "id": _pattern("id", ID_RE),
    "code": _pattern("code", CODE_RE),
    "uri": _pattern("uri", URI_RE),
    "url": _pattern("url", URI_RE),
    "canonical": _pattern("canonical", URI_RE),
    "oid": _pattern("oid", OID_RE),
    "uuid": _pattern("uuid", UUID_RE),
    "base64Binary": _pattern("base64Binary", BASE64_RE, limit=False),
    "date": _pattern("date", DATE_RE, calendar=True),
    "dateTime": _pattern("dateTime", DATETIME_RE, calendar=True),
    "instant": _pattern("instant", INSTANT_RE, calendar=True),
    "time": _pattern("time", TIME_RE),
    "xhtml": check_xhtml,
}


# Identifier.value: a string under the identifier rules (no bidirectional overrides)
IDENTIFIER_VALUE: Checker = _plain("identifier")


def json_type(value: object) -> str:
    """Name of a JSON value's type, for messages."""
    return _json_type(value)
