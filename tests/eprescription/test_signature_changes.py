"""Signature (detached JWS in a Provenance, $verify), changes, cancel, delete, paraclinic,
idempotency."""

from __future__ import annotations

from typing import Any

from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import (
    dispense,
    drug,
    new_key,
    prescriptions,
    provenance,
    service,
    submission,
)


def rx_of(result: dict[str, Any]) -> dict[str, Any]:
    return prescriptions(result)[0]


@BOTH_STORES
def test_signed_prescription_is_active_and_verifies(make_app: Any, signing_key: dict[str, Any]) -> None:
    _, api = make_app(key=signing_key)
    rx = rx_of(
        api.post(
            "MedicationRequest/$prescribe",
            submission([drug("00077", 20), drug("90043", 30)], signing_key),
            200,
        )
    )
    assert rx["status"] == "active"
    mr = rx["items"][0]
    verdict = api.get(f"MedicationRequest/{mr['id']}/$verify")
    assert verdict["parameter"][0] == {"name": "valid", "valueBoolean": True}
    assert (
        api.get(f"MedicationRequest/$verify?prescription={rx['id']}")["parameter"][0]["valueBoolean"] is True
    )


@BOTH_STORES
def test_wrong_key_is_refused(make_app: Any, signing_key: dict[str, Any]) -> None:
    _, api = make_app(key=signing_key)
    outcome = api.post(
        "MedicationRequest/$prescribe", submission([drug("00077", 20)], new_key("dr-key-1")), 422
    )
    assert "does not verify" in outcome["issue"][0]["diagnostics"]


@BOTH_STORES
def test_sign_later_activates_and_edit_needs_new_signature(
    make_app: Any, signing_key: dict[str, Any]
) -> None:
    _, api = make_app(key=signing_key)
    rx = rx_of(api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200))
    mr = rx["items"][0]
    assert rx["status"] == "draft"
    assert api.get(f"MedicationRequest/{mr['id']}/$verify")["parameter"][0]["valueBoolean"] is False
    api.post("Provenance/$sign", provenance([f"MedicationRequest/{mr['id']}"], [mr], signing_key))
    mr = api.get(f"MedicationRequest/{mr['id']}")
    assert mr["status"] == "active"
    edited = {**mr, "dispenseRequest": {**mr["dispenseRequest"], "quantity": {"value": 15}}}
    after = api.put(f"MedicationRequest/{mr['id']}", edited)
    assert after["status"] == "draft"  # the old signature no longer covers it
    assert api.get(f"MedicationRequest/{mr['id']}/$verify")["parameter"][0]["valueBoolean"] is False
    api.put(f"MedicationRequest/{mr['id']}", {**after, "note": [{"text": "again"}]}, 409)  # only once


@BOTH_STORES
def test_cancel_delete_and_partial(api: Api) -> None:
    rx = rx_of(
        api.post("MedicationRequest/$prescribe", submission([drug("00077", 20), drug("90043", 30)]), 200)
    )
    first, second = rx["items"]
    api.post("MedicationDispense", dispense(first, 5))
    api.put(
        f"MedicationRequest/{first['id']}",
        {**first, "dispenseRequest": {**first["dispenseRequest"], "quantity": {"value": 9}}},
        409,
    )
    api.delete(f"MedicationRequest/{first['id']}", 409)
    stopped = api.put(
        f"MedicationRequest/{first['id']}",
        {**api.get(f"MedicationRequest/{first['id']}"), "status": "cancelled"},
    )
    assert stopped["status"] == "stopped"  # only the rest
    api.post("MedicationDispense", dispense(first, 1), 409)
    api.delete(f"MedicationRequest/{second['id']}")  # same day, nothing dispensed


@BOTH_STORES
def test_server_parts_cannot_be_changed(api: Api) -> None:
    mr = rx_of(api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200))["items"][0]
    api.post("MedicationDispense", dispense(mr, 5))
    current = api.get(f"MedicationRequest/{mr['id']}")
    forged = {k: v for k, v in current.items() if k not in ("extension", "identifier")}
    kept = api.put(f"MedicationRequest/{mr['id']}", forged)
    assert any(e["url"].endswith("dispensed-quantity") for e in kept["extension"])
    forged["groupIdentifier"] = {**current["groupIdentifier"], "value": "000000000000000"}
    api.put(f"MedicationRequest/{mr['id']}", forged, 422)


@BOTH_STORES
def test_paraclinic_fulfils_once(api: Api) -> None:
    sr = rx_of(api.post("MedicationRequest/$prescribe", submission([service("801005")]), 200))["items"][0]
    found = api.get(
        "ServiceRequest?subject:Patient.identifier=http://noskhe.ir/fhir/sid/national-code|0018243460&status=active"
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [sr["id"]]
    obs = api.post(
        "Observation",
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
            "subject": {"reference": "Patient/pat-1"},
            "valueQuantity": {"value": 6.1, "unit": "%"},
        },
    )
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "basedOn": [{"reference": f"ServiceRequest/{sr['id']}"}],
        "code": sr["code"],
        "subject": {"reference": "Patient/pat-1"},
        "result": [{"reference": f"Observation/{obs['id']}"}],
    }
    api.post("DiagnosticReport", report)
    assert api.get(f"ServiceRequest/{sr['id']}")["status"] == "completed"
    assert "already performed" in api.post("DiagnosticReport", report, 409)["issue"][0]["diagnostics"]


@BOTH_STORES
def test_idempotency_key_replays_instead_of_repeating(api: Api) -> None:
    body = submission([drug("00077", 20)])
    first = api.post("MedicationRequest/$prescribe", body, 200, **{"Idempotency-Key": "k-1"})
    again = api.client.post(
        "/fhir/MedicationRequest/$prescribe", json=body, headers={"Idempotency-Key": "k-1"}
    )
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert rx_of(again.get_json())["id"] == rx_of(first)["id"]
    mr = rx_of(first)["items"][0]
    given = api.post("MedicationDispense", dispense(mr, 5), 201, **{"Idempotency-Key": "d-1"})
    replay = api.post("MedicationDispense", dispense(mr, 5), 201, **{"Idempotency-Key": "d-1"})
    assert replay["id"] == given["id"]
    total = [
        e
        for e in api.get(f"MedicationRequest/{mr['id']}")["extension"]
        if e["url"].endswith("dispensed-quantity")
    ]
    assert total[0]["valueDecimal"] == 5
    api.post("MedicationDispense", dispense(mr, 6), 422, **{"Idempotency-Key": "d-1"})  # same key, other body


@BOTH_STORES
def test_one_signature_over_a_drug_and_a_lab_prescription_verifies_each(
    make_app: Any, signing_key: dict[str, Any]
) -> None:
    _, api = make_app(key=signing_key)
    answer = api.post(
        "MedicationRequest/$prescribe", submission([drug("00077", 20), service("801005")], signing_key), 200
    )
    found = {rx["type"]: rx for rx in prescriptions(answer)}
    assert {rx["status"] for rx in found.values()} == {"active"}
    for rx in found.values():
        verdict = api.get(f"MedicationRequest/$verify?prescription={rx['id']}")
        assert verdict["parameter"][0]["valueBoolean"] is True, verdict
