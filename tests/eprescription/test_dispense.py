"""Dispensing: remaining quantity, completion, partial, substitution, not twice (returns and
corrections: test_dispense_ledger.py)."""

from __future__ import annotations

from typing import Any

from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import dispense, drug, prescriptions, submission


def one_drug(api: Api, qty: float = 20, repeats: int = 0, code: str = "00077") -> dict[str, Any]:
    result = api.post("MedicationRequest/$prescribe", submission([drug(code, qty, repeats)]), 200)
    return prescriptions(result)[0]["items"][0]  # type: ignore[no-any-return]


@BOTH_STORES
def test_full_dispense_completes_the_request(api: Api) -> None:
    mr = one_drug(api)
    api.post("MedicationDispense", dispense(mr, 20))
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "completed"
    outcome = api.post("MedicationDispense", dispense(mr, 1, "pharmacy-2"), 409)
    assert "already dispensed" in outcome["issue"][0]["diagnostics"]


@BOTH_STORES
def test_partial_then_rest_and_never_more(api: Api) -> None:
    mr = one_drug(api, qty=10, repeats=1, code="90043")  # 10 x (1 + 1) = 20 in all
    api.post("MedicationDispense", dispense(mr, 12))
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "active"
    outcome = api.post("MedicationDispense", dispense(mr, 9, "pharmacy-2"), 409)
    assert "Only 8 of 20 remain" in outcome["issue"][0]["diagnostics"]
    api.post("MedicationDispense", dispense(mr, 8, "pharmacy-2"))
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "completed"


@BOTH_STORES
def test_substitution_must_be_recorded(api: Api) -> None:
    mr = one_drug(api)
    api.post("MedicationDispense", dispense(mr, 5, code="00076"), 422)
    other = dispense(mr, 5, code="00076")
    other["substitution"] = {"wasSubstituted": True, "reason": [{"text": "موجود نبود"}]}
    api.post("MedicationDispense", other)


@BOTH_STORES
def test_draft_prescription_cannot_be_dispensed(make_app: Any) -> None:
    _, api = make_app(accept_unsigned=False)
    mr = prescriptions(api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200))[0][
        "items"
    ][0]
    assert mr["status"] == "draft"
    outcome = api.post("MedicationDispense", dispense(mr, 5), 409)
    assert "not signed" in outcome["issue"][0]["diagnostics"]


@BOTH_STORES
def test_dispense_carries_the_shares(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 5))
    urls = {e["url"] for e in given.get("extension", [])}
    assert "http://noskhe.ir/fhir/StructureDefinition/cost-shares" in urls
