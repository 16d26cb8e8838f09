"""RFC 7591 dynamic client registration, for administrators (a bearer token of an admin user)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError

from smart_auth.registry import add_client

if TYPE_CHECKING:
    from smart_auth.scopes import AccessContext
    from smart_auth.service import SmartAuth


class SmartRegistrationEndpoint(ClientRegistrationEndpoint):
    @property
    def svc(self) -> SmartAuth:
        return self.server.service

    def authenticate_token(self, request: Any) -> AccessContext | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        access = self.svc.verify(token.strip()) if scheme.lower() == "bearer" else None
        return access if access is not None and access.role == "admin" else None

    def get_server_metadata(self) -> dict[str, Any]:
        return {
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "private_key_jwt"],
        }

    def generate_client_secret(self, request: Any) -> str | None:
        method = (request.payload.data or {}).get("token_endpoint_auth_method", "client_secret_basic")
        return super().generate_client_secret(request) if method == "client_secret_basic" else None

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        info = super().generate_client_info(request)
        return {k: v for k, v in info.items() if v is not None}

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> Any:
        try:
            return add_client(
                self.svc.store,
                client_info["client_id"],
                secret=client_info.get("client_secret"),
                jwks=client_metadata.get("jwks"),
                jwks_uri=client_metadata.get("jwks_uri"),
                redirect_uris=client_metadata.get("redirect_uris"),
                scope=client_metadata.get("scope", ""),
                name=client_metadata.get("client_name"),
            )
        except ValueError as exc:
            raise InvalidClientMetadataError(str(exc)) from exc
