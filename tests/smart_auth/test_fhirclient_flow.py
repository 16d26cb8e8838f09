"""The authorization-code + PKCE flow driven by the real Python `fhirclient` 4.x."""

from __future__ import annotations

from auth_testkit import REDIRECT, Browser, Server, query_of
from fhirclient import client as fhir_client
from fhirclient.models.patient import Patient
from joserfc import jwt
from joserfc.jwk import KeySet


def _app(srv: Server, scope: str, **extra: str) -> fhir_client.FHIRClient:
    settings = {
        "app_id": "app-public",
        "api_base": srv.base,
        "redirect_uri": REDIRECT,
        "scope": scope,
        **extra,
    }
    return fhir_client.FHIRClient(settings=settings)


def test_fhirclient_standalone_launch_with_patient_picker(server: Server) -> None:
    app = _app(server, "openid fhirUser offline_access patient/*.rs")
    authorize_url = app.authorize_url
    params = query_of(authorize_url)
    assert authorize_url.startswith(server.url("/auth/authorize"))
    assert params["code_challenge_method"] == "S256" and params["aud"] == server.base
    assert "launch/patient" in params["scope"]  # fhirclient adds it: the server shows its picker

    callback = Browser(server).authorize(authorize_url, "dr.karimi", pick="p1")
    assert query_of(callback)["state"] == params["state"]
    app.handle_callback(callback)

    assert app.patient_id == "p1"
    assert app.launch_context["need_patient_banner"] is True
    assert app.server.auth.refresh_token  # offline_access was granted
    assert Patient.read("p1", app.server).id == "p1"


def test_token_response_carries_scope_context_and_id_token(server: Server) -> None:
    app = _app(server, "openid fhirUser patient/Observation.rs")
    callback = Browser(server).authorize(app.authorize_url, "dr.karimi", pick="p2")
    app.handle_callback(callback)
    ctx = app.launch_context
    assert ctx["token_type"] == "Bearer" and ctx["patient"] == "p2"
    assert set(ctx["scope"].split()) == {"openid", "fhirUser", "launch/patient", "patient/Observation.rs"}
    assert "refresh_token" not in ctx  # neither offline_access nor online_access asked
    keys = KeySet.import_key_set(server.auth.keys.public_jwks())
    claims = jwt.decode(ctx["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["fhirUser"] == f"{server.base}/Practitioner/dr1"
    assert claims["aud"] == ["app-public"] and claims["iss"] == server.base


def test_patient_user_gets_own_compartment_only(server: Server) -> None:
    app = _app(server, "openid fhirUser patient/*.rs")
    callback = Browser(server).authorize(app.authorize_url, "maryam")  # no picker for a patient
    app.handle_callback(callback)
    assert app.patient_id == "p1"
    assert Patient.read("p1", app.server).id == "p1"
    other = app.server.session.get(
        f"{server.base}/Patient/p2", headers={"Authorization": f"Bearer {app.server.auth.access_token}"}
    )
    assert other.status_code == 404  # outside the compartment: not revealed
