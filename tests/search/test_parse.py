import pytest

from fhir_server.outcome import FhirError
from fhir_server.search import parse_search
from fhir_server.search.paging import decode_cursor, encode_cursor
from fhir_server.search.plan import (
    AnyClause,
    ChainClause,
    Cursor,
    HasClause,
    ParamClause,
    RangePred,
    RefPred,
    StringPred,
    TokenPred,
)


def test_or_and_escaping() -> None:
    plan = parse_search("Patient", [("identifier", "a|1,b|2"), ("name", "x\\,y")])
    first, second = plan.clauses
    assert isinstance(first, ParamClause) and first.preds == (TokenPred("a", "1"), TokenPred("b", "2"))
    assert isinstance(second, ParamClause) and second.preds == (StringPred("x,y", "prefix"),)


def test_token_forms() -> None:
    plan = parse_search("Patient", [("gender", "male"), ("identifier", "|x"), ("identifier", "s|")])
    preds = [c.preds[0] for c in plan.clauses if isinstance(c, ParamClause)]
    assert preds == [TokenPred(None, "male"), TokenPred(None, "x", no_system=True), TokenPred("s", None)]


def test_number_precision() -> None:
    plan = parse_search("RiskAssessment", [("probability", "0.8")])
    (clause,) = plan.clauses
    assert isinstance(clause, ParamClause)
    pred = clause.preds[0]
    assert (
        isinstance(pred, RangePred) and pred.low == pytest.approx(0.75) and pred.high == pytest.approx(0.85)
    )


def test_reference_type_modifier_and_chain() -> None:
    plan = parse_search("MedicationRequest", [("subject:Patient", "p1"), ("subject:Patient.name", "ali")])
    ref, chain = plan.clauses
    assert isinstance(ref, ParamClause) and ref.preds == (RefPred(("Patient",), "p1", None),)
    assert isinstance(chain, ChainClause) and chain.target_types == ("Patient",)


def test_chain_without_type_uses_targets_that_have_the_param() -> None:
    plan = parse_search("MedicationRequest", [("subject.birthdate", "2000")])
    (chain,) = plan.clauses
    assert isinstance(chain, ChainClause) and chain.target_types == ("Patient",)


def test_nested_has() -> None:
    plan = parse_search("Patient", [("_has:Observation:patient:_has:AuditEvent:entity:agent", "x")])
    (clause,) = plan.clauses
    assert isinstance(clause, HasClause) and isinstance(clause.inner, HasClause)


def test_compartment() -> None:
    plan = parse_search("MedicationRequest", [], compartment=("Patient", "p1"))
    (clause,) = plan.clauses
    assert isinstance(clause, AnyClause)
    with pytest.raises(FhirError):
        parse_search("CodeSystem", [], compartment=("Patient", "p1"))


@pytest.mark.parametrize(
    ("type_", "params"),
    [
        ("Patient", [("birthdate", "2000-02-30")]),
        ("Patient", [("_count", "x")]),
        ("Patient", [("_sort", "nonsense")]),
        ("Patient", [("_include", "Patient:gender")]),
        ("Patient", [("gender:exact", "male")]),
        ("Patient", [("name:missing", "maybe")]),
        ("Patient", [("_has:Observation", "x")]),
        ("Patient", [("_cursor", "!!!")]),
        ("Observation", [("value-quantity", "abc")]),
        ("MedicationRequest", [("subject", "Organization/1")]),
        (None, [("_type", "Nope")]),
    ],
)
def test_malformed_is_400(type_: str | None, params: list[tuple[str, str]]) -> None:
    with pytest.raises(FhirError) as err:
        parse_search(type_, params)
    assert err.value.status == 400


def test_unknown_param_warns_or_fails_when_strict() -> None:
    plan = parse_search("Patient", [("nope", "1"), ("_text", "x")])
    assert len(plan.warnings) == 2 and plan.clauses == ()
    assert ("nope", "1") not in plan.params
    with pytest.raises(FhirError):
        parse_search("Patient", [("nope", "1")], strict=True)


def test_controls() -> None:
    plan = parse_search(
        "Patient",
        [("_count", "5000"), ("_sort", "-birthdate,_id"), ("_total", "accurate"), ("_summary", "count")],
    )
    assert plan.count == 0 and plan.total == "accurate"
    assert [(k.param, k.descending) for k in plan.sort] == [("birthdate", True), ("_id", False)]
    assert parse_search("Patient", [("_count", "5000")]).count == 1000


def test_cursor_round_trip() -> None:
    cursor = Cursor(False, (1, "x", "Patient", "p1"))
    assert decode_cursor(encode_cursor(cursor)) == cursor
