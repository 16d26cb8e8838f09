"""The adjudication's findings in words, Persian and English (ClaimResponse.processNote).

The codes are those of http://noskhe.ir/fhir/CodeSystem/adjudication-reason; the values
of a finding fill its sentence. Amounts are rials; digits are Persian in Persian text.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from fhir_server.insurance.adjudication import Finding

REASON_SYSTEM = "http://noskhe.ir/fhir/CodeSystem/adjudication-reason"
PERSIAN_DIGITS = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")

TEXTS: dict[str, tuple[str, str]] = {
    # code: (English, Persian)
    "not-member": (
        "The patient had no valid {insurer} coverage on {day}: not paid",
        "بیمار در تاریخ {day} بیمهٔ معتبر {insurer} نداشت: پرداخت نمی‌شود",
    ),
    "not-covered": (
        "{item} is not covered by {insurer}: not paid",
        "{item} تحت پوشش {insurer} نیست: پرداخت نمی‌شود",
    ),
    "specialty": (
        "{item} is paid only when prescribed by: {allowed}",
        "{item} فقط با تجویز این تخصص‌ها پرداخت می‌شود: {allowed}",
    ),
    "prior-auth": (
        "{item} needs the insurer's prior authorisation and the claim carries none: not paid",
        "{item} نیاز به تأیید قبلی بیمه دارد و ادعا آن را ندارد: پرداخت نمی‌شود",
    ),
    "no-tariff": (
        "{item} has no price in {insurer}'s tariff on {day}: not paid",
        "{item} در تاریخ {day} در تعرفهٔ {insurer} قیمت ندارد: پرداخت نمی‌شود",
    ),
    "not-delivered": (
        "Nothing of {item} was recorded as delivered: not paid",
        "تحویل {item} ثبت نشده است: پرداخت نمی‌شود",
    ),
    "over-delivered": (
        "{item}: {claimed} claimed but {delivered} recorded as delivered, net of returns: {delivered} paid",
        "{item}: {claimed} ادعا شده ولی پس از کسر مرجوعی {delivered} تحویل ثبت شده است: "
        "{delivered} پرداخت می‌شود",
    ),
    "max-quantity": (
        "{item}: at most {max} is paid per delivery; {claimed} claimed",
        "{item}: در هر تحویل حداکثر {max} پرداخت می‌شود؛ {claimed} ادعا شده است",
    ),
    "price-above-tariff": (
        "{item}: unit price {claimed} rials is above the tariff of {tariff} rials ({schedule}): "
        "paid at the tariff",
        "{item}: قیمت واحد {claimed} ریال بیش از تعرفهٔ {tariff} ریال ({schedule}) است: "
        "به قیمت تعرفه پرداخت می‌شود",
    ),
    "share": (
        "{item}: the {recorded}% insurer share recorded at dispensing is above {insurer}'s {allowed}%: "
        "{allowed}% paid",
        "{item}: سهم بیمهٔ ثبت‌شده هنگام تحویل ({recorded}٪) بیش از سهم مقرر {insurer} ({allowed}٪) است: "
        "{allowed}٪ پرداخت می‌شود",
    ),
    "reviewer": (
        "Adjusted by the insurer's reviewer ({who}): {note}",
        "اصلاح توسط کارشناس رسیدگی بیمه ({who}): {note}",
    ),
}


def _show(value: object, lang: str) -> str:
    text = (
        f"{value:,}" if isinstance(value, int) else f"{value:f}" if isinstance(value, Decimal) else str(value)
    )
    if isinstance(value, Decimal) and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(PERSIAN_DIGITS).replace(",", "٬") if lang == "fa" and _numeric(value) else text


def _numeric(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def sentence(code: str, values: Mapping[str, object], lang: str) -> str:
    en, fa = TEXTS[code]
    template = fa if lang == "fa" else en
    return template.format(**{k: _show(v, lang) for k, v in values.items()})


def sentences(finding: Finding) -> dict[str, str]:
    """The finding in both languages: {"fa": ..., "en": ...}."""
    return {lang: sentence(finding.code, finding.values, lang) for lang in ("fa", "en")}


def reason(code: str) -> dict[str, object]:
    """ClaimResponse.item.adjudication.reason for a finding's code."""
    if code not in TEXTS:
        raise KeyError(f"not an adjudication reason: {code}")
    return {"coding": [{"system": REASON_SYSTEM, "code": code}]}
