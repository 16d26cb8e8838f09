"""The bearer-token gate in front of every FHIR call.

Authorization is on by default. Token checking belongs to `smart_auth`; until a token
verifier is wired in, every protected call is refused with 401, never let through.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request

from fhir_server.outcome import FhirError, error

OPEN_PATHS = ("/fhir/metadata", "/fhir/.well-known/smart-configuration")
TokenVerifier = Callable[[str], bool]


def _refuse_all(token: str) -> bool:
    return False


def register_auth(app: Flask, enabled: bool, verify: TokenVerifier = _refuse_all) -> None:
    if not enabled:
        return

    @app.before_request
    def _require_token() -> None:
        if not request.path.startswith("/fhir") or request.path in OPEN_PATHS:
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or not verify(token.strip()):
            raise FhirError(
                401,
                [error("login", "A valid bearer token is required")],
                {"WWW-Authenticate": 'Bearer realm="fhir"'},
            )
