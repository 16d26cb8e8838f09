"""Dispensing cannot be rewound: records never change, returns and corrections are new
records (from the dispensing pharmacy, within the policy's window), and the running
total is always what actually went out. With real pharmacists' tokens, on both stores."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fhir_server.eprescription import dispense as dispensing
from fhir_server.eprescription.config import DEFAULT_POLICY
from fhir_server.eprescription.dispense import pharmacy_of, within_window
from fhir_server.eprescription.store_access import system_update
from tests.eprescription.conftest import BOTH_STORES, Api, Pharmacist
from tests.eprescription.cycle_helpers import dispense, drug, prescriptions, submission, take_back

FHIR = {"Content-Type": "application/fhir+json"}
DISPENSED = "http://noskhe.ir/fhir/StructureDefinition/dispensed-quantity"


def one_drug(api: Api, qty: float = 20) -> dict[str, Any]:
    return prescriptions(api.post("MedicationRequest/$prescribe", submission([drug("00077", qty)]), 200))[0][
        "items"
    ][0]  # type: ignore[no-any-return]


def ledger(api: Api, mr: dict[str, Any]) -> tuple[float, float]:
    """(what the ledger says went out, the running total on the MedicationRequest)."""
    records = api.get(f"MedicationDispense?prescription={mr['id']}&_count=100")
    out = 0.0
    for entry in records["entry"]:
        record = entry["resource"]
        kind = (record.get("type") or {"coding": [{"code": "dispense"}]})["coding"][0]["code"]
        out += record["quantity"]["value"] * (1 if kind == "dispense" else -1)
    stored = api.get(f"MedicationRequest/{mr['id']}")
    total = next(e["valueDecimal"] for e in stored["extension"] if e["url"] == DISPENSED)
    return out, total


def patch_binary(ops: list[dict[str, Any]]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(ops).encode()).decode()
    return {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data}


def every_rewind(record: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
    """Every write path a pharmacy has, aimed at undoing `record`: (method, path, body, type)."""
    id_ = record["id"]
    smaller = {**record, "quantity": {"value": 1}}
    cancelled = {**record, "status": "cancelled"}
    ops = [{"op": "replace", "path": "/quantity/value", "value": 1}]
    ops_status = [{"op": "replace", "path": "/status", "value": "entered-in-error"}]
    by_id = f"_id={id_}"
    json_patch = "application/json-patch+json"
    fhir = "application/fhir+json"
    entries = [
        {"resource": smaller, "request": {"method": "PUT", "url": f"MedicationDispense/{id_}"}},
        {"resource": cancelled, "request": {"method": "PUT", "url": f"MedicationDispense?{by_id}"}},
        {"resource": patch_binary(ops), "request": {"method": "PATCH", "url": f"MedicationDispense/{id_}"}},
        {
            "resource": patch_binary(ops_status),
            "request": {"method": "PATCH", "url": f"MedicationDispense?{by_id}"},
        },
        {"request": {"method": "DELETE", "url": f"MedicationDispense/{id_}"}},
        {"request": {"method": "DELETE", "url": f"MedicationDispense?{by_id}"}},
    ]
    return [
        ("PUT", f"MedicationDispense/{id_}", smaller, fhir),
        ("PUT", f"MedicationDispense/{id_}", cancelled, fhir),
        ("PUT", f"MedicationDispense?{by_id}", smaller, fhir),
        ("PATCH", f"MedicationDispense/{id_}", ops, json_patch),
        ("PATCH", f"MedicationDispense/{id_}", ops_status, json_patch),
        ("PATCH", f"MedicationDispense?{by_id}", ops, json_patch),
        ("DELETE", f"MedicationDispense/{id_}", None, fhir),
        ("DELETE", f"MedicationDispense?{by_id}", None, fhir),
        *(
            ("POST", "", {"resourceType": "Bundle", "type": kind, "entry": [entry]}, fhir)
            for kind in ("transaction", "batch")
            for entry in entries
        ),
    ]


def refused(response: Any) -> bool:
    body = response.get_json()
    if body.get("type") == "batch-response":
        status = int(body["entry"][0]["response"]["status"].split()[0])
        return status >= 400 and body["entry"][0]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    return response.status_code >= 400 and body["resourceType"] == "OperationOutcome"


@BOTH_STORES
def test_no_write_path_rewinds_a_completed_item(pharmacy: tuple[Api, Flask]) -> None:
    api, secured = pharmacy
    shafa = Pharmacist(secured, "Practitioner/ph-1")
    mr = one_drug(api)
    given = shafa.post("MedicationDispense", dispense(mr, 20, "pharmacy-1"), 201)
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "completed"
    for method, path, body, content_type in every_rewind(given):
        response = shafa.send(method, path, body, content_type)
        assert refused(response), (method, path, response.get_data(as_text=True))
    # Nor through the prescription itself: pharmacies only read it; a client's change
    # keeps the server's running total; nobody completes or reopens it by hand.
    stored = api.get(f"MedicationRequest/{mr['id']}")
    reopened = {k: v for k, v in stored.items() if k != "extension"} | {"status": "active"}
    assert shafa.send("PUT", f"MedicationRequest/{mr['id']}", reopened).status_code == 403
    api.put(f"MedicationRequest/{mr['id']}", reopened, 409)
    assert api.get(f"MedicationDispense/{given['id']}")["meta"]["versionId"] == "1"
    assert ledger(api, mr) == (20, 20)
    outcome = shafa.post("MedicationDispense", dispense(mr, 1, "pharmacy-1"), 409)
    assert "already dispensed" in outcome["issue"][0]["diagnostics"]


@BOTH_STORES
def test_returns_and_corrections_are_new_records(pharmacy: tuple[Api, Flask]) -> None:
    api, secured = pharmacy
    shafa, sina = Pharmacist(secured, "Practitioner/ph-1"), Pharmacist(secured, "Practitioner/ph-2")
    mr = one_drug(api)
    given = shafa.post("MedicationDispense", dispense(mr, 20, "pharmacy-1"), 201)
    returned = shafa.post("MedicationDispense", take_back(given, 5), 201)
    assert returned["type"]["coding"][0]["code"] == "return"
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "active"  # a return reopens it
    assert ledger(api, mr) == (15, 15)
    shafa.post("MedicationDispense", take_back(given, 2, "correction"), 201)
    assert ledger(api, mr) == (13, 13)
    # Never more than the dispense gave, never a return of a return, never rewound either.
    assert (
        "can still be taken back"
        in shafa.post("MedicationDispense", take_back(given, 14), 409)["issue"][0]["diagnostics"]
    )
    shafa.post("MedicationDispense", take_back(returned, 1), 422)
    for method, path, body, content_type in every_rewind(returned):
        assert refused(shafa.send(method, path, body, content_type)), (method, path)
    # Only the pharmacy that dispensed: another pharmacist, whether naming their own
    # pharmacy or the one that dispensed.
    assert (
        sina.send("POST", "MedicationDispense", take_back(given, 1, pharmacy="pharmacy-2")).status_code == 422
    )
    assert sina.send("POST", "MedicationDispense", take_back(given, 1)).status_code == 403
    # Dispensing again, up to what was allowed; the ledger and the total agree throughout.
    sina.post("MedicationDispense", dispense(mr, 7, "pharmacy-2"), 201)
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == "completed"
    assert ledger(api, mr) == (20, 20)
    shafa.post("MedicationDispense", dispense(mr, 1, "pharmacy-1"), 409)


@BOTH_STORES
def test_records_must_be_well_formed(pharmacy: tuple[Api, Flask]) -> None:
    api, secured = pharmacy
    shafa = Pharmacist(secured, "Practitioner/ph-1")
    mr = one_drug(api)
    shafa.post("MedicationDispense", dispense(mr, 0, "pharmacy-1"), 422)  # a positive quantity
    shafa.post("MedicationDispense", {**dispense(mr, 5, "pharmacy-1"), "status": "in-progress"}, 422)
    shafa.post("MedicationDispense", dispense(mr, 5, "pharmacy-2"), 403)  # not their pharmacy
    given = shafa.post("MedicationDispense", dispense(mr, 5, "pharmacy-1"), 201)
    unknown_kind = take_back(given, 1)
    unknown_kind["type"]["coding"][0]["code"] = "refund"
    shafa.post("MedicationDispense", unknown_kind, 422)
    pointing = {**dispense(mr, 1, "pharmacy-1"), "extension": take_back(given, 1)["extension"]}
    shafa.post("MedicationDispense", pointing, 422)  # a dispense does not point at one
    no_target = {k: v for k, v in take_back(given, 1).items() if k != "extension"}
    shafa.post("MedicationDispense", no_target, 422)
    assert ledger(api, mr) == (5, 5)


@BOTH_STORES
def test_the_window_is_policy_data(
    make_app: Any, tmp_path: Path, store_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY, policy)
    rules = json.loads((policy / "dispensing.json").read_text())
    rules["return"]["windowDays"] = 0  # returns close at once
    (policy / "dispensing.json").write_text(json.dumps(rules))
    monkeypatch.setenv("NOSKHE_POLICY", str(policy))
    _, api = make_app(accept_unsigned=True)
    mr = one_drug(api)
    given = api.post("MedicationDispense", dispense(mr, 20))
    outcome = api.post("MedicationDispense", take_back(given, 5), 422)
    assert "within 0 day(s)" in outcome["issue"][0]["diagnostics"]
    api.post("MedicationDispense", take_back(given, 5, "correction"))  # its own window: 2 days


def test_window_boundaries() -> None:
    recorded = "2026-03-01T10:00:00.000Z"
    at = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    assert within_window(recorded, at, 7)  # exactly seven days later: still open
    assert not within_window(recorded, at.replace(microsecond=1000), 7)  # a millisecond after
    assert not within_window(recorded, at, 6)
    assert within_window(recorded, datetime(2026, 3, 1, 10, 0, tzinfo=UTC), 0)


@pytest.mark.parametrize(
    ("performers", "pharmacy"),
    [
        (
            [{"actor": {"reference": "Practitioner/ph-1"}}, {"actor": {"reference": "Organization/p-1"}}],
            "Organization/p-1",
        ),
        ([{"actor": {"display": "Shafa"}}, {"actor": {"reference": "Organization/p-2"}}], "Organization/p-2"),
        ([{"actor": {"reference": "Practitioner/ph-1"}}], None),
        ([{}], None),
        ([], None),
    ],
)
def test_the_pharmacy_of_a_record_is_its_first_organization(
    performers: list[dict[str, Any]], pharmacy: str | None
) -> None:
    assert pharmacy_of({"performer": performers}) == pharmacy


def test_the_running_total_is_written_against_the_version_read(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer changes the item between the rule's read and its write (a second
    worker, on MongoDB): the record is refused (412) and nothing is kept, instead of a
    total written over one it did not see."""
    app, api = make_app(accept_unsigned=True)
    mr = one_drug(api)
    repo, read = app.extensions["noskhe"].repo, dispensing.read_with_version

    def read_then_another_writer(s: Any, type_: str, id_: str) -> tuple[dict[str, Any], int]:
        request, version = read(s, type_, id_)
        system_update(repo, s, {**request, "note": [{"text": "another writer"}]}, version)
        return request, version

    monkeypatch.setattr(dispensing, "read_with_version", read_then_another_writer)
    api.post("MedicationDispense", dispense(mr, 5), 412)
    monkeypatch.undo()
    stored = api.get(f"MedicationRequest/{mr['id']}")
    assert "note" not in stored and stored["status"] == "active"
    assert api.get(f"MedicationDispense?prescription={mr['id']}&_summary=count")["total"] == 0


