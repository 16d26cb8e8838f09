"""Exact boundaries of the R4 primitive types: the first and last valid value and the
first invalid one on each side (http://hl7.org/fhir/R4/datatypes.html).

Each case names the expected answer: None (valid) or the issue code the checker gives.
"""

from __future__ import annotations

import pytest

from fhir_server.validation import validate_resource
from fhir_server.validation.primitives import CHECKERS, json_type

MIB = 1024 * 1024


def verdict(kind: str, value: object) -> str | None:
    problem = CHECKERS[kind](value)
    return None if problem is None else problem[0]


def cases(kind: str, table: list[tuple[object, str | None]]) -> list[tuple[str, object, str | None]]:
    return [(kind, value, expected) for value, expected in table]


YEARS = [
    ("0000", "value"),  # there is no year zero
    ("0001", None),
    ("9999", None),
    ("10000", "value"),
    ("999", "value"),
]

DATES = [
    *YEARS,
    ("2024-01", None),
    ("2024-00", "value"),
    ("2024-12", None),
    ("2024-13", "value"),
    ("2024-01-01", None),
    ("2024-01-00", "value"),
    ("2024-01-31", None),
    ("2024-01-32", "value"),
    ("2024-04-30", None),
    ("2024-04-31", "value"),  # 30-day months
    ("2024-06-31", "value"),
    ("2024-09-31", "value"),
    ("2024-11-31", "value"),
    ("2024-12-31", None),
    ("2023-02-28", None),
    ("2023-02-29", "value"),
    ("2024-02-29", None),  # divisible by 4
    ("2024-02-30", "value"),
    ("1900-02-29", "value"),  # divisible by 100, not by 400
    ("2000-02-29", None),  # divisible by 400
    ("1600-02-29", None),
    ("1700-02-29", "value"),
    ("2100-02-29", "value"),
    ("0004-02-29", None),
    ("0001-01-01", None),
    ("9999-12-31", None),
    ("2024-1-05", "value"),
    ("2024-11-05 ", "value"),
]

# The R4 time grammar: hours 00-23, minutes 00-59, seconds 00-60 (a leap second).
TIMES = [
    ("00:00:00", None),
    ("23:59:59", None),
    ("23:59:60", None),
    ("24:00:00", "value"),
    ("23:60:00", "value"),
    ("23:59:61", "value"),
    ("12:00", "value"),
    ("12:00:00.123456", None),
    ("12:00:00.", "value"),
]

ZONES = [
    ("Z", None),
    ("+00:00", None),
    ("-00:00", None),
    ("+13:59", None),
    ("+14:00", None),
    ("-14:00", None),
    ("+14:01", "value"),
    ("-14:01", "value"),
    ("+15:00", "value"),
    ("+03:60", "value"),
    ("+0330", "value"),
    ("z", "value"),
    ("", "value"),  # a time needs a zone
]


