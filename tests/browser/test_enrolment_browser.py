"""Provider enrolment in Chromium, in Persian and in English, with the code read from the SMS
outbox: a wrong code, the right one, the account; a switch of language mid-way keeps what
was typed; the code's countdown and "send again"; the message after too many wrong codes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from smart_auth.i18n import translator
from tests.browser.conftest import Site, shot
from tests.browser.pages import sign_in

# (national code, mobile) of demo providers who can enrol (fhir_server/demo/resources.json)
PRESCRIBER = ("0451253541", "09121234567")
PHARMACIST = ("6091390996", "09131234567")
LAB = ("9078666617", "09141234567")


def last_code(site: Site, mobile: str) -> str:
    found = re.search(r"\d{6}", [m for m in site.outbox() if m["to"] == mobile][-1]["text"])
    assert found
    return found.group(0)


def start(page: Page, site: Site, who: tuple[str, str], lang: str) -> None:
    t = translator(lang)
    page.goto(site.url(f"/auth/enrol?lang={lang}"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_label(t("national_code"))).to_be_focused()  # autofocus on the first field
    page.get_by_label(t("national_code")).fill(who[0])
    page.get_by_label(t("mobile")).fill(who[1])
    page.get_by_role("button", name=t("send_code")).click()


@pytest.mark.parametrize(
    ("lang", "who", "username"), [("fa", PRESCRIBER, "dr.maryam"), ("en", LAB, "sara.noor")]
)
def test_enrolment_with_the_code_from_the_sms(
    site: Site, page: Page, lang: str, who: tuple[str, str], username: str
) -> None:
    t = translator(lang)
    start(page, site, who, lang)
    code_box = page.get_by_label(t("code"), exact=True)
    expect(code_box).to_be_focused()
    expect(page.locator("#countdown")).to_have_text(re.compile(r"[0-9۰-۹]:[0-9۰-۹]{2}"))  # counting down
    expect(page.get_by_role("button", name=t("resend"))).to_be_disabled()  # until the code expires
    shot(page, f"enrol-code-{lang}")
    code = last_code(site, who[1])
    code_box.fill("999999" if code != "999999" else "888888")
    page.get_by_role("button", name=t("check_code")).click()
    error = page.locator("#code-error")
    expect(error).to_have_text(t("wrong_code"))
    expect(page.get_by_label(t("code"), exact=True)).to_have_attribute("aria-describedby", "code-error")
    page.get_by_label(t("code"), exact=True).fill(code)
    page.get_by_role("button", name=t("check_code")).click()
    expect(page.get_by_label(t("username"))).to_be_focused()
    expect(page.locator("#password-hint")).to_have_text(t("password_rules"))  # before the first try
    shot(page, f"enrol-account-{lang}")
    page.get_by_label(t("username")).fill(username)
    page.get_by_label(t("password"), exact=True).fill("1234567890")
    page.get_by_label(t("password2")).fill("1234567890")
    page.get_by_role("button", name=t("create_account")).click()
    expect(page.locator("#password-error")).to_have_text(t("password_too_common"))
    expect(page.get_by_label(t("username"))).to_have_value(username)  # kept
    page.get_by_label(t("password"), exact=True).fill("Sabz-o-Khorram-1405")
    page.get_by_label(t("password2")).fill("Sabz-o-Khorram-1405")
    page.get_by_role("button", name=t("create_account")).click()
    expect(page.locator("main")).to_contain_text(t("enrolled"))
    # and the new account signs in (the grants page needs no app)
    page.goto(site.url(f"/auth/grants?lang={lang}"))
    sign_in(page, username, "Sabz-o-Khorram-1405", lang)
    expect(page.get_by_role("heading", name=t("grants_title"))).to_be_visible()


def test_switching_language_keeps_the_progress(site: Site, page: Page) -> None:
    fa, en = translator("fa"), translator("en")
    page.goto(site.url("/auth/enrol"))
    page.get_by_label(fa("national_code")).fill(PHARMACIST[0])
    page.get_by_label(fa("mobile")).fill(PHARMACIST[1])
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_label(en("national_code"))).to_have_value(PHARMACIST[0])
    expect(page.get_by_label(en("mobile"))).to_have_value(PHARMACIST[1])
    page.get_by_role("button", name=en("send_code")).click()
    page.get_by_label(en("code"), exact=True).fill("12")
    page.get_by_role("button", name="فارسی").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_label(fa("code"), exact=True)).to_have_value(
        "12"
    )  # the same enrolment, what was typed
    page.get_by_label(fa("code"), exact=True).fill(last_code(site, PHARMACIST[1]))
    page.get_by_role("button", name=fa("check_code")).click()
    expect(page.get_by_label(fa("username"))).to_be_visible()


def test_too_many_wrong_codes_says_what_to_do(site: Site, page: Page) -> None:
    t = translator("fa")
    start(page, site, PHARMACIST, "fa")
    wrong = "999999" if last_code(site, PHARMACIST[1]) != "999999" else "888888"
    for _ in range(5):
        page.get_by_label(t("code"), exact=True).fill(wrong)
        page.get_by_role("button", name=t("check_code")).click()
    expect(page.locator("#code-error")).to_have_text(t("too_many_codes"))
    shot(page, "enrol-locked")
