"""Issuing, storing and checking bearer tokens.

Tokens are opaque random strings; the store keeps only their SHA-256, so a copy of the
store grants nothing. One row per issuance; rows of one refresh chain share a `family`.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidScopeError
from flask import has_request_context, request

from smart_auth.dev_tokens import from_loopback
from smart_auth.hashing import digest, new_secret
from smart_auth.models import Approval, Token
from smart_auth.scopes import AccessContext, ScopeSet

if TYPE_CHECKING:
    from smart_auth.models import Client
    from smart_auth.service import SmartAuth

CONTEXT_FIELDS = ("patient", "encounter", "need_patient_banner", "smart_style_url", "fhirContext")


class TokenIssuer:
    def __init__(self, service: SmartAuth) -> None:
        self.svc = service

    def generate(
        self,
        grant_type: str,
        client: Client,
        user: Approval | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """Authlib's token generator: the response body before context is added."""
        if grant_type == "client_credentials":
            scope = client.get_allowed_scope(scope)
            if not scope:
                raise InvalidScopeError()
        ttl = self.svc.config.backend_token_ttl if user is None else self.svc.config.access_token_ttl
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": new_secret(),
            "expires_in": ttl,
            "scope": scope or "",
        }
        scopes = ScopeSet.parse(scope)
        wants_refresh = scopes.has("offline_access") or scopes.has("online_access")
        if include_refresh_token and user is not None and wants_refresh:
            token["refresh_token"] = new_secret()
        return token

    def save(self, token: dict[str, Any], request: Any) -> None:
        """Authlib's save_token: persist the row, then add the launch context to the response."""
        approval: Approval | None = request.user
        previous: Token | None = request.refresh_token
        record = self._record(token, request, approval, previous)
        self.svc.store.put_token(record)
        if record["grant_type"] == "authorization_code" and record["user_id"]:
            # revoking the user's consent to this app revokes this chain too
            self.svc.consents.add_family(record["user_id"], record["client_id"], record["family"])
        for name in CONTEXT_FIELDS:
            if name in record["context"]:
                token[name] = record["context"][name]
        self.svc.audit_token_issued(record, request)

    def _record(
        self, token: dict[str, Any], request: Any, approval: Approval | None, previous: Token | None
    ) -> dict[str, Any]:
        now = time.time()
        code = request.authorization_code
        refresh = token.get("refresh_token")
        scopes = ScopeSet.parse(token.get("scope"))
        offline = scopes.has("offline_access")
        return {
            "token_id": uuid.uuid4().hex,
            "access_hash": digest(token["access_token"]),
            "refresh_hash": digest(refresh) if refresh else None,
            "family": previous.record["family"] if previous else uuid.uuid4().hex,
            "grant_id": code.record["code_hash"]
            if code
            else (previous.record.get("grant_id") if previous else None),
            "client_id": request.client.get_client_id(),
            "user_id": approval.user.user_id if approval else None,
            "role": approval.user.role if approval else None,
            "fhir_user": approval.user.fhir_user if approval else None,
            "scope": token.get("scope", ""),
            "grant_type": request.payload.grant_type,
            "issued_at": now,
            "expires_at": now + token["expires_in"],
            "refresh_expires_at": (
                now + self.svc.config.offline_refresh_ttl if offline else now + self.svc.config.session_ttl
            )
            if refresh
            else None,
            "context": approval.context if approval else {},
            "session_id": None if offline or approval is None else approval.session_id,
            "auth_time": approval.auth_time if approval else None,
        }

    def verify(self, access_token: str) -> AccessContext | None:
        record = self.svc.store.token_by_access(digest(access_token))
        if record is None:
            return None
        token = Token(record)
        if token.is_revoked() or token.is_expired():
            return None
        if record.get("loopback_only") and not (has_request_context() and from_loopback(request.remote_addr)):
            return None  # a development token (`fhir-server token`) works on this machine only
        return access_context(record)


def access_context(record: dict[str, Any]) -> AccessContext:
    context = record.get("context") or {}
    return AccessContext(
        client_id=record["client_id"],
        scopes=ScopeSet.parse(record.get("scope")),
        patient=context.get("patient"),
        encounter=context.get("encounter"),
        fhir_user=record.get("fhir_user"),
        subject=record.get("user_id"),
        role=record.get("role"),
        token_id=record["token_id"],
    )
