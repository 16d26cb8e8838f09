"""The SMART scope matcher: parsing v1/v2, wildcards, cruds subsets, query restrictions."""

from __future__ import annotations

from typing import Any

import pytest

from smart_auth.scope_grant import narrow
from smart_auth.scopes import (
    AccessContext,
    Constraint,
    ResourceScope,
    ScopeError,
    ScopeSet,
    parse_scope,
    permission_for,
)


def ctx(scope: str, patient: str | None = None) -> AccessContext:
    return AccessContext(client_id="c", scopes=ScopeSet.parse(scope), patient=patient)


@pytest.mark.parametrize(
    ("text", "level", "type_", "perms", "version"),
    [
        ("patient/*.read", "patient", "*", "rs", 1),
        ("user/MedicationRequest.write", "user", "MedicationRequest", "cud", 1),
        ("system/*.*", "system", "*", "cruds", 1),
        ("patient/MedicationRequest.rs", "patient", "MedicationRequest", "rs", 2),
        ("user/*.cruds", "user", "*", "cruds", 2),
        ("system/Observation.c", "system", "Observation", "c", 2),
        ("user/Patient.rd", "user", "Patient", "rd", 2),
    ],
)
def test_parse_resource_scopes(text: str, level: str, type_: str, perms: str, version: int) -> None:
    scope = parse_scope(text)
    assert scope is not None
    assert (scope.level, scope.resource_type, scope.version) == (level, type_, version)
    assert scope.permissions == frozenset(perms)


@pytest.mark.parametrize("text", ["openid", "fhirUser", "launch", "launch/patient", "offline_access", "foo"])
def test_non_resource_scopes_are_not_resource_scopes(text: str) -> None:
    assert parse_scope(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "patient/Observation.sr",  # out of order
        "patient/Observation.rr",  # repeated
        "patient/Observation.x",  # unknown letter
        "patient/observation.rs",  # type must be capitalised
        "patient/Observation.read?category=x",  # v1 takes no query
        "doctor/Observation.rs",  # unknown level is not SMART (and not parsed as such)
    ],
)
def test_malformed_scopes(text: str) -> None:
    if text.startswith("doctor/"):
        assert parse_scope(text) is None
        return
    with pytest.raises(ScopeError):
        parse_scope(text)


def test_query_restricted_scope_keeps_params() -> None:
    scope = parse_scope(
        "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/"
        "observation-category|laboratory&status=final"
    )
    assert scope is not None and scope.params == (
        ("category", "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"),
        ("status", "final"),
    )


def test_scopeset_drops_malformed_unless_strict() -> None:
    parsed = ScopeSet.parse("openid patient/Observation.sr user/Patient.rs")
    assert [str(s) for s in parsed.resources] == ["user/Patient.rs"] and parsed.others == ("openid",)
    with pytest.raises(ScopeError):
        ScopeSet.parse("patient/Observation.sr", strict=True)


@pytest.mark.parametrize(
    ("interaction", "letter"),
    [
        ("create", "c"),
        ("read", "r"),
        ("vread", "r"),
        ("history-instance", "r"),
        ("update", "u"),
        ("patch", "u"),
        ("delete", "d"),
        ("search-type", "s"),
        ("search-system", "s"),
        ("history-type", "s"),
        ("history-system", "s"),
        ("s", "s"),
    ],
)
def test_interaction_permissions(interaction: str, letter: str) -> None:
    assert permission_for(interaction) == letter


def test_unknown_interaction_is_an_error() -> None:
    with pytest.raises(ValueError):
        permission_for("frobnicate")


# scope, interaction, type, allowed (user-level, so no compartment is needed)
MATRIX = [
    ("user/*.read", "read", "Patient", True),
    ("user/*.read", "search-type", "Patient", True),
    ("user/*.read", "create", "Patient", False),
    ("user/*.write", "create", "MedicationRequest", True),
    ("user/*.write", "update", "MedicationRequest", True),
    ("user/*.write", "delete", "MedicationRequest", True),
    ("user/*.write", "read", "MedicationRequest", False),
    ("user/*.*", "delete", "Claim", True),
    ("user/MedicationRequest.rs", "read", "MedicationRequest", True),
    ("user/MedicationRequest.rs", "read", "MedicationDispense", False),
    ("user/MedicationRequest.rs", "update", "MedicationRequest", False),
    ("user/MedicationRequest.r", "search-type", "MedicationRequest", False),
    ("user/MedicationRequest.s", "read", "MedicationRequest", False),
    ("user/MedicationRequest.cu", "patch", "MedicationRequest", True),
    ("user/MedicationRequest.cu", "delete", "MedicationRequest", False),
    ("user/*.cruds", "history-instance", "Observation", True),
    ("system/*.rs", "read", "Coverage", True),
    ("system/Coverage.c", "read", "Coverage", False),
    ("openid fhirUser", "read", "Patient", False),
    ("", "read", "Patient", False),
]


