"""Authlib's Flask AuthorizationServer, composed for SMART by registration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import (
    FlaskJsonPayload,
    FlaskJsonRequest,
    FlaskOAuth2Payload,
    FlaskOAuth2Request,
)
from authlib.oauth2.rfc6749 import InvalidScopeError, JsonRequest, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Request
from flask import request as flask_request

from smart_auth.models import Client
from smart_auth.oauth.client_assertion import PrivateKeyJWT
from smart_auth.oauth.context_checks import AudienceCheck, LaunchCheck
from smart_auth.oauth.endpoints import SmartIntrospectionEndpoint, SmartRevocationEndpoint
from smart_auth.oauth.grants import BackendServicesGrant, SmartAuthorizationCodeGrant, SmartRefreshTokenGrant
from smart_auth.oauth.openid import SmartOpenIDCode
from smart_auth.oauth.pkce import S256CodeChallenge
from smart_auth.oauth.registration import SmartRegistrationEndpoint
from smart_auth.scopes import ScopeError, ScopeSet

if TYPE_CHECKING:
    from smart_auth.service import SmartAuth


class StoredAuthorizationRequest(OAuth2Request):
    """An authorization request replayed from the parameters saved at its first step."""

    def __init__(self, params: dict[str, str], uri: str) -> None:
        super().__init__("GET", uri, headers={})
        self.payload = BasicOAuth2Payload(params)
        self._params = params

    @property
    def args(self) -> dict[str, str]:
        return self._params

    @property
    def form(self) -> dict[str, str]:
        return {}


def public_uri(root: str, request: Request) -> str:
    """The request's URL on the configured public root: the Host header is not trusted."""
    query = request.query_string.decode("latin-1")
    return f"{root}{request.path}" + (f"?{query}" if query else "")


class PublicOAuth2Request(FlaskOAuth2Request):
    """Flask's OAuth2 request with its URI on the public root (checked for https by Authlib)."""

    def __init__(self, request: Request, root: str) -> None:
        OAuth2Request.__init__(self, request.method, public_uri(root, request), headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class PublicJsonRequest(FlaskJsonRequest):
    def __init__(self, request: Request, root: str) -> None:
        JsonRequest.__init__(self, request.method, public_uri(root, request), request.headers)
        self.payload = FlaskJsonPayload(request)


class SmartAuthorizationServer(AuthorizationServer):
    def __init__(self, service: SmartAuth) -> None:
        super().__init__()
        self.service = service
        self.register_token_generator("default", service.tokens.generate)

    def query_client(self, client_id: str) -> Client | None:
        return self.service.client(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        self.service.tokens.save(token, request)

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, dict):
            return StoredAuthorizationRequest(request, self.service.urls.endpoint("authorize"))
        return PublicOAuth2Request(flask_request, self.service.urls.root())

    def create_json_request(self, request: Any) -> JsonRequest:
        return PublicJsonRequest(flask_request, self.service.urls.root())

    def validate_requested_scope(self, scope: str | None) -> None:
        try:
            ScopeSet.parse(scope, strict=True)
        except ScopeError as exc:
            raise InvalidScopeError(description=str(exc)) from exc


def build_server(service: SmartAuth) -> SmartAuthorizationServer:
    server = SmartAuthorizationServer(service)
    config = service.config
    assertion = PrivateKeyJWT(
        service.store,
        lambda: [service.urls.endpoint("token")],
        config.max_assertion_lifetime,
        service.jwks_fetcher,
    )
    server.register_client_auth_method(assertion.CLIENT_AUTH_METHOD, assertion)
    server.register_grant(
        SmartAuthorizationCodeGrant,
        [
            S256CodeChallenge(),
            AudienceCheck(service.urls.fhir_base),
            LaunchCheck(service.launches.get),
            SmartOpenIDCode(service.store, service.urls.issuer, lambda: service.keys.active),
        ],
    )
    server.register_grant(SmartRefreshTokenGrant)
    server.register_grant(BackendServicesGrant)
    server.register_endpoint(SmartIntrospectionEndpoint)
    server.register_endpoint(SmartRevocationEndpoint)
    server.register_endpoint(SmartRegistrationEndpoint)
    return server
