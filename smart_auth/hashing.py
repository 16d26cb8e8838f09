"""One-way handles for secrets kept in the store (codes, tokens, session ids)."""

from __future__ import annotations

import hashlib
import secrets


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
