"""One refusal test per business rule of dispensing and prescribing: the exact status, the
issue code and location the API promises, and proof that nothing changed (no record, the
running total and the item as they were)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fhir_server.eprescription import dispense as dispensing
from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import (
    dispense,
    drug,
    prescriptions,
    service,
    submission,
    take_back,
)

DISPENSED = "http://noskhe.ir/fhir/StructureDefinition/dispensed-quantity"
EXPIRY = "http://noskhe.ir/fhir/StructureDefinition/prescription-expiry"


def one_drug(api: Api, qty: float = 20, code: str = "00077") -> dict[str, Any]:
    result = api.post("MedicationRequest/$prescribe", submission([drug(code, qty)]), 200)
    return prescriptions(result)[0]["items"][0]  # type: ignore[no-any-return]


def refused(outcome: dict[str, Any], code: str, expression: str | None = None) -> str:
    """The one error issue: its code and location; returns its text."""
    errors = [i for i in outcome["issue"] if i["severity"] in ("error", "fatal")]
    assert len(errors) == 1, outcome
    assert errors[0]["code"] == code, outcome
    assert errors[0].get("expression") == ([expression] if expression else None), outcome
    return str(errors[0]["diagnostics"])


def state(api: Api, mr: dict[str, Any]) -> tuple[str, float, int]:
    """(item status, running total, number of dispensing records): what a refusal keeps."""
    stored = api.get(f"MedicationRequest/{mr['id']}")
    total = next((e["valueDecimal"] for e in stored.get("extension", []) if e["url"] == DISPENSED), 0)
    records = api.get(f"MedicationDispense?prescription={mr['id']}&_summary=count")["total"]
    return stored["status"], total, records


class Today:
    """The dispensing module's clock, moved to a chosen day."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, day: date) -> None:
        class Fixed(date):
            @classmethod
            def today(cls) -> date:
                return day

        self.monkeypatch.setattr(dispensing, "date", Fixed)


# ---- dispensing -----------------------------------------------------------------------


@BOTH_STORES
def test_expired_prescription(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    mr = one_drug(api)
    expiry = date.fromisoformat(next(e["valueDate"] for e in mr["extension"] if e["url"] == EXPIRY))
    clock = Today(monkeypatch)
    clock.set(expiry)  # the last day it is valid
    api.post("MedicationDispense", dispense(mr, 5))
    before = state(api, mr)
    clock.set(expiry + timedelta(days=1))
    text = refused(api.post("MedicationDispense", dispense(mr, 5), 422), "business-rule")
    assert text == f"The prescription expired on {expiry.isoformat()}"
    assert state(api, mr) == before == ("active", 5, 1)


@BOTH_STORES
def test_dispense_for_another_patient(api: Api) -> None:
    mr = one_drug(api)
    api.put("Patient/pat-2", {"resourceType": "Patient", "id": "pat-2"}, None)
    for subject in ({"reference": "Patient/pat-2"}, None):
        record = dispense(mr, 5)
        if subject is None:
            del record["subject"]
        else:
            record["subject"] = subject
        outcome = api.post("MedicationDispense", record, 422)
        text = refused(outcome, "business-rule", "MedicationDispense.subject")
        assert text == "The dispense's subject is not the prescription's patient"
    assert state(api, mr) == ("active", 0, 0)


@BOTH_STORES
def test_moving_a_dispense_to_another_prescription(api: Api) -> None:
    first, second = one_drug(api), one_drug(api, code="90043", qty=10)
    given = api.post("MedicationDispense", dispense(first, 5))
    moved = {**given, "authorizingPrescription": [{"reference": f"MedicationRequest/{second['id']}"}]}
    text = refused(api.put(f"MedicationDispense/{given['id']}", moved, 409), "business-rule")
    assert text.startswith("A dispensing record never changes")
    # nor by a return that names the other prescription
    elsewhere = {**take_back(given, 5), "authorizingPrescription": moved["authorizingPrescription"]}
    outcome = api.post("MedicationDispense", elsewhere, 422)
    assert refused(outcome, "business-rule", "MedicationDispense.extension").startswith(
        "A return points (extension dispense-return-of) at a dispense of the same prescription item"
    )
    assert state(api, first) == ("active", 5, 1) and state(api, second) == ("active", 0, 0)


@BOTH_STORES
@pytest.mark.parametrize("quantity", [None, {"unit": "capsule"}, {"value": 0}, {"value": -5}, {"value": 0.0}])
def test_dispense_without_a_positive_quantity(api: Api, quantity: dict[str, Any] | None) -> None:
    mr = one_drug(api)
    record = dispense(mr, 1)
    if quantity is None:
        del record["quantity"]
    else:
        record["quantity"] = quantity
    outcome = api.post("MedicationDispense", record, 422)
    text = refused(outcome, "business-rule", "MedicationDispense.quantity")
    assert text == "A dispensing record has a positive quantity"
    assert state(api, mr) == ("active", 0, 0)


@BOTH_STORES
def test_an_empty_quantity_is_malformed(api: Api) -> None:
    mr = one_drug(api)
    outcome = api.post("MedicationDispense", {**dispense(mr, 1), "quantity": {}}, 400)
    refused(outcome, "structure", "MedicationDispense.quantity")
    assert state(api, mr) == ("active", 0, 0)


@BOTH_STORES
def test_more_than_remains(api: Api) -> None:
    mr = one_drug(api, qty=20)
    api.post("MedicationDispense", dispense(mr, 15))
    text = refused(api.post("MedicationDispense", dispense(mr, 6), 409), "business-rule")
    assert text.startswith("Only 5 of 20 remain on this prescription; 6 was asked")
    api.post("MedicationDispense", dispense(mr, 5))  # exactly what remains
    assert state(api, mr) == ("completed", 20, 2)


@BOTH_STORES
def test_delete_after_part_was_dispensed(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 5))
    text = refused(api.delete(f"MedicationDispense/{given['id']}", 409), "business-rule")
    assert text.startswith("A dispensing record never changes")
    text = refused(api.delete(f"MedicationRequest/{mr['id']}", 409), "business-rule")
    assert text == "Part of this item was dispensed or performed; it cannot be deleted"
    assert state(api, mr) == ("active", 5, 1)
    api.get(f"MedicationDispense/{given['id']}")


