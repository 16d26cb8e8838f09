"""The pages as people read them: Persian (or English) error pages that say what happened
and what to do, a language switch that keeps what was typed, labelled fields with their
errors tied to them, a patient picker that tells namesakes apart."""

from __future__ import annotations

import html
import re

import pytest
from auth_testkit import Browser, Server, auth_params, authorize_url, pkce

from tests.html_forms import form_with

ASCII_WORDS = re.compile(r"\\b[A-Za-z]{4,}\\b")


def visible_text(html: str) -> str:
    """The words a person reads: no tags, no code elements, no attribute values."""
    html = re.sub(r"<(style|code)[^>]*>.*?</\\1>", " ", html, flags=re.S)
    html = re.sub(r'<[^>]+lang="en"[^>]*>.*?</[a-z]+>', " ", html, flags=re.S)  # the language link
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("overrides", "heading_fa", "heading_en", "code"),
    [
        (
            {"client_id": "no-such-app"},
            "این برنامه در نسخه ثبت نشده است",
            "This app is not registered",
            "invalid_client",
        ),
        (
            {"redirect_uri": "https://evil.example/cb"},
            "نشانی بازگشت این برنامه ثبت نشده است",
            "This app's return address is not registered",
            "invalid_request",
        ),
        (
            {"client_id": None},
            "این برنامه در نسخه ثبت نشده است",
            "This app is not registered",
            "invalid_client",
        ),
    ],
)
def test_oauth_errors_are_pages_people_can_act_on(
    server: Server, overrides: dict[str, str | None], heading_fa: str, heading_en: str, code: str
) -> None:
    _, challenge = pkce()
    params = auth_params(server, challenge, **overrides)
    fa = Browser(server).open(authorize_url(server, params))
    assert fa.status_code in (400, 401) and "Location" not in fa.headers  # never sent to an unknown place
    assert 'lang="fa" dir="rtl"' in fa.text and f"<h1>{heading_fa}</h1>" in fa.text
    assert f"<code>{code}</code>" in fa.text  # the technical code, small underneath
    assert not ASCII_WORDS.findall(visible_text(fa.text)), ASCII_WORDS.findall(visible_text(fa.text))
    en = Browser(server).open(authorize_url(server, {**params, "lang": "en"}))
    assert 'lang="en" dir="ltr"' in en.text and f"<h1>{heading_en}</h1>" in html.unescape(en.text)


def test_expired_or_replayed_forms_get_a_clear_page(server: Server) -> None:
    browser = Browser(server)
    _, challenge = pkce()
    page = browser.open(authorize_url(server, auth_params(server, challenge)))
    assert browser.sign_in(page, "maryam").status_code == 200  # the consent page
    replay = browser.sign_in(page, "maryam")  # the same sign-in form again: still fine (same tx)
    consent = browser.consent(replay)
    assert consent.status_code == 302
    again = browser.consent(replay)  # a consent already used
    assert again.status_code == 400 and "این صفحه منقضی شده است" in again.text
    missing = browser.http.post(server.url("/auth/consent"), data={"decision": "allow"})
    assert missing.status_code == 400 and "<code>expired_request</code>" in missing.text


def test_language_switch_keeps_what_was_typed(server: Server) -> None:
    browser = Browser(server)
    page = browser.open(server.url("/auth/enrol"))
    form = form_with(page.text, "national_code")
    switched = browser.submit(
        page, form, form.button("switch_lang", "en"), national_code="0018243460", mobile="09121234567"
    )
    assert switched.status_code == 200 and 'lang="en"' in switched.text
    typed = form_with(switched.text, "national_code").fields
    assert typed["national_code"] == "0018243460" and typed["mobile"] == "09121234567"
    code_page = browser.submit(switched, form_with(switched.text, "national_code"), None)
    form = form_with(code_page.text, "code")
    back = browser.submit(code_page, form, form.button("switch_lang", "fa"), code="12")
    assert 'lang="fa"' in back.text and form_with(back.text, "code").fields["code"] == "12"
    assert form_with(back.text, "code").fields["enrolment"] == form.fields["enrolment"]  # same enrolment
    _, challenge = pkce()
    signin = browser.open(authorize_url(server, auth_params(server, challenge)))
    form = form_with(signin.text, "password")
    switched = browser.submit(signin, form, form.button("switch_lang", "en"), username="maryam")
    assert form_with(switched.text, "password").fields["username"] == "maryam"
    assert 'value="' + "Kh0sh" not in switched.text  # a password is never echoed back


def test_fields_are_labelled_and_errors_tied_to_them(server: Server) -> None:
    browser = Browser(server)
    page = browser.open(server.url("/auth/enrol"))
    form = form_with(page.text, "national_code")
    bad = browser.submit(page, form, form.buttons[0], national_code="1234567890", mobile="09121234567")
    assert bad.status_code == 400
    assert re.search(
        r'<input id="national_code"[^>]*aria-describedby="national_code-hint national_code-error"', bad.text
    )
    assert 'aria-invalid="true"' in bad.text and 'id="national_code-error" role="alert"' in bad.text
    for text in (page.text, bad.text):
        ids = set(re.findall(r'<input id="([^"]+)"', text))
        labels = set(re.findall(r'<label for="([^"]+)"', text))
        assert ids and ids <= labels


def test_picker_tells_namesakes_apart(server: Server) -> None:
    browser = Browser(server)
    _, challenge = pkce()
    response = browser.sign_in(
        browser.open(authorize_url(server, auth_params(server, challenge))), "dr.karimi"
    )
    page = browser.follow(response)
    results = browser.submit(page, form_with(page.text, "q"), None, q="مریم")
    text = results.text
    assert "مریم احمدی" in text and "••••••3460" in text and "0018243460" not in text
    assert "۱۳۶۴/۰۱/۰۱ (" in text and "سال)" in text and "زن" in text  # Jalali birth date with age, sex


def test_scopes_the_role_cannot_grant_get_a_page_and_a_way_back(server: Server) -> None:
    browser = Browser(server)
    _, challenge = pkce()
    params = auth_params(server, challenge, scope="openid user/Observation.rs")  # a patient's role cannot
    page = browser.sign_in(browser.open(authorize_url(server, params)), "maryam")
    assert page.status_code == 403 and "<h1>حساب شما نمی‌تواند این دسترسی‌ها را بدهد</h1>" in page.text
    assert "<code>invalid_scope</code>" in page.text
    back = form_with(page.text, "decision")
    answer = browser.submit(page, back, back.button("decision", "deny"))
    assert answer.status_code == 302 and "error=access_denied" in answer.headers["Location"]
