"""Prescription ids and tracking codes against published answers, not against themselves.

The check character is ISO/IEC 7064 MOD 11-2, the system ORCID and China's citizen
identity number (GB 11643-1999) use, so their published examples are known answers.
Leading zeros do not change a pure-system MOD 11-2 check, so a 16-character ORCID minus
one leading zero is a 15-character prescription id with the same check character.
"""

from __future__ import annotations

from datetime import date

import pytest

from fhir_server.eprescription import ids
from fhir_server.eprescription.ids import check_character, is_prescription_id, new_prescription_id

# (digits, check character), each from its publisher
PUBLISHED = [
    ("000000021825009", "7"),  # ORCID 0000-0002-1825-0097 (ORCID's documented example)
    ("000000021694233", "X"),  # ORCID 0000-0002-1694-233X (ORCID's documented example)
    ("000000015109370", "0"),  # ORCID 0000-0001-5109-3700 (ORCID's documented example)
    ("000000029079593", "X"),  # ORCID 0000-0002-9079-593X (Stephen Hawking)
    ("11010519491231002", "X"),  # GB 11643-1999 Appendix A: 11010519491231002X
]


@pytest.mark.parametrize(("digits", "check"), PUBLISHED)
def test_check_character_matches_published_vectors(digits: str, check: str) -> None:
    assert check_character(digits) == check


@pytest.mark.parametrize(("digits", "check"), PUBLISHED)
def test_leading_zeros_do_not_change_the_check(digits: str, check: str) -> None:
    assert check_character("0" + digits) == check_character(digits.lstrip("0")) == check


@pytest.mark.parametrize(
    "rx",
    [
        "000000218250097",  # the ORCID vectors above, one leading zero less: 15 characters
        "00000021694233X",
        "00000029079593X",
        "000000151093700",
        "030815000000007",  # what new_prescription_id makes on 2024-11-05 with all-zero random digits
        "030815999999994",
    ],
)
def test_known_prescription_ids_are_valid(rx: str) -> None:
    assert is_prescription_id(rx)


@pytest.mark.parametrize(
    ("rx", "why"),
    [
        ("", "empty"),
        ("00000021825009", "14 characters"),
        ("0000000218250097", "16 characters"),
        ("000000218250096", "wrong check digit"),
        ("000000218250098", "wrong check digit"),
        ("00000021825009X", "X where the check is a digit"),
        ("000000216942330", "a digit where the check is X"),
        ("00000021694233x", "the check character is an upper-case X"),
        ("00000021694233Y", "not a check character"),
        ("0000002182500X7", "X is only a check character"),
        ("۰۰۰۰۰۰۲۱۸۲۵۰۰۹7", "Persian digits are not ASCII digits"),
        ("٠٠٠٠٠٠٢١٨٢٥٠٠٩7", "Arabic-Indic digits are not ASCII digits"),
        ("0۰0000218250097", "one Persian digit inside the body"),  # int() would read it as 0
        ("0000002182500۹7", "one Persian digit at the end of the body"),
        ("00000021825009²", "a superscript two is not a check digit"),
        ("²00000021825009", "a superscript two is not a digit of the body"),
        (" 00000021825009", "a space is not a digit"),
        ("+00000021825009", "a sign is not a digit"),
        ("00000021825009 ", "no trailing space"),
    ],
)
def test_malformed_prescription_ids(rx: str, why: str) -> None:
    assert not is_prescription_id(rx), why


def test_every_single_digit_error_and_neighbour_swap_is_caught() -> None:
    for rx in ("000000218250097", "00000021694233X", "030815999999994"):
        for i in range(len(rx) - 1):
            for digit in "0123456789":
                if digit != rx[i]:
                    assert not is_prescription_id(rx[:i] + digit + rx[i + 1 :]), (rx, i, digit)
            if rx[i] != rx[i + 1]:
                swapped = rx[:i] + rx[i + 1] + rx[i] + rx[i + 2 :]
                assert not is_prescription_id(swapped), (rx, i)


# Gregorian day of issue -> the Jalali yymmdd that starts the id. 1399 and 1403 are leap
# years (Esfand has 30 days); 1401 and 1402 are not (29). Farvardin-Shahrivar have 31 days.
JALALI = [
    ("2024-11-05", "030815"),  # 1403/08/15
    ("2021-03-20", "991230"),  # 1399/12/30, the leap day
    ("2021-03-21", "000101"),  # 1400/01/01: the two-digit year wraps to 00
    ("2023-03-20", "011229"),  # 1401/12/29, the last day of a common year
    ("2023-03-21", "020101"),
    ("2024-03-19", "021229"),  # 1402/12/29
    ("2024-03-20", "030101"),  # 1403/01/01, Nowruz
    ("2025-03-20", "031230"),  # 1403/12/30, the leap day
    ("2025-03-21", "040101"),
    ("2024-02-29", "021210"),  # a Gregorian leap day
    ("2024-09-21", "030631"),  # the 31st of Shahrivar
    ("2024-09-22", "030701"),  # Mehr has 30 days
]


@pytest.mark.parametrize(("gregorian", "yymmdd"), JALALI)
def test_prescription_id_starts_with_the_jalali_day_of_issue(gregorian: str, yymmdd: str) -> None:
    rx = new_prescription_id(date.fromisoformat(gregorian))
    assert len(rx) == ids.ID_LENGTH == 15
    assert rx[:6] == yymmdd and is_prescription_id(rx)


@pytest.mark.parametrize(("draw", "expected"), [(0, "030815000000007"), (9, "030815999999994")])
def test_prescription_id_layout(monkeypatch: pytest.MonkeyPatch, draw: int, expected: str) -> None:
    asked: list[int] = []

    def randbelow(n: int) -> int:
        asked.append(n)
        return draw

    monkeypatch.setattr(ids.secrets, "randbelow", randbelow)
    assert new_prescription_id(date(2024, 11, 5)) == expected
    assert asked == [10] * 8  # eight random digits


@pytest.mark.parametrize(("draw", "expected"), [(0, "100000"), (899_999, "999999")])
def test_tracking_code_bounds(monkeypatch: pytest.MonkeyPatch, draw: int, expected: str) -> None:
    asked: list[int] = []

    def randbelow(n: int) -> int:
        asked.append(n)
        return draw

    monkeypatch.setattr(ids.secrets, "randbelow", randbelow)
    assert ids.new_tracking_code() == expected
    assert asked == [900_000]  # every six-digit code not starting with 0, and only those


def test_tracking_codes_are_six_ascii_digits_not_starting_with_zero() -> None:
    codes = {ids.new_tracking_code() for _ in range(2000)}
    assert ids.TRACKING_LENGTH == 6
    for code in codes:
        assert len(code) == 6 and code.isascii() and code.isdigit() and code[0] != "0", code
    assert len(codes) > 1900  # drawn from 900,000 values, not a handful
