"""Persian and English texts of the workflow's OperationOutcome issues."""

from __future__ import annotations

from fhir_server.api.http import request_language
from fhir_server.outcome import Issue

TEXTS: dict[str, tuple[str, str]] = {
    # key: (English, Persian)
    "not-covered": ("{item} is not covered by {insurer}", "{item} تحت پوشش {insurer} نیست"),
    "max-quantity": (
        "{item}: quantity {qty} exceeds the maximum of {max} per prescription",
        "{item}: تعداد {qty} بیش از حداکثر مجاز {max} در هر نسخه است",
    ),
    "max-repeats": (
        "{item}: {repeats} repeats exceed the maximum of {max}",
        "{item}: تعداد تکرار {repeats} بیش از حداکثر مجاز {max} است",
    ),
    "specialty": (
        "{item} may be prescribed only by: {allowed}",
        "{item} فقط توسط این تخصص‌ها قابل تجویز است: {allowed}",
    ),
    "sex": ("{item} is only for {sex} patients", "{item} فقط برای بیماران {sex_fa} است"),
    "age": (
        "{item} is for patients aged {min} to {max}; this patient is {age}",
        "{item} برای بیماران {min} تا {max} ساله است؛ سن این بیمار {age} است",
    ),
    "duplicate-therapy": (
        "{item} was already prescribed for this patient on {when} (within {days} days)",
        "{item} در تاریخ {when} برای این بیمار تجویز شده است (کمتر از {days} روز)",
    ),
    "prior-auth": (
        "{item} needs the insurer's prior authorisation; until then the patient pays in full",
        "{item} نیاز به تأیید قبلی بیمه دارد؛ تا آن زمان هزینه کامل با بیمار است",
    ),
    "hospital-only": (
        "{item} is a hospital-only drug and cannot be prescribed in an outpatient visit",
        "{item} داروی بیمارستانی است و در ویزیت سرپایی قابل تجویز نیست",
    ),
    "interaction": ("{text}", "{text}"),
    "shares": (
        "{item}: insurer pays {insurer}%, patient pays {patient}%",
        "{item}: سهم بیمه {insurer}٪، سهم بیمار {patient}٪",
    ),
    "free": (
        "The patient has no valid insurance: the prescription is written as free (not insured)",
        "بیمار بیمه معتبر ندارد: نسخه به صورت آزاد ثبت شد",
    ),
    "kind-not-allowed": (
        "A {type} prescription cannot hold {kind} items",
        "نسخه {type} نمی‌تواند قلم از نوع {kind} داشته باشد",
    ),
    "unsigned": (
        "The prescription is not signed; accepted unsigned during roll-out",
        "نسخه امضا نشده است؛ در دوره گذار بدون امضا پذیرفته شد",
    ),
    "awaits-signature": (
        "The prescription becomes active when its signature is verified",
        "نسخه پس از تأیید امضای دیجیتال فعال می‌شود",
    ),
    "duplicate": (
        "Duplicate: {item} was already prescribed today for this patient by this prescriber ({rx})",
        "نسخه تکراری: {item} امروز توسط همین پزشک برای همین بیمار تجویز شده است ({rx})",
    ),
    "expired": ("The prescription expired on {when}", "اعتبار نسخه در تاریخ {when} به پایان رسیده است"),
    "printout-format": ("format is pdf or html", "قالب چاپ باید pdf یا html باشد"),
    "printout-which": (
        "Name the prescription: [type]/[id]/$printout or ?prescription=ID",
        "نسخه را مشخص کنید: [type]/[id]/$printout یا ?prescription=ID",
    ),
    "printout-item-unknown": (
        "{ref} is not a known e-prescription item",
        "{ref} قلمی از یک نسخهٔ الکترونیک شناخته‌شده نیست",
    ),
    "printout-unknown": ("Prescription {rx} is not known", "نسخه‌ای با شمارهٔ {rx} پیدا نشد"),
}


def text(key: str, **values: object) -> str:
    en, fa = TEXTS[key]
    chosen = fa if request_language() == "fa" else en
    return chosen.format(**values)


def issue(severity: str, code: str, key: str, *expression: str, **values: object) -> Issue:
    return Issue(severity, code, text(key, **values), tuple(e for e in expression if e))
