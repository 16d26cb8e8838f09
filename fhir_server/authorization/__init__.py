"""Who is acting, and what they may do: the current request's `Authorizer`.

The API layer sets it from the SMART access token for each request; the Repository asks
it. The server's own follow-up work runs `as_system()`, an explicit identity of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fhir_server.authorization.authorizer import (
    STRICT_ENV,
    Authorizer,
    SafetyNetTripped,
    in_patient_compartment,
)
from smart_auth.scopes import AccessContext

__all__ = [
    "STRICT_ENV",
    "SYSTEM",
    "Authorizer",
    "SafetyNetTripped",
    "acting_as",
    "as_system",
    "current",
    "in_patient_compartment",
    "reset",
    "set_for_request",
]

_UNRESTRICTED = Authorizer(None)
SYSTEM = Authorizer(None, system=True)
_current: ContextVar[Authorizer | None] = ContextVar("noskhe_authorizer", default=None)


def current() -> Authorizer:
    return _current.get() or _UNRESTRICTED


@contextmanager
def acting_as(access: AccessContext | None) -> Iterator[Authorizer]:
    """Run a block (a request) under a token's authority."""
    authorizer = Authorizer(access)
    token = _current.set(authorizer)
    try:
        yield authorizer
    finally:
        _current.reset(token)


@contextmanager
def as_system() -> Iterator[Authorizer]:
    """Run a block as the server itself: the workflow's own writes, audit records."""
    token = _current.set(SYSTEM)
    try:
        yield SYSTEM
    finally:
        _current.reset(token)


def set_for_request(access: AccessContext | None) -> Any:
    """For Flask's before/teardown hooks: returns the token to pass to `reset`."""
    return _current.set(Authorizer(access))


def reset(token: Any) -> None:
    _current.reset(token)
