"""Roles -> scopes (role x scope x interaction matrix) and the FHIR-side gate (401/403, no leaks)."""

from __future__ import annotations

import pytest
import requests
from auth_testkit import Browser, Server, auth_params, authorize_url, exchange, pkce, query_of

from smart_auth.models import User
from smart_auth.roles import Roles
from smart_auth.scopes import AccessContext, ScopeSet

ASK_ALL = "user/*.cruds patient/*.cruds"

# role, interaction, type, allowed (the user asked for everything; the role decides)
MATRIX = [
    ("prescriber", "create", "MedicationRequest", True),
    ("prescriber", "update", "ServiceRequest", True),
    ("prescriber", "create", "Encounter", True),
    ("prescriber", "read", "Observation", True),
    ("prescriber", "create", "MedicationDispense", False),
    ("prescriber", "create", "ClaimResponse", False),
    ("prescriber", "read", "AuditEvent", False),
    ("prescriber", "create", "Provenance", True),  # $prescribe and Provenance/$sign
    ("prescriber", "update", "Provenance", False),
    ("prescriber", "delete", "Provenance", False),
    ("pharmacist", "search-type", "MedicationRequest", True),
    ("pharmacist", "create", "MedicationDispense", True),
    ("pharmacist", "create", "MedicationRequest", False),
    ("pharmacist", "read", "Observation", False),
    ("pharmacist", "read", "Provenance", True),
    ("pharmacist", "create", "Provenance", False),
    ("pharmacist", "update", "Provenance", False),
    ("paraclinic", "read", "ServiceRequest", True),
    ("paraclinic", "create", "Observation", True),
    ("paraclinic", "create", "DiagnosticReport", True),
    ("paraclinic", "update", "ServiceRequest", False),
    ("paraclinic", "create", "MedicationDispense", False),
    ("paraclinic", "create", "Provenance", False),
    ("insurer", "create", "ClaimResponse", False),  # only adjudication writes them
    ("insurer", "update", "ClaimResponse", False),  # changed only through $adjust
    ("insurer", "update", "Coverage", True),
    ("insurer", "read", "MedicationRequest", True),
    ("insurer", "create", "MedicationRequest", False),
    ("patient", "read", "MedicationRequest", True),
    ("patient", "read", "AuditEvent", True),
    ("patient", "create", "MedicationRequest", False),
    ("ministry", "read", "MeasureReport", True),
    ("ministry", "search-type", "Measure", True),
    ("ministry", "read", "Patient", False),  # aggregates, never patient-level data
    ("ministry", "search-type", "MedicationRequest", False),
    ("ministry", "read", "Claim", False),
    ("admin", "delete", "Patient", True),
    ("admin", "read", "AuditEvent", True),
]


@pytest.mark.parametrize(("role", "interaction", "type_", "allowed"), MATRIX)
def test_role_scope_interaction_matrix(role: str, interaction: str, type_: str, allowed: bool) -> None:
    roles = Roles()
    granted = ScopeSet.parse(str(_narrow(roles, role, ASK_ALL)))
    access = AccessContext("c", granted, patient="p1" if role == "patient" else None)
    assert access.allows(interaction, type_) is allowed


def _narrow(roles: Roles, role: str, scope: str) -> ScopeSet:
    from smart_auth.scope_grant import narrow

    return narrow(ScopeSet.parse(scope), roles.ceiling(role))


