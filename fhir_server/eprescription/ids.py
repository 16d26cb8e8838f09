"""Prescription ids with a check character, and short numeric tracking codes.

A prescription id is the Jalali date of issue (yymmdd), eight random digits and one
ISO 7064 MOD 11-2 check character (0-9 or X): it catches every single mistyped digit
and every swap of two neighbouring digits. ASCII digits only, 15 characters.
"""

from __future__ import annotations

import secrets
from datetime import date

import jdatetime

PRESCRIPTION_SYSTEM = "http://noskhe.ir/fhir/sid/prescription"
TRACKING_SYSTEM = "http://noskhe.ir/fhir/sid/tracking-code"
ID_LENGTH = 15
TRACKING_LENGTH = 6  # digits, the first never 0


def check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of a string of ASCII digits."""
    p = 0
    for ch in digits:
        p = ((p + int(ch)) * 2) % 11
    r = (12 - p) % 11
    return "X" if r == 10 else str(r)


def new_prescription_id(issued: date) -> str:
    jalali = jdatetime.date.fromgregorian(date=issued).strftime("%y%m%d")
    body = jalali + "".join(str(secrets.randbelow(10)) for _ in range(8))
    return body + check_character(body)


def is_prescription_id(value: str) -> bool:
    """Well-formed with a correct check character (says nothing of whether it exists).

    The check character is an upper-case X, never x: ids are matched exactly."""
    if len(value) != ID_LENGTH or not value[:-1].isascii() or not value[:-1].isdigit():
        return False
    return check_character(value[:-1]) == value[-1]


def new_tracking_code() -> str:
    """TRACKING_LENGTH digits, not starting with 0 (so no client drops a leading zero)."""
    low = 10 ** (TRACKING_LENGTH - 1)
    return str(low + secrets.randbelow(9 * low))