@BOTH_STORES
def test_dispensing_a_cancelled_item(api: Api) -> None:
    mr = one_drug(api)
    current = api.get(f"MedicationRequest/{mr['id']}")
    api.put(f"MedicationRequest/{mr['id']}", {**current, "status": "cancelled"})
    text = refused(api.post("MedicationDispense", dispense(mr, 5), 409), "business-rule")
    assert text == "The prescription is cancelled: it cannot be dispensed"
    assert state(api, mr) == ("cancelled", 0, 0)


@BOTH_STORES
def test_the_rest_of_a_stopped_item_is_not_dispensed(api: Api) -> None:
    mr = one_drug(api)
    api.post("MedicationDispense", dispense(mr, 5))
    current = api.get(f"MedicationRequest/{mr['id']}")
    assert api.put(f"MedicationRequest/{mr['id']}", {**current, "status": "cancelled"})["status"] == "stopped"
    text = refused(api.post("MedicationDispense", dispense(mr, 5), 409), "business-rule")
    assert text == "The prescription is stopped: it cannot be dispensed"
    assert state(api, mr) == ("stopped", 5, 1)


# ---- prescribing ----------------------------------------------------------------------


def nothing_prescribed(api: Api) -> bool:
    for type_ in ("MedicationRequest", "ServiceRequest"):
        if api.get(f"{type_}?subject=Patient/pat-1&_summary=count")["total"]:
            return False
    return True


def born_years_ago(years: int, days: int = 0) -> str:
    today = date.today()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return (birthday + timedelta(days=days)).isoformat()


@BOTH_STORES
@pytest.mark.parametrize(
    ("items", "patient", "text"),
    [
        ([drug("00077", 31)], {}, "generic|00077: quantity 31 exceeds the maximum of 30 per prescription"),
        ([drug("00077", 10, repeats=2)], {}, "generic|00077: 2 repeats exceed the maximum of 1"),
        ([drug("90177", 30)], {}, "generic|90177 may be prescribed only by: DERM"),
        ([drug("90196", 4)], {"gender": "female"}, "generic|90196 is only for male patients"),
        (
            [service("801026")],
            {"birthDate": born_years_ago(61)},
            "rvu|801026 is for patients aged 10 to 60; this patient is 61",
        ),
        (
            [drug("90299", 1)],
            {},
            "generic|90299 is a hospital-only drug and cannot be prescribed in an outpatient visit",
        ),
    ],
)
def test_each_prescribing_rule_refuses(
    api: Api, items: list[dict[str, Any]], patient: dict[str, Any], text: str
) -> None:
    if patient:
        stored = api.get("Patient/pat-1")
        api.put("Patient/pat-1", {**stored, **patient})
    outcome = api.post("MedicationRequest/$prescribe", submission(items), 422)
    # a transaction names the entry in the text (the rules give no location inside it)
    assert refused(outcome, "business-rule") == f"Bundle.entry[0] (POST {items[0]['resourceType']}): {text}"
    assert nothing_prescribed(api)


@BOTH_STORES
def test_the_last_allowed_values_pass(api: Api) -> None:
    stored = api.get("Patient/pat-1")
    api.put("Patient/pat-1", {**stored, "birthDate": born_years_ago(61, days=1)})  # 61 tomorrow
    api.post("MedicationRequest/$prescribe", submission([drug("00077", 30, repeats=1)]), 200)
    api.post("MedicationRequest/$prescribe", submission([service("801026")]), 200)


@BOTH_STORES
def test_duplicate_prescription(api: Api) -> None:
    api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200)
    outcome = api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 409)
    assert refused(outcome, "duplicate").startswith(
        "Bundle.entry[0] (POST MedicationRequest): Duplicate: generic|00077 was already prescribed today"
    )
    assert api.get("MedicationRequest?subject=Patient/pat-1&_summary=count")["total"] == 1