@pytest.mark.parametrize(
    ("role", "workplaces", "expected"),
    [
        (
            "pharmacist",
            ["Organization/ph-1"],
            {
                "user/Claim.crs?provider=Organization%2Fph-1",
                "user/ClaimResponse.rs?requestor=Organization%2Fph-1",
                "user/PaymentReconciliation.rs?requestor=Organization%2Fph-1",
            },
        ),
        (
            "insurer",
            ["Organization/tamin", "Organization/salamat"],
            {
                "user/Claim.rs?insurer=Organization%2Ftamin",
                "user/Claim.rs?insurer=Organization%2Fsalamat",
                "user/ClaimResponse.rs?insurer=Organization%2Ftamin",
                "user/ClaimResponse.rs?insurer=Organization%2Fsalamat",
                "user/PaymentReconciliation.crs?payment-issuer=Organization%2Ftamin",
                "user/PaymentReconciliation.crs?payment-issuer=Organization%2Fsalamat",
            },
        ),
        ("insurer", [], set()),  # no workplace: no claims at all
        ("paraclinic", [], set()),
    ],
)
def test_claim_scopes_are_the_users_own_workplaces(
    role: str, workplaces: list[str], expected: set[str]
) -> None:
    from smart_auth.scope_grant import narrow

    granted = narrow(ScopeSet.parse("user/*.cruds"), Roles().ceiling(role, workplaces))
    claims = {
        str(s)
        for s in granted.resources
        if s.resource_type in ("Claim", "ClaimResponse", "PaymentReconciliation")
    }
    assert claims == expected
    access = AccessContext("c", granted)
    decision = access.decide("search-type", "ClaimResponse")
    assert decision.allowed is bool(workplaces)
    assert {c.params for c in decision.constraints} == {
        ((("requestor" if role != "insurer" else "insurer"), w),) for w in workplaces
    }


def test_patient_role_gets_patient_level_only(server: Server) -> None:
    user = User({"user_id": "u", "username": "m", "role": "patient", "fhir_user": "Patient/p1"})
    assert server.auth.scope_for_user("user/*.rs patient/*.cruds openid", user) == "openid patient/*.rs"


def _token(server: Server, user: str, scope: str) -> str:
    verifier, challenge = pkce()
    params = auth_params(server, challenge, scope=scope)
    callback = Browser(server).authorize(authorize_url(server, params), user)
    return str(exchange(server, query_of(callback)["code"], verifier).json()["access_token"])


def test_granted_scope_follows_role(server: Server) -> None:
    verifier, challenge = pkce()
    params = auth_params(server, challenge, scope="openid user/*.cruds")
    callback = Browser(server).authorize(authorize_url(server, params), "pharm")
    body = exchange(server, query_of(callback)["code"], verifier).json()
    assert "user/MedicationDispense.cruds" in body["scope"].split()
    assert "user/MedicationRequest.rs" in body["scope"].split()
    assert "user/*.cruds" not in body["scope"].split()


def test_gate_401_without_or_with_bad_token(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        response = requests.get(f"{server.base}/Patient/p1", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["resourceType"] == "OperationOutcome"
    assert requests.get(f"{server.base}/metadata").status_code == 200
    assert requests.get(f"{server.base}/.well-known/smart-configuration").status_code == 200


def test_gate_403_for_too_little_scope(server: Server) -> None:
    token = _token(server, "pharm", "user/*.cruds")
    response = requests.get(f"{server.base}/Observation/o1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"


def test_search_never_leaks_outside_compartment_or_restriction(server: Server) -> None:
    token = _token(server, "maryam", "patient/Observation.rs?category=laboratory patient/Patient.rs")
    bundle = requests.get(f"{server.base}/Observation", headers={"Authorization": f"Bearer {token}"}).json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["o1"]  # not o2 (vitals) nor o3 (other patient)


def test_fhir_interactions_are_audited(server: Server) -> None:
    token = _token(server, "maryam", "patient/Patient.rs")
    requests.get(f"{server.base}/Patient/p1", headers={"Authorization": f"Bearer {token}"})
    requests.get(f"{server.base}/Patient/p1")
    rest = [e for e in server.audit if e["type"]["code"] == "rest"]
    ok, refused = rest[-2], rest[-1]
    assert ok["subtype"][0]["code"] == "read" and ok["outcome"] == "0" and ok["action"] == "R"
    assert ok["agent"][0]["who"]["reference"] == "Patient/p1"
    assert {"reference": "Patient/p1"} in [e["what"] for e in ok["entity"]]
    assert refused["outcome"] == "4"
