"""The rules engine: data-driven insurer and medical rules; eligibility; free prescriptions."""

from __future__ import annotations

from typing import Any

from tests.eprescription.conftest import Api
from tests.eprescription.cycle_helpers import drug, prescriptions, service, submission


def prescribe(api: Api, items: list[dict[str, Any]], status: int = 200) -> Any:
    return api.post("MedicationRequest/$prescribe", submission(items), status)


def diagnostics(outcome: dict[str, Any]) -> str:
    return " | ".join(i.get("diagnostics", "") for i in outcome["issue"])


def test_max_quantity_blocks_with_persian_text(api: Api) -> None:
    outcome = api.post(
        "MedicationRequest/$prescribe", submission([drug("00077", 40)]), 422, **{"Accept-Language": "fa"}
    )
    assert "بیش از حداکثر مجاز" in diagnostics(outcome)
    assert "exceeds the maximum of 30" in diagnostics(prescribe(api, [drug("00077", 40)], 422))


def test_sex_limit_and_specialty(api: Api) -> None:
    assert "only for male" in diagnostics(prescribe(api, [drug("90196", 4)], 422))  # patient is female
    assert "may be prescribed only by" in diagnostics(
        prescribe(api, [drug("90177", 30)], 422)
    )  # GP, not DERM


def test_contraindicated_interaction_blocks_and_warning_passes(api: Api) -> None:
    assert "contraindicated" in diagnostics(prescribe(api, [drug("90241", 14), drug("90105", 30)], 422))
    result = prescribe(api, [drug("90081", 30), drug("90077", 30)])
    outcome = next(p["resource"] for p in result["parameter"] if p["name"] == "outcome")
    assert "bleeding" in diagnostics(outcome)


def test_shares_and_not_covered(api: Api) -> None:
    result = prescribe(api, [drug("90043", 30)])
    mr = prescriptions(result)[0]["items"][0]
    shares = next(e for e in mr["extension"] if e["url"].endswith("cost-shares"))
    assert shares["extension"][0]["valueDecimal"] == 90


def test_check_rules_operation_for_a_paper_prescription(api: Api) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": drug("00077", 20)}, {"resource": drug("90196", 4)}],
    }
    result = api.post("$check-rules?insurer=TAMIN", bundle, 200)
    outcome = next(p["resource"] for p in result["parameter"] if p["name"] == "outcome")
    assert "only for male" in diagnostics(outcome) and "not covered" in diagnostics(outcome)
    shares = [p for p in result["parameter"] if p["name"] == "item"]
    assert shares[0]["part"][1]["valueDecimal"] == 70 and shares[1]["part"][1]["valueDecimal"] == 0


def test_duplicate_therapy_warns(api: Api) -> None:
    prescribe(api, [service("801005")])
    other = service("801005")
    other["code"]["coding"][0]["display"] = "HbA1c again"
    other["quantityQuantity"] = {"value": 2}
    result = prescribe(api, [other])
    outcome = next(p["resource"] for p in result["parameter"] if p["name"] == "outcome")
    assert "already prescribed" in diagnostics(outcome)


def test_eligibility_operation(api: Api) -> None:
    request = {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "Patient/pat-1"},
        "created": "2026-01-01",
        "insurer": {"display": "TAMIN"},
    }
    response = api.post("CoverageEligibilityRequest/$eligibility", request, 200)
    assert response["resourceType"] == "CoverageEligibilityResponse"
    assert response["insurance"][0]["inforce"] is True
    assert response["insurance"][0]["coverage"]["reference"] == "Coverage/cov-1"


def test_uninsured_patient_gets_a_free_prescription(make_app: Any) -> None:
    _, api = make_app(accept_unsigned=True, insured=False)
    request = {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "Patient/pat-1"},
        "created": "2026-01-01",
        "insurer": {"display": "?"},
    }
    answer = api.post("CoverageEligibilityRequest/$eligibility", request, 200)
    assert answer["disposition"] == "not covered" and "insurance" not in answer
    item = drug("00077", 20)
    del item["insurance"]
    result = api.post("MedicationRequest/$prescribe", submission([item]), 200)
    rx = prescriptions(result)[0]
    assert rx["free"] is True
    outcome = next(p["resource"] for p in result["parameter"] if p["name"] == "outcome")
    assert "free" in diagnostics(outcome)
