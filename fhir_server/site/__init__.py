"""The server's own pages: the landing page at `/`, and the sample SMART app at `/apps/sample/`.

The sample app is static (HTML, CSS, JS) and uses the official SMART JS client, vendored
in `static/vendor/fhirclient/` by `scripts/refresh_fhirclient.sh`: nothing is fetched at
run time. Pages are Persian first, with English alongside.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, send_from_directory

STATIC = Path(__file__).parent / "static"
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The sample app shows the printout (inline styles) in an iframe and the PDF as a blob.
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: "
    "blob:; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}


def register_site(app: Flask) -> None:
    bp = Blueprint(
        "site", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
    )

    @bp.get("/")
    def landing() -> Response:
        smart = current_app.extensions["smart_auth"]
        base = smart.urls.fhir_base()
        html = render_template(
            "landing.html",
            base=base,
            auth_on=current_app.config.get("NOSKHE_AUTH_ENABLED", True),
            docs="/docs" if _has_route("/docs") else None,
            sample=f"/apps/sample/launch.html?iss={base}",
        )
        return Response(html, content_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    @bp.get("/apps/sample/")
    def sample_app() -> Response:
        return redirect("/apps/sample/launch.html")  # type: ignore[return-value]

    @bp.get("/apps/sample/<path:name>")
    def sample_file(name: str) -> Response:
        response = send_from_directory(STATIC / "apps" / "sample", name, max_age=300)
        response.headers.update(PAGE_HEADERS)
        return response

    app.register_blueprint(bp)


def _has_route(path: str) -> bool:
    return any(rule.rule == path for rule in current_app.url_map.iter_rules())
