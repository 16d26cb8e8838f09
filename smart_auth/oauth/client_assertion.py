"""`private_key_jwt` client authentication (RFC 7523) as SMART Backend Services asks.

RS384 and ES384 only (joserfc refuses them unless named); `exp` at most five minutes
ahead; each `jti` once; keys from the client's inline JWKS or its JWKS URL, by `kid`.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from smart_auth.models import Client
    from smart_auth.store.base import AuthStore

ALGORITHMS = ["RS384", "ES384"]
JWKS_FETCH_TIMEOUT = 5


def fetch_jwks(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=JWKS_FETCH_TIMEOUT) as resp:
        return dict(json.loads(resp.read()))


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(
        self,
        store: AuthStore,
        audiences: Callable[[], list[str]],
        max_lifetime: int = 300,
        jwks_fetcher: Callable[[str], dict[str, Any]] = fetch_jwks,
    ) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.store = store
        self._audiences = audiences
        self.max_lifetime = max_lifetime
        self.jwks_fetcher = jwks_fetcher

    def get_audiences(self) -> list[str]:
        return self._audiences()

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if client.jwks:
            return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        if client.jwks_uri:
            try:
                return KeySet.import_key_set(self.jwks_fetcher(client.jwks_uri))  # type: ignore[arg-type]
            except (OSError, ValueError) as exc:
                raise InvalidClientError(description="Cannot fetch the client's JWKS") from exc
        raise InvalidClientError(description="The client has no registered keys")

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description=f"Invalid client assertion: {exc}") from exc
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: Any) -> None:
        # Checked before the base class records the jti, so a refused assertion burns nothing.
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp - time.time() > self.max_lifetime:
            raise InvalidClientError(description="Assertion 'exp' must be at most 5 minutes ahead")
        super().verify_claims(claims)

    def validate_jti(self, claims: Any, jti: str) -> bool:
        expires = float(claims["exp"]) + self.leeway
        return self.store.add_once("jti", f"{claims['iss']}:{jti}", expires)
