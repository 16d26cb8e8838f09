"""The dashboard's words, Persian and English, and the names of the codes it shows
(provinces, drugs, reasons) from the terminology service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CS = "http://noskhe.ir/fhir/CodeSystem/"
TEXT: dict[str, tuple[str, str]] = {
    # key: (Persian, English)
    "title": ("داشبورد مشارکت در نسخهٔ الکترونیک", "E-prescription adoption dashboard"),
    "period": ("دوره", "Period"),
    "interval": ("تفکیک زمانی", "By"),
    "day": ("روز", "day"),
    "week": ("هفته", "week"),
    "month": ("ماه", "month"),
    "show": ("نمایش", "Show"),
    "prescriptions": ("نسخهٔ الکترونیک", "e-prescriptions"),
    "items": ("قلم تجویزشده", "items prescribed"),
    "electronic_share": ("سهم نسخهٔ الکترونیک", "electronic share"),
    "paper_share": ("سهم نسخهٔ کاغذی", "paper share"),
    "electronic": ("الکترونیک", "electronic"),
    "paper": ("کاغذی", "paper"),
    "timeline": ("نسخه‌ها در طول زمان", "Prescriptions over time"),
    "when": ("زمان", "When"),
    "by_province": ("نسخه‌ها به تفکیک استان", "Prescriptions by province"),
    "province": ("استان", "Province"),
    "unknown": ("نامشخص", "unknown"),
    "adoption": ("مشارکت ارائه‌دهندگان", "Providers taking part"),
    "adoption_note": (
        "سهم ارائه‌دهندگان ثبت‌شده که در این دوره دست‌کم یک نسخهٔ الکترونیک صادر یا ارائه کردند",
        "Share of the registered providers who issued or delivered at least one electronic prescription in "
        "the period",
    ),
    "prescribers": ("پزشکان", "prescribers"),
    "pharmacies": ("داروخانه‌ها", "pharmacies"),
    "paraclinics": ("پاراکلینیک‌ها", "paraclinics"),
    "active_of": ("{active} از {registered}", "{active} of {registered}"),
    "best": ("استان‌های برتر در مشارکت", "Best provinces by adoption"),
    "mean_share": ("میانگین سهم مشارکت", "mean share taking part"),
    "top_drugs": ("پرتجویزترین داروها", "Most prescribed drugs"),
    "drug": ("دارو", "Drug"),
    "claims": ("ادعاهای الکترونیک", "Electronic claims"),
    "claims_of": ("ادعاهای {insurer}", "Claims of {insurer}"),
    "claims_count": ("تعداد", "Count"),
    "submitted": ("ارسال‌شده", "submitted"),
    "adjudicated": ("رسیدگی‌شده", "adjudicated"),
    "accepted": ("پذیرفته بدون کسور", "accepted"),
    "reduced": ("با کسور", "reduced"),
    "denied": ("رد شده", "denied"),
    "reasons": ("علت‌های اصلی کسور و رد", "Main reasons for reductions and denials"),
    "reason": ("علت", "Reason"),
    "none": ("در این دوره چیزی ثبت نشده است.", "Nothing was recorded in this period."),
    "other_lang": ("English", "فارسی"),
    "signed_in": ("وارد شده: {who}", "Signed in: {who}"),
    "sign_out": ("خروج", "Sign out"),
    "forbidden": (
        "نقش شما دسترسی به داشبورد ندارد (بیمه‌گر یا وزارت بهداشت).",
        "Your role may not see the dashboards (insurers and the ministry may).",
    ),
    "as_of": (
        "ارقام تا {when} است؛ به‌روزرسانی در جریان است، صفحه را دوباره باز کنید.",
        "Figures as of {when}; they are being brought up to date: show the page again shortly.",
    ),
    "figures_from": (
        # LRI..PDI: the operation's name reads left to right inside the Persian sentence
        "همهٔ ارقام از MeasureReportهای FHIR (عملیات \u2066$evaluate-measure\u2069) است.",
        "Every figure comes from FHIR MeasureReports ($evaluate-measure).",
    ),
}


def translator(lang: str) -> Callable[..., str]:
    index = 0 if lang == "fa" else 1

    def t(key: str, **values: object) -> str:
        text = TEXT[key][index]
        return text.format(**values) if values else text

    return t


def namer(terminology: Any, lang: str) -> Callable[[str, str], str]:
    """`name(code system name, code)`: the code's display in the language, else the code."""
    cache: dict[tuple[str, str], str] = {}

    def name(system: str, code: str) -> str:
        if (system, code) not in cache:
            try:
                cache[(system, code)] = str(
                    terminology.lookup(CS + system, code, language=lang).display or code
                )
            except Exception:  # an unknown code is shown as itself
                cache[(system, code)] = code
        return cache[(system, code)]

    return name
