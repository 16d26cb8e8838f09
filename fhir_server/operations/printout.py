"""$printout: the printable prescription, as an HTML page or a PDF.

`MedicationRequest/[id]/$printout`, `ServiceRequest/[id]/$printout`, or
`[type]/$printout?prescription=ID`; `format=pdf` (or `Accept: application/pdf`) for the
PDF, else HTML. Whoever may read every item of the prescription may print it: the
patient with their own token (patient scope), the prescriber, a pharmacy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from fhir_server.api.context import ctx
from fhir_server.eprescription import items
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.messages import issue
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.printout import NATIONAL_CODE, build, to_html
from fhir_server.eprescription.printout_pdf import to_pdf
from fhir_server.eprescription.store_access import find, read
from fhir_server.outcome import FhirError
from fhir_server.storage.base import StoreSession


def printout_operation(type_: str | None, id_: str | None) -> Response:
    if request.method != "GET":
        raise FhirError(405, [issue("error", "not-supported", "printout-get")])
    with ctx().store.session() as s:
        found = _items(s, type_, id_)
        for item in found:  # 403 unless the token may read each item
            ctx().repo.read(s, item["resourceType"], item["id"])
        printout = build(s, found, load_policy(EPrescriptionConfig().policy_dir), _display, _mother_finder(s))
    name = f"noskhe-{printout.prescription_id}"
    if _wants_pdf():
        headers = {"Content-Disposition": f'inline; filename="{name}.pdf"'}
        return Response(to_pdf(printout), 200, headers, content_type="application/pdf")
    return Response(to_html(printout), 200, content_type="text/html; charset=utf-8")


def _wants_pdf() -> bool:
    fmt = request.args.get("format")
    if fmt:
        if fmt not in ("pdf", "html"):
            raise FhirError(400, [issue("error", "invalid", "printout-format")])
        return fmt == "pdf"
    accept = request.headers.get("Accept", "")
    return "application/pdf" in accept and "text/html" not in accept


def _items(s: StoreSession, type_: str | None, id_: str | None) -> list[dict[str, Any]]:
    if type_ in items.REQUEST_TYPES and id_:
        item = read(s, type_, id_)
        rx = items.group_value(item) if items.is_eprescription(item) and item else None
        if rx is None:
            raise FhirError(404, [issue("error", "not-found", "printout-item-unknown", ref=f"{type_}/{id_}")])
    else:
        rx = request.args.get("prescription")
    if not rx:
        raise FhirError(400, [issue("error", "invalid", "printout-which")])
    repo = ctx().repo
    found = find(repo, s, "MedicationRequest", [("prescription", rx)]) + find(
        repo, s, "ServiceRequest", [("requisition", rx)]
    )
    if not found:
        raise FhirError(404, [issue("error", "not-found", "printout-unknown", rx=rx)])
    return sorted(found, key=lambda i: (i["resourceType"], str(i.get("id"))))


def _mother_finder(s: StoreSession) -> Callable[[str], dict[str, Any] | None]:
    """The Patient with this national code (an infant's mother), looked up by the server:
    the printout names the mother whoever prints it."""

    def find_mother(code: str) -> dict[str, Any] | None:
        found = find(ctx().repo, s, "Patient", [("identifier", f"{NATIONAL_CODE}|{code}")], 2)
        return found[0] if len(found) == 1 else None

    return find_mother


def _display(coding: dict[str, Any]) -> str | None:
    svc = current_app.extensions.get("terminology")
    if svc is None or not coding.get("system") or not coding.get("code"):
        return None
    try:
        return svc.lookup(coding["system"], coding["code"], language="fa").display
    except Exception:  # an unknown code prints as its code
        return None
