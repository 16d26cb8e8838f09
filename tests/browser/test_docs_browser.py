"""/docs in Chromium: Swagger UI renders the OpenAPI 3.1 document, a vendor signs in with
the demo server's account ("Authorize") and tries a call; nothing leaves the server."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, shot
from tests.browser.pages import allow, sign_in

# Swagger UI writes each expanded tag and operation into the URL (deep linking): clicks do
# not wait for a navigation that never comes. Rendering is slow on a busy machine.
SWAGGER = {"no_wait_after": True, "timeout": 45_000}


def test_docs_render_the_api_and_try_it_signs_in(site: Site, page: Page) -> None:
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(site.root) else None)
    page.goto(site.url("/"))
    page.locator("#docs").click()
    page.wait_for_url("**/docs")
    # the e-prescription document, rendered as OpenAPI 3.1 (Swagger UI 5.x)
    expect(page.locator(".info .title")).to_contain_text("Noskhe FHIR R4 API", timeout=45_000)
    expect(page.locator(".info .title .version-stamp")).to_contain_text("OAS 3.1")
    page.locator("#operations-tag-MedicationRequest").click(**SWAGGER)
    prescribe = page.locator("#operations-MedicationRequest-post-prescribe-type-MedicationRequest")
    expect(prescribe).to_contain_text("/MedicationRequest/$prescribe")
    shot(page, "docs")

    page.locator(".auth-wrapper").get_by_role("button", name="Authorize").click()
    with page.expect_popup() as opened:
        page.locator(".modal-ux").get_by_role("button", name="Apply given OAuth2 credentials").first.click()
    popup = opened.value
    sign_in(popup, "dr.ahmadi")
    allow(popup)
    popup.wait_for_event("close")  # Swagger UI took the code and exchanged it (PKCE)
    page.locator(".modal-ux .close-modal").click()

    page.locator("#operations-tag-Patient").click(**SWAGGER)
    read = page.locator("#operations-Patient-readPatient")
    read.locator(".opblock-summary").click(**SWAGGER)
    read.get_by_role("button", name="Try it out").click(**SWAGGER)
    read.locator("input[placeholder='id']").fill("patient-1")
    read.get_by_role("button", name="Execute").click()
    answer = read.locator(".live-responses-table tbody tr.response").first
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text('"id": "patient-1"')
    shot(page, "docs-try-it")
    assert elsewhere == []  # Swagger UI, the document and the sign-in are all served here
