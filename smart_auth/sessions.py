"""Browser sign-in sessions, kept server-side in the auth store (any worker can read them).

The cookie holds a random id; the store keeps its SHA-256. A second cookie binds pending
authorizations and enrolments to the browser that started them (CSRF defence).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Request, Response, after_this_request, request

from smart_auth.hashing import digest, new_secret
from smart_auth.store.base import AuthStore

SESSION_COOKIE = "noskhe_auth_session"
BROWSER_COOKIE = "noskhe_auth_browser"


@dataclass(frozen=True)
class Session:
    key: str  # digest of the cookie value; what tokens refer to
    user_id: str
    auth_time: int


class Sessions:
    def __init__(self, store: AuthStore, ttl: int, path: str) -> None:
        self.store, self.ttl, self.path = store, ttl, path

    def start_deferred(self, user_id: str, secure: bool) -> Session:
        """Start a session; its cookie is set on the response of the current request."""
        raw = new_secret()
        session = Session(digest(raw), user_id, int(time.time()))
        self.store.put_record(
            "session",
            session.key,
            {"user_id": user_id, "auth_time": session.auth_time},
            time.time() + self.ttl,
        )

        @after_this_request
        def _set_cookie(response: Response) -> Response:
            response.set_cookie(
                SESSION_COOKIE,
                raw,
                max_age=self.ttl,
                path=self.path,
                httponly=True,
                secure=secure,
                samesite="Lax",
            )
            return response

        return session

    def current(self, request: Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        record = self.store.get_record("session", digest(raw))
        if record is None:
            return None
        return Session(digest(raw), str(record["user_id"]), int(record["auth_time"]))

    def end_deferred(self) -> None:
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            self.store.delete_record("session", digest(raw))

        @after_this_request
        def _clear_cookie(response: Response) -> Response:
            response.delete_cookie(SESSION_COOKIE, path=self.path)
            return response

    def alive(self, key: str) -> bool:
        return self.store.get_record("session", key) is not None


def browser_binding() -> str:
    """This browser's binding id; a new one is set as a cookie on the current response."""
    current = request.cookies.get(BROWSER_COOKIE)
    if current:
        return current
    value, secure = new_secret(18), request.scheme == "https"

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(BROWSER_COOKIE, value, path="/", httponly=True, secure=secure, samesite="Lax")
        return response

    return value
