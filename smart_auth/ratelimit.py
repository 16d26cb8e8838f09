"""Rate limits and growing lock-outs, counted in the shared store (all workers see them)."""

from __future__ import annotations

import time

from smart_auth.store.base import AuthStore

FAILURE_WINDOW = 24 * 3600
LOCK_HISTORY = 30 * 24 * 3600


class RateLimiter:
    def __init__(self, store: AuthStore) -> None:
        self.store = store

    def allow(self, key: str, limit: int, window: float) -> bool:
        """Count one attempt under `key`; False once more than `limit` happened in the window."""
        return self.store.hit(f"rate:{key}", window) <= limit


class Lockout:
    """After `max_tries` failures a subject is locked for base, 2x base, 4x base, ... seconds."""

    def __init__(self, store: AuthStore, max_tries: int, base_seconds: float) -> None:
        self.store, self.max_tries, self.base = store, max_tries, base_seconds

    def locked_until(self, subject: str) -> float | None:
        record = self.store.get_record("lock", subject)
        return float(record["until"]) if record else None

    def failure(self, subject: str) -> float | None:
        """Record a failure; return the lock expiry when this failure locks the subject."""
        if self.store.hit(f"fail:{subject}", FAILURE_WINDOW) < self.max_tries:
            return None
        self.store.reset_counter(f"fail:{subject}")
        level = self.store.hit(f"locks:{subject}", LOCK_HISTORY)
        until = time.time() + self.base * 2 ** (level - 1)
        self.store.put_record("lock", subject, {"until": until}, until)
        return until

    def success(self, subject: str) -> None:
        self.store.reset_counter(f"fail:{subject}")
