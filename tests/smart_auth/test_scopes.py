"""The SMART scope matcher: parsing v1/v2, wildcards, cruds subsets, query restrictions."""

from __future__ import annotations

from typing import Any

import pytest

from smart_auth.scope_grant import narrow
from smart_auth.scopes import (
    AccessContext,
    Constraint,
    Decision,
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


# --- several scopes at once -------------------------------------------------------------------


def lab_and_vitals() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Observations: a lab result of p1, vital signs of p1, a lab result of p2."""
    return (
        {"subject": "p1", "category": "laboratory"},
        {"subject": "p1", "category": "vital-signs"},
        {"subject": "p2", "category": "laboratory"},
    )


def subject_is(resource: Any, patient: str) -> bool:
    return bool(resource["subject"] == patient)


def has_params(resource: Any, params: tuple[tuple[str, str], ...]) -> bool:
    return all(resource.get(k) == v for k, v in params)


def reachable(decision: Any) -> list[bool]:
    return [decision.permits(r, subject_is, has_params) for r in lab_and_vitals()]


@pytest.mark.parametrize(
    "scope",
    [
        "patient/*.rs user/Observation.rs",  # the patient scope grants nothing, the next one still counts
        "user/Observation.rs patient/*.rs",
        "patient/Observation.rs patient/Patient.r user/Observation.rs",
    ],
)
def test_patient_scope_without_patient_does_not_hide_a_user_scope(scope: str) -> None:
    decision = ctx(scope).decide("search-type", "Observation")
    assert decision.unrestricted
    assert reachable(decision) == [True, True, True]


def test_patient_scope_without_patient_next_to_a_restricted_user_scope() -> None:
    access = ctx("patient/Observation.rs user/Observation.rs?category=laboratory")
    decision = access.decide("read", "Observation")
    assert decision.constraints == (Constraint(None, (("category", "laboratory"),)),)
    assert reachable(decision) == [True, False, True]


def test_only_patient_scopes_and_no_patient_deny() -> None:
    access = ctx("patient/*.rs patient/Observation.cruds patient/*.read")
    assert not access.allows("read", "Observation")
    assert access.decide("create", "Observation") == Decision(False)


@pytest.mark.parametrize(
    ("scope", "interaction", "expected"),
    [
        # v1 and v2 forms together: each grants its own letters, the union decides
        ("user/Observation.read user/Observation.c", "create", "unrestricted"),
        ("user/Observation.read user/Observation.c", "search-type", "unrestricted"),
        ("user/Observation.read user/Observation.c", "update", "denied"),
        ("user/Observation.write user/Observation.rs", "delete", "unrestricted"),
        ("user/Observation.write user/Observation.r", "search-type", "denied"),
        ("patient/Observation.read user/Observation.c", "read", "compartment"),
        ("patient/Observation.read user/Observation.c", "create", "unrestricted"),
        ("patient/*.* user/Observation.s", "search-type", "unrestricted"),
        ("patient/*.* user/Observation.s", "read", "compartment"),
        ("patient/*.* user/Observation.s", "delete", "compartment"),
        ("system/*.read patient/Observation.cruds", "read", "unrestricted"),
        ("system/*.read patient/Observation.cruds", "update", "compartment"),
    ],
)
def test_v1_and_v2_together(scope: str, interaction: str, expected: str) -> None:
    decision = ctx(scope, patient="p1").decide(interaction, "Observation")
    if expected == "denied":
        assert not decision.allowed and not decision.permits({}, subject_is, has_params)
    elif expected == "unrestricted":
        assert decision.unrestricted
    else:
        assert decision.constraints == (Constraint("p1"),)
        assert reachable(decision) == [True, True, False]


@pytest.mark.parametrize(
    "scope",
    [
        "user/Observation.rs?category=laboratory user/Observation.rs",
        "user/Observation.rs user/Observation.rs?category=laboratory",
        "user/Observation.rs?category=laboratory user/*.rs",
        "user/Observation.rs?category=laboratory user/*.read",
        "patient/Observation.rs?category=laboratory system/Observation.rs",
    ],
)
def test_unrestricted_grant_beats_a_restricted_one_in_any_order(scope: str) -> None:
    decision = ctx(scope, patient="p1").decide("read", "Observation")
    assert decision.unrestricted
    assert reachable(decision) == [True, True, True]


def test_restricted_grant_applies_where_the_unrestricted_one_lacks_the_letter() -> None:
    access = ctx("user/Observation.r user/Observation.s?category=laboratory")
    assert access.decide("read", "Observation").unrestricted
    search = access.decide("search-type", "Observation")
    assert search.constraints == (Constraint(None, (("category", "laboratory"),)),)
    assert reachable(search) == [True, False, True]


def test_patient_restricted_and_patient_unrestricted_together() -> None:
    decision = ctx("patient/Observation.rs?category=laboratory patient/*.read", patient="p1").decide(
        "search-type", "Observation"
    )
    assert set(decision.constraints) == {Constraint("p1"), Constraint("p1", (("category", "laboratory"),))}
    assert reachable(decision) == [True, True, False]  # the compartment still binds


def test_restrictions_of_one_scope_all_hold_those_of_two_scopes_either() -> None:
    both = ctx("user/Observation.rs?category=laboratory&subject=p2").decide("read", "Observation")
    assert reachable(both) == [False, False, True]
    either = ctx("user/Observation.rs?category=laboratory user/Observation.rs?subject=p1").decide(
        "read", "Observation"
    )
    assert reachable(either) == [True, True, True]


def test_the_same_constraint_from_two_scopes_is_listed_once() -> None:
    decision = ctx("patient/*.rs patient/Observation.rs patient/Observation.read", patient="p1").decide(
        "read", "Observation"
    )
    assert decision.constraints == (Constraint("p1"),)


def test_a_scope_for_another_type_adds_nothing() -> None:
    decision = ctx("user/Patient.cruds patient/Observation.rs", patient="p1").decide("read", "Observation")
    assert decision.constraints == (Constraint("p1"),)
    assert not ctx("user/Patient.cruds user/MedicationRequest.rs").allows("read", "Observation")


def test_constraint_without_patient_never_asks_for_a_compartment() -> None:
    def no_compartment(resource: Any, patient: str) -> bool:
        raise AssertionError("a user-level constraint has no compartment")

    assert Constraint(None, (("category", "laboratory"),)).satisfied(
        {"category": "laboratory"}, no_compartment, has_params
    )
    assert Constraint().unrestricted and not Constraint("p1").unrestricted
    assert not Constraint(None, (("a", "b"),)).unrestricted


@pytest.mark.parametrize("interaction", ["x", "a", "R", "", "rs", "cr", "cruds", "read ", "Read"])
def test_unknown_or_combined_interactions_are_errors(interaction: str) -> None:
    with pytest.raises(ValueError) as refused:
        permission_for(interaction)
    assert str(refused.value) == f"unknown FHIR interaction: {interaction}"
    with pytest.raises(ValueError):
        ctx("user/*.cruds").decide(interaction, "Observation")


@pytest.mark.parametrize("letter", list("cruds"))
def test_each_letter_is_its_own_interaction(letter: str) -> None:
    assert permission_for(letter) == letter
    assert ctx(f"user/Observation.{letter}").allows(letter, "Observation")
    for other in set("cruds") - {letter}:
        assert not ctx(f"user/Observation.{letter}").allows(other, "Observation")


@pytest.mark.parametrize(
    "text",
    [
        "user/Observation.rs?category",  # no '=': not a restriction
        "user/Observation.rs?=laboratory",  # no parameter
        "user/Observation.rs?category=",  # no value: dropping it would grant every category
        "user/Observation.rs?category=laboratory&",
        "user/Observation.rs?a=1&&b=2",
        "user/Observation.rs?",
        "user/Observation.",
        "user/.rs",
        "user/*.rsx",
        "user/Observation.read?category=laboratory",
        "system/*.*?category=laboratory",
    ],
)
def test_malformed_restrictions_are_scope_errors(text: str) -> None:
    with pytest.raises(ScopeError) as refused:
        parse_scope(text)
    assert str(refused.value).endswith(f": {text}")  # the client is told which scope
    assert ScopeSet.parse(f"openid {text} user/Patient.rs").resources == (
        ResourceScope("user", "Patient", frozenset("rs")),
    )


def test_v1_rendering_of_each_word() -> None:
    assert [str(parse_scope(s)) for s in ("user/*.read", "user/*.write", "user/*.*", "user/*.rs")] == [
        "user/*.read",
        "user/*.write",
        "user/*.*",
        "user/*.rs",
    ]
    assert str(ResourceScope("user", "Patient", frozenset("cud"), (), 2)) == "user/Patient.cud"
    assert str(ResourceScope("user", "Patient", frozenset("sr"), (), 1)) == "user/Patient.read"
    assert str(ResourceScope("user", "Patient", frozenset("r"), (), 1)) == "user/Patient.r"


def test_malformed_scope_shapes_name_themselves() -> None:
    for text in ("user/Observation/x.rs", "patient/Observation.sr", "system/*.read?category=x"):
        with pytest.raises(ScopeError) as refused:
            parse_scope(text)
        assert str(refused.value).endswith(f": {text}")
    assert parse_scope("launch/patient.x") is None  # not a level: some other kind of scope


def test_restricted_scope_renders_in_the_v2_form() -> None:
    restricted_v1 = ResourceScope("user", "Observation", frozenset("rs"), (("category", "laboratory"),), 1)
    assert str(restricted_v1) == "user/Observation.rs?category=laboratory"


def test_empty_scope_strings() -> None:
    for empty in (None, "", "   "):
        parsed = ScopeSet.parse(empty)
        assert parsed == ScopeSet() and str(parsed) == ""
    assert ScopeSet.parse("openid  launch").others == ("openid", "launch")


def test_has_context_scope() -> None:
    parsed = ScopeSet.parse("openid offline_access user/Patient.rs")
    assert parsed.has("offline_access") and parsed.has("openid")
    assert not parsed.has("online_access") and not parsed.has("user/Patient.rs")
