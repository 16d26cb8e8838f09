"""Checking a sign-in form: lock-outs first, then the password; what the page should say."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

from flask import request

from smart_auth.audit import auth_event
from smart_auth.i18n import TEHRAN, translator
from smart_auth.models import User
from smart_auth.people import digits
from smart_auth.service import SmartAuth


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None = None  # the text to show
    error_field: str | None = None  # the field it belongs to (None: the whole page)
    status: int = 200


def locked_text(until: float, lang: str) -> str:
    minutes = max(1, math.ceil((until - time.time()) / 60))
    clock = datetime.fromtimestamp(until, TEHRAN).strftime("%H:%M")
    return translator(lang)("locked_for", minutes=digits(minutes, lang), time=digits(clock, lang))


def check_sign_in(svc: SmartAuth, username: str, password: str, lang: str) -> SignInResult:
    address = request.remote_addr
    until = svc.signin_guard.locked_until(username, address)
    if until is not None:
        _audit(svc, username, None, "locked out")
        return SignInResult(None, locked_text(until, lang), None, 429)
    user = svc.authenticate(username, password)
    _audit(svc, username, user, None if user else "wrong username or password")
    if user is None:
        until = svc.signin_guard.failure(username, address)
        if until is not None:
            return SignInResult(None, locked_text(until, lang), None, 429)
        return SignInResult(None, translator(lang)("bad_credentials"), "password", 401)
    svc.signin_guard.success(username, address)
    return SignInResult(user)


def _audit(svc: SmartAuth, username: str, user: User | None, detail: str | None) -> None:
    svc.audit.record(
        auth_event(
            "login",
            user is not None,
            username=username,
            fhir_user=user.fhir_user if user else None,
            ip=request.remote_addr,
            detail=detail,
        )
    )
