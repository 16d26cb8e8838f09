"""What a person does on Noskhe's pages, found by their labels and button names in either language."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fhir_server.demo import DEMO_PASSWORD
from smart_auth.i18n import translator


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD, lang: str = "fa") -> None:
    t = translator(lang)
    expect(page.get_by_role("heading", name=t("signin_title"))).to_be_visible()
    page.get_by_label(t("username")).fill(username)
    page.get_by_label(t("password"), exact=True).fill(password)
    page.get_by_role("button", name=t("signin"), exact=True).click()


def pick_patient(page: Page, query: str, code_suffix: str, lang: str = "fa") -> None:
    """Search, then choose the match whose national code ends with `code_suffix`."""
    t = translator(lang)
    expect(page.get_by_role("heading", name=t("pick_patient"))).to_be_visible()
    page.get_by_label(t("search")).fill(query)
    page.get_by_role("button", name=t("search_button"), exact=True).click()
    page.get_by_role("radio", name=re.compile(re.escape(code_suffix))).check()
    page.get_by_role("button", name=t("choose"), exact=True).click()


def allow(page: Page, lang: str = "fa") -> None:
    t = translator(lang)
    expect(page.get_by_role("heading", name=t("consent_title"))).to_be_visible()
    page.get_by_role("button", name=t("allow"), exact=True).click()
