"""RFC 7662 introspection (with SMART's fields) and RFC 7009 revocation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from smart_auth.hashing import digest
from smart_auth.models import Token

if TYPE_CHECKING:
    from smart_auth.service import SmartAuth

CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def _find(svc: SmartAuth, value: str, hint: str | None) -> Token | None:
    """The token row by access or refresh value; `.kind` says which one matched."""
    lookups = [("access_token", svc.store.token_by_access), ("refresh_token", svc.store.token_by_refresh)]
    if hint == "refresh_token":
        lookups.reverse()
    for kind, lookup in lookups:
        record = lookup(digest(value))
        if record is not None:
            record["matched"] = kind
            return Token(record)
    return None


class SmartIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS

    @property
    def svc(self) -> SmartAuth:
        return self.server.service

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        token = _find(self.svc, token_string, token_type_hint)
        if token is not None and token.record["matched"] == "refresh_token":
            # A refresh token is alive while it is unused and unexpired.
            token.record["expires_at"] = token.record.get("refresh_expires_at") or 0
            token.record["revoked"] = token.record.get("refresh_revoked") or token.record.get("refresh_used")
        return token

    def check_permission(self, token: Token, client: Any, request: Any) -> bool:
        return bool(token.check_client(client) or client.can_introspect_any)

    def introspect_token(self, token: Token) -> dict[str, Any]:
        record = token.record
        body: dict[str, Any] = {
            "active": True,
            "scope": record["scope"],
            "client_id": record["client_id"],
            "token_type": "Bearer" if record["matched"] == "access_token" else "refresh_token",
            "exp": int(record["expires_at"]),
            "iat": int(record["issued_at"]),
            "iss": self.svc.urls.issuer(),
            "aud": self.svc.urls.fhir_base(),
        }
        if record.get("user_id"):
            body["sub"] = record["user_id"]
            user = self.svc.user(record["user_id"])
            if user is not None:
                body["username"] = user.username
        if record.get("fhir_user"):
            body["fhirUser"] = f"{self.svc.urls.fhir_base()}/{record['fhir_user']}"
        for name in ("patient", "encounter"):
            if name in (record.get("context") or {}):
                body[name] = record["context"][name]
        return body


class SmartRevocationEndpoint(RevocationEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["none", *CONFIDENTIAL_METHODS]

    @property
    def svc(self) -> SmartAuth:
        return self.server.service

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _find(self.svc, token_string, token_type_hint)

    def revoke_token(self, token: Token, request: Any) -> None:
        if token.record["matched"] == "refresh_token":
            # Revoking a refresh token kills every access token of its chain.
            self.svc.store.revoke_family(token.record["family"])
        else:
            self.svc.store.revoke_token(token.token_id)
        self.svc.audit_token_revoked(token.record, request)
