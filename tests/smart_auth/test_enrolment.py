"""Provider enrolment end to end with the file SMS sender; one-time-code brute force locks out."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from auth_testkit import (
    Browser,
    Server,
    auth_params,
    authorize_url,
    edit_records,
    exchange,
    pkce,
    query_of,
    stored_records,
)

from smart_auth.enrolment import mobile_number, national_code
from tests.html_forms import form_with

NC, MOBILE = "0018243460", "09121234567"
NEW_PASSWORD = "Nor-e-Omid-1405"


def outbox(server: Server) -> list[dict[str, str]]:
    path = server.data / "sms-outbox.jsonl"
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def start(browser: Browser, nc: str = NC, mobile: str = MOBILE) -> requests.Response:
    page = browser.open(browser.srv.url("/auth/enrol"))
    form = form_with(page.text, "national_code")
    return browser.submit(page, form, form.buttons[0], national_code=nc, mobile=mobile)


def sent_code(server: Server) -> str:
    found = re.search(r"\d{6}", outbox(server)[-1]["text"])
    assert found
    return found.group(0)


def verify(browser: Browser, page: requests.Response, code: str) -> requests.Response:
    form = form_with(page.text, "code")
    return browser.submit(page, form, form.buttons[0], code=code)


def create_account(browser: Browser, page: requests.Response, **typed: str) -> requests.Response:
    form = form_with(page.text, "username")
    return browser.submit(page, form, form.buttons[0], **typed)


def test_enrolment_end_to_end_then_sign_in(server: Server) -> None:
    browser = Browser(server)
    assert browser.http.get(server.url("/auth/enrol")).status_code == 200
    page = start(browser, "۰۰۱۸۲۴۳۴۶۰", "+98 912 123 4567")  # Persian digits and +98 are fine
    assert page.status_code == 200 and outbox(server)[-1]["to"] == MOBILE
    accounts = verify(browser, page, sent_code(server))
    assert (
        accounts.status_code == 200 and "درمانگاه امید" in accounts.text and "آزمایشگاه نور" in accounts.text
    )
    done = create_account(
        browser, accounts, account="1", username="dr.sara", password=NEW_PASSWORD, password2=NEW_PASSWORD
    )
    assert done.status_code == 201
    user = server.auth.store.find_user("dr.sara")
    assert user and user["role"] == "paraclinic" and user["fhir_user"] == "PractitionerRole/dr1-lab"

    verifier, challenge = pkce()  # and the new account signs in to an app
    fresh = Browser(server, NEW_PASSWORD)
    callback = fresh.authorize(
        authorize_url(server, auth_params(server, challenge, scope="openid fhirUser user/*.rs")), "dr.sara"
    )
    token = exchange(server, query_of(callback)["code"], verifier).json()
    assert "user/ServiceRequest.rs" in token["scope"].split()
    kinds = [e["subtype"][0]["code"] for e in server.audit]
    assert {"otp-sent", "otp-checked", "enrolled", "110122", "token-issued"} <= set(kinds)


def test_code_is_single_use_and_stored_hashed(server: Server) -> None:
    browser = Browser(server)
    page = start(browser)
    code = sent_code(server)
    assert code not in " ".join(stored_records(server, "enrol"))
    assert verify(browser, page, code).status_code == 200
    assert verify(browser, page, code).status_code == 400  # used


def test_unknown_pair_gets_same_answer_but_no_sms(server: Server) -> None:
    browser = Browser(server)
    page = start(browser, NC, "09350000000")
    assert page.status_code == 200 and "enrolment" in page.text
    assert outbox(server) == []
    assert verify(browser, page, "000000").status_code == 400


def expire_codes(server: Server) -> None:
    """The code's lifetime passes."""
    edit_records(server, "enrol", code_expires=0)


def resend(browser: Browser, page: requests.Response) -> requests.Response:
    form = form_with(page.text, "code")
    return browser.submit(page, form, form.button("resend"))


def wrong_code(server: Server) -> str:
    return "999999" if sent_code(server) != "999999" else "888888"


def test_wrong_codes_void_the_code_then_a_new_one_works(server: Server) -> None:
    browser = Browser(server)
    page = start(browser)
    code, wrong = sent_code(server), wrong_code(server)
    statuses = [verify(browser, page, wrong).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]  # the fifth wrong code voids this code
    assert verify(browser, page, code).status_code == 429  # even the right one now
    early = resend(browser, page)
    assert early.status_code == 429 and "ثانیه" in early.text  # a new code once this one has expired
    expire_codes(server)
    again = resend(browser, page)
    assert again.status_code == 200 and len(outbox(server)) == 2
    assert verify(browser, again, sent_code(server)).status_code == 200  # the new code works


