"""Enrolment pages: national code + mobile, one-time code, account (role/workplace) + password."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from smart_auth.enrolment import Enrolment, Outcome
from smart_auth.i18n import translator
from smart_auth.pages import current_lang, message, render
from smart_auth.service import SmartAuth
from smart_auth.sessions import browser_binding

ERROR_STATUS = {"too_many": 429, "locked": 429}


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
        lang = self._lang()
        if request.method == "GET":
            return render("enrol_start.html", lang, action=f"{self.prefix}/enrol")
        outcome = self.enrolment.start(
            request.form.get("national_code", ""),
            request.form.get("mobile", ""),
            request.remote_addr,
            browser_binding(),
            lang,
        )
        if outcome.error:
            return render(
                "enrol_start.html",
                lang,
                ERROR_STATUS.get(outcome.error, 400),
                action=f"{self.prefix}/enrol",
                error=translator(lang)(outcome.error),
            )
        return self._code_page(outcome, note=translator(lang)("code_sent"))

    def verify(self) -> Response:
        outcome = self.enrolment.verify(
            request.form.get("enrolment", ""),
            request.form.get("code", ""),
            request.remote_addr,
            browser_binding(),
        )
        if outcome.error == "expired":
            return message(self._lang(), "error_title", "expired")
        if outcome.error:
            return self._code_page(
                outcome,
                error=translator(self._lang())(outcome.error),
                status=ERROR_STATUS.get(outcome.error, 400),
            )
        return self._account_page(outcome)

    def account(self) -> Response:
        form = {k: request.form.get(k, "") for k in ("account", "username", "password", "password2")}
        outcome = self.enrolment.create_account(
            request.form.get("enrolment", ""), form, request.remote_addr, browser_binding()
        )
        if outcome.error == "expired":
            return message(self._lang(), "error_title", "expired")
        if outcome.error:
            return self._account_page(outcome, error=translator(self._lang())(outcome.error), status=400)
        return message(self._lang(), "enrol_title", "enrolled", status=201)

    def _code_page(self, outcome: Outcome, status: int = 200, **extra: Any) -> Response:
        return render(
            "enrol_code.html",
            self._lang(),
            status,
            resume=f"{self.prefix}/enrol",
            action=f"{self.prefix}/enrol/verify",
            enrolment=outcome.enrolment,
            **extra,
        )

    def _account_page(self, outcome: Outcome, status: int = 200, **extra: Any) -> Response:
        lang = self._lang()
        record = outcome.record or {}
        accounts = [
            {**a, "role_label": self.svc.roles.label(a["role"], lang)} for a in record.get("accounts", [])
        ]
        return render(
            "enrol_account.html",
            lang,
            status,
            resume=f"{self.prefix}/enrol",
            action=f"{self.prefix}/enrol/account",
            enrolment=outcome.enrolment,
            accounts=accounts,
            **extra,
        )

    def _lang(self) -> str:
        return current_lang(self.svc.config.default_lang)
