"""The adoption dashboard in Chromium: an insurer's reviewer opens `/dashboard`, signs in
through the server's own SMART authorization (the official JS client), and reads the
figures of data this test wrote: prescriptions, items, the paper share, adoption by
province, the top drugs, its own claims and the reasons for reductions; in Persian
(RTL, Persian digits) and in English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings
from tests.browser.conftest import shot
from tests.browser.pages import allow, sign_in
from tests.conftest import FHIR_JSON, RunningServer
from tests.eprescription.cycle_helpers import dispense, drug, people, prescriptions, submission
from tests.insurance.conftest import org, paper

PASSWORD = "Dashboard-Bimeh-1405"
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def write(client: Any, method: str, path: str, body: Any) -> Any:
    r = client.open(f"/fhir/{path}", method=method, json=body, headers=FHIR_JSON)
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    return r.get_json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Two pharmacies in two provinces, TAMIN, a reviewer; two prescriptions (one on
    paper), three drug items, one dispense claimed and reduced by the rules."""
    data = tmp_path_factory.mktemp("dashboard")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOSKHE_ACCEPT_UNSIGNED", "1")
        client = create_app(Settings(data_dir=data, auth=False)).test_client()
        starting = [r for r in people() if r["resourceType"] not in ("Organization", "PractitionerRole")]
        world = [
            org("clinic-1", "clinic", "28"),
            {
                "resourceType": "PractitionerRole",
                "id": "role-1",
                "practitioner": {"reference": "Practitioner/dr-1"},
                "organization": {"reference": "Organization/clinic-1"},
                "code": [{"coding": [{"code": "clinic"}]}],
            },
            org("pharmacy-1", "pharmacy", "28"),
            org("pharmacy-2", "pharmacy", "12"),
            org("ins-tamin", "insurer", insurer="TAMIN"),
            {"resourceType": "Practitioner", "id": "rev-1", "name": [{"text": "کارشناس رسیدگی"}]},
            {
                "resourceType": "PractitionerRole",
                "id": "rev-1-at-ins-tamin",
                "practitioner": {"reference": "Practitioner/rev-1"},
                "organization": {"reference": "Organization/ins-tamin"},
            },
        ]
        for r in starting:
            if r["resourceType"] == "Encounter":  # the visit at the clinic (its province)
                r["serviceProvider"] = {"reference": "Organization/clinic-1"}
        for r in [*starting, *world]:
            write(client, "PUT", f"{r['resourceType']}/{r['id']}", r)
        rx = write(
            client,
            "POST",
            "MedicationRequest/$prescribe",
            submission([drug("00077", 30, repeats=1), drug("90043", 30)]),
        )
        amoxicillin = prescriptions(rx)[0]["items"][0]
        given = write(client, "POST", "MedicationDispense", dispense(amoxicillin, 40))  # TAMIN pays 30
        write(client, "POST", f"MedicationDispense/{given['id']}/$claim", {})
        write(client, "POST", "MedicationDispense/$record-paper", paper())
    user = ["users", "add", "--data", str(data), "--username", "bimeh", "--password", PASSWORD]
    assert main([*user, "--role", "insurer", "--fhir-user", "Practitioner/rev-1"]) == 0
    srv = RunningServer(data, workers=1)
    yield srv
    srv.stop()


def test_an_insurer_signs_in_and_reads_the_figures(server: RunningServer, page: Page) -> None:
    root = f"http://127.0.0.1:{server.port}"
    page.goto(f"{root}/dashboard")
    sign_in(page, "bimeh", PASSWORD)
    allow(page)  # the dashboard asks aggregates only (Measure, MeasureReport, Organization)
    page.wait_for_url(f"{root}/dashboard/**")
    expect(page.locator("#kpi-prescriptions")).to_have_text("2".translate(FA_DIGITS))  # one e-, one paper
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".who")).to_contain_text("کارشناس رسیدگی")  # the reviewer's name
    expect(page.locator("#kpi-items")).to_have_text("3".translate(FA_DIGITS))
    expect(page.locator("#kpi-paper")).to_contain_text("۵۰")  # one of the two on paper
    expect(page.locator("#adoption-pharmacies")).to_contain_text("۵۰")  # pharmacy-1 of the two
    expect(page.locator("#adoption-prescribers")).to_contain_text("۱۰۰")  # the one doctor
    expect(page.locator("#best li").first).to_contain_text("تهران")  # the clinic's and pharmacy-1's
    claims = page.locator("#claims-table")
    expect(claims.get_by_role("row", name="ارسال‌شده")).to_contain_text("۱")
    expect(claims.get_by_role("row", name="با کسور")).to_contain_text("۱")
    reasons = page.locator("#reasons-table")
    expect(reasons).to_contain_text("بیش از سقف تعداد مجاز بیمه")
    expect(page.locator("svg#claims")).to_be_visible()
    expect(page.locator("svg#drugs")).to_be_visible()
    shot(page, "dashboard-insurer-fa")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#kpi-prescriptions")).to_have_text("2")
    expect(page.locator("#claims-table").get_by_role("row", name="reduced")).to_contain_text("1")
    expect(page.locator("#reasons-table")).to_contain_text("Above the insurer's maximum quantity")
    shot(page, "dashboard-insurer-en")
    page.get_by_label("By", exact=True).select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#interval")).to_have_value("week")
    expect(page.locator("#status")).not_to_have_class("error")
