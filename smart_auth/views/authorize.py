"""The authorization endpoint and its pages: sign-in, consent, patient picker.

A valid authorization request is saved as a pending record (bound to the browser by a
cookie) and replayed through Authlib when the user has signed in, picked a patient if
needed, and allowed it. Every step re-validates the whole request.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, Response, request

from smart_auth.audit import auth_event
from smart_auth.hashing import new_secret
from smart_auth.i18n import translator
from smart_auth.models import Approval, User
from smart_auth.pages import current_lang, message, render
from smart_auth.scopes import ScopeSet, split_scope
from smart_auth.service import SmartAuth
from smart_auth.sessions import BROWSER_COOKIE, Session, browser_binding

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
    t = translator(lang)
    lines = []
    parsed = ScopeSet.parse(scope)
    for res in parsed.resources:
        perms = "، ".join(t(f"perm_{p}") for p in "cruds" if p in res.permissions)
        type_ = t("all_types") if res.resource_type == "*" else res.resource_type
        lines.append({"text": f"{type_}: {perms} ({t('level_' + res.level)})", "scope": str(res)})
    for other in parsed.others:
        key = f"scope_{other}"
        text = t(key)
        if text != key:
            lines.append({"text": text, "scope": other})
    return lines


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
        if request.form.get("decision") == "deny":
            return self._finish(tx, pending, None)
        username, password = request.form.get("username", ""), request.form.get("password", "")
        if not self._signin_allowed(username):
            return self._signin_page(tx, pending, error="too_many", status=429)
        user = self.svc.authenticate(username, password)
        self._audit_login(username, user)
        if user is None:
            return self._signin_page(tx, pending, error="bad_credentials", status=401)
        session = self.svc.sessions.start_deferred(user.user_id, self._secure())
        pending["consented"] = True
        self._save(tx, pending)
        return self._next(tx, pending, (user, session))

    def consent(self) -> Response:
        tx, pending = self._pending()
        if pending is None:
            return self._expired()
        if request.form.get("decision") != "allow":
            return self._finish(tx, pending, None)
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
        query = request.args.get("q", "").strip()
        patients = list(self.svc.directory.search_patients(query)) if query else []
        pending["offered"] = [p["id"] for p in patients]
        self._save(tx, pending)
        return render(
            "picker.html", self._lang(), tx=tx, q=query, patients=patients, action=f"{self.prefix}/pick"
        )

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
        return self._signin_page(tx, pending)

    # --- the state machine ------------------------------------------------------------------
    def _next(self, tx: str, pending: Pending, signed_in: tuple[User, Session] | None = None) -> Response:
        user, session = signed_in or self._current_user()
        if user is None or session is None:
            return self._signin_page(tx, pending)
        if self._needs_patient(pending, user):
            location = f"{self.prefix}/pick?tx={tx}&lang={self._lang()}"
            return Response(status=302, headers={"Location": location})
        if not pending.get("consented"):
            return render(
                "consent.html",
                self._lang(),
                resume=f"{self.prefix}/resume?tx={tx}",
                tx=tx,
                action=f"{self.prefix}/consent",
                signout_action=f"{self.prefix}/signout",
                user_display=user.display,
                **self._describe(pending),
            )
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

    # --- helpers ----------------------------------------------------------------------------
    def _current_user(self) -> tuple[User | None, Session | None]:
        session = self.svc.sessions.current(request)
        user = self.svc.user(session.user_id) if session else None
        return user, session

    def _signin_allowed(self, username: str) -> bool:
        cfg = self.svc.config
        return self.svc.limits.allow(
            f"signin-ip:{request.remote_addr}", cfg.signin_limit_per_ip, cfg.signin_window
        ) and self.svc.limits.allow(
            f"signin-user:{username.lower()}", cfg.signin_limit_per_user, cfg.signin_window
        )

    def _audit_login(self, username: str, user: User | None) -> None:
        self.svc.audit.record(
            auth_event(
                "login",
                user is not None,
                username=username,
                fhir_user=user.fhir_user if user else None,
                ip=request.remote_addr,
                detail=None if user else "wrong username or password",
            )
        )

    def _describe(self, pending: Pending) -> dict[str, Any]:
        params = pending["params"]
        client = self.svc.client(params.get("client_id", ""))
        return {
            "app_name": client.name if client else "?",
            "scope_lines": scope_lines(params.get("scope", ""), self._lang()),
        }

    def _signin_page(
        self, tx: str, pending: Pending, error: str | None = None, status: int = 200
    ) -> Response:
        lang = self._lang()
        return render(
            "signin.html",
            lang,
            status,
            resume=f"{self.prefix}/resume?tx={tx}",
            tx=tx,
            error=translator(lang)(error) if error else None,
            action=f"{self.prefix}/signin",
            enrol_url=f"{self.prefix}/enrol?lang={lang}",
            **self._describe(pending),
        )

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
        return message(self._lang(), "error_title", "expired")

    def _error(self, err: OAuth2Error) -> Response:
        if err.redirect_uri:
            return self.svc.server.handle_error_response(None, err)
        return render(
            "message.html",
            self._lang(),
            err.status_code or 400,
            heading=translator(self._lang())("error_title"),
            message=f"{err.error}: {err.description or ''}",
        )
