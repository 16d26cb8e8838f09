"""One refusal test per business rule of dispensing and prescribing: the exact status, the
issue code and location the API promises, and proof that nothing changed (no record, the
running total and the item as they were)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fhir_server.eprescription import dispense as dispensing
from fhir_server.eprescription.config import DEFAULT_POLICY
from tests.eprescription.conftest import BOTH_STORES, Api, Pharmacist
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
SHARES = "http://noskhe.ir/fhir/StructureDefinition/cost-shares"
TYPE = "http://noskhe.ir/fhir/StructureDefinition/prescription-type"
DISPENSE_TYPE = "http://noskhe.ir/fhir/CodeSystem/dispense-type"


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


def with_field(resource: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """`resource` with `key` set to `value`, or without it when `value` is None."""
    changed = {k: v for k, v in resource.items() if k != key}
    return changed if value is None else {**changed, key: value}


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
        outcome = api.post("MedicationDispense", with_field(dispense(mr, 5), "subject", subject), 422)
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
    outcome = api.post("MedicationDispense", with_field(dispense(mr, 1), "quantity", quantity), 422)
    text = refused(outcome, "business-rule", "MedicationDispense.quantity")
    assert text == "A dispensing record has a positive quantity"
    assert state(api, mr) == ("active", 0, 0)


@pytest.mark.parametrize("status", ["in-progress", "preparation", "declined", None])
def test_a_record_of_what_did_not_happen(api: Api, status: str | None) -> None:
    mr = one_drug(api)
    record = with_field(dispense(mr, 5), "status", status)
    if status is None:  # status is 1..1: the structure refuses it first
        refused(api.post("MedicationDispense", record, 400), "required", "MedicationDispense.status")
    else:
        outcome = api.post("MedicationDispense", record, 422)
        text = refused(outcome, "business-rule", "MedicationDispense.status")
        assert text == "A dispensing record is written when it happened: status completed"
    assert state(api, mr) == ("active", 0, 0)


def test_a_record_of_an_unknown_kind(api: Api) -> None:
    mr = one_drug(api)
    record = {**dispense(mr, 5), "type": {"coding": [{"system": DISPENSE_TYPE, "code": "gift"}]}}
    text = refused(api.post("MedicationDispense", record, 422), "code-invalid", "MedicationDispense.type")
    assert text == f"'gift' is not a code of {DISPENSE_TYPE}"
    assert state(api, mr) == ("active", 0, 0)


def test_a_return_names_a_national_prescription_item(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 5))
    local = {
        "resourceType": "MedicationRequest",
        "id": "local-1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "a hospital's own order"},
        "subject": {"reference": "Patient/pat-1"},
    }
    api.put("MedicationRequest/local-1", local, None)
    local_ref = {"reference": "MedicationRequest/local-1"}
    for prescription in (None, [local_ref]):
        back = with_field(take_back(given, 1), "authorizingPrescription", prescription)
        outcome = api.post("MedicationDispense", back, 422)
        text = refused(outcome, "business-rule", "MedicationDispense.authorizingPrescription")
        assert text == "A return or correction names the prescription item of the dispense it undoes"
    # a return typed as such still names a national item when it points at no dispense
    bare = {**with_field(take_back(given, 1), "extension", None), "authorizingPrescription": [local_ref]}
    outcome = api.post("MedicationDispense", bare, 422)
    refused(outcome, "business-rule", "MedicationDispense.authorizingPrescription")
    pointing = {**dispense(mr, 1), "extension": take_back(given, 1)["extension"]}
    text = refused(
        api.post("MedicationDispense", pointing, 422), "business-rule", "MedicationDispense.extension"
    )
    assert text == "Only return and correction records point at a dispense"
    assert state(api, mr) == ("active", 5, 1)


def test_a_dispense_outside_the_national_system_is_a_plain_record(api: Api) -> None:
    local = {
        "resourceType": "MedicationRequest",
        "id": "local-2",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "a hospital's own order"},
        "subject": {"reference": "Patient/pat-1"},
    }
    api.put("MedicationRequest/local-2", local, None)
    record = {
        **dispense(one_drug(api), 5),
        "authorizingPrescription": [{"reference": "MedicationRequest/local-2"}],
    }
    given = api.post("MedicationDispense", record, 201)
    api.put(f"MedicationDispense/{given['id']}", {**given, "note": [{"text": "corrected"}]}, 200)
    stored = api.get("MedicationRequest/local-2")
    assert stored["status"] == "active" and "extension" not in stored  # no running total


def test_no_record_leaves_or_joins_the_ledger_by_update(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 5))
    unlinked = with_field(given, "authorizingPrescription", None)
    assert refused(api.put(f"MedicationDispense/{given['id']}", unlinked, 409), "business-rule").startswith(
        "A dispensing record never changes"
    )
    plain = api.post("MedicationDispense", with_field(dispense(mr, 5), "authorizingPrescription", None))
    joined = {**plain, "authorizingPrescription": given["authorizingPrescription"]}
    assert refused(api.put(f"MedicationDispense/{plain['id']}", joined, 409), "business-rule").startswith(
        "A dispensing record never changes"
    )
    assert state(api, mr) == ("active", 5, 1)


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


@BOTH_STORES
def test_dispensing_what_is_not_open(make_app: Any) -> None:
    _, api = make_app(accept_unsigned=False)
    draft = one_drug(api)
    text = refused(api.post("MedicationDispense", dispense(draft, 5), 409), "business-rule")
    assert text == "The prescription is not signed yet (draft): it cannot be dispensed"
    assert state(api, draft) == ("draft", 0, 0)


@BOTH_STORES
def test_dispensing_a_completed_or_held_item(api: Api) -> None:
    done, held = one_drug(api), one_drug(api, code="90043", qty=10)
    api.post("MedicationDispense", dispense(done, 20))
    text = refused(api.post("MedicationDispense", dispense(done, 1), 409), "business-rule")
    assert text == "Everything on this prescription was already dispensed"
    current = api.get(f"MedicationRequest/{held['id']}")
    api.put(f"MedicationRequest/{held['id']}", {**current, "status": "on-hold"})
    text = refused(api.post("MedicationDispense", dispense(held, 1), 409), "business-rule")
    assert text == "The prescription is on-hold: it cannot be dispensed"
    assert state(api, done) == ("completed", 20, 1) and state(api, held) == ("on-hold", 0, 0)


@BOTH_STORES
def test_unrecorded_substitution(api: Api) -> None:
    mr = one_drug(api)
    outcome = api.post("MedicationDispense", dispense(mr, 5, code="00076"), 422)
    assert refused(outcome, "business-rule", "MedicationDispense.substitution") == (
        "The dispensed drug differs from the prescribed one: "
        "record substitution.wasSubstituted and its reason"
    )
    assert state(api, mr) == ("active", 0, 0)


@BOTH_STORES
def test_a_record_never_changes_and_says_what_to_do(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 5))
    text = refused(
        api.put(f"MedicationDispense/{given['id']}", {**given, "quantity": {"value": 1}}, 409),
        "business-rule",
    )
    assert text == (
        "A dispensing record never changes; record a return or correction (a new MedicationDispense "
        "typed from http://noskhe.ir/fhir/CodeSystem/dispense-type) instead"
    )
    assert state(api, mr) == ("active", 5, 1)


@BOTH_STORES
def test_the_answer_tells_what_remains(api: Api) -> None:
    mr = one_drug(api)
    outcome = api.post("MedicationDispense", dispense(mr, 5), 201, Prefer="return=OperationOutcome")
    information = [i for i in outcome["issue"] if i["severity"] == "information"]
    assert information == [
        {"severity": "information", "code": "informational", "diagnostics": "Dispensed 5 of 20; 15 remain"}
    ]


@BOTH_STORES
def test_the_prescriptions_shares_replace_any_the_pharmacy_sends(api: Api) -> None:
    mr = one_drug(api)
    prescribed = next(e for e in mr["extension"] if e["url"] == SHARES)
    forged = {"url": SHARES, "extension": [{"url": "insurer", "valueDecimal": 100}]}
    own = {"url": "http://pharmacy.example/fhir/StructureDefinition/shift", "valueString": "night"}
    given = api.post("MedicationDispense", {**dispense(mr, 5), "extension": [own, forged]})
    assert [e for e in given["extension"] if e["url"] == SHARES] == [prescribed]
    assert own in given["extension"]


# ---- returns and corrections ----------------------------------------------------------


@BOTH_STORES
def test_taking_back_up_to_what_was_given(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 20))
    api.post("MedicationDispense", take_back(given, 5))
    text = refused(api.post("MedicationDispense", take_back(given, 16), 409), "business-rule")
    assert text == f"Only 15 of MedicationDispense/{given['id']} can still be taken back; 16 was asked"
    api.post("MedicationDispense", take_back(given, 15, "correction"))  # exactly what is left
    assert state(api, mr) == ("active", 0, 3)  # all of it came back: nothing counts, open again
    refused(api.post("MedicationDispense", take_back(given, 1), 409), "business-rule")


@BOTH_STORES
def test_only_the_dispensing_pharmacy_takes_back(api: Api) -> None:
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 20))
    outcome = api.post("MedicationDispense", take_back(given, 5, pharmacy="pharmacy-2"), 422)
    text = refused(outcome, "business-rule", "MedicationDispense.performer")
    assert text == "Only the pharmacy that dispensed (Organization/pharmacy-1) may record a return of it"
    assert state(api, mr) == ("completed", 20, 1)


@BOTH_STORES
def test_a_kind_the_policy_does_not_allow(
    make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY, policy)
    rules = json.loads((policy / "dispensing.json").read_text())
    del rules["correction"]
    (policy / "dispensing.json").write_text(json.dumps(rules))
    monkeypatch.setenv("NOSKHE_POLICY", str(policy))
    _, api = make_app(accept_unsigned=True)
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 20))
    text = refused(api.post("MedicationDispense", take_back(given, 5, "correction"), 422), "business-rule")
    assert text.startswith("A correction is accepted within 0 day(s) of the dispense; ")
    assert state(api, mr) == ("completed", 20, 1)


# ---- the acting pharmacist ------------------------------------------------------------


@BOTH_STORES
@pytest.mark.parametrize("user", ["Practitioner/ph-1", "PractitionerRole/ph-1-role"])
def test_a_pharmacist_records_for_their_own_pharmacy(pharmacy: tuple[Api, Flask], user: str) -> None:
    api, secured = pharmacy
    pharmacist = Pharmacist(secured, user)
    mr = one_drug(api)
    pharmacist.post("MedicationDispense", dispense(mr, 5, "pharmacy-1"), 201)
    outcome = pharmacist.post("MedicationDispense", dispense(mr, 5, "pharmacy-2"), 403)
    text = refused(outcome, "forbidden", "MedicationDispense.performer")
    assert text == f"{user} does not work at Organization/pharmacy-2: record dispensing for your own pharmacy"
    nameless = with_field(dispense(mr, 5), "performer", None)
    text = refused(
        pharmacist.post("MedicationDispense", nameless, 403), "forbidden", "MedicationDispense.performer"
    )
    assert text == f"{user} does not work at the pharmacy named: record dispensing for your own pharmacy"
    assert state(api, mr) == ("active", 5, 1)


@BOTH_STORES
@pytest.mark.parametrize("user", ["PractitionerRole/unknown-role", "Patient/pat-1", "Practitioner/ph-9"])
def test_someone_without_a_pharmacy_records_nothing(pharmacy: tuple[Api, Flask], user: str) -> None:
    api, secured = pharmacy
    mr = one_drug(api)
    outcome = Pharmacist(secured, user).post("MedicationDispense", dispense(mr, 5, "pharmacy-1"), 403)
    refused(outcome, "forbidden", "MedicationDispense.performer")
    assert state(api, mr) == ("active", 0, 0)


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
            [service("801026")],
            {"birthDate": born_years_ago(10, days=1)},  # ten tomorrow
            "rvu|801026 is for patients aged 10 to 60; this patient is 9",
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


def test_a_contraindicated_pair_refuses(api: Api) -> None:
    items = [drug("90241", 14), drug("90105", 30)]  # the pair is found on the second item
    outcome = api.post("MedicationRequest/$prescribe", submission(items), 422)
    assert refused(outcome, "business-rule") == (
        "Bundle.entry[1] (POST MedicationRequest): "
        "Clarithromycin with simvastatin is contraindicated (rhabdomyolysis)"
    )
    assert nothing_prescribed(api)


def test_a_kind_the_prescription_type_cannot_hold(api: Api) -> None:
    item = {**service("801005"), "extension": [{"url": TYPE, "valueCode": "drug"}]}
    outcome = api.post("MedicationRequest/$prescribe", submission([item]), 422)
    assert refused(outcome, "business-rule") == (
        "Bundle.entry[0] (POST ServiceRequest): A drug prescription cannot hold 02 items"
    )
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
