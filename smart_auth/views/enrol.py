"""Enrolment pages: national code + mobile, one-time code, account (role/workplace) + password.

Each step is one form; its language button submits the same form, so switching language
shows the same step with what was typed (passwords are never echoed back into a page).
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Blueprint, Response, request

from smart_auth.enrolment import Enrolment, Outcome
from smart_auth.i18n import translator
from smart_auth.pages import current_lang, error_page, message, render, switching_language
from smart_auth.people import digits
from smart_auth.service import SmartAuth
from smart_auth.sessions import browser_binding

ERROR_STATUS = {"too_many": 429, "locked_today": 429, "too_many_codes": 429, "resend_wait": 429}
ERROR_FIELD = {
    "bad_national_code": "national_code",
    "bad_mobile": "mobile",
    "wrong_code": "code",
    "too_many_codes": "code",
    "bad_username": "username",
    "username_taken": "username",
    "password_mismatch": "password2",
    "password_too_short": "password",
    "password_too_common": "password",
    "password_personal": "password",
}


def register(bp: Blueprint, svc: SmartAuth) -> None:
    pages = EnrolPages(svc)
    bp.add_url_rule("/enrol", "enrol", pages.start, methods=["GET", "POST"])
    bp.add_url_rule("/enrol/verify", "enrol_verify", pages.verify, methods=["POST"])
    bp.add_url_rule("/enrol/account", "enrol_account", pages.account, methods=["POST"])


class EnrolPages:
    def __init__(self, svc: SmartAuth) -> None:
        self.svc = svc
        self.enrolment = Enrolment(svc)
        self.prefix = svc.config.auth_prefix

    def start(self) -> Response:
        typed = {k: request.form.get(k, "")[:40] for k in ("national_code", "mobile")}
        if request.method == "GET" or switching_language():
            return self._start_page(typed)
        outcome = self.enrolment.start(
            typed["national_code"], typed["mobile"], request.remote_addr, browser_binding(), self._lang()
        )
        if outcome.error:
            return self._start_page(typed, outcome)
        return self._code_page(outcome, note=self._t("code_sent"))

    def verify(self) -> Response:
        enrolment, code = request.form.get("enrolment", ""), request.form.get("code", "")[:20]
        browser = browser_binding()
        if switching_language():
            record = self.enrolment.current(enrolment, browser)
            return (
                self._expired() if record is None else self._code_page(Outcome(enrolment, None, record), code)
            )
        if request.form.get("resend"):
            outcome = self.enrolment.resend(enrolment, request.remote_addr, browser, self._lang())
            note = None if outcome.error else self._t("code_resent")
        else:
            outcome = self.enrolment.verify(enrolment, code, request.remote_addr, browser)
            note = None
        if outcome.error == "expired":
            return self._expired()
        if outcome.error:
            return self._code_page(outcome, code, **self._error(outcome))
        if outcome.record and outcome.record["verified"]:
            return self._account_page(outcome)
        return self._code_page(outcome, note=note)

    def account(self) -> Response:
        form = {k: request.form.get(k, "") for k in ("account", "username", "password", "password2")}
        enrolment, browser = request.form.get("enrolment", ""), browser_binding()
        if switching_language():
            record = self.enrolment.current(enrolment, browser)
            if record is None or not record["verified"]:
                return self._expired()
            return self._account_page(Outcome(enrolment, None, record), form)
        outcome = self.enrolment.create_account(enrolment, form, request.remote_addr, browser)
        if outcome.error == "expired":
            return self._expired()
        if outcome.error:
            return self._account_page(outcome, form, **self._error(outcome))
        return message(self._lang(), "enrol_title", "enrolled", status=201)

    # --- pages ----------------------------------------------------------------------------
    def _start_page(self, typed: dict[str, str], outcome: Outcome | None = None) -> Response:
        extra = self._error(outcome) if outcome and outcome.error else {}
        return render(
            "enrol_start.html",
            self._lang(),
            ERROR_STATUS.get(outcome.error or "", 400) if outcome and outcome.error else 200,
            action=f"{self.prefix}/enrol",
            switch_form="main",
            typed=typed,
            **extra,
        )

    def _code_page(self, outcome: Outcome, code: str = "", status: int = 200, **extra: Any) -> Response:
        record = outcome.record or {}
        remaining = max(0, math.ceil(float(record.get("code_expires", 0)) - time.time()))
        return render(
            "enrol_code.html",
            self._lang(),
            extra.pop("error_status", status),
            action=f"{self.prefix}/enrol/verify",
            switch_form="main",
            enrolment=outcome.enrolment,
            code=code,
            remaining=remaining,
            remaining_text=self._clock(remaining),
            **extra,
        )

    def _account_page(self, outcome: Outcome, form: dict[str, str] | None = None, **extra: Any) -> Response:
        lang = self._lang()
        record = outcome.record or {}
        accounts = [
            {**a, "role_label": self.svc.roles.label(a["role"], lang)} for a in record.get("accounts", [])
        ]
        return render(
            "enrol_account.html",
            lang,
            extra.pop("error_status", 200),
            action=f"{self.prefix}/enrol/account",
            switch_form="main",
            enrolment=outcome.enrolment,
            accounts=accounts,
            chosen=(form or {}).get("account", "0"),
            username=(form or {}).get("username", ""),
            **extra,
        )

    def _error(self, outcome: Outcome) -> dict[str, Any]:
        """The error text (with the wait when there is one), the field it belongs to, the status."""
        key = outcome.error or ""
        wait = max(0.0, (outcome.until or 0) - time.time())
        lang = self._lang()
        values = {
            "hours": digits(max(1, math.ceil(wait / 3600)), lang),
            "seconds": digits(math.ceil(wait), lang),
        }
        return {
            "error": translator(lang)(key, **values),
            "error_field": ERROR_FIELD.get(key),
            "error_status": ERROR_STATUS.get(key, 400),
        }

    def _clock(self, seconds: int) -> str:
        return digits(f"{seconds // 60}:{seconds % 60:02d}", self._lang())

    def _expired(self) -> Response:
        return error_page(self._lang(), "expired", "expired_enrolment", 400)

    def _t(self, key: str) -> str:
        return translator(self._lang())(key)

    def _lang(self) -> str:
        return current_lang(self.svc.config.default_lang)