def _datetimes() -> list[tuple[object, str | None]]:
    table: list[tuple[object, str | None]] = []
    for clock, expected in TIMES:
        table.append((f"2024-11-05T{clock}Z", expected))
    for zone, expected in ZONES:
        table.append((f"2024-11-05T10:00:00{zone}", expected))
    for day, expected in (
        ("2023-02-29", "value"),  # calendar-invalid days with a time
        ("2023-02-30", "value"),
        ("2024-04-31", "value"),
        ("1900-02-29", "value"),
        ("2100-02-29", "value"),
        ("2000-02-29", None),
        ("2024-02-29", None),
        ("0001-01-01", None),
        ("9999-12-31", None),
        ("0000-01-01", "value"),
    ):
        table.append((f"{day}T23:59:59.999+14:00", expected))
    return table


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        *cases("date", DATES),
        *cases("date", [("2024-11-05T10:00:00Z", "value")]),  # a date has no time
        *cases("dateTime", DATES),
        *cases("dateTime", _datetimes()),
        *cases("dateTime", [("2024-11-05T10:00:00", "value"), ("2024-11-05T10:00Z", "value")]),
        *cases("instant", _datetimes()),
        *cases("instant", [("2024-11-05", "value"), ("2024-11", "value"), ("2024", "value")]),
        *cases("time", TIMES),
        *cases("time", [("10:00:00Z", "value")]),  # a time of day has no zone
    ],
)
def test_date_and_time_boundaries(kind: str, value: str, expected: str | None) -> None:
    assert verdict(kind, value) == expected, (kind, value)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("integer", -(2**31), None),
        ("integer", -(2**31) - 1, "value"),
        ("integer", 2**31 - 1, None),
        ("integer", 2**31, "value"),
        ("integer", 0, None),
        ("unsignedInt", 0, None),
        ("unsignedInt", -1, "value"),
        ("unsignedInt", 2**31 - 1, None),
        ("unsignedInt", 2**31, "value"),
        ("positiveInt", 1, None),
        ("positiveInt", 0, "value"),
        ("positiveInt", -1, "value"),
        ("positiveInt", 2**31 - 1, None),
        ("positiveInt", 2**31, "value"),
        # JSON 1.0 is a number with a fraction part: the right type, the wrong form
        ("integer", 1.0, "value"),
        ("unsignedInt", 0.0, "value"),
        ("positiveInt", 2.0, "value"),
        ("integer", 1.5, "structure"),
        ("integer", "1", "structure"),
        ("integer", True, "structure"),  # JSON true is not the number 1
        ("integer", None, "structure"),
        ("positiveInt", False, "structure"),
    ],
)
def test_integer_boundaries(kind: str, value: object, expected: str | None) -> None:
    assert verdict(kind, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, None),
        (-0.0, None),
        (1, None),
        (1.5, None),
        (-1.5e-10, None),
        (1e300, None),
        (2**63, None),  # decimals are not bounded like integers
        (float("inf"), "value"),
        (float("-inf"), "value"),
        (float("nan"), "value"),
        ("1.5", "structure"),
        (True, "structure"),
        (None, "structure"),
        ([1], "structure"),
    ],
)
def test_decimal_forms(value: object, expected: str | None) -> None:
    assert verdict("decimal", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, None),
        (False, None),
        (1, "structure"),
        (0, "structure"),
        ("true", "structure"),
        (None, "structure"),
    ],
)
def test_boolean_is_only_json_true_or_false(value: object, expected: str | None) -> None:
    assert verdict("boolean", value) == expected


@pytest.mark.parametrize("kind", ["string", "markdown", "id", "code", "uri", "url", "canonical"])
def test_one_mebibyte_string_limit(kind: str) -> None:
    fill = "a" if kind != "uri" else "u"
    if kind == "id":
        # an id is 1-64 characters; the size limit is checked first and says so
        assert verdict(kind, "a" * (MIB + 1)) == "too-long"
        return
    assert verdict(kind, fill * MIB) is None
    assert verdict(kind, fill * (MIB + 1)) == "too-long"
    assert verdict(kind, "") == "value"
    assert verdict(kind, 5) == "structure"


def test_exactly_a_mebibyte_is_still_read() -> None:
    # the size check lets it through; the checks of its text still apply
    assert verdict("code", "a  " + "b" * (MIB - 3)) == "value"
    assert verdict("string", "\x01" + "a" * (MIB - 1)) == "value"
    assert verdict("markdown", "a" * (MIB - 1) + "\x1b") == "value"


def test_limit_counts_characters_not_bytes() -> None:
    # "ی" is two bytes in UTF-8: a mebibyte of characters is allowed, one more is not
    assert verdict("string", "ی" * MIB) is None
    assert verdict("string", "ی" * (MIB + 1)) == "too-long"


def test_base64_and_xhtml_are_not_limited_to_a_mebibyte() -> None:
    assert verdict("base64Binary", "QUJD" * (MIB // 2)) is None
    assert verdict("xhtml", "<div>" + "x" * (MIB + 1) + "</div>") is None


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("id", "a" * 64, None),
        ("id", "a" * 65, "value"),
        ("id", "A-1.b", None),
        ("id", "a_b", "value"),
        ("code", "a b", None),
        ("code", "a  b", "value"),  # one whitespace between words
        ("code", " a", "value"),
        ("code", "a ", "value"),
        ("code", "a\tb", None),
        ("uri", "urn:x", None),
        ("uri", "http://x/a b", "value"),
        ("oid", "urn:oid:1.2.840", None),
        ("oid", "urn:oid:3.1", "value"),
        ("oid", "urn:oid:1.02", "value"),
        ("oid", "urn:oid:1", "value"),
        ("uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", None),
        ("uuid", "urn:uuid:C757873D-EC9A-4326-A141-556F43239520", "value"),
        ("uuid", "c757873d-ec9a-4326-a141-556f43239520", "value"),
        ("base64Binary", "QUJD", None),
        ("base64Binary", "QU JD", None),
        ("base64Binary", "QUJD!", "value"),
    ],
)
def test_lexical_forms(kind: str, value: str, expected: str | None) -> None:
    assert verdict(kind, value) == expected


