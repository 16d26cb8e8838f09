"""The printable prescription (نسخه چاپی): what is on it, and its HTML page.

One prescription (all items sharing a prescription id) as the patient takes it to a
pharmacy without a national ID card at hand. The QR code is a standard QR Code (never
Micro QR, which most scanners cannot read) holding `NX1|<prescription id>|<tracking code>`
so pharmacy software can parse it. Digits: Persian for what people read (dates, ages,
quantities, shares), ASCII for codes typed into software (prescription id, tracking
code, national code, medical council number, item codes). The PDF of the same content
is `printout_pdf.py`.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jdatetime
import segno

from fhir_server.eprescription import infant, items
from fhir_server.eprescription.eligibility import insurer_code
from fhir_server.eprescription.ids import TRACKING_SYSTEM
from fhir_server.eprescription.policy import Policy
from fhir_server.eprescription.store_access import read
from fhir_server.storage.base import StoreSession

NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code"
IRIMC = "http://noskhe.ir/fhir/sid/irimc"
QR_PREFIX = "NX1"  # version of the QR text format; README documents it
QR_MIN_PX = 160  # at least this wide on screen
QR_BORDER = 4  # the quiet zone, in modules, that the QR standard asks for
PERSIAN_DIGITS = str.maketrans("0123456789.%", "۰۱۲۳۴۵۶۷۸۹٫٪")
INSURERS = {"TAMIN": "تأمین اجتماعی", "SALAMAT": "بیمه سلامت", "ARMED": "نیروهای مسلح"}
SEX = {"male": "مرد", "female": "زن", "other": "دیگر", "unknown": "نامشخص"}
UNITS = {  # dispensing units as written on orders -> Persian
    "capsule": "کپسول",
    "tablet": "قرص",
    "bottle": "شیشه",
    "vial": "ویال",
    "ampoule": "آمپول",
    "tube": "تیوب",
    "sachet": "ساشه",
    "suppository": "شیاف",
    "drop": "قطره",
    "puff": "پاف",
    "box": "جعبه",
    "ml": "میلی‌لیتر",
    "mL": "میلی‌لیتر",
    "session": "جلسه",
}
STATUS_FA = {
    "draft": "در انتظار امضا",
    "active": "قابل ارائه",
    "completed": "ارائه شده",
    "stopped": "متوقف",
    "cancelled": "لغو شده",
    "revoked": "لغو شده",
    "on-hold": "معلق",
}


@dataclass
class Row:
    name: str
    code: str  # ASCII: the item's code as typed into pharmacy software
    amount: str  # quantity and unit, Persian digits
    instructions: str
    shares: str  # insurer / patient percent, Persian digits
    status: str


@dataclass
class Printout:
    prescription_id: str
    tracking: str
    type_label: str
    issued: str  # Jalali, Persian digits
    expires: str
    clinic: str
    patient: str
    national_code: str
    age: str
    sex: str
    prescriber: str
    council_number: str
    insurer: str
    rows: list[Row] = field(default_factory=list)
    birth: str = "-"  # Jalali, Persian digits
    mother: str | None = None  # an infant without a birth certificate: the mother's name
    mother_code: str | None = None  # ... and national code

    @property
    def qr_text(self) -> str:
        return qr_text(self.prescription_id, self.tracking)


def qr_text(prescription_id: str, tracking: str) -> str:
    return f"{QR_PREFIX}|{prescription_id}|{tracking}"


def fa_digits(value: object) -> str:
    return str(value).translate(PERSIAN_DIGITS)


def jalali(day: str | None) -> str:
    if not day:
        return "-"
    gregorian = date.fromisoformat(str(day)[:10])
    return fa_digits(jdatetime.date.fromgregorian(date=gregorian).strftime("%Y/%m/%d"))


def age_on(birth: str | None, on: str | None) -> int | None:
    if not birth or len(birth) < 10:
        return None
    born = date.fromisoformat(birth[:10])
    day = date.fromisoformat(on[:10]) if on else date.today()
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _name(resource: dict[str, Any] | None) -> str:
    for name in (resource or {}).get("name") or []:
        if isinstance(name, str):  # Organization.name
            return name
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return "-"


def _org_name(s: StoreSession, ref: dict[str, Any] | None) -> str | None:
    if not ref:
        return None
    if ref.get("display"):
        return str(ref["display"])
    org = read(s, "Organization", items.ref_id(ref, "Organization"))
    return str(org["name"]) if org and org.get("name") else None


def _identifier(resource: dict[str, Any] | None, system: str) -> str:
    for ident in (resource or {}).get("identifier") or []:
        if ident.get("system") == system and ident.get("value"):
            return str(ident["value"])
    return "-"


def _unit(item: dict[str, Any]) -> str:
    if item["resourceType"] == "MedicationRequest":
        unit = ((item.get("dispenseRequest") or {}).get("quantity") or {}).get("unit")
    else:
        unit = (item.get("quantityQuantity") or {}).get("unit")
    return UNITS.get(str(unit), str(unit)) if unit else "عدد"


def _amount(item: dict[str, Any]) -> str:
    text = f"{fa_digits(f'{items.quantity(item):g}')} {_unit(item)}"
    if item["resourceType"] == "MedicationRequest":
        repeats = items.repeats(item)
        done = float(items.extension(item, items.EXT_DISPENSED) or 0)
        if repeats:
            text += f" (+{fa_digits(repeats)} تکرار)"
        if done:
            text += f" - ارائه شده {fa_digits(f'{done:g}')}"
    return text


def _shares(item: dict[str, Any]) -> str:
    parts = {e.get("url"): e.get("valueDecimal") for e in items.extension(item, items.EXT_SHARES) or []}
    if parts.get("insurer") is None or parts.get("patient") is None:
        return "-"
    return fa_digits(f"{parts['insurer']:g}% / {parts['patient']:g}%")  # as the column heading says


def _code(item: dict[str, Any]) -> str:
    keys = items.code_keys(item)
    return keys[0].split("|", 1)[1] if keys else "-"


def _instructions(item: dict[str, Any]) -> str:
    texts = [str(d["text"]) for d in item.get("dosageInstruction") or [] if d.get("text")]
    return "؛ ".join(texts) or "-"


def _prescriber(s: StoreSession, ref: str) -> tuple[dict[str, Any] | None, str | None]:
    """The Practitioner behind a requester reference, and the workplace its role names."""
    type_, _, id_ = ref.partition("/")
    found = read(s, type_, id_) if ref else None
    if found and found["resourceType"] == "PractitionerRole":
        workplace = _org_name(s, found.get("organization"))
        return read(s, "Practitioner", items.ref_id(found.get("practitioner"), "Practitioner")), workplace
    return found, None


def _clinic(s: StoreSession, first: dict[str, Any], workplace: str | None) -> str:
    encounter = read(s, "Encounter", items.ref_id(first.get("encounter"), "Encounter"))
    return _org_name(s, (encounter or {}).get("serviceProvider")) or workplace or "-"


def build(
    s: StoreSession,
    found: list[dict[str, Any]],
    policy: Policy,
    display: Any = None,
    find_mother: Callable[[str], dict[str, Any] | None] = lambda code: None,
) -> Printout:
    """The printout of one prescription's items; `display(coding)` names a code;
    `find_mother(national code)` the Patient record of an infant's mother."""
    first = found[0]
    patient = read(s, "Patient", items.patient_id(first)) or {}
    mother_code = infant.mother_code(patient)
    prescriber, workplace = _prescriber(s, items.requester_ref(first) or "")
    type_ = str(items.extension(first, items.EXT_TYPE) or "")
    coverage = read(s, "Coverage", items.coverage_id(first))
    if items.extension(first, items.EXT_FREE):
        insurer = "آزاد (بدون بیمه)"
    else:
        code = insurer_code(coverage) if coverage else None
        payor = ((coverage or {}).get("payor") or [{}])[0].get("display")
        insurer = INSURERS.get(code or "", payor or code or "-")
    age = age_on(patient.get("birthDate"), items.issued_on(first))
    return Printout(
        prescription_id=items.group_value(first) or "",
        tracking=items.identifier(first, TRACKING_SYSTEM) or "-",
        type_label=str(policy.types.get(type_, {}).get("label", {}).get("fa", type_)),
        issued=jalali(items.issued_on(first)),
        expires=jalali(items.extension(first, items.EXT_EXPIRY)),
        clinic=_clinic(s, first, workplace),
        patient=_name(patient),
        national_code=_identifier(patient, NATIONAL_CODE),
        age=f"{fa_digits(age)} سال" if age is not None else "-",
        sex=SEX.get(str(patient.get("gender")), "-"),
        prescriber=_name(prescriber),
        council_number=_identifier(prescriber, IRIMC),
        insurer=insurer,
        rows=[
            Row(
                _label(i, display),
                _code(i),
                _amount(i),
                _instructions(i),
                _shares(i),
                STATUS_FA.get(str(i.get("status")), "-"),
            )
            for i in found
        ],
        birth=jalali(patient.get("birthDate")),
        mother=(infant.mother_name(patient, find_mother) or "-") if mother_code else None,
        mother_code=mother_code,
    )


