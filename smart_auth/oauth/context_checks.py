"""Authorization-request checks SMART adds: `aud` names this FHIR server; `launch` is known."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError

from smart_auth.scopes import split_scope
from smart_auth.urls import normalise


class AudienceCheck:
    """No code unless `aud` equals the FHIR base URL (SMART App Launch, authorize request)."""

    def __init__(self, fhir_base: Callable[[], str]) -> None:
        self.fhir_base = fhir_base

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.check)

    def check(self, grant: Any, redirect_uri: str) -> None:
        aud = grant.request.payload.data.get("aud")
        if not aud or normalise(aud) != self.fhir_base():
            raise InvalidRequestError("'aud' must be this FHIR server's base URL")


class LaunchCheck:
    """An EHR launch (`launch` scope) must carry a `launch` id this server issued."""

    def __init__(self, resolve: Callable[[str], dict[str, Any] | None]) -> None:
        self.resolve = resolve

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.check)

    def check(self, grant: Any, redirect_uri: str) -> None:
        launch = grant.request.payload.data.get("launch")
        if "launch" not in split_scope(grant.request.payload.scope):
            return
        if not launch or self.resolve(launch) is None:
            raise InvalidRequestError("Unknown or expired 'launch'")
