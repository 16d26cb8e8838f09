"""The authorization endpoint and its pages: sign-in, patient picker, consent.

A valid authorization request is saved as a pending record (bound to the browser by a
cookie) and replayed through Authlib once the user has signed in, picked a patient when
the launch needs one, and allowed the app. Every step re-validates the whole request.

A first launch: sign-in, (picker), consent naming the app, the scopes and the patient.
A returning user with a live session is not asked for the password, and an app asking
for no more than the user allowed before is not shown the consent page again; a launch
that needs a patient shows the picker once, then goes on to the app.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, Response, request

from smart_auth.hashing import new_secret
from smart_auth.i18n import translator
from smart_auth.models import Approval, User
from smart_auth.pages import current_lang, error_page, render, switching_language
from smart_auth.people import describe
from smart_auth.scopes import ScopeSet, split_scope
from smart_auth.service import SmartAuth
from smart_auth.sessions import BROWSER_COOKIE, Session, browser_binding
from smart_auth.views.signin import check_sign_in

Pending = dict[str, Any]


def register(bp: Blueprint, svc: SmartAuth) -> None:
    flow = AuthorizeFlow(svc)
    bp.add_url_rule("/authorize", "authorize", flow.start, methods=["GET", "POST"])
    bp.add_url_rule("/signin", "signin", flow.signin, methods=["POST"])
    bp.add_url_rule("/consent", "consent", flow.consent, methods=["POST"])
    bp.add_url_rule("/pick", "pick", flow.pick, methods=["GET", "POST"])
    bp.add_url_rule("/resume", "resume", flow.resume, methods=["GET"])
    bp.add_url_rule("/signout", "signout", flow.signout, methods=["POST"])


def scope_lines(scope: str, lang: str) -> list[dict[str, str]]:
    """The scopes as people read them: one line per level and permissions, listing the types."""
    t = translator(lang)
    parsed = ScopeSet.parse(scope)
    groups: dict[tuple[str, str], list[Any]] = {}
    for res in parsed.resources:
        groups.setdefault((res.level, "".join(p for p in "cruds" if p in res.permissions)), []).append(res)
    lines = []
    for (level, perms), scopes in groups.items():
        what = "، ".join(t("all_types") if s.resource_type == "*" else s.resource_type for s in scopes)
        verbs = "، ".join(t(f"perm_{p}") for p in perms)
        lines.append(
            {"text": f"{verbs} ({t('level_' + level)}): {what}", "scope": " ".join(map(str, scopes))}
        )
    for other in parsed.others:
        key = f"scope_{other}"
        text = t(key)
        if text != key:
            lines.append({"text": text, "scope": other})
    return lines


def oauth_error_kind(err: OAuth2Error) -> str:
    """Which error page explains an Authlib error (the code stays visible, small)."""
    if err.error == "invalid_request" and "redirect" in (err.description or "").lower():
        return "redirect_uri"
    known = {"invalid_client", "invalid_request", "unauthorized_client", "invalid_scope"}
    if err.error in known:
        return str(err.error)
    return "unauthorized_client" if err.error == "unsupported_response_type" else "server_error"


class AuthorizeFlow:
    def __init__(self, svc: SmartAuth) -> None:
        self.svc = svc
        self.prefix = svc.config.auth_prefix

    # --- entry ------------------------------------------------------------------------------
    def start(self) -> Response:
        try:
            self.svc.server.get_consent_grant(end_user=None)
        except OAuth2Error as err:
            return self._error(err)
        params = {k: request.values[k] for k in request.values}
        pending: Pending = {
            "params": params,
            "browser": browser_binding(),
            "expires_at": time.time() + self.svc.config.pending_ttl,
        }
        tx = new_secret(18)
        self._save(tx, pending)
        return self._next(tx, pending)

    # --- steps ------------------------------------------------------------------------------
    def signin(self) -> Response:
        tx, pending = self._pending()
        if pending is None:
            return self._expired()
        username, password = request.form.get("username", ""), request.form.get("password", "")
        if switching_language():
            return self._signin_page(tx, pending, username=username)
        if request.form.get("decision") == "deny":
            return self._finish(tx, pending, None)
        result = check_sign_in(self.svc, username, password, self._lang())
        if result.user is None:
            return self._signin_page(
                tx, pending, result.error, result.error_field, result.status, username=username
            )
        session = self.svc.sessions.start_deferred(result.user.user_id, self._secure())
        return self._next(tx, pending, (result.user, session))

    def consent(self) -> Response:
        tx, pending = self._pending()
        if pending is None:
            return self._expired()
        if switching_language():
            return self._next(tx, pending)
        user, _ = self._current_user()
        if request.form.get("decision") != "allow":
            return self._finish(tx, pending, None)
        if user is None or pending.get("consent_for") != user.user_id:
            return self._next(tx, pending)  # signed out or another user since the page was shown
        params = pending["params"]
        self.svc.consents.remember(user.user_id, params.get("client_id", ""), params.get("scope", ""))
        pending["consented"] = True
        self._save(tx, pending)
        return self._next(tx, pending)

    def pick(self) -> Response:
        tx, pending = self._pending()
        if pending is None:
            return self._expired()
        if request.method == "POST":
            chosen = request.form.get("patient", "")
            if chosen in pending.get("offered", []):
                pending["patient"] = chosen
                self._save(tx, pending)
            return self._next(tx, pending)
        lang = self._lang()
        query = request.args.get("q", "").strip()[:100]
        found = list(self.svc.directory.search_patients(query)) if query else []
        pending["offered"] = [p["id"] for p in found]
        self._save(tx, pending)
        patients = [describe(p, lang) for p in found]
        return render("picker.html", lang, tx=tx, q=query, patients=patients, action=f"{self.prefix}/pick")

    def resume(self) -> Response:
        tx, pending = self._pending()
        return self._expired() if pending is None else self._next(tx, pending)

    def signout(self) -> Response:
        tx, pending = self._pending()
        self.svc.sessions.end_deferred()
        if pending is None:
            return self._expired()
        pending.pop("consented", None)
        self._save(tx, pending)
        return self._signin_page(tx, pending, signed_out=True)

    # --- the state machine ------------------------------------------------------------------
    def _next(self, tx: str, pending: Pending, signed_in: tuple[User, Session] | None = None) -> Response:
        user, session = signed_in or self._current_user()
        if user is None or session is None:
            return self._signin_page(tx, pending)
        if self._needs_patient(pending, user):
            location = f"{self.prefix}/pick?tx={tx}&lang={self._lang()}"
            return Response(status=302, headers={"Location": location})
        params = pending["params"]
        allowed = pending.get("consented") or self.svc.consents.covers(
            user.user_id, params.get("client_id", ""), params.get("scope", "")
        )
        if not allowed:
            return self._consent_page(tx, pending, user)
        context = self._launch_context(pending, user)
        return self._finish(tx, pending, Approval(user, context, session.key, session.auth_time))

    def _finish(self, tx: str, pending: Pending, approval: Approval | None) -> Response:
        self.svc.store.delete_record("authz", tx)
        try:
            grant = self.svc.server.get_consent_grant(request=pending["params"], end_user=approval)
        except OAuth2Error as err:
            return self._error(err)
        return self.svc.server.create_authorization_response(
            request=grant.request, grant_user=approval, grant=grant
        )

    def _needs_patient(self, pending: Pending, user: User) -> bool:
        scopes = split_scope(pending["params"].get("scope"))
        if "launch/patient" not in scopes or user.patient or pending.get("patient"):
            return False
        return "patient" not in self._ehr_context(pending)

    def _ehr_context(self, pending: Pending) -> dict[str, Any]:
        params = pending["params"]
        if "launch" not in split_scope(params.get("scope")) or not params.get("launch"):
            return {}
        launch = self.svc.launches.get(params["launch"])
        return dict(launch["context"]) if launch else {}

    def _launch_context(self, pending: Pending, user: User) -> dict[str, Any]:
        context = self._ehr_context(pending)
        if user.patient:
            context["patient"] = user.patient  # a patient only ever sees their own record
        elif "patient" not in context and pending.get("patient"):
            context["patient"] = pending["patient"]
        if "patient" in context:
            context.setdefault("need_patient_banner", True)
        return context

    # --- pages ------------------------------------------------------------------------------
    def _consent_page(self, tx: str, pending: Pending, user: User) -> Response:
        lang = self._lang()
        params = pending["params"]
        client = self.svc.client(params.get("client_id", ""))
        allowed = client.get_allowed_scope(params.get("scope")) if client else None
        granted = self.svc.scope_for_user(allowed or "", user)
        if not ScopeSet.parse(granted).resources:
            back = f"{self.prefix}/consent"
            return error_page(lang, "invalid_scope", "invalid_scope", 403, back_action=back, tx=tx)
        pending["consent_for"] = user.user_id
        self._save(tx, pending)
        patient_id = self._launch_context(pending, user).get("patient")
        summary = self.svc.directory.patient(patient_id) if patient_id else None
        return render(
            "consent.html",
            lang,
            resume=f"{self.prefix}/resume?tx={tx}",
            tx=tx,
            action=f"{self.prefix}/consent",
            signout_action=f"{self.prefix}/signout",
            grants_url=f"{self.prefix}/grants?lang={lang}",
            switch_form="main",
            user_display=user.display,
            app_name=client.name if client else "?",
            scope_lines=scope_lines(granted, lang),
            patient=describe(summary, lang) if summary else None,
        )

    def _signin_page(
        self,
        tx: str,
        pending: Pending,
        error: str | None = None,
        error_field: str | None = None,
        status: int = 200,
        username: str = "",
        signed_out: bool = False,
    ) -> Response:
        lang = self._lang()
        client = self.svc.client(pending["params"].get("client_id", ""))
        return render(
            "signin.html",
            lang,
            status,
            resume=f"{self.prefix}/resume?tx={tx}",
            tx=tx,
            error=error,
            error_field=error_field,
            username=username,
            switch_form="main",
            note=translator(lang)("signed_out") if signed_out else None,
            action=f"{self.prefix}/signin",
            enrol_url=f"{self.prefix}/enrol?lang={lang}",
            app_name=client.name if client else "?",
        )

    # --- helpers ----------------------------------------------------------------------------
    def _current_user(self) -> tuple[User | None, Session | None]:
        session = self.svc.sessions.current(request)
        user = self.svc.user(session.user_id) if session else None
        return user, session

    def _pending(self) -> tuple[str, Pending | None]:
        tx = request.values.get("tx", "")
        pending = self.svc.store.get_record("authz", tx) if tx else None
        if pending is None or pending.get("browser") != request.cookies.get(BROWSER_COOKIE):
            return tx, None
        return tx, pending

    def _save(self, tx: str, pending: Pending) -> None:
        self.svc.store.put_record("authz", tx, pending, pending["expires_at"])

    def _secure(self) -> bool:
        return request.scheme == "https"

    def _lang(self) -> str:
        return current_lang(self.svc.config.default_lang)

    def _expired(self) -> Response:
        return error_page(self._lang(), "expired", "expired_request", 400)

    def _error(self, err: OAuth2Error) -> Response:
        if err.redirect_uri:
            return self.svc.server.handle_error_response(None, err)
        return error_page(self._lang(), oauth_error_kind(err), str(err.error), err.status_code or 400)
