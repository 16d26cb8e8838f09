"""The rules engine at its exact limits, over a policy written here (not the shipped data,
which may change): the last value each rule lets through and the first it refuses, with
the issue it gives, and the insurer's and patient's shares."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fhir_server.eprescription import items
from fhir_server.eprescription.policy import Interaction, Policy
from fhir_server.eprescription.rules_engine import RuleContext, evaluate, merged_rule
from tests.eprescription.cycle_helpers import drug, service

TODAY = date(2026, 3, 15)
POLICY = Policy(
    types={},
    medical={
        "generic|00077": {"maxQuantity": 60, "maxRepeats": 3, "duplicateDays": 5},
        "generic|90196": {"sex": "male", "minAge": 18},
        "generic|90177": {"sex": "", "specialties": ["DERM", "IM"]},
        "generic|90299": {"hospitalOnly": True},
        "rvu|801026": {"sex": "female", "minAge": 10, "maxAge": 60},
        "generic|90001": {"maxAge": 12},
        "generic|90002": {"sex": "other"},
    },
    insurers={
        "TAMIN": {
            "defaults": {"drug": {"insurerShare": 70}, "*": {"insurerShare": 65}},
            "items": {
                "generic|00077": {"maxQuantity": 30, "maxRepeats": 1},  # stricter than medical: wins
                "generic|00076": {"maxQuantity": 90},
                "generic|90043": {"insurerShare": 90},
                "generic|90196": {"covered": False},
                "generic|90084": {"priorAuthorization": True},
            },
        },
        "SALAMAT": {
            "defaults": {"drug": {"insurerShare": 60}},
            "items": {"generic|00077": {"maxQuantity": 90}},
        },
        "NOSHARES": {"defaults": {}, "items": {}},
    },
    interactions=(
        Interaction(("90241",), ("ATC:C09A",), "error", {"en": "contraindicated pair", "fa": "تداخل"}),
        Interaction(("90081",), ("90077",), "warning", {"en": "bleeding risk", "fa": "خونریزی"}),
        Interaction(
            ("ATC:C09A",), ("ATC:C09A",), "warning", {"en": "two ACE inhibitors", "fa": "دو مهارکننده"}
        ),
    ),
    atc={"90105": "C09AA02", "90106": "C09AA05"},
    dispensing={},
)


def ctx(**changes: Any) -> RuleContext:
    base: dict[str, Any] = {
        "insurer": "TAMIN",
        "patient": {"gender": "male", "birthDate": "1980-01-01"},
        "specialties": frozenset({"GP"}),
        "today": TODAY,
    }
    return RuleContext(**{**base, **changes})


WHERE = "Bundle.entry[0].resource"


def problems(item: dict[str, Any], context: RuleContext | None = None) -> list[tuple[str, str, str]]:
    """(severity, code, text) of every issue but the shares line; each names the item."""
    result = evaluate(item, context or ctx(), POLICY, WHERE)
    assert all(i.expression == (WHERE,) for i in result.issues), result.issues
    return [(i.severity, i.code, i.diagnostics) for i in result.issues if i.code != "informational"]


def errors(item: dict[str, Any], context: RuleContext | None = None) -> list[str]:
    """The texts of the errors, every one a business-rule issue."""
    found = [(code, text) for severity, code, text in problems(item, context) if severity == "error"]
    assert all(code == "business-rule" for code, _ in found), found
    return [text for _, text in found]


@pytest.mark.parametrize(
    ("code", "insurer", "last_allowed"),
    [
        ("00077", "TAMIN", 30),  # the insurer's 30 is lower than the medical 60
        ("00077", "SALAMAT", 60),  # the insurer's 90 is higher: the medical 60 still holds
        ("00077", None, 60),  # a free prescription keeps the medical limit
        ("00076", "TAMIN", 90),  # no medical rule: the insurer's alone
    ],
)
def test_maximum_quantity_boundary(code: str, insurer: str | None, last_allowed: int) -> None:
    assert errors(drug(code, last_allowed), ctx(insurer=insurer)) == []
    for over in (last_allowed + 1, last_allowed + 0.5):
        found = problems(drug(code, over), ctx(insurer=insurer))
        shown = str(int(over)) if over == int(over) else str(over)
        assert found == [
            (
                "error",
                "business-rule",
                f"generic|{code}: quantity {shown} exceeds the maximum of {last_allowed} per prescription",
            )
        ]


def test_no_quantity_rule_no_limit() -> None:
    assert errors(drug("90043", 10_000)) == []


@pytest.mark.parametrize(("insurer", "last_allowed"), [("TAMIN", 1), (None, 3)])
def test_maximum_repeats_boundary(insurer: str | None, last_allowed: int) -> None:
    assert errors(drug("00077", 10, repeats=last_allowed), ctx(insurer=insurer)) == []
    assert problems(drug("00077", 10, repeats=last_allowed + 1), ctx(insurer=insurer)) == [
        (
            "error",
            "business-rule",
            f"generic|00077: {last_allowed + 1} repeats exceed the maximum of {last_allowed}",
        )
    ]


@pytest.mark.parametrize(
    ("specialties", "refused"),
    [
        (frozenset({"GP"}), True),
        (frozenset(), True),
        (frozenset({"DERM"}), False),
        (frozenset({"IM"}), False),
        (frozenset({"GP", "IM"}), False),  # any one of the prescriber's specialties will do
        (None, False),  # not checked when dispensing
    ],
)
def test_specialty(specialties: frozenset[str] | None, refused: bool) -> None:
    found = errors(drug("90177", 10), ctx(specialties=specialties))
    assert found == (["generic|90177 may be prescribed only by: DERM, IM"] if refused else [])


@pytest.mark.parametrize(
    ("gender", "refused"), [("female", True), ("other", True), ("male", False), (None, False)]
)
def test_sex(gender: str | None, refused: bool) -> None:
    patient = {"birthDate": "1980-01-01", **({"gender": gender} if gender else {})}
    found = errors(drug("90196", 4), ctx(patient=patient))
    assert found == (["generic|90196 is only for male patients"] if refused else [])


def test_empty_sex_rule_admits_everyone() -> None:
    assert errors(drug("90177", 4), ctx(patient={"gender": "female"}, specialties=frozenset({"DERM"}))) == []


@pytest.mark.parametrize(
    ("born", "age", "refused"),
    [
        ("2008-03-15", 18, False),  # eighteen today
        ("2008-03-16", 17, True),  # eighteen tomorrow
        ("2008-02-29", 18, False),  # a leap-day birthday counts from 1 March in common years
    ],
)
def test_minimum_age_boundary(born: str, age: int, refused: bool) -> None:
    found = errors(drug("90196", 4), ctx(patient={"gender": "male", "birthDate": born}))
    expected = f"generic|90196 is for patients aged 18 to 150; this patient is {age}"
    assert found == ([expected] if refused else [])


def test_leap_day_birthday_the_day_before() -> None:
    patient = {"gender": "male", "birthDate": "2008-02-29"}
    assert errors(drug("90196", 4), ctx(patient=patient, today=date(2026, 2, 28))) == [
        "generic|90196 is for patients aged 18 to 150; this patient is 17"
    ]


@pytest.mark.parametrize(
    ("born", "age", "refused"),
    [
        ("1965-03-16", 60, False),  # 61 tomorrow
        ("1965-03-15", 61, True),  # 61 today
        ("2016-03-15", 10, False),
        ("2016-03-16", 9, True),
    ],
)
def test_age_range_of_a_service(born: str, age: int, refused: bool) -> None:
    patient = {"gender": "female", "birthDate": born}
    found = errors(service("801026"), ctx(patient=patient))
    assert found == ([f"rvu|801026 is for patients aged 10 to 60; this patient is {age}"] if refused else [])


@pytest.mark.parametrize("birth", [None, "", "not a date", "1980-13-01"])
def test_unknown_birth_date_is_not_refused(birth: str | None) -> None:
    assert errors(drug("90196", 4), ctx(patient={"gender": "male", "birthDate": birth})) == []


def test_hospital_only() -> None:
    assert errors(drug("90299", 1), ctx(outpatient=True)) == [
        "generic|90299 is a hospital-only drug and cannot be prescribed in an outpatient visit"
    ]
    assert errors(drug("90299", 1), ctx(outpatient=False)) == []


def earlier(code: str, day: str, id_: str = "old") -> dict[str, Any]:
    return {**drug(code, 10), "id": id_, "authoredOn": day}


@pytest.mark.parametrize(
    ("day", "warned"),
    [("2026-03-10", True), ("2026-03-09", False), ("2026-03-15", True)],  # five days back, six, today
)
def test_duplicate_therapy_window(day: str, warned: bool) -> None:
    found = problems(drug("00077", 10), ctx(history=[earlier("00077", day)]))
    warning = (
        "warning",
        "business-rule",
        f"generic|00077 was already prescribed for this patient on {day} (within 5 days)",
    )
    assert found == ([warning] if warned else [])


def test_duplicate_therapy_ignores_other_drugs_and_the_item_itself() -> None:
    item = {**drug("00077", 10), "id": "same"}
    history = [earlier("00076", "2026-03-14"), earlier("00077", "2026-03-14", id_="same")]
    assert problems(item, ctx(history=history)) == []


def test_interactions_by_code_and_by_atc_class() -> None:
    blocked = problems(drug("90241", 10), ctx(others=[drug("90105", 10)]))  # 90105 is ATC C09AA02
    assert blocked == [("error", "business-rule", "contraindicated pair")]
    assert problems(drug("90105", 10), ctx(others=[drug("90241", 10)])) == blocked  # either order
    warned = problems(drug("90077", 10), ctx(others=[drug("90081", 10)]))
    assert warned == [("warning", "business-rule", "bleeding risk")]
    assert problems(drug("90241", 10), ctx(others=[drug("90081", 10)])) == []
    item = {**drug("90241", 10), "id": "x"}
    assert problems(item, ctx(others=[{**drug("90241", 10), "id": "x"}])) == []  # not with itself


@pytest.mark.parametrize(
    ("item", "insurer", "shares", "warning"),
    [
        (drug("00077", 10), "TAMIN", (70, 30), None),  # the insurer's default for drugs
        (service("801005"), "TAMIN", (65, 35), None),  # its default for any other kind
        (drug("90043", 10), "TAMIN", (90, 10), None),  # a per-code share
        (drug("90043", 10), "SALAMAT", (60, 40), None),
        (drug("90196", 4), "TAMIN", (0, 100), "generic|90196 is not covered by TAMIN"),
        (
            drug("90084", 4),
            "TAMIN",
            (0, 100),
            "generic|90084 needs the insurer's prior authorisation; until then the patient pays in full",
        ),
        (drug("00077", 10), None, (0, 100), None),  # free: the patient pays, no shares line
    ],
)
def test_shares(
    item: dict[str, Any], insurer: str | None, shares: tuple[int, int], warning: str | None
) -> None:
    result = evaluate(item, ctx(insurer=insurer), POLICY, WHERE)
    assert (result.insurer_share, result.patient_share) == shares
    assert all(i.expression == (WHERE,) for i in result.issues)
    warnings = [(i.code, i.diagnostics) for i in result.issues if i.severity == "warning"]
    assert warnings == ([("business-rule", warning)] if warning else [])
    info = [(i.severity, i.code, i.diagnostics) for i in result.issues if i.code == "informational"]
    if insurer is None:
        assert info == []
    else:
        name = items.code_keys(item)[0]
        assert info == [
            ("information", "informational", f"{name}: insurer pays {shares[0]}%, patient pays {shares[1]}%")
        ]


def test_issues_without_a_location_name_none() -> None:
    result = evaluate(drug("00077", 31, repeats=2), ctx(), POLICY)
    assert [i.expression for i in result.issues] == [(), (), ()]


def test_maximum_age_without_minimum_admits_a_newborn() -> None:
    assert errors(drug("90001", 1), ctx(patient={"birthDate": "2026-03-14"})) == []
    assert errors(drug("90001", 1), ctx(patient={"birthDate": "2013-03-15"})) == [
        "generic|90001 is for patients aged 0 to 12; this patient is 13"
    ]


def test_insurer_without_a_share_pays_nothing() -> None:
    result = evaluate(drug("00077", 10), ctx(insurer="NOSHARES"), POLICY)
    assert (result.insurer_share, result.patient_share) == (0, 100)


def test_a_class_interaction_needs_two_items_not_one() -> None:
    lisinopril = {**drug("90106", 10), "id": "a"}
    enalapril = {**drug("90105", 10), "id": "b"}
    assert problems(lisinopril, ctx(others=[lisinopril])) == []  # the item itself is among the others
    warning = [("warning", "business-rule", "two ACE inhibitors")]
    assert problems(lisinopril, ctx(others=[lisinopril, enalapril])) == warning  # checks on past itself
    unsaved = drug("90106", 10)  # items of one submission have no ids yet
    assert problems(unsaved, ctx(others=[drug("90105", 10)])) == warning


@pytest.mark.parametrize(
    ("item", "others", "patient", "persian"),
    [
        (drug("90196", 4), [], {"gender": "female"}, "generic|90196 فقط برای بیماران مرد است"),
        (service("801026"), [], {"gender": "male"}, "rvu|801026 فقط برای بیماران زن است"),
        (drug("90241", 10), [drug("90105", 10)], {}, "تداخل"),
        (drug("90002", 1), [], {"gender": "male"}, "generic|90002 فقط برای بیماران other است"),
    ],
)
def test_persian_texts(
    item: dict[str, Any], others: list[Any], patient: dict[str, Any], persian: str
) -> None:
    from flask import Flask

    with Flask(__name__).test_request_context(headers={"Accept-Language": "fa"}):
        result = evaluate(item, ctx(patient=patient, others=others), POLICY)
    assert persian in [i.diagnostics for i in result.issues]


def test_the_merged_rule_claims_are_adjudicated_by() -> None:
    """What adjudication reads (insurance/claims.py): medical rules, then the insurer's default
    for the kind, then its per-code rule; a per-code maximum only ever lowers the medical one."""
    amoxicillin = drug("00077", 1)
    assert merged_rule(amoxicillin, "TAMIN", POLICY) == {
        "maxQuantity": 30,
        "maxRepeats": 1,
        "duplicateDays": 5,
        "insurerShare": 70,
    }
    assert merged_rule(amoxicillin, "SALAMAT", POLICY) == {
        "maxQuantity": 60,
        "maxRepeats": 3,
        "duplicateDays": 5,
        "insurerShare": 60,
    }
    assert merged_rule(amoxicillin, None, POLICY) == {"maxQuantity": 60, "maxRepeats": 3, "duplicateDays": 5}
    assert merged_rule(drug("90043", 1), "TAMIN", POLICY) == {"insurerShare": 90}  # per-code share wins
