"""Every page people see, in Persian and in English, on a phone (390x844) and a desktop
(1280x800): the right `lang` and `dir`, no sideways scrolling, a label for every field,
errors tied to their fields, and OAuth errors that say what happened in the page's language."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect

from fhir_server.demo import SAMPLE_APP_PATH, SAMPLE_CLIENT
from smart_auth.i18n import translator
from tests.browser.conftest import DESKTOP, PHONE, Site, shot
from tests.browser.pages import sign_in

CHECK = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth + 1) problems.push(`scrolls sideways: ${root.scrollWidth}px`);
  if (!document.querySelector("meta[name=viewport]")) problems.push("no viewport meta");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label");
    if (!labelled) problems.push(`no label: ${el.name}`);
    for (const id of (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)) {
      if (!document.getElementById(id)) problems.push(`${el.name} described by missing #${id}`);
    }
  }
  return {lang: root.lang, dir: root.dir, problems};
}"""


def authorize_url(site: Site, lang: str, **overrides: str) -> str:
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(secrets.token_bytes(32)).digest()).decode().rstrip("=")
    )
    params = {
        "response_type": "code",
        "client_id": SAMPLE_CLIENT,
        "redirect_uri": f"{site.root}{SAMPLE_APP_PATH}",
        "scope": "launch/patient openid fhirUser patient/*.rs",
        "state": secrets.token_hex(8),
        "aud": site.base,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "lang": lang,
        **overrides,
    }
    return f"{site.url('/auth/authorize')}?{urlencode(params)}"


def looks_right(page: Page, name: str, lang: str) -> None:
    result = page.evaluate(CHECK)
    shot(page, f"{name}-{lang}")
    assert (result["lang"], result["dir"]) == (lang, "rtl" if lang == "fa" else "ltr"), name
    assert result["problems"] == [], (name, result["problems"])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_every_page(site: Site, chromium: Browser, lang: str, viewport: dict[str, int]) -> None:
    t = translator(lang)
    context = chromium.new_context(viewport=viewport, locale="fa-IR" if lang == "fa" else "en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    visit: Callable[[str], object] = page.goto
    try:
        visit(site.url("/"))
        looks_right(page, "landing", "fa")  # Persian with English alongside

        visit(authorize_url(site, lang))
        looks_right(page, "signin", lang)
        sign_in(page, "dr.ahmadi", "not-the-password", lang)
        expect(page.locator("#password-error")).to_have_text(t("bad_credentials"))
        expect(page.get_by_label(t("password"), exact=True)).to_have_attribute("aria-invalid", "true")
        looks_right(page, "signin-error", lang)
        sign_in(page, "dr.ahmadi", lang=lang)
        # the click navigates: look once the picker is there, not at a page still loading
        expect(page.get_by_role("heading", name=t("pick_patient"))).to_be_visible()
        looks_right(page, "picker", lang)
        page.get_by_label(t("search")).fill("علی رضایی")
        page.get_by_role("button", name=t("search_button"), exact=True).click()
        expect(page.get_by_role("radio")).to_have_count(2)  # namesakes, told apart by code and birth date
        looks_right(page, "picker-results", lang)
        page.get_by_role("radio").first.check()
        page.get_by_role("button", name=t("choose"), exact=True).click()
        expect(page.get_by_role("heading", name=t("consent_title"))).to_be_visible()
        looks_right(page, "consent", lang)

        for name, overrides, heading in [
            ("error-unknown-client", {"client_id": "no-such-app"}, "err_invalid_client"),
            ("error-redirect", {"redirect_uri": "https://elsewhere.example/cb"}, "err_redirect_uri"),
        ]:
            visit(authorize_url(site, lang, **overrides))
            expect(page.get_by_role("heading", level=1)).to_have_text(t(heading))
            expect(page.locator("main")).to_contain_text(t(f"{heading}_text"))
            looks_right(page, name, lang)

        visit(site.url(f"/auth/enrol?lang={lang}"))
        looks_right(page, "enrol", lang)
        page.get_by_label(t("national_code")).fill("1234567890")  # the check digit is wrong
        page.get_by_label(t("mobile")).fill("09121234567")
        page.get_by_role("button", name=t("send_code")).click()
        expect(page.locator("#national_code-error")).to_have_text(t("bad_national_code"))
        looks_right(page, "enrol-error", lang)

        visit(site.url(f"/auth/grants?lang={lang}"))
        looks_right(page, "grants-signin", lang)
    finally:
        context.close()
