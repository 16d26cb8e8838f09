"""Authlib-facing views over stored records: client, user, authorization code, token."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from smart_auth.passwords import verify_password
from smart_auth.scope_grant import narrow
from smart_auth.scopes import CONTEXT_SCOPES, ScopeSet
from smart_auth.store.base import Record

PUBLIC, SYMMETRIC, ASYMMETRIC = "public", "symmetric", "asymmetric"
AUTH_METHODS = {
    PUBLIC: ("none",),
    SYMMETRIC: ("client_secret_basic", "client_secret_post"),
    ASYMMETRIC: ("private_key_jwt",),
}


@dataclass
class Client(ClientMixin):
    record: Record

    @property
    def client_id(self) -> str:
        return str(self.record["client_id"])

    @property
    def kind(self) -> str:
        return str(self.record["kind"])

    @property
    def name(self) -> str:
        return str(self.record.get("client_name") or self.client_id)

    @property
    def jwks(self) -> dict[str, Any] | None:
        return self.record.get("jwks")

    @property
    def jwks_uri(self) -> str | None:
        return self.record.get("jwks_uri")

    @property
    def ehr_launcher(self) -> bool:
        return bool(self.record.get("ehr_launcher"))

    @property
    def can_introspect_any(self) -> bool:
        return bool(self.record.get("introspect_any"))

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # SMART apps must send redirect_uri; it is then matched exactly

    def get_allowed_scope(self, scope: str | None) -> str | None:
        granted = narrow(
            ScopeSet.parse(scope),
            ScopeSet.parse(self.record.get("scope", "")),
            CONTEXT_SCOPES if self.check_grant_type("authorization_code") else (),
        )
        return str(granted) if granted.resources or granted.others else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.get("redirect_uris", [])

    def check_client_secret(self, client_secret: str) -> bool:
        encoded = self.record.get("secret_hash")
        return bool(encoded) and verify_password(client_secret, str(encoded))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS[self.kind]

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and self.check_grant_type("authorization_code")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.record.get("grant_types", [])


@dataclass
class User:
    record: Record

    @property
    def user_id(self) -> str:
        return str(self.record["user_id"])

    @property
    def username(self) -> str:
        return str(self.record["username"])

    @property
    def role(self) -> str:
        return str(self.record["role"])

    @property
    def fhir_user(self) -> str | None:
        return self.record.get("fhir_user")

    @property
    def display(self) -> str:
        return str(self.record.get("display") or self.username)

    @property
    def patient(self) -> str | None:
        """The patient id of a patient account (its fhirUser is Patient/ID)."""
        ref = self.fhir_user or ""
        return ref.split("/", 1)[1] if ref.startswith("Patient/") else None

    def get_user_id(self) -> str:
        return self.user_id


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    record: Record

    def get_redirect_uri(self) -> str:
        return str(self.record["redirect_uri"])

    def get_scope(self) -> str:
        return str(self.record["scope"])

    def get_nonce(self) -> str | None:
        return self.record.get("nonce")

    def get_auth_time(self) -> int | None:
        value = self.record.get("auth_time")
        return int(value) if value is not None else None

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return ["pwd"]

    @property
    def code_challenge(self) -> str | None:
        return self.record.get("code_challenge")

    @property
    def code_challenge_method(self) -> str | None:
        return self.record.get("code_challenge_method")


@dataclass
class Token(TokenMixin):
    record: Record
    now: float = field(default_factory=time.time)

    @property
    def token_id(self) -> str:
        return str(self.record["token_id"])

    @property
    def client_id(self) -> str:
        return str(self.record["client_id"])

    @property
    def user_id(self) -> str | None:
        return self.record.get("user_id")

    @property
    def context(self) -> dict[str, Any]:
        return dict(self.record.get("context") or {})

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return str(self.record.get("scope") or "")

    def get_expires_in(self) -> int:
        return int(self.record["expires_at"] - self.record["issued_at"])

    def is_expired(self) -> bool:
        return bool(self.record["expires_at"] <= self.now)

    def is_revoked(self) -> bool:
        return bool(self.record.get("revoked"))

    def refresh_expired(self) -> bool:
        expires = self.record.get("refresh_expires_at")
        return expires is None or expires <= self.now


@dataclass
class Approval:
    """What the resource owner approved: who, in which launch context, in which session."""

    user: User
    context: dict[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    auth_time: int | None = None

    def get_user_id(self) -> str:
        return self.user.user_id
