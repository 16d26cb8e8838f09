"""Machine endpoints: token, introspection, revocation, JWKS, EHR launch, discovery."""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, Response, request

from smart_auth import discovery
from smart_auth.service import SmartAuth

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
LAUNCHER_AUTH = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


def register(bp: Blueprint, svc: SmartAuth) -> None:
    server = svc.server

    # CORS for these machine endpoints is the app's (fhir_server.api.cors): browser apps call them.
    @bp.post("/token")
    def token() -> Response:
        return server.create_token_response()

    @bp.post("/introspect")
    def introspect() -> Response:
        return server.create_endpoint_response("introspection")

    @bp.post("/revoke")
    def revoke() -> Response:
        return server.create_endpoint_response("revocation")

    @bp.post("/register")
    def register_client() -> Response:
        return server.create_endpoint_response("client_registration")

    @bp.get("/jwks")
    def jwks() -> Response:
        return Response(
            json.dumps(svc.keys.public_jwks()),
            content_type="application/json",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @bp.post("/launch")
    def launch() -> Response:
        return _create_launch(svc)


def _create_launch(svc: SmartAuth) -> Response:
    """An EHR (a client registered as launcher) registers the patient/encounter of a launch."""
    oauth_request = svc.server.create_oauth2_request(None)
    try:
        client = svc.server.authenticate_client(oauth_request, LAUNCHER_AUTH, "launch")
    except OAuth2Error as err:
        return svc.server.handle_error_response(oauth_request, err)
    if not client.ehr_launcher:
        return _json({"error": "unauthorized_client", "error_description": "not an EHR launcher"}, 403)
    body = request.get_json(silent=True) or request.form
    launch_id = svc.create_launch(
        client.client_id,
        patient=body.get("patient"),
        encounter=body.get("encounter"),
        need_patient_banner=str(body.get("need_patient_banner", "false")).lower() == "true",
    )
    return _json({"launch": launch_id, "expires_in": svc.config.launch_ttl}, 201)


def discovery_blueprint(svc: SmartAuth) -> Blueprint:
    """Mounted at the FHIR base path: `.well-known/smart-configuration` (and OpenID's)."""
    bp = Blueprint("smart_discovery", __name__, url_prefix=svc.config.fhir_base_path)

    @bp.get("/.well-known/smart-configuration")
    def smart_configuration() -> Response:
        return Response(
            json.dumps(discovery.smart_configuration(svc.urls)),
            content_type="application/json",
        )

    @bp.get("/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        return Response(
            json.dumps(discovery.openid_configuration(svc.urls)),
            content_type="application/json",
        )

    return bp