@BOTH_STORES
def test_item_status_moves_only_along_the_workflow(api: Api) -> None:
    """A prescriber cannot hide an undispensed item by completing it, nor reopen or
    un-sign one; holding, resuming and cancelling are theirs."""
    mr = one_drug(api)
    current = api.get(f"MedicationRequest/{mr['id']}")
    outcome = api.put(f"MedicationRequest/{mr['id']}", {**current, "status": "completed"}, 409)
    assert "dispensing" in outcome["issue"][0]["diagnostics"]
    api.put(f"MedicationRequest/{mr['id']}", {**current, "status": "draft"}, 409)
    api.put(f"MedicationRequest/{mr['id']}", {**current, "status": "unknown"}, 409)
    held = api.put(f"MedicationRequest/{mr['id']}", {**current, "status": "on-hold"})
    api.post("MedicationDispense", dispense(mr, 5), 409)  # on hold: not dispensed
    resumed = api.put(f"MedicationRequest/{mr['id']}", {**held, "status": "active"})
    api.post("MedicationDispense", dispense(mr, 5))
    stored = api.get(f"MedicationRequest/{mr['id']}")
    api.put(f"MedicationRequest/{mr['id']}", {**stored, "status": "entered-in-error"}, 409)  # acted on
    assert api.get(f"MedicationRequest/{mr['id']}")["status"] == resumed["status"] == "active"
    found = api.get(f"MedicationRequest?_id={mr['id']}&status=active")
    assert [e["resource"]["id"] for e in found["entry"]] == [mr["id"]]  # pharmacies still see it