def _label(item: dict[str, Any], display: Any) -> str:
    concept = items.concept(item)
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
        named = display(coding) if display else None
        if named:
            return str(named)
    return items.label(item)


def qr_code(text: str) -> segno.QRCode:
    """A standard QR Code, medium error correction: `micro=False`, or segno picks Micro QR."""
    return segno.make(text, error="m", micro=False)


def qr_svg(text: str) -> str:
    code = qr_code(text)
    modules = code.symbol_size(scale=1, border=QR_BORDER)[0]
    scale = math.ceil(QR_MIN_PX / modules)  # whole pixels per module keep the edges sharp
    return str(code.svg_inline(scale=scale, border=QR_BORDER, title=text))


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    qr_code(text).save(out, kind="png", scale=10, border=QR_BORDER)
    return out.getvalue()


def _mother_html(p: Printout) -> str:
    if p.mother_code is None:
        return ""
    e = html.escape
    return (
        f'\n<dt>مادر</dt><dd id="mother">نوزاد بدون شناسنامه؛ مادر: {e(p.mother or "-")} - '
        f'کد ملی مادر <span class="code">{e(p.mother_code)}</span></dd>'
    )


def to_html(p: Printout) -> str:
    e = html.escape
    rows = "\n".join(
        f'<tr><td>{fa_digits(n)}</td><td dir="auto">{e(r.name)}</td><td class="code">{e(r.code)}</td>'
        f"<td>{e(r.amount)}</td><td>{e(r.instructions)}</td><td>{e(r.shares)}</td>"
        f"<td>{e(r.status)}</td></tr>"
        for n, r in enumerate(p.rows, 1)
    )
    return f"""<!doctype html>
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>نسخه {e(p.prescription_id)}</title>
<style>
body {{ font-family: Vazirmatn, Tahoma, sans-serif; margin: 1.5em; color: #111; }}
header {{ display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 1em; }}
h1 {{ font-size: 1.3em; margin: 0 0 .4em; }}
.table {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1em; }}
th, td {{ border: 1px solid #999; padding: .4em; text-align: right; vertical-align: top; }}
.code {{ font-weight: bold; direction: ltr; unicode-bidi: embed; font-family: monospace, sans-serif; }}
.big {{ font-size: 1.3em; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; }}
dd {{ margin: 0; }}
figure {{ margin: 0; }}
figure svg {{ display: block; }}
@media print {{ body {{ margin: 0; }} }}
</style>
</head>
<body>
<header>
<div>
<h1>نسخه الکترونیک {e(p.type_label)}</h1>
<p>شماره نسخه: <span class="code big" id="prescription-id">{e(p.prescription_id)}</span></p>
<p>کد رهگیری: <span class="code big" id="tracking-code">{e(p.tracking)}</span></p>
</div>
<figure id="qr">{qr_svg(p.qr_text)}</figure>
</header>
<dl>
<dt>مرکز درمانی</dt><dd id="clinic">{e(p.clinic)}</dd>
<dt>تاریخ صدور</dt><dd id="issued">{e(p.issued)}</dd>
<dt>اعتبار تا</dt><dd id="expires">{e(p.expires)}</dd>
<dt>بیمار</dt><dd id="patient">{e(p.patient)} - کد ملی <span class="code">{e(p.national_code)}</span></dd>
<dt>تاریخ تولد</dt><dd id="birth">{e(p.birth)}</dd>
<dt>سن و جنس</dt><dd id="age-sex">{e(p.age)} - {e(p.sex)}</dd>{_mother_html(p)}
<dt>پزشک</dt><dd id="prescriber">{e(p.prescriber)} - نظام پزشکی
<span class="code">{e(p.council_number)}</span></dd>
<dt>بیمه</dt><dd id="insurer">{e(p.insurer)}</dd>
</dl>
<div class="table">
<table>
<thead><tr><th>ردیف</th><th>شرح</th><th>کد</th><th>تعداد</th><th>دستور مصرف</th><th>سهم بیمه / بیمار</th>
<th>وضعیت</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>
</body>
</html>
"""
