"""The printable prescription: HTML and PDF, Persian right to left, Jalali dates, the
tracking code, and a standard QR code of `NX1|<prescription id>|<tracking code>` that a
real decoder reads from the rendered PDF (the HTML's is read from Chromium in tests/browser)."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from pathlib import Path

import jdatetime
import pytest
import zxingcpp
from PIL import Image

from tests.eprescription.conftest import Api
from tests.eprescription.cycle_helpers import drug, prescriptions, service, submission

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DPI = 300
MM_PER_INCH = 25.4


def jalali_today() -> str:
    return jdatetime.date.fromgregorian(date=date.today()).strftime("%Y/%m/%d").translate(PERSIAN)


def age_today(birth: date) -> int:
    today = date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@pytest.fixture
def clinic_api(api: Api) -> Api:
    """The people of a prescription, admitted at a clinic (the Encounter's serviceProvider)."""
    clinic = {"resourceType": "Organization", "id": "clinic-1", "name": "درمانگاه امید"}
    api.put("Organization/clinic-1", clinic, 201)
    encounter = api.get("Encounter/enc-1")
    api.put("Encounter/enc-1", {**encounter, "serviceProvider": {"reference": "Organization/clinic-1"}})
    return api


def test_html_printout(clinic_api: Api) -> None:
    api = clinic_api
    items = [drug("00077", 20), drug("90043", 30, 2)]
    items[0]["dispenseRequest"]["quantity"]["unit"] = "capsule"
    rx = prescriptions(api.post("MedicationRequest/$prescribe", submission(items), 200))[0]
    page = api.client.get(f"/fhir/MedicationRequest/{rx['items'][0]['id']}/$printout")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    text = page.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in text and '<meta name="viewport"' in text
    # codes typed into software stay ASCII; what people read is in Persian digits
    assert f'id="tracking-code">{rx["trackingCode"]}</span>' in text
    assert f'id="prescription-id">{rx["id"]}</span>' in text
    assert f'<dd id="issued">{jalali_today()}</dd>' in text
    assert '<dd id="clinic">درمانگاه امید</dd>' in text
    assert 'کد ملی <span class="code">0018243460</span>' in text
    assert f"{str(age_today(date(1985, 3, 21))).translate(PERSIAN)} سال - زن" in text
    assert re.search(r'نظام پزشکی\s+<span class="code">123456</span>', text)
    assert "متفورمین" in text  # the generic code's Persian name, from the terminology
    assert "۲۰ کپسول" in text and "(+۲ تکرار)" in text and "مریم احمدی" in text and "تأمین اجتماعی" in text
    assert '<td class="code">00077</td>' in text
    shares = re.findall(r"<td>([۰-۹]+)٪ / ([۰-۹]+)٪</td>", text)  # the insurer's and the patient's shares
    assert len(shares) == 2 and all(int(a) + int(b) == 100 for a, b in (s for s in shares))
    svg = re.search(r'<svg[^>]*width="(\d+)"[^>]*height="(\d+)"', text)
    assert svg and int(svg.group(1)) >= 160 and int(svg.group(2)) >= 160
    assert f"<title>NX1|{rx['id']}|{rx['trackingCode']}</title>" in text
    same = api.client.get(f"/fhir/MedicationRequest/$printout?prescription={rx['id']}")
    assert same.get_data(as_text=True) == text


def test_pdf_printout_qr_decodes(api: Api, tmp_path: Path) -> None:
    rx = prescriptions(api.post("MedicationRequest/$prescribe", submission([service("801005")]), 200))[0]
    pdf = api.client.get(f"/fhir/ServiceRequest/{rx['items'][0]['id']}/$printout?format=pdf")
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF-") and b"Vazirmatn" in pdf.data  # the Persian font, embedded
    (tmp_path / "rx.pdf").write_bytes(pdf.data)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(DPI),
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "rx.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    page = Image.open(next(tmp_path.glob("page*.png")))
    found = zxingcpp.read_barcodes(page)
    assert [b.text for b in found] == [f"NX1|{rx['id']}|{rx['trackingCode']}"]
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode  # a standard QR Code, not Micro QR
    corners = found[0].position
    side_px = abs(corners.top_right.x - corners.top_left.x)  # the symbol, without its quiet zone
    assert side_px * MM_PER_INCH / DPI >= 25
    by_accept = api.client.get(
        f"/fhir/ServiceRequest/$printout?prescription={rx['id']}", headers={"Accept": "application/pdf"}
    )
    assert by_accept.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fa", "نسخه‌ای با شمارهٔ 050901000000000 پیدا نشد"), ("en", "Prescription 050901000000000 is not known")],
)
def test_unknown_prescription_in_the_request_language(api: Api, language: str, expected: str) -> None:
    response = api.client.get(
        "/fhir/MedicationRequest/$printout?prescription=050901000000000",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 404
    assert response.get_json()["issue"][0]["diagnostics"] == expected


def test_printout_needs_a_prescription_and_a_known_format(api: Api) -> None:
    which = api.client.get("/fhir/MedicationRequest/$printout", headers={"Accept-Language": "fa"})
    assert which.status_code == 400 and "نسخه را مشخص کنید" in which.get_json()["issue"][0]["diagnostics"]
    rx = prescriptions(api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200))[0]
    bad = api.client.get(f"/fhir/MedicationRequest/$printout?prescription={rx['id']}&format=docx")
    assert bad.status_code == 400
    gone = api.client.get("/fhir/MedicationRequest/nope/$printout", headers={"Accept-Language": "en"})
    assert gone.status_code == 404 and "MedicationRequest/nope" in gone.get_json()["issue"][0]["diagnostics"]


def test_qr_png_is_a_standard_qr_code_even_for_short_text() -> None:
    from fhir_server.eprescription.printout import qr_png

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png("NX1|1|2"))))
    assert [(b.text, b.format) for b in found] == [("NX1|1|2", zxingcpp.BarcodeFormat.QRCode)]
