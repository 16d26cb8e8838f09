"""Prescribing: ids with a check character, tracking code, types, expiry, SMS, duplicates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir_server.eprescription.ids import is_prescription_id
from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import NATIONAL, TRACKING, drug, prescriptions, service, submission


def prescribe(api: Api, items: list[dict[str, Any]], status: int = 200, **kw: Any) -> Any:
    return api.post("MedicationRequest/$prescribe", submission(items, **kw), status)


@BOTH_STORES
def test_prescribe_assigns_ids_tracking_and_expiry(api: Api, tmp_path: Path) -> None:
    result = prescribe(api, [drug("00077", 20), drug("90043", 30), service("801005")])
    rxs = {p["type"]: p for p in prescriptions(result)}
    assert set(rxs) == {"drug", "lab"}  # one submission, one prescription per type
    assert rxs["drug"]["trackingCode"] == rxs["lab"]["trackingCode"]  # one code for the patient
    for rx in rxs.values():
        assert is_prescription_id(rx["id"]) and rx["status"] == "active"
    mr = rxs["drug"]["items"][0]
    assert mr["groupIdentifier"]["value"] == rxs["drug"]["id"]
    assert mr["dispenseRequest"]["validityPeriod"]["end"] > mr["dispenseRequest"]["validityPeriod"]["start"]
    sms = [json.loads(line) for line in (tmp_path / "sms-outbox.jsonl").read_text().splitlines()]
    assert len(sms) == 1 and rxs["drug"]["trackingCode"] in sms[0]["text"] and sms[0]["to"] == "09121234567"


@BOTH_STORES
def test_plain_transaction_is_a_prescription_too(api: Api) -> None:
    bundle = api.post("", submission([drug("00077", 20), drug("90043", 30)]), 200)
    locations = [e["response"]["location"].split("/_history")[0] for e in bundle["entry"]]
    stored = [api.get(loc) for loc in locations]
    assert stored[0]["groupIdentifier"] == stored[1]["groupIdentifier"]
    assert is_prescription_id(stored[0]["groupIdentifier"]["value"])


def test_check_character_catches_typing_errors() -> None:
    from datetime import date

    from fhir_server.eprescription.ids import new_prescription_id

    rx = new_prescription_id(date(2024, 11, 5))
    assert rx.startswith("030815") and is_prescription_id(rx)
    for i in range(len(rx) - 1):
        typo = rx[:i] + str((int(rx[i]) + 1) % 10) + rx[i + 1 :]
        assert not is_prescription_id(typo)
        if i < len(rx) - 2 and rx[i] != rx[i + 1]:
            swapped = rx[:i] + rx[i + 1] + rx[i] + rx[i + 2 :]
            assert not is_prescription_id(swapped)


@BOTH_STORES
def test_identical_resubmission_is_a_duplicate(api: Api) -> None:
    prescribe(api, [drug("00077", 20)])
    outcome = prescribe(api, [drug("00077", 20)], 409)
    assert outcome["issue"][0]["code"] == "duplicate"


@BOTH_STORES
def test_kind_not_allowed_in_type(api: Api) -> None:
    item = service("801005")
    item["extension"] = [
        {"url": "http://noskhe.ir/fhir/StructureDefinition/prescription-type", "valueCode": "drug"}
    ]
    outcome = prescribe(api, [item], 422)
    assert "cannot hold" in outcome["issue"][0]["diagnostics"]


@BOTH_STORES
def test_server_issued_id_cannot_be_reused(api: Api) -> None:
    rx = prescriptions(prescribe(api, [drug("00077", 20)]))[0]["id"]
    item = drug("90043", 30)
    item["groupIdentifier"]["value"] = rx
    prescribe(api, [item], 422)


@BOTH_STORES
def test_pharmacy_finds_open_prescriptions_by_national_code(api: Api) -> None:
    result = prescriptions(prescribe(api, [drug("00077", 20), drug("90043", 30)]))[0]
    query = f"MedicationRequest?subject:Patient.identifier={NATIONAL}|0018243460&status=active"
    found = api.get(query + "&_include=MedicationRequest:requester")
    types = sorted(e["resource"]["resourceType"] for e in found["entry"])
    assert types == ["MedicationRequest", "MedicationRequest", "Practitioner"]
    with_code = api.get(query + f"&identifier={TRACKING}|{result['trackingCode']}")
    assert len(with_code["entry"]) == 2
    assert api.get(query + f"&identifier={TRACKING}|999999").get("entry", []) == []


@BOTH_STORES
def test_cancelling_releases_the_duplicate_check(api: Api) -> None:
    """The fingerprint is unique among open items only: a cancelled item can be written again."""
    first = prescriptions(prescribe(api, [drug("00077", 20)]))[0]
    prescribe(api, [drug("00077", 20)], 409)
    item = first["items"][0]
    api.put(f"MedicationRequest/{item['id']}", {**item, "status": "cancelled"})
    again = prescriptions(prescribe(api, [drug("00077", 20)]))[0]
    assert again["id"] != first["id"]
    prescribe(api, [drug("00077", 20)], 409)  # the new one holds it now


@BOTH_STORES
def test_items_stored_before_claims_are_claimed_at_start(make_app: Any, store_url: str | None) -> None:
    """A store written before the workflow's claims existed: the next start claims what its
    items hold, so a duplicate of an old item is still refused and its id never reissued."""
    app, api = make_app(accept_unsigned=True)
    prescribe(api, [drug("00077", 20)])
    store = app.extensions["noskhe"].store
    with store.session(write=True) as s:  # as if written by the older server: no claims
        if hasattr(s, "conn"):
            s.conn.execute("DELETE FROM claims")
        else:
            s.db.claims.delete_many({}, session=s._client_session)
    _, restarted = make_app(accept_unsigned=True)
    outcome = prescribe(restarted, [drug("00077", 20)], 409)
    assert outcome["issue"][0]["code"] == "duplicate"
