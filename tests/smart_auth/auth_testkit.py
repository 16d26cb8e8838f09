"""Test kit: a real authorization server over HTTP (werkzeug in a thread) with a tiny FHIR side.

The FHIR side here is the boundary smart_auth talks to, not a mock of it: an in-memory
provider/patient directory, a list as audit sink, `/fhir/metadata` with the oauth-uris
security, and a Patient/Observation read/search behind the real `fhir_server.api.auth` gate.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from flask import Flask, Response, g
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from fhir_server.api.auth import register_auth, require
from fhir_server.outcome import FhirError, operation_outcome
from smart_auth.directory import PatientSummary, ProviderAccount
from smart_auth.service import SmartAuth
from smart_auth.store.mongo import MongoAuthStore
from smart_auth.store.sqlite import SQLiteAuthStore
from smart_auth.wiring import init_app
from tests.html_forms import Button, Form, form_with

REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "Kh0sh-Amad-2026"
PATIENTS = {
    "p1": {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"text": "مریم احمدی"}],
        "gender": "female",
        "birthDate": "1985-03-21",
        "identifier": [{"system": "http://noskhe.ir/fhir/sid/national-code", "value": "0018243460"}],
    },
    "p2": {"resourceType": "Patient", "id": "p2", "name": [{"text": "علی رضایی"}], "gender": "male"},
}
OBSERVATIONS = {
    "o1": {
        "resourceType": "Observation",
        "id": "o1",
        "subject": {"reference": "Patient/p1"},
        "category": [{"coding": [{"code": "laboratory"}]}],
    },
    "o2": {
        "resourceType": "Observation",
        "id": "o2",
        "subject": {"reference": "Patient/p1"},
        "category": [{"coding": [{"code": "vital-signs"}]}],
    },
    "o3": {
        "resourceType": "Observation",
        "id": "o3",
        "subject": {"reference": "Patient/p2"},
        "category": [{"coding": [{"code": "laboratory"}]}],
    },
}


class InMemoryDirectory:
    """The provider registry and patient index, as the FHIR side would answer them."""

    def __init__(self) -> None:
        self.providers: dict[tuple[str, str], list[ProviderAccount]] = {
            ("0018243460", "09121234567"): [
                {
                    "reference": "PractitionerRole/dr1-clinic",
                    "display": "دکتر سارا کریمی",
                    "role": "prescriber",
                    "organization": "درمانگاه امید",
                },
                {
                    "reference": "PractitionerRole/dr1-lab",
                    "display": "دکتر سارا کریمی",
                    "role": "paraclinic",
                    "organization": "آزمایشگاه نور",
                },
            ],
        }

    def find_practitioner(self, national_code: str, mobile: str) -> list[ProviderAccount]:
        return list(self.providers.get((national_code, mobile), []))

    def search_patients(self, text: str) -> list[PatientSummary]:
        return [
            summary
            for pid, p in PATIENTS.items()
            if (text in p["name"][0]["text"] or text == pid) and (summary := self.patient(pid))
        ]

    def workplaces(self, fhir_user: str) -> list[str]:
        return []

    def patient(self, patient_id: str) -> PatientSummary | None:
        p = PATIENTS.get(patient_id)
        if p is None:
            return None
        summary: PatientSummary = {"id": patient_id, "display": p["name"][0]["text"], "gender": p["gender"]}
        if "birthDate" in p:
            summary["birth_date"] = p["birthDate"]
        for ident in p.get("identifier", []):
            summary["national_code"] = ident["value"]
        return summary


def in_compartment(resource: dict[str, Any], patient: str) -> bool:
    if resource["resourceType"] == "Patient":
        return bool(resource["id"] == patient)
    return bool(resource.get("subject", {}).get("reference") == f"Patient/{patient}")


def matches(resource: dict[str, Any], params: tuple[tuple[str, str], ...]) -> bool:
    codes = {c["code"] for cat in resource.get("category", []) for c in cat.get("coding", [])}
    return all(name == "category" and value.split("|")[-1] in codes for name, value in params)


def _fhir_routes(app: Flask) -> None:
    stores = {"Patient": PATIENTS, "Observation": OBSERVATIONS}

    @app.errorhandler(FhirError)
    def _fhir_error(err: FhirError) -> Response:
        return Response(
            json.dumps(operation_outcome(err.issues)),
            err.status,
            headers=dict(err.headers),
            content_type="application/fhir+json",
        )

    @app.get("/fhir/<type_>/<id_>")
    def read(type_: str, id_: str) -> Response:
        decision = require("read", type_)
        resource = stores[type_].get(id_)
        if resource is None or not decision.permits(resource, in_compartment, matches):
            return Response(json.dumps({"resourceType": "OperationOutcome"}), 404)
        return Response(json.dumps(resource), content_type="application/fhir+json")

    @app.get("/fhir/<type_>")
    def search(type_: str) -> Response:
        decision = require("search-type", type_)
        entries = [
            {"resource": r} for r in stores[type_].values() if decision.permits(r, in_compartment, matches)
        ]
        return Response(
            json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries}),
            content_type="application/fhir+json",
        )

    @app.get("/fhir/whoami")
    def whoami() -> Response:
        access = g.get("fhir_access")
        return Response(json.dumps({"client": access.client_id, "patient": access.patient}))


def _metadata(app: Flask, auth: SmartAuth, base: str) -> None:
    @app.get("/fhir/metadata")
    def metadata() -> Response:
        statement = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-22",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [{"mode": "server", "security": auth.capability_security(base)}],
        }
        return Response(json.dumps(statement), content_type="application/fhir+json")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    root: str
    auth: SmartAuth
    audit: list[dict[str, Any]]
    directory: InMemoryDirectory
    data: Path
    jwks_by_url: dict[str, dict[str, Any]] = field(default_factory=dict)
    store_url: str | None = None

    def url(self, path: str) -> str:
        return f"{self.root}{path}"

    def cli_store(self) -> list[str]:
        """The command-line options that name this server's store."""
        return ["--data", str(self.data), *(["--store", self.store_url] if self.store_url else [])]


