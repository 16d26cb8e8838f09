"""SMART Backend Services: client_credentials with private_key_jwt (RS384, ES384)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from auth_testkit import Server, client_assertion
from fhirclient import client as fhir_client
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def backend_token(
    srv: Server, assertion: str, scope: str = "system/Patient.rs", assertion_type: str = ASSERTION_TYPE
) -> requests.Response:
    return requests.post(
        srv.url("/auth/token"),
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": assertion_type,
            "client_assertion": assertion,
        },
    )


@pytest.mark.parametrize("which", ["rs384", "es384"])
def test_backend_token_with_rs384_and_es384(
    server: Server, which: str, request: pytest.FixtureRequest
) -> None:
    key = request.getfixturevalue(f"{which}_key")
    client_id = "backend-rs" if which == "rs384" else "backend-es"
    response = backend_token(server, client_assertion(key, client_id, server.url("/auth/token")))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 300 and "refresh_token" not in body
    assert body["scope"] == "system/Patient.rs"
    api = requests.get(
        f"{server.base}/Patient/p2", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert api.status_code == 200


def test_fhirclient_backend_with_jwt_token(server: Server, rs384_key: RSAKey) -> None:
    assertion = client_assertion(rs384_key, "backend-rs", server.url("/auth/token"))
    app = fhir_client.FHIRClient(
        settings={
            "app_id": "backend-rs",
            "api_base": server.base,
            "scope": "system/Observation.rs",
            "jwt_token": assertion,
        }
    )
    app.wants_patient = False
    app.prepare()
    app.authorize()
    assert app.server.auth.access_token
    bundle = app.server.request_json("Observation")
    assert len(bundle["entry"]) == 3


def test_scope_narrowed_to_client_registration(server: Server, rs384_key: RSAKey) -> None:
    assertion = client_assertion(rs384_key, "backend-rs", server.url("/auth/token"))
    body = backend_token(server, assertion, scope="system/*.cruds").json()
    assert set(body["scope"].split()) == {"system/Patient.rs", "system/Observation.rs"}
    nothing = backend_token(
        server, client_assertion(rs384_key, "backend-rs", server.url("/auth/token")), scope="user/*.rs"
    )
    assert nothing.status_code == 400 and nothing.json()["error"] == "invalid_scope"


def test_replayed_jti_refused(server: Server, rs384_key: RSAKey) -> None:
    assertion = client_assertion(rs384_key, "backend-rs", server.url("/auth/token"), jti="same-jti")
    assert backend_token(server, assertion).ok
    again = backend_token(server, assertion)
    assert again.status_code in (400, 401) and again.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 600},  # more than 5 minutes ahead (seconds from now, taken when the test runs)
        {"exp": -120},  # expired
        {"aud": "http://evil.example/token"},  # wrong audience
        {"iss": "someone-else"},  # iss != sub
        {"jti": None},  # no jti
    ],
)
def test_bad_assertion_claims(server: Server, rs384_key: RSAKey, overrides: dict[str, Any]) -> None:
    claims = {k: v for k, v in overrides.items() if v is not None}
    if "exp" in claims:  # relative to now: a long suite must not age the parameter
        claims["exp"] = int(time.time()) + claims["exp"]
    assertion = client_assertion(rs384_key, "backend-rs", server.url("/auth/token"), **claims)
    if overrides.get("jti", "") is None:
        assertion = _without_jti(rs384_key)
    response = backend_token(server, assertion)
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def _without_jti(key: RSAKey) -> str:
    now = int(time.time())
    claims = {"iss": "backend-rs", "sub": "backend-rs", "aud": "x", "exp": now + 60}
    return jwt.encode({"alg": "RS384", "kid": key.kid}, claims, key, algorithms=["RS384"])


def test_bad_client_assertion_type(server: Server, rs384_key: RSAKey) -> None:
    assertion = client_assertion(rs384_key, "backend-rs", server.url("/auth/token"))
    response = backend_token(server, assertion, assertion_type="urn:example:wrong")
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_rs256_assertion_refused(server: Server, rs384_key: RSAKey) -> None:
    now = int(time.time())
    claims = {
        "iss": "backend-rs",
        "sub": "backend-rs",
        "aud": server.url("/auth/token"),
        "exp": now + 60,
        "jti": "rs256",
    }
    same_key = RSAKey.import_key({k: v for k, v in rs384_key.as_dict(private=True).items() if k != "alg"})
    assertion = jwt.encode({"alg": "RS256", "kid": rs384_key.kid}, claims, same_key, algorithms=["RS256"])
    assert backend_token(server, assertion).json()["error"] == "invalid_client"


def test_key_from_another_client_refused(server: Server, es384_key: ECKey) -> None:
    assertion = client_assertion(es384_key, "backend-rs", server.url("/auth/token"))  # signed with es key
    assert backend_token(server, assertion).json()["error"] == "invalid_client"


def test_keys_by_jwks_url(server: Server, es384_key: ECKey) -> None:
    url = "https://backend.example/jwks.json"
    server.jwks_by_url[url] = {"keys": [es384_key.as_dict(private=False)]}
    server.auth.add_client("backend-url", jwks_uri=url, scope="system/Patient.rs")
    assert backend_token(server, client_assertion(es384_key, "backend-url", server.url("/auth/token"))).ok


def test_public_client_cannot_use_client_credentials(server: Server) -> None:
    response = requests.post(
        server.url("/auth/token"),
        data={"grant_type": "client_credentials", "client_id": "app-public", "scope": "system/*.rs"},
    )
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_introspect_any_for_resource_servers(server: Server, rs384_key: RSAKey, es384_key: ECKey) -> None:
    token = backend_token(server, client_assertion(rs384_key, "backend-rs", server.url("/auth/token"))).json()
    response = requests.post(
        server.url("/auth/introspect"),
        data={
            "token": token["access_token"],
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(es384_key, "backend-es", server.url("/auth/token")),
        },
    )
    body = response.json()
    assert body["active"] is True and body["client_id"] == "backend-rs" and "sub" not in body


@pytest.mark.parametrize(
    "scope",
    [
        "system/Observation.rs?category",  # was a 500
        "system/Observation.rs?=laboratory",
        "system/Observation.rs?category=",  # was granted as system/Observation.rs: every category
    ],
)
def test_malformed_restriction_is_invalid_scope_not_a_wider_token(
    server: Server, es384_key: ECKey, scope: str
) -> None:
    assertion = client_assertion(es384_key, "backend-es", server.url("/auth/token"))
    response = backend_token(server, assertion, scope)
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