def test_wrong_codes_per_pair_per_day(server: Server) -> None:
    browser = Browser(server)
    page = start(browser)
    wrong = wrong_code(server)
    statuses = [verify(browser, page, wrong).status_code for _ in range(4)]
    expire_codes(server)
    page = resend(browser, page)
    statuses += [verify(browser, page, wrong_code(server)).status_code for _ in range(4)]
    expire_codes(server)
    page = resend(browser, page)
    statuses += [verify(browser, page, wrong_code(server)).status_code for _ in range(2)]
    assert statuses == [400] * 9 + [429]  # the tenth wrong code today locks the pair
    assert "ساعت" in verify(browser, page, sent_code(server)).text  # the wait is shown
    refused = start(Browser(server))
    assert refused.status_code == 429 and "ساعت" in refused.text
    lock = server.auth.store.get_record("otp-day-lock", f"{NC}|{MOBILE}")
    assert lock is not None and 0 < lock["until"] - time.time() <= 24 * 3600


def test_someone_who_knows_only_the_national_code_cannot_block_the_owner(server: Server) -> None:
    stranger = Browser(server)
    for mobile in ("09350000001", "09350000002"):  # guessing the mobile
        page = start(stranger, NC, mobile)
        assert page.status_code == 200
        assert [verify(stranger, page, "123456").status_code for _ in range(5)] == [400] * 4 + [429]
    assert [start(stranger, NC, "09350000001").status_code for _ in range(3)] == [200, 200, 429]
    assert outbox(server) == []  # a wrong mobile sends nothing
    owner = Browser(server)
    page = start(owner)
    assert page.status_code == 200 and outbox(server)[-1]["to"] == MOBILE
    assert verify(owner, page, sent_code(server)).status_code == 200  # nothing of the owner's was touched


def test_expired_code_refused(server: Server) -> None:
    browser = Browser(server)
    page = start(browser)
    code = sent_code(server)
    edit_records(server, "enrol", code_expires=0)
    assert verify(browser, page, code).status_code == 400


def test_send_rate_limits_per_pair(server: Server) -> None:
    statuses = [start(Browser(server)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert start(Browser(server), NC, "09121234568").status_code == 200  # another pair is not affected


@pytest.mark.parametrize(
    ("password", "password2", "username", "expected"),
    [
        ("short", "short", "dr.new", "۱۰"),
        ("1234567890", "1234567890", "dr.new", "رایج"),
        (NEW_PASSWORD, "different-one-1", "dr.new", "یکسان"),
        ("dr.new-is-my-pass", "dr.new-is-my-pass", "dr.new", "نام کاربری"),
        (NEW_PASSWORD, NEW_PASSWORD, "root", "گرفته"),
        (NEW_PASSWORD, NEW_PASSWORD, "x", "نام کاربری"),
    ],
)
def test_account_form_checks(
    server: Server, password: str, password2: str, username: str, expected: str
) -> None:
    browser = Browser(server)
    accounts = verify(browser, (page := start(browser)), sent_code(server))
    assert page.ok
    response = create_account(
        browser, accounts, account="0", username=username, password=password, password2=password2
    )
    assert response.status_code == 400 and expected in response.text


def test_english_pages(server: Server) -> None:
    page = Browser(server).http.get(server.url("/auth/enrol?lang=en"))
    assert 'dir="ltr"' in page.text and "National code" in page.text
    assert "<link" not in page.text and "<script" not in page.text  # no external assets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0018243460", "0018243460"),
        ("18243460", "0018243460"),
        ("1234567891", "1234567891"),
        ("1234567890", None),
        ("1111111111", None),
        ("12", None),
    ],
)
def test_national_code_check(text: str, expected: str | None) -> None:
    assert national_code(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09121234567", "09121234567"),
        ("+989121234567", "09121234567"),
        ("00989121234567", "09121234567"),
        ("9121234567", "09121234567"),
        ("۰۹۱۲۱۲۳۴۵۶۷", "09121234567"),
        ("02112345678", None),
    ],
)
def test_mobile_number(text: str, expected: str | None) -> None:
    assert mobile_number(text) == expected
