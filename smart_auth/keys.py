"""The server's signing keys: generated on first start, rotatable, shared through the auth store.

The auth store keeps a private JWKS and which key is active (SQLite: the private file
`DIR/smart-signing-keys.json`; MongoDB: the `auth_keys` collection), so every worker and
every machine on one store signs with the same key and publishes the same JWKS. Rotation
adds a new active key while the old ones stay published, so tokens signed before the
rotation still verify; `retire` drops a key once nothing signed with it is alive. Each use
checks the store's revision of the keys and re-reads them when it moved (explicit
invalidation, no stale cache); changes are compare-and-set, so two machines rotating at
once both succeed in turn.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from smart_auth.store.base import AuthStore, Record

ID_TOKEN_ALG = "RS256"


def _new_key() -> dict[str, Any]:
    # A kid from the hex alphabet: a base64url thumbprint may start with "-", which
    # command lines (`keys retire --kid ...`) would read as an option.
    kid = secrets.token_hex(8)
    key = RSAKey.generate_key(2048, parameters={"alg": ID_TOKEN_ALG, "use": "sig", "kid": kid}, private=True)
    return dict(key.as_dict(private=True))


class KeyFileError(ValueError):
    """The stored signing keys (the key file, or the MongoDB record) cannot be used: the
    server must not start (or stay ready) with them; they are never silently replaced."""


@dataclass
class _Loaded:
    revision: str
    keys: KeySet
    active: RSAKey


class SigningKeys:
    def __init__(self, store: AuthStore) -> None:
        self.store = store
        doc, revision = self._stored()
        if doc is None:
            key = _new_key()
            store.save_signing_keys(
                {"active": key["kid"], "keys": [key]}, revision
            )  # False: another was first
        self._loaded: _Loaded | None = None
        self._load()  # a damaged file is refused at start, not at the first token request

    def _load(self) -> _Loaded:
        try:
            if self._loaded is None or self._loaded.revision != self.store.signing_keys_revision():
                doc, revision = self.store.signing_keys()
                if doc is None:
                    raise ValueError("there are none")
                keys = KeySet.import_key_set({"keys": doc["keys"]})
                active = keys.get_by_kid(doc["active"])
                if not isinstance(active, RSAKey) or not active.is_private:
                    raise ValueError("the active key is not a private RSA key")
                self._loaded = _Loaded(revision, keys, active)
        except (OSError, ValueError, KeyError, TypeError, JoseError) as exc:
            raise KeyFileError(f"the signing key file (or record) cannot be used: {exc}") from exc
        return self._loaded

    def _stored(self) -> tuple[Record | None, str]:
        try:
            return self.store.signing_keys()
        except (OSError, ValueError) as exc:  # a damaged file: not silently replaced
            raise KeyFileError(f"the signing key file (or record) cannot be used: {exc}") from exc

    def check(self) -> list[str]:
        """Problems with the key file now (none: the keys load)."""
        try:
            self._load()
        except KeyFileError as exc:
            return [str(exc)]
        return []

    @property
    def active(self) -> RSAKey:
        return self._load().active

    @property
    def key_set(self) -> KeySet:
        return self._load().keys

    def public_jwks(self) -> dict[str, Any]:
        return dict(self._load().keys.as_dict(private=False))

    def rotate(self) -> str:
        """Add a new active key; the old ones stay published. Returns the new kid."""
        key = _new_key()

        def change(doc: Record) -> None:
            doc["keys"].append(key)
            doc["active"] = key["kid"]

        self._change(change)
        return str(key["kid"])

    def retire(self, kid: str) -> None:
        """Drop a key that is no longer active."""

        def change(doc: Record) -> None:
            if doc["active"] == kid:
                raise ValueError("cannot retire the active key; rotate first")
            doc["keys"] = [k for k in doc["keys"] if k["kid"] != kid]

        self._change(change)

    def _change(self, change: Callable[[Record], None]) -> None:
        while True:  # compare-and-set: read again when another writer came first
            doc, revision = self.store.signing_keys()
            assert doc is not None
            change(doc)
            if self.store.save_signing_keys(doc, revision):
                self._loaded = None
                return