@pytest.mark.parametrize(("scope", "interaction", "type_", "allowed"), MATRIX)
def test_allows_matrix(scope: str, interaction: str, type_: str, allowed: bool) -> None:
    assert ctx(scope).allows(interaction, type_) is allowed


def test_patient_scope_needs_a_patient_in_context() -> None:
    assert not ctx("patient/*.rs").allows("read", "Observation")
    decision = ctx("patient/*.rs", patient="p1").decide("read", "Observation")
    assert decision.allowed and decision.constraints == (Constraint("p1"),)


def test_user_scope_beats_patient_scope_for_same_type() -> None:
    decision = ctx("patient/*.rs user/Observation.rs", patient="p1").decide("read", "Observation")
    assert decision.unrestricted
    assert ctx("patient/*.rs user/Observation.rs", patient="p1").decide("read", "Patient").constraints


def test_query_restricted_decision_and_permits() -> None:
    access = ctx("patient/Observation.rs?category=laboratory", patient="p1")
    decision = access.decide("search-type", "Observation")
    assert decision.constraints == (Constraint("p1", (("category", "laboratory"),)),)

    def in_compartment(resource: Any, patient: str) -> bool:
        return bool(resource["subject"] == patient)

    def matches(resource: Any, params: tuple[tuple[str, str], ...]) -> bool:
        return all(resource.get(k) == v for k, v in params)

    lab_p1 = {"subject": "p1", "category": "laboratory"}
    vitals_p1 = {"subject": "p1", "category": "vital-signs"}
    lab_p2 = {"subject": "p2", "category": "laboratory"}
    assert decision.permits(lab_p1, in_compartment, matches)
    assert not decision.permits(vitals_p1, in_compartment, matches)
    assert not decision.permits(lab_p2, in_compartment, matches)


def test_two_restricted_scopes_are_alternatives() -> None:
    access = ctx("user/Observation.rs?category=laboratory user/Observation.rs?category=imaging")
    decision = access.decide("read", "Observation")
    assert len(decision.constraints) == 2

    def matches(resource: Any, params: tuple[tuple[str, str], ...]) -> bool:
        return all(resource.get(k) == v for k, v in params)

    def never(resource: Any, patient: str) -> bool:
        raise AssertionError("no compartment for user scopes")

    assert decision.permits({"category": "imaging"}, never, matches)
    assert not decision.permits({"category": "vital-signs"}, never, matches)


def test_denied_decision_permits_nothing() -> None:
    decision = ctx("user/Patient.rs").decide("read", "Observation")
    assert not decision.allowed
    assert not decision.permits({}, lambda r, p: True, lambda r, q: True)


def test_render_keeps_version() -> None:
    assert (
        str(ScopeSet.parse("openid patient/*.read user/Patient.rs"))
        == "openid patient/*.read user/Patient.rs"
    )


# --- down-scoping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "ceiling", "granted"),
    [
        (
            "user/*.cruds",
            "user/MedicationRequest.rs user/MedicationDispense.cruds",
            {"user/MedicationRequest.rs", "user/MedicationDispense.cruds"},
        ),
        ("patient/*.read", "user/*.rs", {"patient/*.read"}),
        ("patient/*.rs", "patient/*.rs", {"patient/*.rs"}),
        ("user/*.rs", "patient/*.rs", set()),  # a patient may not widen to user level
        ("user/Patient.cruds", "user/*.rs", {"user/Patient.rs"}),
        ("system/*.rs", "user/*.cruds", set()),
        (
            "user/Observation.rs",
            "user/Observation.rs?category=laboratory",
            {"user/Observation.rs?category=laboratory"},
        ),
        ("user/*.rs user/Patient.r", "user/*.rs", {"user/*.rs"}),  # the narrower duplicate is dropped
    ],
)
def test_narrow(requested: str, ceiling: str, granted: set[str]) -> None:
    result = narrow(ScopeSet.parse(requested), ScopeSet.parse(ceiling))
    assert {str(s) for s in result.resources} == granted


def test_narrow_keeps_allowed_context_scopes_only() -> None:
    result = narrow(
        ScopeSet.parse("openid launch/patient bogus user/Patient.rs"),
        ScopeSet.parse("user/*.rs"),
        {"openid", "launch/patient"},
    )
    assert result.others == ("openid", "launch/patient")


def test_resource_scope_str_roundtrip() -> None:
    scope = ResourceScope("patient", "Observation", frozenset("rs"), (("category", "laboratory"),))
    assert str(scope) == "patient/Observation.rs?category=laboratory"
    assert parse_scope(str(scope)) == scope
