"""Sign-in lock-outs that a stranger cannot turn against the account's owner.

Only failed sign-ins count, never successful ones. Failures are counted
- per (username, client address): after a few, that address is locked out of that
  username for a growing time (1, 2, 4, ... minutes);
- per client address, over every username: stops one address spraying many accounts;
- per username, with a slower, higher limit: a distributed guess is stopped too, but
  from an address where the user signed in before the right password still gets in, so
  someone who knows only the username cannot lock the owner out.
All counters and locks live in the auth store (every worker sees them).
"""

from __future__ import annotations

import time

from smart_auth.config import AuthConfig
from smart_auth.ratelimit import Lockout
from smart_auth.store.base import AuthStore

KNOWN_ADDRESS_DAYS = 90


class SignInGuard:
    def __init__(self, store: AuthStore, cfg: AuthConfig) -> None:
        self.store = store
        self.pair = Lockout(store, cfg.signin_pair_tries, cfg.signin_pair_lockout)
        self.address = Lockout(store, cfg.signin_address_tries, cfg.signin_address_lockout)
        self.user = Lockout(store, cfg.signin_user_tries, cfg.signin_user_lockout)

    @staticmethod
    def _keys(username: str, address: str | None) -> tuple[str, str, str]:
        name, addr = username.strip().lower(), address or "?"
        return f"signin:{name}|{addr}", f"signin-address:{addr}", f"signin-user:{name}"

    def locked_until(self, username: str, address: str | None) -> float | None:
        """When a sign-in for this username from this address may be tried again (None: now)."""
        pair, addr, user = self._keys(username, address)
        until = [t for t in (self.pair.locked_until(pair), self.address.locked_until(addr)) if t]
        user_lock = self.user.locked_until(user)
        if user_lock and not self._known(username, address):
            until.append(user_lock)
        return max(until) if until else None

    def failure(self, username: str, address: str | None) -> float | None:
        """Count a failed sign-in; the lock expiry when it locks this username and address."""
        pair, addr, user = self._keys(username, address)
        self.address.failure(addr)
        self.user.failure(user)
        self.pair.failure(pair)
        return self.locked_until(username, address)

    def success(self, username: str, address: str | None) -> None:
        pair, _, _ = self._keys(username, address)
        self.pair.success(pair)
        self.store.put_record(
            "known-address", self._known_key(username, address), {}, time.time() + KNOWN_ADDRESS_DAYS * 86400
        )

    def _known(self, username: str, address: str | None) -> bool:
        return self.store.get_record("known-address", self._known_key(username, address)) is not None

    @staticmethod
    def _known_key(username: str, address: str | None) -> str:
        return f"{username.strip().lower()}|{address or '?'}"