@pytest.mark.parametrize(
    ("div", "expected"),
    [
        ('<div xmlns="http://www.w3.org/1999/xhtml">x</div>', None),
        ('  <div xmlns="http://www.w3.org/1999/xhtml">x</div>\n', None),
        ('<div xmlns="http://www.w3.org/1999/xhtml"/>', None),
        ("<div>x</div", "value"),  # the end tag must be complete
        ("<div>x", "value"),
        ("<div>x</div><p>y</p>", "value"),  # nothing after the root element
        ("<div>x</div><br/>", "value"),
        ("<div/><br/>", "value"),
        ("<divx>y</div>", "value"),  # the root is a div, not a name starting with div
        ("<p>x</p>", "value"),
        ("x<div>y</div>", "value"),
        ("", "value"),
    ],
)
def test_xhtml_root_and_ending(div: str, expected: str | None) -> None:
    assert verdict("xhtml", div) == expected


LAST_UPDATED = "Patient.meta.lastUpdated"


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"resourceType": "Patient", "birthDate": "1900-02-29"}, "Patient.birthDate"),
        ({"resourceType": "Patient", "deceasedDateTime": "2023-02-30T10:00:00Z"}, "Patient.deceased"),
        ({"resourceType": "Patient", "meta": {"lastUpdated": "2023-02-30T10:00:00Z"}}, LAST_UPDATED),
        ({"resourceType": "Patient", "meta": {"lastUpdated": "2024-11-05T10:00:00+14:01"}}, LAST_UPDATED),
        ({"resourceType": "Patient", "multipleBirthInteger": 2**31}, "Patient.multipleBirth"),
        ({"resourceType": "Patient", "multipleBirthInteger": 1.0}, "Patient.multipleBirth"),
    ],
)
def test_boundaries_hold_through_the_validator(resource: dict[str, object], path: str) -> None:
    issues = validate_resource(resource)
    assert [(i.code, i.expression[0].split(".ofType(")[0]) for i in issues] == [("value", path)]


def test_first_valid_values_pass_the_validator() -> None:
    patient = {
        "resourceType": "Patient",
        "birthDate": "2000-02-29",
        "deceasedDateTime": "9999-12-31T23:59:60-14:00",
        "meta": {"lastUpdated": "0001-01-01T00:00:00+14:00"},
        "multipleBirthInteger": 2**31 - 1,
    }
    assert [i for i in validate_resource(patient) if i.severity == "error"] == []


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("string", 5, "Expected a JSON string for string, found number"),
        ("string", 1.5, "Expected a JSON string for string, found number"),
        ("string", None, "Expected a JSON string for string, found null"),
        ("string", True, "Expected a JSON string for string, found boolean"),
        ("code", [], "Expected a JSON string for code, found array"),
        ("uri", {}, "Expected a JSON string for uri, found object"),
        ("xhtml", 5, "Expected a JSON string for xhtml, found number"),
        ("string", "", "Empty string is not a valid string"),
        ("xhtml", "", "Empty string is not a valid xhtml"),
        ("markdown", "a" * (MIB + 1), f"markdown longer than {MIB} characters"),
        ("id", "a" * (MIB + 1), f"id longer than {MIB} characters"),
        ("boolean", "true", "Expected a JSON boolean, found string"),
        ("decimal", "1.5", "Expected a JSON number for decimal, found string"),
        ("decimal", float("nan"), "decimal must be a finite number"),
        ("integer", "1", "Expected a JSON integer for integer, found string"),
        ("positiveInt", 1.0, "positiveInt must be written without a fraction: 1.0"),
        ("positiveInt", 0, "positiveInt out of range [1, 2147483647]: 0"),
        ("date", "2023-02-29", "Not a valid date: '2023-02-29'"),
        ("xhtml", "<p>x</p>", "Narrative.div must be an XHTML <div> element"),
        ("xhtml", "<div>a\x01b</div>", "xhtml contains the control character U+0001"),
        ("code", "a\u202eb", "code contains the bidirectional control character U+202E"),
    ],
)
def test_messages_name_the_type_and_what_was_found(kind: str, value: object, message: str) -> None:
    assert CHECKERS[kind](value) == (verdict(kind, value), message)


def test_a_long_bad_value_is_quoted_up_to_100_characters() -> None:
    bad = "a  b" + "c" * 200
    assert CHECKERS["code"](bad) == ("value", f"Not a valid code: {bad[:100]!r}")


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (False, "boolean"), (0, "number"), (0.5, "number"), ("", "string"), ([], "array")],
)
def test_json_type_names(value: object, name: str) -> None:
    assert json_type(value) == name
    assert json_type({}) == "object" and json_type(b"x") == "bytes"
