"""Authorization code + PKCE: the positive path by hand, and the SMART test-kit negative cases."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
from auth_testkit import (
    PASSWORD,
    REDIRECT,
    SCOPE,
    Browser,
    Server,
    auth_params,
    authorize_url,
    exchange,
    expire_tokens,
    get_code,
    pkce,
    query_of,
)

from tests.html_forms import forms


def test_code_flow_by_hand(server: Server) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge))
    response = exchange(server, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600
    assert body["patient"] == "p1" and body["refresh_token"] and body["id_token"]
    api = requests.get(
        f"{server.base}/Patient/p1", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert api.status_code == 200


def test_authorize_by_post(server: Server) -> None:
    verifier, challenge = pkce()
    browser = Browser(server)
    params = auth_params(server, challenge)
    page = browser.http.post(server.url("/auth/authorize"), data=params, allow_redirects=False)
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    consent = browser.sign_in(page, "maryam")
    assert consent.status_code == 200 and "Test App" in consent.text  # first time: the app is named
    response = browser.consent(consent)
    assert response.status_code == 302
    assert exchange(server, query_of(response.headers["Location"])["code"], verifier).status_code == 200


def _redirected_error(response: requests.Response, state: str) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    query = query_of(location)
    assert "code" not in query and query["state"] == state
    return query


@pytest.mark.parametrize("aud", ["http://evil.example/fhir", "", None])
def test_wrong_or_missing_aud_gets_no_code(server: Server, aud: str | None) -> None:
    _, challenge = pkce()
    params = auth_params(server, challenge, aud=aud)
    response = Browser(server).open(authorize_url(server, params))
    assert _redirected_error(response, params["state"])["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("challenge", "method"),
    [
        (None, None),  # PKCE missing
        ("", "S256"),  # blank challenge
        ("x" * 43, "plain"),  # plain refused for every client
        ("x" * 43, None),  # method missing: Authlib would assume plain
    ],
)
def test_pkce_required_and_s256_only(server: Server, challenge: str | None, method: str | None) -> None:
    params = auth_params(server, "unused", code_challenge=challenge, code_challenge_method=method)
    response = Browser(server).open(authorize_url(server, params))
    assert _redirected_error(response, params["state"])["error"] == "invalid_request"


def test_confidential_client_must_use_pkce_too(server: Server) -> None:
    params = auth_params(
        server, "unused", client_id="app-secret", code_challenge=None, code_challenge_method=None
    )
    response = Browser(server).open(authorize_url(server, params))
    assert _redirected_error(response, params["state"])["error"] == "invalid_request"


def test_unknown_client_is_not_redirected(server: Server) -> None:
    _, challenge = pkce()
    response = Browser(server).open(authorize_url(server, auth_params(server, challenge, client_id="nobody")))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_client" in response.text


@pytest.mark.parametrize("redirect", [REDIRECT + "/", REDIRECT + "?x=1", "http://127.0.0.1:9/other", None])
def test_redirect_uri_must_match_exactly(server: Server, redirect: str | None) -> None:
    _, challenge = pkce()
    response = Browser(server).open(
        authorize_url(server, auth_params(server, challenge, redirect_uri=redirect))
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_deny_returns_access_denied_with_state(server: Server) -> None:
    _, challenge = pkce()
    params = auth_params(server, challenge)
    browser = Browser(server)
    response = browser.sign_in(browser.open(authorize_url(server, params)), "maryam", decision="deny")
    assert _redirected_error(response, params["state"])["error"] == "access_denied"


@pytest.mark.parametrize(
    ("verifier_of", "error"),
    [
        (lambda v, c: None, "invalid_request"),  # missing
        (lambda v, c: "", "invalid_request"),  # blank
        (lambda v, c: secrets.token_urlsafe(48), "invalid_grant"),  # wrong
        (lambda v, c: c, "invalid_grant"),  # the challenge itself
    ],
)
def test_pkce_verifier_checked_at_token(server: Server, verifier_of: Any, error: str) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge))
    response = exchange(server, code, verifier_of(verifier, challenge))
    assert response.status_code == 400 and response.json()["error"] == error


def test_bad_code(server: Server) -> None:
    verifier, _ = pkce()
    response = exchange(server, "not-a-code", verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_reused_code_refused_and_first_tokens_revoked(server: Server) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge))
    first = exchange(server, code, verifier)
    assert first.status_code == 200
    second = exchange(server, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert server.auth.verify(first.json()["access_token"]) is None


def test_code_bound_to_client_and_redirect(server: Server) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge))
    wrong_redirect = exchange(server, code, verifier, redirect_uri="http://127.0.0.1:9/other")
    assert wrong_redirect.json()["error"] == "invalid_grant"
    code = get_code(server, Browser(server), auth_params(server, challenge))
    other_client = exchange(server, code, verifier, client_id=None, auth=("app-secret", "app-secret-value-1"))
    assert other_client.json()["error"] == "invalid_grant"


def test_bad_client_id_at_token(server: Server) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge))
    response = exchange(server, code, verifier, client_id="nobody")
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_bad_grant_type(server: Server) -> None:
    response = requests.post(
        server.url("/auth/token"),
        data={
            "grant_type": "password",
            "username": "maryam",
            "password": PASSWORD,
            "client_id": "app-public",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_confidential_client_with_basic_auth(server: Server) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge, client_id="app-secret"))
    wrong = exchange(server, code, verifier, client_id=None, auth=("app-secret", "wrong-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    code = get_code(server, Browser(server), auth_params(server, challenge, client_id="app-secret"))
    assert exchange(server, code, verifier, client_id=None, auth=("app-secret", "app-secret-value-1")).ok


def test_confidential_client_cannot_skip_authentication(server: Server) -> None:
    verifier, challenge = pkce()
    code = get_code(server, Browser(server), auth_params(server, challenge, client_id="app-secret"))
    response = exchange(server, code, verifier, client_id="app-secret")
    assert response.json()["error"] == "invalid_client"


def test_wrong_password_locks_this_address_out_for_a_while(server: Server) -> None:
    _, challenge = pkce()
    browser = Browser(server)
    page = browser.open(authorize_url(server, auth_params(server, challenge)))
    statuses = [browser.sign_in(page, "maryam", password="nope-nope-nope").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the fifth failure locks (username, address)
    locked = browser.sign_in(page, "maryam")
    assert locked.status_code == 429  # even the right password, for a while
    assert "۱ دقیقهٔ دیگر" in locked.text  # and the page says how long
    logins = [e for e in server.audit if e["subtype"][0]["code"] == "110122"]
    assert logins and all(e["outcome"] == "4" for e in logins)


def test_pending_request_is_bound_to_the_browser(server: Server) -> None:
    _, challenge = pkce()
    page = Browser(server).open(authorize_url(server, auth_params(server, challenge)))
    stranger = Browser(server)  # replays the victim's form from another browser
    response = stranger.sign_in(page, "maryam")
    assert response.status_code == 400 and "Location" not in response.headers


def test_signed_in_browser_is_not_asked_again(server: Server) -> None:
    verifier, challenge = pkce()
    browser = Browser(server)
    get_code(server, browser, auth_params(server, challenge))  # signs in, allows, session cookie set
    response = browser.open(authorize_url(server, auth_params(server, challenge)))
    assert response.status_code == 302  # no password, no consent: the same app, the same scopes
    assert exchange(server, query_of(response.headers["Location"])["code"], verifier).ok
    more = browser.open(authorize_url(server, auth_params(server, challenge, scope=f"{SCOPE} online_access")))
    assert more.status_code == 200 and 'type="password"' not in more.text  # more scopes: consent again
    assert exchange(server, query_of(browser.consent(more).headers["Location"])["code"], verifier).ok


def test_consent_page_deny_and_sign_out_go_where_they_say(server: Server) -> None:
    _, challenge = pkce()
    browser = Browser(server)
    params = auth_params(server, challenge)
    consent = browser.sign_in(browser.open(authorize_url(server, params)), "maryam")
    denied = browser.consent(consent, "deny")
    callback = query_of(denied.headers["Location"])
    assert callback["error"] == "access_denied" and callback["state"] == params["state"]
    page = browser.open(authorize_url(server, auth_params(server, challenge)))
    assert page.status_code == 200 and 'type="password"' not in page.text  # signed in, not yet allowed
    signout = next(f for f in forms(page.text) if "decision" not in {b.name for b in f.buttons})
    signed_out = browser.submit(page, signout, signout.buttons[0])
    assert signed_out.status_code == 200 and 'type="password"' in signed_out.text  # asked to sign in again
    again = browser.open(authorize_url(server, auth_params(server, challenge)))
    assert 'type="password"' in again.text  # the session ended


def test_expired_token_is_refused_by_the_fhir_gate(server: Server) -> None:
    verifier, challenge = pkce()
    token = exchange(
        server, get_code(server, Browser(server), auth_params(server, challenge)), verifier
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{server.base}/Patient/p1", headers=headers).status_code == 200
    expire_tokens(server)  # time passes
    response = requests.get(f"{server.base}/Patient/p1", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"
