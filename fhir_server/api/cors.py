"""CORS for what browser apps call: the FHIR API, discovery, JWKS and the OAuth endpoints.

Browser SMART apps (the official JS client) call the FHIR API and the token endpoint
from their own origin with bearer tokens, never cookies: so any origin may call by
default (`NOSKHE_CORS_ORIGINS`, default `*`) and credentials are never allowed. The
sign-in, consent and enrolment pages use cookies and stay same-origin: no CORS there.
Preflights (OPTIONS) are answered without a token (`fhir_server.api.auth` lets them by).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from flask_cors import CORS

# What a FHIR client sends (conditional and versioned writes, Prefer, idempotency).
ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "If-Match",
    "If-None-Match",
    "If-None-Exist",
    "If-Modified-Since",
    "Prefer",
    "Idempotency-Key",
)
# What a FHIR client reads from a response (created resource, versions, async jobs, 401s).
EXPOSE_HEADERS = (
    "Location",
    "ETag",
    "Last-Modified",
    "Content-Location",
    "WWW-Authenticate",
    "X-Progress",
    "Retry-After",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
AUTH_ENDPOINTS = ("token", "introspect", "revoke", "register", "jwks")


def parse_origins(text: str | None) -> list[str] | str:
    """`NOSKHE_CORS_ORIGINS`: `*` (the default) or origins separated by commas or spaces."""
    origins = [o.strip().rstrip("/") for o in (text or "*").replace(",", " ").split() if o.strip()]
    return "*" if not origins or "*" in origins else origins


def register_cors(
    app: Flask, origins: Sequence[str] | str, fhir_base_path: str = "/fhir", auth_prefix: str = "/auth"
) -> None:
    paths = [rf"{fhir_base_path}/*", *(rf"{auth_prefix}/{name}" for name in AUTH_ENDPOINTS)]
    CORS(
        app,
        resources={path: {} for path in paths},
        origins=origins,
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        methods=list(METHODS),
        supports_credentials=False,
        send_wildcard=True,  # `*` stays `*`: never an echo of whatever origin asked
        max_age=600,
        vary_header=True,
    )
