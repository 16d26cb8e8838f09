"""The insurers' and the ministry's adoption dashboard at `/dashboard`.

`/dashboard/` is a small SMART app: it signs the user in through the server's own
authorization (the official JS client, client `noskhe-dashboard`), then asks
`/dashboard/view` with the access token for the month the user picks. The view is
rendered here, with the token's authority: figures from MeasureReports
(`fhir_server.measures`), charts as inline SVG, each with its table. Persian (right to
left) first, English on request; Jalali labels.
"""

from __future__ import annotations

import html
from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request

from fhir_server import authorization
from fhir_server.dashboard.texts import translator
from fhir_server.dashboard.view import Request, render, reports, this_month
from fhir_server.eprescription.store_access import read
from fhir_server.insurance.acting import organizations_of
from fhir_server.insurance.claims import INSURER_SID
from fhir_server.outcome import FhirError
from fhir_server.tehran import Month
from smart_auth.registry import add_client
from smart_auth.scopes import AccessContext

CLIENT_ID = "noskhe-dashboard"
SCOPE = "openid fhirUser online_access user/Measure.rs user/MeasureReport.rs user/Organization.rs"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}


def register_dashboard(app: Flask) -> None:
    bp = Blueprint(
        "dashboard",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/dashboard/assets",
    )

    @bp.get("/dashboard")
    def to_dashboard() -> Response:
        return redirect("/dashboard/")  # type: ignore[return-value]

    @bp.get("/dashboard/")
    def shell() -> Response:
        smart = current_app.extensions["smart_auth"]
        _register_client(smart)
        lang = "en" if request.args.get("lang") == "en" else "fa"
        page = render_template(
            "dashboard.html", t=translator(lang), lang=lang, client_id=CLIENT_ID, iss=smart.urls.fhir_base()
        )
        return Response(page, content_type="text/html; charset=utf-8", headers=HEADERS)

    @bp.get("/dashboard/view")
    def view() -> Response:
        lang = "en" if request.args.get("lang") == "en" else "fa"
        t = translator(lang)
        access = _access()
        if access is None and current_app.config.get("NOSKHE_AUTH_ENABLED", True):
            return _text("401: sign in again (دوباره وارد شوید)", 401)
        try:
            dashboard = _request(access, lang)
        except ValueError as exc:
            return _text(str(exc), 400)
        ctx = current_app.extensions["noskhe"]
        with authorization.acting_as(access):
            try:
                found, as_of = reports(ctx.repo, ctx.store, dashboard)
            except FhirError as exc:
                if exc.status == 403:
                    return _text(t("forbidden"), 403)
                raise
        html = render(found, dashboard, current_app.extensions["terminology"], as_of)
        return Response(html, content_type="text/html; charset=utf-8", headers=HEADERS)

    app.register_blueprint(bp)


def _register_client(smart: Any) -> None:
    """The dashboard's own public client, redirecting back to /dashboard/ of this server."""
    redirect_uri = f"{smart.urls.root()}/dashboard/"
    existing = smart.store.get_client(CLIENT_ID)
    if existing and redirect_uri in existing.get("redirect_uris", ()):
        return
    known = list(existing["redirect_uris"]) if existing else []
    add_client(
        smart.store,
        CLIENT_ID,
        redirect_uris=[*known, redirect_uri],
        scope=SCOPE,
        name="داشبورد مشارکت (Noskhe adoption dashboard)",
    )


def _access() -> AccessContext | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    found: AccessContext | None = current_app.extensions["smart_auth"].verify(token.strip())
    return found


def _request(access: AccessContext | None, lang: str) -> Request:
    text = request.args.get("month")
    month = Month.parse(text) if text else this_month()
    interval = request.args.get("interval") or "day"
    if interval not in ("day", "week", "month"):
        raise ValueError("interval: day, week or month")
    return Request(month, interval, lang, _insurer(access), _name(access))


def _name(access: AccessContext | None) -> str | None:
    """The signed-in person's name (their Practitioner's), else their fhirUser reference."""
    if access is None or not access.fhir_user:
        return None
    type_, _, id_ = access.fhir_user.partition("/")
    ctx = current_app.extensions["noskhe"]
    with ctx.store.session() as s, authorization.as_system():
        person = read(s, type_, id_) or {}
    names = person.get("name") or [{}]
    text = names[0].get("text") or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
    return str(text or access.fhir_user)


def _insurer(access: AccessContext | None) -> str | None:
    """An insurer's staff see their own insurer's claims: its code (NamingSystem insurer)."""
    if access is None or access.role != "insurer" or not access.fhir_user:
        return None
    ctx = current_app.extensions["noskhe"]
    with ctx.store.session() as s, authorization.as_system():
        for ref in organizations_of(ctx.repo, s, access.fhir_user):
            org = read(s, "Organization", ref.partition("/")[2]) or {}
            for ident in org.get("identifier") or []:
                if ident.get("system") == INSURER_SID and ident.get("value"):
                    return str(ident["value"])
    return None


def _text(message: str, status: int) -> Response:
    body = f'<p class="error" role="alert">{html.escape(message)}</p>'
    return Response(body, status, content_type="text/html; charset=utf-8", headers=HEADERS)
