"""How pages show a patient: enough to tell two people of the same name apart, no more.

The national code is masked but for its last four digits; the birth date is Jalali, with
the age; digits are Persian on Persian pages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import jdatetime

from smart_auth.directory import PatientSummary
from smart_auth.i18n import translator

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def digits(text: object, lang: str) -> str:
    return str(text).translate(PERSIAN_DIGITS) if lang == "fa" else str(text)


def masked_code(code: str | None) -> str:
    return f"••••••{code[-4:]}" if code and len(code) >= 4 else "-"


def age(birth: date, today: date | None = None) -> int:
    today = today or date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def birth_line(iso: str | None, lang: str, today: date | None = None) -> str:
    """'۱۳۶۴/۰۱/۰۱ (۴۱ سال)' or '1364/01/01 (41 years)'; '-' when unknown."""
    if not iso or len(iso) < 10:
        return digits(iso[:4], lang) if iso else "-"
    born = date.fromisoformat(iso[:10])
    jalali = jdatetime.date.fromgregorian(date=born).strftime("%Y/%m/%d")
    years = translator(lang)("age_years", years=digits(age(born, today), lang))
    return f"{digits(jalali, lang)} ({years})"


def describe(summary: PatientSummary, lang: str) -> dict[str, Any]:
    t = translator(lang)
    gender = summary.get("gender")
    mother_code = summary.get("mother_national_code")
    infant = t("infant_of", mother=summary.get("mother") or "-", code=masked_code(mother_code))
    return {
        "id": summary["id"],
        "display": summary["display"],
        "code": masked_code(summary.get("national_code")),
        "birth": birth_line(summary.get("birth_date"), lang),
        "sex": t(f"sex_{gender}") if gender else "-",
        "infant": infant if mother_code else None,
    }
