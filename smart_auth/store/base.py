"""The storage protocol of the authorization server.

Everything that changes behaviour lives here, shared by every worker and, on MongoDB, every
machine: clients, users, tokens, and short-lived records (authorization codes, launches,
browser sessions, pending authorizations, one-time codes, remembered consents) plus
counters (rate limits, lock-outs, attempt limits), the `jti` replay cache and the signing
keys. Every method is one short atomic operation, so engines stay simple.
"""

from __future__ import annotations

from typing import Any, Protocol

Record = dict[str, Any]


class AuthStore(Protocol):
    # Clients and users: small documents keyed by id.
    def put_client(self, client: Record) -> None: ...
    def get_client(self, client_id: str) -> Record | None: ...
    def list_clients(self) -> list[Record]: ...
    def put_user(self, user: Record) -> None:
        """Insert or replace; raises ValueError when another user has the same username."""

    def get_user(self, user_id: str) -> Record | None: ...
    def find_user(self, username: str) -> Record | None: ...

    # Tokens: one row per issuance; `family` links a refresh-token chain.
    def put_token(self, token: Record) -> None: ...
    def token_by_access(self, access_hash: str) -> Record | None: ...
    def token_by_refresh(self, refresh_hash: str) -> Record | None: ...
    def consume_refresh(self, token_id: str) -> bool:
        """Mark the token's refresh token used; False when it already was (a replay)."""

    def revoke_token(self, token_id: str) -> None:
        """Revoke one access token (its row's refresh token stays usable)."""

    def revoke_family(self, family: str) -> int:
        """Revoke every access and refresh token of a refresh chain."""

    def revoke_grant(self, grant_id: str) -> int:
        """Revoke every token issued from one authorization code."""

    # Short-lived records, by kind and key; expired ones are invisible.
    def put_record(self, kind: str, key: str, value: Record, expires_at: float) -> None: ...
    def get_record(self, kind: str, key: str) -> Record | None: ...
    def take_record(self, kind: str, key: str) -> Record | None:
        """Atomically read and delete: at most one caller ever gets the record."""

    def delete_record(self, kind: str, key: str) -> None: ...
    def add_once(self, kind: str, key: str, expires_at: float) -> bool:
        """Remember a key; False when it is already remembered (replay caches)."""

    # Counters in fixed windows (rate limits, failed tries).
    def hit(self, key: str, window_seconds: float) -> int:
        """Count one event in the current window of `key`; return the count so far."""

    def reset_counter(self, key: str) -> None: ...

    # The server's signing keys (see smart_auth.keys), with a revision that moves on change.
    def signing_keys(self) -> tuple[Record | None, str]:
        """The key document and its revision ((None, "") before the first key)."""

    def signing_keys_revision(self) -> str:
        """The revision alone (cheap: checked on every use of the keys)."""

    def save_signing_keys(self, doc: Record, revision: str) -> bool:
        """Replace the keys if they are still at `revision` ("" = none yet); else False."""

    def purge_expired(self) -> None: ...
    def close(self) -> None: ...
