"""SmartAuth: the authorization server's parts, composed once per Flask app.

This is the object `smart_auth.init_app` returns to the FHIR side: `verify(token)`,
`capability_security(base_url)`, `add_client`, `add_user`, `create_launch`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import has_request_context, request

from smart_auth import discovery
from smart_auth.audit import AuditSink, SafeAudit, auth_event
from smart_auth.config import AuthConfig
from smart_auth.consents import Consents
from smart_auth.directory import Directory, EmptyDirectory
from smart_auth.keys import SigningKeys
from smart_auth.launches import Launches
from smart_auth.models import Approval, Client, User
from smart_auth.oauth.client_assertion import fetch_jwks
from smart_auth.oauth.server import build_server
from smart_auth.oauth.tokens import TokenIssuer
from smart_auth.passwords import DUMMY_HASH, verify_password
from smart_auth.ratelimit import RateLimiter
from smart_auth.registry import add_client, add_user
from smart_auth.roles import Roles
from smart_auth.scope_grant import narrow
from smart_auth.scopes import CONTEXT_SCOPES, AccessContext, ScopeSet
from smart_auth.sessions import Sessions
from smart_auth.signin_guard import SignInGuard
from smart_auth.sms import SmsSender, configured_sender
from smart_auth.store.base import AuthStore, Record
from smart_auth.urls import Urls


class SmartAuth:
    def __init__(
        self,
        config: AuthConfig,
        store: AuthStore,
        directory: Directory | None = None,
        audit: AuditSink | None = None,
        sms: SmsSender | None = None,
        roles: Roles | None = None,
        jwks_fetcher: Callable[[str], dict[str, Any]] = fetch_jwks,
    ) -> None:
        self.config = config
        self.store = store
        self.urls = Urls(config)
        self.keys = SigningKeys(store)
        self.directory: Directory = directory or EmptyDirectory()
        self.audit = SafeAudit(audit)
        self.sms: SmsSender = sms or configured_sender(config.data_dir)
        self.roles = roles or Roles()
        self.jwks_fetcher = jwks_fetcher
        self.tokens = TokenIssuer(self)
        self.launches = Launches(store, config.launch_ttl)
        self.sessions = Sessions(store, config.session_ttl, "/")
        self.limits = RateLimiter(store)
        self.signin_guard = SignInGuard(store, config)
        self.consents = Consents(store, config.consent_ttl)
        self.server = build_server(self)

    # --- what the FHIR side calls ---------------------------------------------------------
    def verify(self, token: str) -> AccessContext | None:
        """The access a bearer token grants, or None when it is unknown, expired or revoked."""
        return self.tokens.verify(token)

    def capability_security(self, base_url: str) -> dict[str, Any]:
        return discovery.capability_security(self._urls_for(base_url))

    def smart_configuration(self, base_url: str | None = None) -> dict[str, Any]:
        return discovery.smart_configuration(self._urls_for(base_url) if base_url else self.urls)

    def add_client(self, client_id: str, **options: Any) -> Record:
        return add_client(self.store, client_id, **options)

    def add_user(self, username: str, password: str, role: str, **options: Any) -> Record:
        return add_user(self.store, username, password, role, **options)

    def create_launch(
        self,
        client_id: str,
        patient: str | None = None,
        encounter: str | None = None,
        need_patient_banner: bool = False,
    ) -> str:
        return self.launches.create(client_id, patient, encounter, need_patient_banner)

    def _urls_for(self, base_url: str) -> Urls:
        return Urls(dataclasses.replace(self.config, base_url=base_url))

    # --- lookups used by grants and views -------------------------------------------------
    def client(self, client_id: str) -> Client | None:
        record = self.store.get_client(client_id)
        return Client(record) if record else None

    def user(self, user_id: str) -> User | None:
        record = self.store.get_user(user_id)
        return User(record) if record else None

    def authenticate(self, username: str, password: str) -> User | None:
        record = self.store.find_user(username)
        if record is None or record.get("disabled"):
            verify_password(password, DUMMY_HASH)  # same cost either way: no username probing
            return None
        return User(record) if verify_password(password, record["password_hash"]) else None

    def scope_for_user(self, scope: str, user: User) -> str:
        """The requested scope narrowed to what the user's role may be granted."""
        mine = bool(user.fhir_user) and self.roles.by_workplace(user.role)
        workplaces = self.directory.workplaces(str(user.fhir_user)) if mine else []
        return str(narrow(ScopeSet.parse(scope), self.roles.ceiling(user.role, workplaces), CONTEXT_SCOPES))

    def approval_from(self, record: Record) -> Approval | None:
        user = self.user(record["user_id"]) if record.get("user_id") else None
        if user is None:
            return None
        return Approval(
            user, dict(record.get("context") or {}), record.get("session_id"), record.get("auth_time")
        )

    def session_alive(self, token_record: Record) -> bool:
        """online_access refresh tokens live only as long as the sign-in session."""
        session = token_record.get("session_id")
        return session is None or self.sessions.alive(session)

    # --- audit ----------------------------------------------------------------------------
    def client_ip(self) -> str | None:
        return request.remote_addr if has_request_context() else None

    def audit_token_issued(self, record: Record, oauth_request: Any) -> None:
        self.audit.record(
            auth_event(
                "token-issued",
                True,
                client_id=record["client_id"],
                fhir_user=record.get("fhir_user"),
                ip=self.client_ip(),
                patient=(record.get("context") or {}).get("patient"),
                detail=f"{record['grant_type']}: {record['scope']}",
            )
        )

    def audit_token_revoked(self, record: Record, oauth_request: Any) -> None:
        self.audit.record(
            auth_event(
                "token-revoked",
                True,
                client_id=record["client_id"],
                fhir_user=record.get("fhir_user"),
                ip=self.client_ip(),
                detail=record.get("matched"),
            )
        )
