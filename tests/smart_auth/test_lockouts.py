"""Lock-outs that strangers cannot trigger: sign-in failures per (username, address) with
growing waits, a slower per-username limit that leaves the owner's own addresses open,
and successful sign-ins that never count. Each person is a browser at its own address."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from auth_testkit import PASSWORD, auth_params, build_app, pkce, register_defaults
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import ECKey, RSAKey

from tests.html_forms import form_with

BASE = "http://localhost/fhir"


class Person:
    """Someone at one client address, signing in from a fresh browser each time (the pages' forms)."""

    def __init__(self, app: Flask, address: str) -> None:
        self.app, self.address = app, address

    def sign_in(self, username: str, password: str) -> int:
        self.client: FlaskClient = self.app.test_client()
        _, challenge = pkce()
        params = {**auth_params_for_base(challenge), "scope": "openid fhirUser user/*.rs"}
        page = self.client.get(
            "/auth/authorize", query_string=params, environ_base={"REMOTE_ADDR": self.address}
        )
        form = form_with(page.get_data(as_text=True), "password")
        data = form.data(form.button("decision", "allow"), username=username, password=password)
        answer = self.client.post(form.action, data=data, environ_base={"REMOTE_ADDR": self.address})
        self.last_page = answer.get_data(as_text=True)
        return answer.status_code


def auth_params_for_base(challenge: str) -> dict[str, str]:
    class _Base:
        base = BASE

    return auth_params(_Base(), challenge)  # type: ignore[arg-type]


@pytest.fixture
def app(tmp_path: Path, rs384_key: RSAKey, es384_key: ECKey, auth_store_url: str | None) -> Flask:
    app, srv = build_app(tmp_path, 80, store_url=auth_store_url, base_url=BASE)
    register_defaults(srv, rs384_key, es384_key)
    return app


def test_successful_sign_ins_never_count(app: Flask) -> None:
    # twelve fresh browsers at one address, each signing in right: the consent page every time
    assert [Person(app, "10.0.0.1").sign_in("dr.karimi", PASSWORD) for _ in range(12)] == [200] * 12


def test_failures_lock_the_address_with_growing_waits(app: Flask) -> None:
    guesser = Person(app, "10.0.0.9")
    assert [guesser.sign_in("dr.karimi", "wrong-guess-1") for _ in range(5)] == [401] * 4 + [429]
    assert "دقیقه" in guesser.last_page  # the wait is shown
    svc = app.extensions["smart_auth"]
    first = svc.signin_guard.locked_until("dr.karimi", "10.0.0.9")
    assert first is not None and 0 < first - time.time() <= 60
    svc.store.delete_record("lock", "signin:dr.karimi|10.0.0.9")  # the minute passes
    assert [guesser.sign_in("dr.karimi", "wrong-guess-2") for _ in range(5)][-1] == 429
    second = svc.signin_guard.locked_until("dr.karimi", "10.0.0.9")
    assert second is not None and 60 < second - time.time() <= 120  # twice as long


def test_someone_who_knows_only_the_username_cannot_lock_the_owner_out(app: Flask) -> None:
    owner = Person(app, "10.0.0.1")
    assert owner.sign_in("dr.karimi", PASSWORD) == 200  # the owner's usual address
    # A botnet guesses from 20 addresses, 4 tries each (no address reaches its own limit): the
    # username's slower limit stops it at the 50th failure ...
    statuses = []
    for n in range(20):
        stranger = Person(app, f"10.66.0.{n + 1}")
        statuses += [stranger.sign_in("dr.karimi", f"guess-{n}-{i}") for i in range(4)]
    assert statuses[:49] == [401] * 49 and set(statuses[49:]) == {429}
    # ... and still the owner gets in from their own address
    assert owner.sign_in("dr.karimi", PASSWORD) == 200
    assert Person(app, "10.66.0.99").sign_in("dr.karimi", PASSWORD) == 429  # an unknown address waits
    # and a stranger's lock-out of their own address changes nothing for the owner
    stranger = Person(app, "10.66.1.1")
    assert [stranger.sign_in("dr.karimi", "x-guess") for _ in range(5)][-1] == 429
    assert owner.sign_in("dr.karimi", PASSWORD) == 200


def test_unknown_usernames_are_limited_the_same_way(app: Flask) -> None:
    prober = Person(app, "10.0.0.5")
    assert [prober.sign_in("no-such-user", "whatever-1") for _ in range(5)] == [401] * 4 + [429]
