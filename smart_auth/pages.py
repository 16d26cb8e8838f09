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
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(default=True)
)


def current_lang(default: str) -> str:
    lang = request.values.get("lang") or request.cookies.get("noskhe_lang") or default
    return lang if lang in LANGS else default


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
    html = _env.get_template(name).render(
        t=translator(lang),
        lang=lang,
        dir=DIRECTION[lang],
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
