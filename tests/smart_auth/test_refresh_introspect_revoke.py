"""Refresh rotation, introspection (RFC 7662 + SMART fields), revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

import requests
from auth_testkit import Browser, Server, auth_params, exchange, get_code, pkce

SECRET = ("app-secret", "app-secret-value-1")


def tokens(
    srv: Server, scope: str, client: str = "app-secret", browser: Browser | None = None
) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = get_code(srv, browser or Browser(srv), auth_params(srv, challenge, client_id=client, scope=scope))
    extra: dict[str, Any] = {"client_id": None, "auth": SECRET} if client == "app-secret" else {}
    response = exchange(srv, code, verifier, **extra)
    assert response.ok, response.text
    return dict(response.json())


def refresh(srv: Server, token: str, auth: Any = SECRET, **extra: str) -> requests.Response:
    return requests.post(
        srv.url("/auth/token"),
        auth=auth,
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
    )


def introspect(srv: Server, token: str, auth: Any = SECRET) -> requests.Response:
    return requests.post(srv.url("/auth/introspect"), data={"token": token}, auth=auth)


def revoke(srv: Server, token: str, hint: str | None = None, auth: Any = SECRET) -> requests.Response:
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return requests.post(srv.url("/auth/revoke"), data=data, auth=auth)


OFFLINE = "openid fhirUser offline_access patient/Patient.rs patient/Observation.rs"


def test_refresh_rotates_and_replay_kills_the_chain(server: Server) -> None:
    first = tokens(server, OFFLINE)
    second = refresh(server, first["refresh_token"])
    assert second.ok and second.headers["Cache-Control"] == "no-store"
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"] and body["patient"] == "p1"
    assert server.auth.verify(body["access_token"]) is not None
    replay = refresh(server, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert server.auth.verify(body["access_token"]) is None  # the whole chain is revoked
    assert refresh(server, body["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_scope_may_shrink_never_grow(server: Server) -> None:
    first = tokens(server, OFFLINE)
    grow = refresh(server, first["refresh_token"], scope="offline_access patient/*.rs")
    assert grow.status_code == 400 and grow.json()["error"] == "invalid_scope"
    shrink = refresh(server, first["refresh_token"], scope="offline_access patient/Patient.rs")
    assert shrink.ok and shrink.json()["scope"] == "offline_access patient/Patient.rs"


def test_refresh_is_bound_to_its_client(server: Server) -> None:
    first = tokens(server, OFFLINE)
    stolen = refresh(server, first["refresh_token"], auth=None, client_id="app-public")
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_no_refresh_token_without_offline_or_online_access(server: Server) -> None:
    assert "refresh_token" not in tokens(server, "openid patient/Patient.rs")


def test_online_access_ends_with_the_session(server: Server) -> None:
    browser = Browser(server)
    first = tokens(server, "online_access patient/Patient.rs", browser=browser)
    second = refresh(server, first["refresh_token"])
    assert second.ok
    browser.http.post(server.url("/auth/signout"), data={"tx": "none"})
    assert refresh(server, second.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_introspection_fields(server: Server) -> None:
    token = tokens(server, OFFLINE)
    body = introspect(server, token["access_token"]).json()
    assert body["active"] is True and body["client_id"] == "app-secret"
    assert body["scope"] == token["scope"] and body["patient"] == "p1"
    assert body["fhirUser"] == f"{server.base}/Patient/p1" and body["sub"] and body["exp"] > body["iat"]
    assert body["iss"] == server.base and body["username"] == "maryam"
    assert introspect(server, token["refresh_token"]).json()["active"] is True
    assert introspect(server, "made-up").json() == {"active": False}


def test_introspection_needs_an_authenticated_client(server: Server) -> None:
    token = tokens(server, OFFLINE)
    assert introspect(server, token["access_token"], auth=None).status_code in (400, 401)
    assert introspect(server, token["access_token"], auth=("app-secret", "wrong")).status_code == 401
    # another confidential client may not introspect tokens that are not its own
    other = introspect(server, token["access_token"], auth=("ehr", "ehr-secret-value-1"))
    assert other.json() == {"active": False}


def test_revoking_refresh_token_kills_its_access_tokens(server: Server) -> None:
    first = tokens(server, OFFLINE)
    second = refresh(server, first["refresh_token"]).json()
    assert revoke(server, second["refresh_token"], "refresh_token").status_code == 200
    for access in (first["access_token"], second["access_token"]):
        assert server.auth.verify(access) is None
        assert introspect(server, access).json() == {"active": False}
    assert refresh(server, second["refresh_token"]).json()["error"] == "invalid_grant"
    revoked = [e for e in server.audit if e["subtype"][0]["code"] == "token-revoked"]
    assert revoked and revoked[0]["agent"][1]["who"]["identifier"]["value"] == "app-secret"


def test_revoking_an_access_token_only(server: Server) -> None:
    token = tokens(server, OFFLINE)
    assert revoke(server, token["access_token"]).status_code == 200
    assert server.auth.verify(token["access_token"]) is None
    assert refresh(server, token["refresh_token"]).ok
    assert revoke(server, "unknown-token").status_code == 200  # RFC 7009: unknown is not an error


def test_public_client_revokes_its_own_token(server: Server) -> None:
    token = tokens(server, OFFLINE, client="app-public")
    response = requests.post(
        server.url("/auth/revoke"), data={"token": token["access_token"], "client_id": "app-public"}
    )
    assert response.status_code == 200 and server.auth.verify(token["access_token"]) is None