def build_app(tmp_path: Path, port: int, store_url: str | None = None, **config: Any) -> tuple[Flask, Server]:
    root = f"http://127.0.0.1:{port}"
    audit: list[dict[str, Any]] = []
    directory = InMemoryDirectory()
    jwks_by_url: dict[str, dict[str, Any]] = {}
    app = Flask("smart-auth-test")
    config.setdefault("base_url", f"{root}/fhir")
    auth = init_app(
        app,
        data_dir=tmp_path,
        fhir_base_path="/fhir",
        store_url=store_url,
        directory=directory,
        audit=audit.append,
        jwks_fetcher=lambda url: jwks_by_url[url],
        **config,
    )
    register_auth(app, True, auth.verify, audit=audit.append)
    _metadata(app, auth, f"{root}/fhir")
    _fhir_routes(app)
    return app, Server(f"{root}/fhir", root, auth, audit, directory, tmp_path, jwks_by_url, store_url)


def register_defaults(srv: Server, rs384_key: RSAKey, es384_key: ECKey) -> None:
    auth = srv.auth
    all_user = "openid fhirUser profile launch launch/patient offline_access online_access"
    auth.add_client(
        "app-public", redirect_uris=[REDIRECT], scope=f"{all_user} patient/*.rs user/*.cruds", name="Test App"
    )
    auth.add_client(
        "app-secret",
        secret="app-secret-value-1",
        redirect_uris=[REDIRECT],
        scope=f"{all_user} patient/*.rs user/*.cruds",
    )
    auth.add_client(
        "ehr",
        secret="ehr-secret-value-1",
        redirect_uris=[REDIRECT],
        ehr_launcher=True,
        scope=f"{all_user} patient/*.rs user/*.cruds",
    )
    auth.add_client(
        "backend-rs",
        jwks={"keys": [rs384_key.as_dict(private=False)]},
        scope="system/Patient.rs system/Observation.rs",
    )
    auth.add_client(
        "backend-es",
        jwks={"keys": [es384_key.as_dict(private=False)]},
        scope="system/*.rs",
        introspect_any=True,
    )
    auth.add_user("dr.karimi", PASSWORD, "prescriber", fhir_user="Practitioner/dr1", display="دکتر کریمی")
    auth.add_user("pharm", PASSWORD, "pharmacist", fhir_user="Practitioner/ph1")
    auth.add_user("maryam", PASSWORD, "patient", fhir_user="Patient/p1")
    auth.add_user("root", PASSWORD, "admin", fhir_user="Practitioner/admin")


# --- a browser that walks the sign-in pages -------------------------------------------------


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in page"
    return found.group(1)


