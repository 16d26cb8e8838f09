"""The user's own page of remembered consents (`/auth/grants`): see them, take them back.

Signing in here needs no app. Forms carry a token derived from the browser's binding
cookie (which pages cannot read), so another site cannot post them for the user.
"""

from __future__ import annotations

import hmac

import jdatetime
from flask import Blueprint, Response, request

from smart_auth.hashing import digest
from smart_auth.i18n import translator
from smart_auth.pages import current_lang, error_page, render, switching_language
from smart_auth.people import digits
from smart_auth.service import SmartAuth
from smart_auth.sessions import BROWSER_COOKIE, browser_binding
from smart_auth.views.authorize import scope_lines
from smart_auth.views.signin import check_sign_in


def register(bp: Blueprint, svc: SmartAuth) -> None:
    pages = GrantsPages(svc)
    bp.add_url_rule("/grants", "grants", pages.show, methods=["GET"])
    bp.add_url_rule("/grants/signin", "grants_signin", pages.signin, methods=["POST"])
    bp.add_url_rule("/grants/revoke", "grants_revoke", pages.revoke, methods=["POST"])


def form_token(binding: str) -> str:
    return digest(f"grants-form:{binding}")


class GrantsPages:
    def __init__(self, svc: SmartAuth) -> None:
        self.svc = svc
        self.prefix = svc.config.auth_prefix

    def show(self, note: str | None = None, status: int = 200) -> Response:
        lang = self._lang()
        session = self.svc.sessions.current(request)
        user = self.svc.user(session.user_id) if session else None
        if user is None:
            return self._signin_page()
        grants = []
        for consent in self.svc.consents.granted(user.user_id):
            client = self.svc.client(consent.client_id)
            since = jdatetime.date.fromtimestamp(consent.granted_at).strftime("%Y/%m/%d")
            grants.append(
                {
                    "client_id": consent.client_id,
                    "app": client.name if client else consent.client_id,
                    "since": digits(since, lang),
                    "lines": scope_lines(consent.scope, lang),
                }
            )
        return render(
            "grants.html",
            lang,
            status,
            title=translator(lang)("grants_title"),
            user_display=user.display,
            grants=grants,
            note=note,
            csrf=form_token(browser_binding()),
            action=f"{self.prefix}/grants/revoke",
        )

    def signin(self) -> Response:
        if not self._form_ok():
            return error_page(self._lang(), "expired", "expired_form", 400)
        username = request.form.get("username", "")
        if switching_language():
            return self._signin_page(username=username)
        result = check_sign_in(self.svc, username, request.form.get("password", ""), self._lang())
        if result.user is None:
            return self._signin_page(result.error, result.error_field, result.status, username)
        self.svc.sessions.start_deferred(result.user.user_id, request.scheme == "https")
        return Response(status=303, headers={"Location": f"{self.prefix}/grants?lang={self._lang()}"})

    def revoke(self) -> Response:
        session = self.svc.sessions.current(request)
        if not self._form_ok() or session is None:
            return error_page(self._lang(), "expired", "expired_form", 400)
        client_id = request.form.get("client_id", "")
        if not self.svc.consents.revoke(session.user_id, client_id):
            return self.show()
        client = self.svc.client(client_id)
        app = client.name if client else client_id
        return self.show(note=translator(self._lang(), isolate=True)("revoked", app=app))

    def _signin_page(
        self, error: str | None = None, field: str | None = None, status: int = 200, username: str = ""
    ) -> Response:
        lang = self._lang()
        return render(
            "signin.html",
            lang,
            status,
            title=translator(lang)("grants_title"),
            csrf=form_token(browser_binding()),
            action=f"{self.prefix}/grants/signin",
            switch_form="main",
            error=error,
            error_field=field,
            username=username,
            enrol_url=f"{self.prefix}/enrol?lang={lang}",
        )

    def _form_ok(self) -> bool:
        binding = request.cookies.get(BROWSER_COOKIE)
        given = request.form.get("csrf", "")
        return bool(binding) and hmac.compare_digest(given, form_token(binding or ""))

    def _lang(self) -> str:
        return current_lang(self.svc.config.default_lang)
