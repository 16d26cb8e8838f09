"""EHR launch, discovery documents, JWKS and key rotation."""

from __future__ import annotations

import requests
from auth_testkit import REDIRECT, Browser, Server, auth_params, authorize_url, exchange, pkce, query_of
from fhirclient import client as fhir_client
from joserfc import jwt
from joserfc.jwk import KeySet

EHR = ("ehr", "ehr-secret-value-1")


def create_launch(srv: Server, auth: tuple[str, str] = EHR, **context: str) -> requests.Response:
    return requests.post(srv.url("/auth/launch"), json=context, auth=auth)


def test_ehr_launch_with_fhirclient(server: Server) -> None:
    launch = create_launch(server, patient="p2", encounter="e9").json()["launch"]
    app = fhir_client.FHIRClient(
        settings={
            "app_id": "app-public",
            "api_base": server.base,
            "redirect_uri": REDIRECT,
            "scope": "openid fhirUser launch patient/*.rs",
            "launch_token": launch,
        }
    )
    params = query_of(app.authorize_url)
    assert params["launch"] == launch and "launch" in params["scope"].split()
    callback = Browser(server).authorize(app.authorize_url, "dr.karimi")  # no picker: the EHR chose
    app.handle_callback(callback)
    assert app.patient_id == "p2"
    assert app.launch_context["encounter"] == "e9" and app.launch_context["need_patient_banner"] is False


def test_launch_scope_needs_a_known_launch(server: Server) -> None:
    _, challenge = pkce()
    for launch in (None, "made-up"):
        params = auth_params(server, challenge, scope="launch patient/*.rs", launch=launch)
        response = Browser(server).open(authorize_url(server, params))
        assert (
            response.status_code == 302
            and query_of(response.headers["Location"])["error"] == "invalid_request"
        )


def test_only_ehr_launchers_create_launches(server: Server) -> None:
    assert create_launch(server, auth=("app-secret", "app-secret-value-1"), patient="p1").status_code == 403
    assert create_launch(server, auth=("ehr", "wrong"), patient="p1").status_code == 401


def test_standalone_picker_offers_only_search_results(server: Server) -> None:
    verifier, challenge = pkce()
    browser = Browser(server)
    response = browser.sign_in(
        browser.open(authorize_url(server, auth_params(server, challenge))), "dr.karimi"
    )
    response = browser.pick(response, "مریم", "p2")  # p2 was not among the results for "مریم"
    assert response.status_code == 302 and "/auth/pick" in response.headers["Location"]
    consent = browser.pick(response, "مریم", "p1")
    assert "مریم احمدی" in consent.text and "••••••3460" in consent.text  # the chosen patient is named
    response = browser.consent(consent)
    body = exchange(server, query_of(response.headers["Location"])["code"], verifier).json()
    assert body["patient"] == "p1" and body["need_patient_banner"] is True


def test_smart_configuration(server: Server) -> None:
    doc = requests.get(f"{server.base}/.well-known/smart-configuration").json()
    assert doc["issuer"] == server.base
    assert doc["authorization_endpoint"] == server.url("/auth/authorize")
    assert doc["token_endpoint"] == server.url("/auth/token")
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) >= {
        "private_key_jwt",
        "client_secret_basic",
        "none",
    }
    assert set(doc["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {
        "launch-ehr",
        "launch-standalone",
        "authorize-post",
        "client-public",
        "client-confidential-symmetric",
        "client-confidential-asymmetric",
        "sso-openid-connect",
        "context-ehr-patient",
        "context-standalone-patient",
        "context-banner",
        "permission-offline",
        "permission-online",
        "permission-patient",
        "permission-user",
        "permission-v1",
        "permission-v2",
    } <= set(doc["capabilities"])
    for name in ("introspection_endpoint", "revocation_endpoint", "jwks_uri"):
        assert requests.options(doc[name]).status_code < 500


def test_capability_security_has_oauth_uris(server: Server) -> None:
    security = server.auth.capability_security("https://fhir.example.ir/fhir")
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["authorize"] == "https://fhir.example.ir/auth/authorize"
    assert uris["token"] == "https://fhir.example.ir/auth/token"
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"


def test_jwks_and_rotation_keep_old_tokens_verifiable(server: Server) -> None:
    old_kid = server.auth.keys.active.kid
    id_token = _id_token(server)
    new_kid = server.auth.keys.rotate()
    jwks = requests.get(server.url("/auth/jwks")).json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    assert all("d" not in k for k in jwks["keys"])  # public parts only
    jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])  # still verifies
    assert jwt.decode(_id_token(server), KeySet.import_key_set(jwks)).header["kid"] == new_kid
    server.auth.keys.retire(old_kid)
    assert [k["kid"] for k in requests.get(server.url("/auth/jwks")).json()["keys"]] == [new_kid]


def _id_token(server: Server) -> str:
    verifier, challenge = pkce()
    params = auth_params(server, challenge, scope="openid fhirUser patient/Patient.rs")
    callback = Browser(server).authorize(authorize_url(server, params), "maryam")
    return str(exchange(server, query_of(callback)["code"], verifier).json()["id_token"])


def test_keys_survive_restart(server: Server) -> None:
    from smart_auth.keys import SigningKeys

    assert SigningKeys(server.auth.store).active.kid == server.auth.keys.active.kid


def _admin_token(server: Server) -> str:
    verifier, challenge = pkce()
    callback = Browser(server).authorize(
        authorize_url(server, auth_params(server, challenge, scope="user/*.cruds")), "root"
    )
    return str(exchange(server, query_of(callback)["code"], verifier).json()["access_token"])


def test_dynamic_registration_for_admins_only(server: Server) -> None:
    metadata = {
        "client_name": "Clinic app",
        "redirect_uris": ["https://clinic.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid patient/*.rs",
    }
    url = server.url("/auth/register")
    assert requests.post(url, json=metadata).status_code in (400, 401, 403)
    patient = _token_for(server, "maryam")
    assert (
        requests.post(url, json=metadata, headers={"Authorization": f"Bearer {patient}"}).status_code != 201
    )
    response = requests.post(url, json=metadata, headers={"Authorization": f"Bearer {_admin_token(server)}"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert "client_secret" not in body
    client = server.auth.client(body["client_id"])
    assert (
        client is not None
        and client.kind == "public"
        and client.check_redirect_uri("https://clinic.example/cb")
    )
    assert (
        requests.get(f"{server.base}/.well-known/smart-configuration").json()["registration_endpoint"] == url
    )


def _token_for(server: Server, user: str) -> str:
    verifier, challenge = pkce()
    callback = Browser(server).authorize(authorize_url(server, auth_params(server, challenge)), user)
    return str(exchange(server, query_of(callback)["code"], verifier).json()["access_token"])
