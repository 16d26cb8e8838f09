"""Remembered consent: asked once per app and scopes, listed on the user's page, revocable
there and with `fhir-server grants revoke`, and revoking ends the app's tokens."""

from __future__ import annotations

import requests
from auth_testkit import (
    Browser,
    Server,
    auth_params,
    authorize_url,
    exchange,
    pkce,
    query_of,
)

from fhir_server.cli import main
from tests.html_forms import form_with


def allowed_tokens(server: Server, browser: Browser, user: str = "maryam") -> dict[str, str]:
    verifier, challenge = pkce()
    callback = browser.authorize(authorize_url(server, auth_params(server, challenge)), user)
    body = exchange(server, query_of(callback)["code"], verifier).json()
    assert body["access_token"], body
    return dict(body)


def api_status(server: Server, token: str) -> int:
    return requests.get(f"{server.base}/Patient/p1", headers={"Authorization": f"Bearer {token}"}).status_code


def refresh_status(server: Server, refresh_token: str) -> int:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "app-public"}
    return requests.post(server.url("/auth/token"), data=data).status_code


def test_grants_page_lists_and_revokes(server: Server) -> None:
    browser = Browser(server)
    tokens = allowed_tokens(server, browser)
    page = browser.open(server.url("/auth/grants"))
    assert page.status_code == 200 and "Test App" in page.text and "همهٔ منابع" in page.text
    form = form_with(page.text, "client_id")
    done = browser.submit(page, form, form.buttons[0])
    assert done.status_code == 200 and "Test App" in done.text and 'name="client_id"' not in done.text
    assert api_status(server, tokens["access_token"]) == 401  # the app's tokens are revoked
    assert refresh_status(server, tokens["refresh_token"]) == 400
    _, challenge = pkce()
    again = browser.open(authorize_url(server, auth_params(server, challenge)))
    assert again.status_code == 200 and 'name="decision" value="allow"' in again.text  # asked again


def test_grants_page_signs_in_without_an_app(server: Server) -> None:
    allowed_tokens(server, Browser(server))
    browser = Browser(server)  # another browser: not signed in
    page = browser.open(server.url("/auth/grants?lang=en"))
    assert page.status_code == 200 and 'type="password"' in page.text and 'lang="en"' in page.text
    signed_in = browser.sign_in(page, "maryam")
    assert signed_in.status_code == 303
    listing = browser.follow(signed_in)
    assert "Test App" in listing.text and "Take back" in listing.text


def test_grants_forms_refuse_a_forged_post(server: Server) -> None:
    browser = Browser(server)
    tokens = allowed_tokens(server, browser)
    forged = browser.http.post(server.url("/auth/grants/revoke"), data={"client_id": "app-public"})
    assert forged.status_code == 400 and "منقضی" in forged.text  # a clear page, nothing changed
    assert api_status(server, tokens["access_token"]) == 200
    other = Browser(server)
    page = other.open(server.url("/auth/grants"))
    stolen = form_with(page.text, "csrf").fields["csrf"]  # another browser's form token
    replay = browser.http.post(
        server.url("/auth/grants/revoke"), data={"client_id": "app-public", "csrf": stolen}
    )
    assert replay.status_code == 400 and api_status(server, tokens["access_token"]) == 200


def test_cli_lists_and_revokes(server: Server, capsys: object) -> None:
    browser = Browser(server)
    tokens = allowed_tokens(server, browser)
    data = server.cli_store()
    assert main(["grants", "list", *data, "--user", "maryam"]) == 0
    assert main(["grants", "revoke", *data, "--user", "maryam", "--client-id", "app-public"]) == 0
    assert api_status(server, tokens["access_token"]) == 401
    assert main(["grants", "revoke", *data, "--user", "maryam", "--client-id", "app-public"]) == 1
    assert main(["grants", "revoke", *data, "--user", "nobody", "--all"]) == 2


def test_consent_is_per_user(server: Server) -> None:
    allowed_tokens(server, Browser(server))  # maryam allowed the app
    other = Browser(server)
    _, challenge = pkce()
    page = other.sign_in(other.open(authorize_url(server, auth_params(server, challenge))), "dr.karimi")
    page = other.pick(page, "مریم", "p1")  # a doctor picks the patient, then ...
    assert page.status_code == 200 and 'name="decision" value="allow"' in page.text  # ... is asked
