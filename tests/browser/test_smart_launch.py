"""The official SMART JS client (npm `fhirclient`) in Chromium: standalone and EHR launches,
each twice in one browser (the second without password or consent), from an app on its
own origin (so every token and FHIR call crosses origins: CORS), and the printout's QR
code read back by a real decoder from a Chromium screenshot."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from fhir_server.cli import main
from fhir_server.demo import SAMPLE_APP_PATH, SAMPLE_CLIENT, SAMPLE_SCOPE
from tests.browser.conftest import EHR_CLIENT, EHR_SECRET, Site, shot
from tests.browser.pages import allow, pick_patient, sign_in
from tests.conftest import free_port

STATIC = Path(__file__).resolve().parents[2] / "fhir_server" / "site" / "static"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def app_origin(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample app served from another origin (a plain static server), registered as such."""
    root = tmp_path_factory.mktemp("app-origin")
    (root / "apps").symlink_to(STATIC / "apps")
    (root / "assets").symlink_to(STATIC)
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Quiet, directory=str(root))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{port}"
    redirects = [f"{site.root}{SAMPLE_APP_PATH}", f"{origin}{SAMPLE_APP_PATH}"]
    client = ["clients", "add", "--data", str(site.data), "--client-id", SAMPLE_CLIENT, "--public"]
    redirect_args = [arg for uri in redirects for arg in ("--redirect-uri", uri)]
    assert main([*client, *redirect_args, "--scope", SAMPLE_SCOPE, "--name", "برنامهٔ نمونه"]) == 0
    yield origin
    httpd.shutdown()


@pytest.fixture(autouse=True)
def first_time(site: Site) -> None:
    """Each test starts as a first launch: the demo doctor has allowed no app yet."""
    main(["grants", "revoke", "--data", str(site.data), "--user", "dr.ahmadi", "--all"])


def auth_posts(page: Page) -> list[str]:
    """Collects the sign-in and consent forms the browser sends from now on."""
    sent: list[str] = []
    forms = ("/auth/signin", "/auth/consent")
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith(forms) else None)
    return sent


def app_shows(page: Page, name: str) -> None:
    page.wait_for_url("**/apps/sample/index.html**")
    expect(page.locator("#patient-name")).to_have_text(name)
    expect(page.locator("#status")).not_to_have_class("error")


def test_standalone_launch_twice(site: Site, app_origin: str, page: Page) -> None:
    page.goto(f"{app_origin}/apps/sample/launch.html?iss={site.base}")
    sign_in(page, "dr.ahmadi")
    shot(page, "picker-empty")
    pick_patient(page, "علی رضایی", "3460")  # two patients share the name: chosen by their code
    consent = page.locator("main")
    expect(consent).to_contain_text("برنامهٔ نمونه")  # the app
    expect(consent).to_contain_text("patient/Patient.rs")  # the scopes
    expect(page.locator("#consent-patient")).to_contain_text("علی رضایی")  # the patient
    shot(page, "consent")
    allow(page)
    app_shows(page, "علی رضایی")
    expect(page.locator("#rx-list > li")).to_have_count(1)  # the demo prescription, read across origins
    expect(page.locator("#rx-list")).to_contain_text("آموکسی‌سیلین")
    shot(page, "sample-app")

    sent = auth_posts(page)
    page.goto(f"{app_origin}/apps/sample/launch.html?iss={site.base}")
    pick_patient(page, "۰۰۱۸۲۴۳۴۶۰", "3460")  # the same browser: the picker once, by national code ...
    app_shows(page, "علی رضایی")  # ... then straight on to the app
    assert sent == []  # no password, no consent


def test_ehr_launch_twice(site: Site, app_origin: str, page: Page) -> None:
    def ehr_launch(patient: str) -> None:
        response = requests.post(
            site.url("/auth/launch"), auth=(EHR_CLIENT, EHR_SECRET), data={"patient": patient}
        )
        assert response.status_code == 201, response.text
        page.goto(f"{app_origin}/apps/sample/launch.html?iss={site.base}&launch={response.json()['launch']}")

    ehr_launch("patient-2")
    sign_in(page, "dr.ahmadi")
    expect(page.locator("#consent-patient")).to_contain_text("زهرا کریمی")  # the EHR's patient, no picker
    allow(page)
    app_shows(page, "زهرا کریمی")
    expect(page.locator("#no-prescriptions")).to_be_visible()

    sent = auth_posts(page)
    ehr_launch("patient-3")
    app_shows(page, "علی رضایی")  # the other علی رضایی, as the EHR said
    assert sent == []  # neither sign-in nor consent


def test_printout_qr_code_scans(site: Site, page: Page) -> None:
    page.goto(f"{site.root}/")
    page.get_by_role("link", name="نسخهٔ نمونه برای چاپ").click()  # the landing page's link
    sign_in(page, "dr.ahmadi")
    pick_patient(page, "0018243460", "3460")
    allow(page)
    printout = page.frame_locator("#printout-frame")
    expect(printout.locator("#tracking-code")).to_be_visible()
    shot(page, "printout")
    rx, tracking = (
        printout.locator("#prescription-id").inner_text(),
        printout.locator("#tracking-code").inner_text(),
    )
    qr = printout.locator("#qr svg")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 160 and box["height"] >= 160  # CSS pixels
    image_path = Path(site.data) / "qr.png"
    qr.screenshot(path=str(image_path))
    found = zxingcpp.read_barcodes(Image.open(image_path))
    assert [(b.text, b.format) for b in found] == [(f"NX1|{rx}|{tracking}", zxingcpp.BarcodeFormat.QRCode)]
