"""Server-rendered pages: Persian (RTL) by default, English on request, no external assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Response, request
from jinja2 import Environment, FileSystemLoader, select_autoescape

from smart_auth.i18n import DIRECTION, LANGS, translator

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(default=True)
)


def current_lang(default: str) -> str:
    """The page language: a language switch, else the form's or the URL's, else the cookie's."""
    lang = (
        request.form.get("switch_lang")
        or request.values.get("lang")
        or request.cookies.get("noskhe_lang")
        or default
    )
    return lang if lang in LANGS else default


def switching_language() -> bool:
    """The language button of a form page was pressed: show the same step in the other language."""
    return request.method == "POST" and request.form.get("switch_lang") in LANGS


def _switch_url(lang: str, resume: str | None) -> str:
    other = LANGS[1] if lang == LANGS[0] else LANGS[0]
    if request.method == "GET":
        args = request.args.to_dict()
        args["lang"] = other
        return f"{request.path}?{urlencode(args)}"
    return (
        f"{resume}{'&' if '?' in resume else '?'}lang={other}" if resume else f"{request.path}?lang={other}"
    )


def render(name: str, lang: str, status: int = 200, resume: str | None = None, **context: Any) -> Response:
    """A page; with `switch_form=ID` the language button submits that form (what was typed stays)."""
    html = _env.get_template(name).render(
        t=translator(lang, isolate=True),
        lang=lang,
        dir=DIRECTION[lang],
        other_lang=LANGS[1] if lang == LANGS[0] else LANGS[0],
        other_lang_url=_switch_url(lang, resume),
        **context,
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(SECURITY_HEADERS)
    response.set_cookie("noskhe_lang", lang, samesite="Lax", httponly=True)
    return response


def message(lang: str, heading_key: str, message_key: str, status: int = 400, **values: str) -> Response:
    t = translator(lang)
    return render("message.html", lang, status, heading=t(heading_key), message=t(message_key, **values))


def error_page(lang: str, kind: str, code: str, status: int = 400, **context: Any) -> Response:
    """An error people can act on: what happened and what to do, the technical code small below."""
    t = translator(lang)
    heading, text = t(f"err_{kind}"), t(f"err_{kind}_text")
    return render("message.html", lang, status, heading=heading, message=text, code=code, **context)
