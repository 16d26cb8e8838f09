"""The server's own pages: the landing page at `/`, the interactive API documentation at
`/docs` (Swagger UI over `/fhir/openapi.json`), and the sample SMART app at `/apps/sample/`.

The sample app is static (HTML, CSS, JS) and uses the official SMART JS client, vendored
in `static/vendor/fhirclient/` by `scripts/refresh_fhirclient.sh`: nothing is fetched at
run time. Swagger UI (5.x: it renders OpenAPI 3.1) is the `dist/` folder the PyPI package
flask-swagger-ui ships, served from where it is installed. Pages are Persian first, with
English alongside.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, send_from_directory

from fhir_server.demo import DOCS_CLIENT, DOCS_SCOPE
from fhir_server.openapi import EPRESCRIPTION_TYPES

STATIC = Path(__file__).parent / "static"
SWAGGER_UI = Path(str(files("flask_swagger_ui") / "dist"))
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
            docs="/docs",
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

    _register_docs(bp)
    app.register_blueprint(bp)


def _register_docs(bp: Blueprint) -> None:
    @bp.get("/docs")
    def docs() -> Response:
        smart = current_app.extensions["smart_auth"]
        base = smart.urls.fhir_base()
        # "Try it out" signs in with the demo server's public client when it is registered
        sign_in = (
            current_app.config.get("NOSKHE_AUTH_ENABLED", True) and smart.client(DOCS_CLIENT) is not None
        )
        config = {
            "documents": _documents(urlsplit(base).path),  # same origin as the page
            "client": DOCS_CLIENT if sign_in else None,
            "scopes": DOCS_SCOPE,
            "aud": base,
        }
        html = render_template("docs.html", config=config, demo=sign_in)
        return Response(html, content_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    def _documents(path: str) -> list[dict[str, str]]:
        types = ",".join(
            t for t in EPRESCRIPTION_TYPES if t in current_app.extensions["noskhe"].resource_types
        )
        return [
            {"name": "E-prescription types — نسخهٔ الکترونیک", "url": f"{path}/openapi.json?_type={types}"},
            {"name": "All resource types — همهٔ انواع منابع", "url": f"{path}/openapi.json"},
        ]

    @bp.get("/docs/<name>")
    def docs_file(name: str) -> Response:
        folder = STATIC / "docs" if name.startswith("page.") else SWAGGER_UI
        response = send_from_directory(folder, name, max_age=3600)
        response.headers.update(PAGE_HEADERS)
        return response
