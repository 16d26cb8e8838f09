"""Known answers for what the printout hands to other systems and to people: the QR text
(pinned format `NX1|<prescription id>|<tracking code>`, read back by a real decoder), Jalali
dates at year and leap-year edges in Persian digits, and the patient's age."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from fhir_server.eprescription.printout import age_on, fa_digits, jalali, qr_png, qr_text


@pytest.mark.parametrize(
    ("rx", "tracking", "text"),
    [
        ("030815000000007", "123456", "NX1|030815000000007|123456"),
        ("00000021694233X", "999999", "NX1|00000021694233X|999999"),  # a check character X
        ("991230123456782", "100000", "NX1|991230123456782|100000"),
    ],
)
def test_qr_text_is_the_pinned_format_and_decodes(rx: str, tracking: str, text: str) -> None:
    assert qr_text(rx, tracking) == text
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(text))))
    assert [(b.text, b.format) for b in found] == [(text, zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        ("2024-11-05", "۱۴۰۳/۰۸/۱۵"),
        ("2021-03-20", "۱۳۹۹/۱۲/۳۰"),  # the leap day of 1399
        ("2021-03-21", "۱۴۰۰/۰۱/۰۱"),  # Nowruz 1400
        ("2023-03-20", "۱۴۰۱/۱۲/۲۹"),  # the last day of a common year
        ("2024-03-19", "۱۴۰۲/۱۲/۲۹"),
        ("2024-03-20", "۱۴۰۳/۰۱/۰۱"),
        ("2025-03-20", "۱۴۰۳/۱۲/۳۰"),  # the leap day of 1403
        ("2025-03-21", "۱۴۰۴/۰۱/۰۱"),
        ("2024-02-29", "۱۴۰۲/۱۲/۱۰"),  # a Gregorian leap day
        ("2024-09-21", "۱۴۰۳/۰۶/۳۱"),  # the last 31-day month
        ("2024-09-22", "۱۴۰۳/۰۷/۰۱"),
        ("2024-11-05T23:30:00+03:30", "۱۴۰۳/۰۸/۱۵"),  # the day as written, not moved to UTC
    ],
)
def test_jalali_dates_in_persian_digits(day: str, shown: str) -> None:
    assert jalali(day) == shown


def test_missing_date_and_digits() -> None:
    assert jalali(None) == jalali("") == "-"
    assert fa_digits("0123456789/") == "۰۱۲۳۴۵۶۷۸۹/"
    assert fa_digits(1403) == "۱۴۰۳"


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        ("1985-03-21", "2026-03-21", 41),  # the birthday itself
        ("1985-03-21", "2026-03-20", 40),
        ("2008-02-29", "2026-02-28", 17),  # a leap-day birthday in a common year
        ("2008-02-29", "2026-03-01", 18),
        ("1985", "2026-03-21", None),  # only a year: no age shown rather than a wrong one
        (None, "2026-03-21", None),
    ],
)
def test_age_on_a_day(birth: str | None, on: str, age: int | None) -> None:
    assert age_on(birth, on) == age
