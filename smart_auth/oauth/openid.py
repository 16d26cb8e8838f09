"""OpenID Connect id_token (RS256) carrying SMART's `fhirUser` claim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import RSAKey

from smart_auth.keys import ID_TOKEN_ALG
from smart_auth.models import Approval
from smart_auth.scopes import split_scope
from smart_auth.store.base import AuthStore


class SmartOpenIDCode(OpenIDCode):
    def __init__(
        self, store: AuthStore, issuer: Callable[[], str], signing_key: Callable[[], RSAKey]
    ) -> None:
        super().__init__(require_nonce=False)
        self.store = store
        self.issuer = issuer
        self.signing_key = signing_key

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self.store.get_record("nonce", f"{request.payload.client_id}:{nonce}") is not None

    def resolve_client_private_key(self, client: Any) -> RSAKey:
        return self.signing_key()

    def get_client_algorithm(self, client: Any) -> str:
        return ID_TOKEN_ALG

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": ID_TOKEN_ALG, "kid": str(self.signing_key().kid), "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        return {"iss": self.issuer(), "aud": [client.get_client_id()]}

    def generate_user_info(self, user: Approval, scope: str) -> UserInfo:
        scopes = split_scope(scope)
        info = UserInfo(sub=user.user.user_id)
        if "fhirUser" in scopes and user.user.fhir_user:
            info["fhirUser"] = f"{self.issuer()}/{user.user.fhir_user}"
        if "profile" in scopes:
            info["name"] = user.user.display
            info["preferred_username"] = user.user.username
        return info
