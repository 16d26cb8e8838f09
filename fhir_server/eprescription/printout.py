"""The printable prescription (نسخه چاپی): what is on it, and its HTML page.

One prescription (all items sharing a prescription id) as the patient takes it to a
pharmacy without a national ID card at hand: the prescription id with a QR code of it,
the tracking code, the patient, the prescriber, the insurer (or free), the items with
their dose and what was dispensed, Jalali dates, Persian right to left. The PDF of the
same content is `printout_pdf.py`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jdatetime
import segno

from fhir_server.eprescription import items
from fhir_server.eprescription.eligibility import insurer_code
from fhir_server.eprescription.ids import TRACKING_SYSTEM
from fhir_server.eprescription.policy import Policy
from fhir_server.eprescription.store_access import read
from fhir_server.storage.base import StoreSession

NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code"
IRIMC = "http://noskhe.ir/fhir/sid/irimc"
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
INSURERS = {"TAMIN": "تأمین اجتماعی", "SALAMAT": "بیمه سلامت", "ARMED": "نیروهای مسلح"}
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
    amount: str
    instructions: str
    status: str


@dataclass
class Printout:
    prescription_id: str
    tracking: str
    type_label: str
    issued: str  # Jalali, Persian digits
    expires: str
    patient: str
    national_code: str
    prescriber: str
    council_number: str
    insurer: str
    rows: list[Row] = field(default_factory=list)


def fa_digits(value: object) -> str:
    return str(value).translate(PERSIAN_DIGITS)


def jalali(day: str | None) -> str:
    if not day:
        return "-"
    gregorian = date.fromisoformat(str(day)[:10])
    return fa_digits(jdatetime.date.fromgregorian(date=gregorian).strftime("%Y/%m/%d"))


def _name(resource: dict[str, Any] | None) -> str:
    for name in (resource or {}).get("name") or []:
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("given", []), name.get("family", "")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return "-"


def _identifier(resource: dict[str, Any] | None, system: str) -> str:
    for ident in (resource or {}).get("identifier") or []:
        if ident.get("system") == system and ident.get("value"):
            return str(ident["value"])
    return "-"


def _amount(item: dict[str, Any]) -> str:
    qty = items.quantity(item)
    text = fa_digits(f"{qty:g}")
    if item["resourceType"] == "MedicationRequest":
        repeats = items.repeats(item)
        done = float(items.extension(item, items.EXT_DISPENSED) or 0)
        if repeats:
            text += f" (+{fa_digits(repeats)} تکرار)"
        if done:
            text += f" - ارائه شده {fa_digits(f'{done:g}')}"
    return text


def _instructions(item: dict[str, Any]) -> str:
    texts = [str(d["text"]) for d in item.get("dosageInstruction") or [] if d.get("text")]
    return "؛ ".join(texts) or "-"


def build(s: StoreSession, found: list[dict[str, Any]], policy: Policy, display: Any = None) -> Printout:
    """The printout of one prescription's items; `display(coding)` names a code."""
    first = found[0]
    patient = read(s, "Patient", items.patient_id(first))
    requester = items.requester_ref(first) or ""
    prescriber = read(s, requester.partition("/")[0], requester.partition("/")[2]) if requester else None
    if prescriber and prescriber["resourceType"] == "PractitionerRole":
        prescriber = read(s, "Practitioner", items.ref_id(prescriber.get("practitioner"), "Practitioner"))
    type_ = str(items.extension(first, items.EXT_TYPE) or "")
    coverage = read(s, "Coverage", items.coverage_id(first))
    if items.extension(first, items.EXT_FREE):
        insurer = "آزاد (بدون بیمه)"
    else:
        code = insurer_code(coverage) if coverage else None
        insurer = INSURERS.get(code or "", code or "-")
    return Printout(
        prescription_id=items.group_value(first) or "",
        tracking=items.identifier(first, TRACKING_SYSTEM) or "-",
        type_label=str(policy.types.get(type_, {}).get("label", {}).get("fa", type_)),
        issued=jalali(items.issued_on(first)),
        expires=jalali(items.extension(first, items.EXT_EXPIRY)),
        patient=_name(patient),
        national_code=_identifier(patient, NATIONAL_CODE),
        prescriber=_name(prescriber),
        council_number=_identifier(prescriber, IRIMC),
        insurer=insurer,
        rows=[
            Row(_label(i, display), _amount(i), _instructions(i), STATUS_FA.get(str(i.get("status")), "-"))
            for i in found
        ],
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


def qr_svg(prescription_id: str) -> str:
    return str(segno.make(prescription_id, error="m").svg_inline(scale=4, title="QR"))


def qr_png(prescription_id: str) -> bytes:
    import io

    out = io.BytesIO()
    segno.make(prescription_id, error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()


def to_html(p: Printout) -> str:
    e = html.escape
    rows = "\n".join(
        f'<tr><td>{fa_digits(n)}</td><td dir="auto">{e(r.name)}</td><td>{e(r.amount)}</td>'
        f"<td>{e(r.instructions)}</td><td>{e(r.status)}</td></tr>"
        for n, r in enumerate(p.rows, 1)
    )
    return f"""<!doctype html>
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<title>نسخه {e(p.prescription_id)}</title>
<style>
body {{ font-family: Vazirmatn, Tahoma, sans-serif; margin: 2em; }}
header {{ display: flex; justify-content: space-between; align-items: center; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1em; }}
th, td {{ border: 1px solid #999; padding: .4em; text-align: right; }}
.code {{ font-size: 1.3em; font-weight: bold; direction: ltr; unicode-bidi: embed; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: .3em 1em; }}
@media print {{ body {{ margin: 0; }} }}
</style>
</head>
<body>
<header>
<div>
<h1>نسخه الکترونیک {e(p.type_label)}</h1>
<p>شماره نسخه: <span class="code" id="prescription-id">{e(p.prescription_id)}</span></p>
<p>کد رهگیری: <span class="code" id="tracking-code">{e(p.tracking)}</span></p>
</div>
<figure id="qr">{qr_svg(p.prescription_id)}</figure>
</header>
<dl>
<dt>تاریخ صدور</dt><dd id="issued">{e(p.issued)}</dd>
<dt>اعتبار تا</dt><dd>{e(p.expires)}</dd>
<dt>بیمار</dt><dd>{e(p.patient)} - کد ملی <span class="code">{e(p.national_code)}</span></dd>
<dt>پزشک</dt><dd>{e(p.prescriber)} - نظام پزشکی {e(fa_digits(p.council_number))}</dd>
<dt>بیمه</dt><dd>{e(p.insurer)}</dd>
</dl>
<table>
<thead><tr><th>ردیف</th><th>شرح</th><th>تعداد</th><th>دستور مصرف</th><th>وضعیت</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
