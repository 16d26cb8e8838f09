"""The bearer-token gate in front of every FHIR call, and the scope check helpers.

Authorization is on by default. Token checking belongs to `smart_auth`: `verify(token)`
returns the token's AccessContext or None. Without a verifier every protected call is
refused with 401, never let through. The verified context is kept on `flask.g` for the
repository/search layers, which call `require()` per interaction and
`Decision.permits()` per resource (entries of a bundle, `_include`s, history).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request

from fhir_server import authorization
from fhir_server.outcome import FhirError, error
from smart_auth.audit import SafeAudit, rest_event
from smart_auth.rest import classify
from smart_auth.scopes import AccessContext, Decision, permission_for

OPEN_PATHS = (
    "/fhir/metadata",
    "/fhir/openapi.json",
    "/fhir/.well-known/smart-configuration",
    "/fhir/.well-known/openid-configuration",
)
TokenVerifier = Callable[[str], AccessContext | None]
AuditSink = Callable[[dict[str, Any]], None]


def _refuse_all(token: str) -> AccessContext | None:
    return None


def _unauthorized(description: str) -> FhirError:
    return FhirError(
        401,
        [error("login", description)],
        {
            "WWW-Authenticate": (
                f'Bearer realm="fhir", error="invalid_token", error_description="{description}"'
            )
        },
    )


def register_auth(
    app: Flask,
    enabled: bool,
    verify: TokenVerifier = _refuse_all,
    audit: AuditSink | None = None,
    fhir_base_path: str = "/fhir",
) -> None:
    app.config["NOSKHE_AUTH_ENABLED"] = enabled
    if audit is not None:
        _register_audit(app, SafeAudit(audit), fhir_base_path)
    if not enabled:
        return

    @app.before_request
    def _require_token() -> None:
        if not request.path.startswith(fhir_base_path) or request.path in OPEN_PATHS:
            return
        if request.method == "OPTIONS":
            return  # CORS preflights carry no token (fhir_server.api.cors answers them)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("A bearer token is required")
        access = verify(token.strip())
        if access is None:
            raise _unauthorized("The token is unknown, expired or revoked")
        g.fhir_access = access
        g.fhir_authorizer_token = authorization.set_for_request(access)

    @app.teardown_request
    def _forget_token(exc: BaseException | None) -> None:
        token = g.pop("fhir_authorizer_token", None)
        if token is not None:
            authorization.reset(token)


def require(interaction: str, resource_type: str) -> Decision:
    """The decision for an interaction on a type (403 when refused); see `fhir_server.authorization`."""
    return authorization.current().require(interaction, resource_type)


def _register_audit(app: Flask, audit: SafeAudit, base: str) -> None:
    @app.after_request
    def _audit_interaction(response: Response) -> Response:
        if not request.path.startswith(base) or request.path in OPEN_PATHS or request.method == "OPTIONS":
            return response
        interaction, resource = classify(
            request.method, request.path, base, lambda: request.get_json(silent=True)
        )
        access: AccessContext | None = g.get("fhir_access")
        audit.record(
            rest_event(
                interaction,
                _permission(interaction),
                status=response.status_code,
                resource=resource,
                query=request.query_string.decode() or None,
                patient=access.patient if access else None,
                client_id=access.client_id if access else None,
                fhir_user=access.fhir_user if access else None,
                ip=request.remote_addr,
            )
        )
        return response


def _permission(interaction: str) -> str:
    try:
        return permission_for(interaction)
    except ValueError:
        return "e"  # operations, transaction, batch: "execute"