class Browser:
    """Cookies and the pages' own forms (action, method, hidden fields, the clicked button)."""

    def __init__(self, srv: Server, password: str = PASSWORD) -> None:
        self.srv = srv
        self.password = password
        self.http = requests.Session()

    def open(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False)

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.is_redirect, f"{response.status_code}: {response.text[:300]}"
        return self.open(urljoin(response.url, response.headers["Location"]))

    def submit(
        self, page: requests.Response, form: Form, button: Button | None = None, **typed: str
    ) -> requests.Response:
        data = form.data(button, **typed)
        url = form.target(page.url)
        if form.method == "post":
            return self.http.post(url, data=data, allow_redirects=False)
        return self.http.get(url, params=data, allow_redirects=False)

    def sign_in(
        self, page: requests.Response, username: str, password: str | None = None, decision: str = "allow"
    ) -> requests.Response:
        form = form_with(page.text, "password")
        password = self.password if password is None else password
        if decision == "deny":
            return self.submit(page, form, form.button("decision", "deny"))
        named = [b for b in form.buttons if b.name == "decision" and b.value == decision]
        button = named[0] if named else form.buttons[0]
        return self.submit(page, form, button, username=username, password=password)

    def consent(self, page: requests.Response, decision: str = "allow") -> requests.Response:
        assert page.status_code == 200 and 'type="password"' not in page.text, page.text[:500]
        form = form_with(page.text, "decision")
        return self.submit(page, form, form.button("decision", decision))

    def pick(self, response: requests.Response, query: str, patient: str) -> requests.Response:
        assert response.status_code == 302 and "/auth/pick" in response.headers["Location"]
        page = self.follow(response)
        assert page.status_code == 200
        results = self.submit(page, form_with(page.text, "q"), q=query)
        assert results.status_code == 200
        form = form_with(results.text, "patient")
        return self.submit(results, form, form.buttons[0], patient=patient)

    def authorize(self, url: str, username: str, pick: str | None = None, query: str | None = None) -> str:
        """Walk a whole authorization (sign-in, picker, consent: whichever the server shows);
        return the callback URL the app would receive. The picker is searched for `query`
        (default: the patient id) and `pick` is chosen."""
        response = self.open(url)
        for _ in range(6):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if "/auth/pick" in location:
                    assert pick, "the patient picker appeared"
                    response = self.pick(response, query or pick, pick)
                    continue
                if not location.startswith(self.srv.url("/auth/")):
                    return location
                response = self.open(location)
            elif 'type="password"' in response.text:
                response = self.sign_in(response, username)
            else:
                response = self.consent(response)
        raise AssertionError(f"no callback after six steps: {response.status_code} {response.text[:300]}")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def client_assertion(key: RSAKey | ECKey, client_id: str, audience: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": now + 240,
        "jti": f"jti-{time.time_ns()}",
    }
    claims.update(overrides)
    return jwt.encode(
        {"alg": key.alg or "RS384", "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=["RS384", "ES384"]
    )


# --- the authorization-code flow by hand ---------------------------------------------------

SCOPE = "openid fhirUser launch/patient offline_access patient/*.rs"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def auth_params(srv: Server, challenge: str, **overrides: Any) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "app-public",
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "st-" + secrets.token_hex(4),
        "aud": srv.base,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize_url(srv: Server, params: dict[str, str]) -> str:
    return f"{srv.url('/auth/authorize')}?{urlencode(params)}"


def get_code(srv: Server, browser: Browser, params: dict[str, str], user: str = "maryam") -> str:
    callback = browser.authorize(authorize_url(srv, params), user)
    query = query_of(callback)
    assert query["state"] == params["state"], callback
    return query["code"]


def exchange(srv: Server, code: str, verifier: str | None, **extra: Any) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "app-public",
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    auth = extra.pop("auth", None)
    data.update(extra)
    return requests.post(
        srv.url("/auth/token"), data={k: v for k, v in data.items() if v is not None}, auth=auth
    )


# -- reaching under the store, on either engine: time passing, what is stored --------------


def stored_records(srv: Server, kind: str) -> list[str]:
    """The stored text of every record of `kind` (to check what is kept, e.g. hashed)."""
    store = srv.auth.store
    if isinstance(store, SQLiteAuthStore):
        with sqlite3.connect(store.path) as db:
            return [r[0] for r in db.execute("SELECT doc FROM records WHERE kind = ?", (kind,))]
    assert isinstance(store, MongoAuthStore)
    return [d["doc"] for d in store.records.find({"_id": {"$regex": f"^{re.escape(kind)}\\|"}})]


def edit_records(srv: Server, kind: str, **fields: Any) -> None:
    """Set fields inside every stored record of `kind` (e.g. a code's own expiry)."""
    store = srv.auth.store
    if isinstance(store, SQLiteAuthStore):
        with sqlite3.connect(store.path) as db:
            for rowid, doc in db.execute("SELECT rowid, doc FROM records WHERE kind = ?", (kind,)).fetchall():
                db.execute(
                    "UPDATE records SET doc = ? WHERE rowid = ?",
                    (json.dumps({**json.loads(doc), **fields}), rowid),
                )
        return
    assert isinstance(store, MongoAuthStore)
    for d in store.records.find({"_id": {"$regex": f"^{re.escape(kind)}\\|"}}):
        store.records.update_one(
            {"_id": d["_id"]}, {"$set": {"doc": json.dumps({**json.loads(d["doc"]), **fields})}}
        )


def expire_tokens(srv: Server) -> None:
    """Every access token's lifetime passes."""
    store = srv.auth.store
    if isinstance(store, SQLiteAuthStore):
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE tokens SET expires_at = 0")
        return
    assert isinstance(store, MongoAuthStore)
    store.tokens.update_many({}, {"$set": {"expires_at": 0}})
