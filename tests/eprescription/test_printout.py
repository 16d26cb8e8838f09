"""The printable prescription: HTML and PDF, Persian right to left, Jalali dates, the
tracking code and a QR code of the prescription id."""

from __future__ import annotations

from datetime import date

import jdatetime
import segno

from fhir_server.eprescription.printout import fa_digits
from tests.eprescription.conftest import Api
from tests.eprescription.cycle_helpers import drug, prescriptions, service, submission


def jalali_today() -> str:
    return fa_digits(jdatetime.date.fromgregorian(date=date.today()).strftime("%Y/%m/%d"))


def test_html_printout(api: Api) -> None:
    rx = prescriptions(
        api.post("MedicationRequest/$prescribe", submission([drug("00077", 20), drug("90043", 30, 2)]), 200)
    )[0]
    page = api.client.get(f"/fhir/MedicationRequest/{rx['items'][0]['id']}/$printout")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    text = page.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in text
    assert f'<span class="code" id="tracking-code">{rx["trackingCode"]}</span>' in text
    assert f'<span class="code" id="prescription-id">{rx["id"]}</span>' in text
    assert f'<dd id="issued">{jalali_today()}</dd>' in text
    assert "متفورمین" in text  # the generic code's Persian name, from the terminology
    assert "(+۲ تکرار)" in text and "مریم احمدی" in text and "تأمین اجتماعی" in text
    qr = segno.make(rx["id"], error="m")
    assert qr.svg_inline(scale=4, title="QR") in text  # the QR code encodes the prescription id
    same = api.client.get(f"/fhir/MedicationRequest/$printout?prescription={rx['id']}")
    assert same.get_data(as_text=True) == text


def test_pdf_printout(api: Api) -> None:
    rx = prescriptions(api.post("MedicationRequest/$prescribe", submission([service("801005")]), 200))[0]
    pdf = api.client.get(f"/fhir/ServiceRequest/{rx['items'][0]['id']}/$printout?format=pdf")
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf"
    body = pdf.data
    assert body.startswith(b"%PDF-") and b"Vazirmatn" in body  # the Persian font, embedded
    assert b"/Subtype /Image" in body  # the QR code
    by_accept = api.client.get(
        f"/fhir/ServiceRequest/$printout?prescription={rx['id']}", headers={"Accept": "application/pdf"}
    )
    assert by_accept.content_type == "application/pdf"


def test_printout_of_an_unknown_prescription(api: Api) -> None:
    api.get("MedicationRequest/$printout?prescription=050901000000000", 404)
    api.get("MedicationRequest/$printout", 400)
