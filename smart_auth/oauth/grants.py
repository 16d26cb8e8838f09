"""The three grants SMART needs, on Authlib's, with state in the shared auth store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from smart_auth.hashing import digest
from smart_auth.models import Approval, AuthorizationCode, Token

if TYPE_CHECKING:
    from smart_auth.service import SmartAuth

USER_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]
USED_CODE_MEMORY = 24 * 3600


def _service(grant: Any) -> SmartAuth:
    return grant.server.service


class SmartAuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = USER_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        svc = _service(self)
        approval: Approval = request.user
        payload = request.payload.data
        record = {
            "code_hash": digest(code),
            "client_id": request.client.get_client_id(),
            "redirect_uri": request.payload.redirect_uri,
            "scope": svc.scope_for_user(request.scope, approval.user),
            "user_id": approval.user.user_id,
            "code_challenge": payload.get("code_challenge"),
            "code_challenge_method": payload.get("code_challenge_method"),
            "nonce": payload.get("nonce"),
            "auth_time": approval.auth_time,
            "context": approval.context,
            "session_id": approval.session_id,
        }
        now = time.time()
        svc.store.put_record("code", record["code_hash"], record, now + svc.config.code_ttl)
        if record["nonce"]:
            svc.store.put_record(
                "nonce", f"{record['client_id']}:{record['nonce']}", {}, now + USED_CODE_MEMORY
            )

    def query_authorization_code(self, code: str, client: Any) -> AuthorizationCode | None:
        svc, key = _service(self), digest(code)
        record = svc.store.take_record("code", key)
        if record is None:
            if svc.store.get_record("used_code", key) is not None:
                # A code used twice: revoke what the first use obtained (RFC 6749 4.1.2).
                svc.store.revoke_grant(key)
            return None
        svc.store.put_record("used_code", key, {}, time.time() + USED_CODE_MEMORY)
        if record["client_id"] != client.get_client_id():
            return None
        return AuthorizationCode(record)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Already gone: `query_authorization_code` took it atomically."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Approval | None:
        return _service(self).approval_from(authorization_code.record)


class SmartRefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = USER_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        svc = _service(self)
        record = svc.store.token_by_refresh(digest(refresh_token))
        if record is None:
            return None
        token = Token(record)
        if record["refresh_used"]:
            svc.store.revoke_family(record["family"])  # a rotated refresh token came back: theft
            return None
        if record.get("refresh_revoked") or token.refresh_expired() or not svc.session_alive(record):
            return None
        return token

    def validate_token_request(self) -> None:
        super().validate_token_request()
        token: Token = self.request.refresh_token
        if not _service(self).store.consume_refresh(token.token_id):
            raise InvalidGrantError("Refresh token already used.")

    def authenticate_user(self, refresh_token: Token) -> Approval | None:
        return _service(self).approval_from(refresh_token.record)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Already done: `validate_token_request` consumed it atomically."""


class BackendServicesGrant(grants.ClientCredentialsGrant):
    """SMART Backend Services: client_credentials with a private_key_jwt assertion only."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["private_key_jwt"]
