"""$printout: the printable prescription, as an HTML page or a PDF.

`MedicationRequest/[id]/$printout`, `ServiceRequest/[id]/$printout`, or
`[type]/$printout?prescription=ID`; `format=pdf` (or `Accept: application/pdf`) for the
PDF, else HTML. Whoever may read every item of the prescription may print it: the
patient with their own token (patient scope), the prescriber, a pharmacy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.eprescription import items
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.messages import issue
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.printout import NATIONAL_CODE, build, to_html
from fhir_server.eprescription.printout_pdf import to_pdf
from fhir_server.eprescription.store_access import find, prescription_items, read
from fhir_server.operations.contract import Content, In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError
from fhir_server.storage.base import StoreSession
from terminology.service import TerminologyService


def printout(req: OperationRequest) -> Content:
    server = req.server
    svc = server.terminology
    with server.store.session() as s:
        found = _items(req, s)
        for item in found:  # 403 unless the token may read each item
            server.repo.read(s, item["resourceType"], item["id"])
        policy = load_policy(EPrescriptionConfig().policy_dir)
        page = build(s, found, policy, lambda c: _display(svc, c), _mother_finder(req, s))
    name = f"noskhe-{page.prescription_id}"
    if _wants_pdf(req):
        headers = {"Content-Disposition": f'inline; filename="{name}.pdf"'}
        return Content(to_pdf(page), "application/pdf", headers)
    return Content(to_html(page).encode(), "text/html; charset=utf-8")


def _wants_pdf(req: OperationRequest) -> bool:
    fmt = req.text("format")
    if fmt:
        if fmt not in ("pdf", "html"):
            raise FhirError(400, [issue("error", "invalid", "printout-format")])
        return fmt == "pdf"
    return "application/pdf" in req.accept and "text/html" not in req.accept


def _items(req: OperationRequest, s: StoreSession) -> list[dict[str, Any]]:
    type_, id_ = req.type, req.id
    if type_ in items.REQUEST_TYPES and id_:
        item = read(s, type_, id_)
        rx = items.group_value(item) if items.is_eprescription(item) and item else None
        if rx is None:
            raise FhirError(404, [issue("error", "not-found", "printout-item-unknown", ref=f"{type_}/{id_}")])
    else:
        rx = req.text("prescription")
    if not rx:
        raise FhirError(400, [issue("error", "invalid", "printout-which")])
    found = prescription_items(req.server.repo, s, rx, by_prescription_id=not id_)
    if not found:
        raise FhirError(404, [issue("error", "not-found", "printout-unknown", rx=rx)])
    return sorted(found, key=lambda i: (i["resourceType"], str(i.get("id"))))


def _mother_finder(req: OperationRequest, s: StoreSession) -> Callable[[str], dict[str, Any] | None]:
    """The Patient with this national code (an infant's mother), looked up by the server:
    the printout names the mother whoever prints it."""

    def find_mother(code: str) -> dict[str, Any] | None:
        found = find(req.server.repo, s, "Patient", [("identifier", f"{NATIONAL_CODE}|{code}")], 2)
        return found[0] if len(found) == 1 else None

    return find_mother


def _display(svc: TerminologyService, coding: dict[str, Any]) -> str | None:
    if not coding.get("system") or not coding.get("code"):
        return None
    try:
        return svc.lookup(coding["system"], coding["code"], language="fa").display
    except Exception:  # an unknown code prints as its code
        return None


OPERATIONS = (
    Operation(
        name="printout",
        title=Text("Printable prescription", "نسخهٔ چاپی"),
        description=Text(
            "The prescription as a printable HTML page or a PDF (format=pdf or Accept: application/pdf), "
            "with Jalali dates and the QR code NX1|<prescription id>|<tracking code>. Whoever may read "
            "every item may print it.",
            "نسخه به صورت صفحهٔ HTML چاپی یا PDF (format=pdf یا Accept: application/pdf)، با تاریخ شمسی و "
            "کد QR به شکل NX1|<شناسهٔ نسخه>|<کد رهگیری>. هر کس بتواند همهٔ اقلام را بخواند، می‌تواند چاپ کند.",
        ),
        levels=("type", "instance"),
        types=("MedicationRequest", "ServiceRequest"),
        methods=("GET",),
        handler=printout,
        output_media=("text/html", "application/pdf"),
        parameters=(
            In("prescription", "string", "The prescription id (at type level)", "شناسهٔ نسخه (در سطح نوع)"),
            In("format", "code", "pdf or html (default html)", "pdf یا html (پیش‌فرض html)"),
            Out("return", "Binary", "The HTML page or the PDF", "صفحهٔ HTML یا فایل PDF", 1),
        ),
    ),
)
