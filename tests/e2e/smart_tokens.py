"""Getting real tokens from the running server in end-to-end tests."""

from __future__ import annotations

import time
import uuid

import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import RunningServer


class Site:
    """What the sign-in Browser of tests/smart_auth needs: the server root."""

    def __init__(self, server: RunningServer) -> None:
        self.root = f"http://127.0.0.1:{server.port}"
        self.base = server.base

    def url(self, path: str) -> str:
        return f"{self.root}{path}"


def backend_token(server: RunningServer, key: RSAKey, client_id: str, scope: str) -> str:
    """A backend service's access token: client credentials with an RS384 assertion."""
    token_url = requests.get(f"{server.base}/.well-known/smart-configuration").json()["token_endpoint"]
    now = int(time.time())
    assertion = jwt.encode(
        {"alg": "RS384", "kid": key.kid, "typ": "JWT"},
        {"iss": client_id, "sub": client_id, "aud": token_url, "exp": now + 120, "jti": uuid.uuid4().hex},
        key,
        algorithms=["RS384"],
    )
    r = requests.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
