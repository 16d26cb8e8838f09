"""Search over real HTTP, partly through fhirpy: token, chain, sort, include, paging."""

from __future__ import annotations

import uuid

import pytest
import requests
from fhirpy import SyncFHIRClient

from tests.conftest import FHIR_JSON, RunningServer

pytestmark = pytest.mark.e2e
NC = "http://noskhe.ir/fhir/sid/national-code"


@pytest.fixture(scope="module")
def prescriptions(server: RunningServer) -> dict[str, str]:
    code = str(uuid.uuid4().int)[:10]
    tag = uuid.uuid4().hex[:8]
    entries = [
        {
            "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000aa",
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": NC, "value": code}],
                "name": [{"family": "كريمي", "given": ["زهرا"]}],
            },
            "request": {"method": "POST", "url": "Patient"},
        }
    ]
    for day in range(1, 26):
        entries.append(
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": "active" if day % 2 else "completed",
                    "intent": "order",
                    "medicationCodeableConcept": {
                        "coding": [{"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "00077"}],
                        "text": tag,
                    },
                    "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000aa"},
                    "authoredOn": f"2026-10-{day:02d}T10:00:00+03:30",
                },
                "request": {"method": "POST", "url": "MedicationRequest"},
            }
        )
    out = requests.post(
        server.base,
        json={"resourceType": "Bundle", "type": "transaction", "entry": entries},
        headers=FHIR_JSON,
    ).json()
    pid = out["entry"][0]["response"]["location"].split("/")[1]
    return {"code": code, "patient": pid, "tag": tag}


def test_chain_by_national_code_and_status(server: RunningServer, prescriptions: dict[str, str]) -> None:
    r = requests.get(
        f"{server.base}/MedicationRequest",
        params={
            "subject:Patient.identifier": f"{NC}|{prescriptions['code']}",
            "status": "active",
            "_total": "accurate",
        },
    ).json()
    assert r["type"] == "searchset" and r["total"] == 13
    assert all(e["resource"]["status"] == "active" for e in r["entry"])


def test_persian_name_search_normalises_arabic_letters(
    server: RunningServer, prescriptions: dict[str, str]
) -> None:
    r = requests.get(
        f"{server.base}/Patient", params={"family": "کریم", "identifier": prescriptions["code"]}
    ).json()
    assert [e["resource"]["id"] for e in r["entry"]] == [prescriptions["patient"]]


def test_fhirpy_sort_include_and_fetch_all(server: RunningServer, prescriptions: dict[str, str]) -> None:
    client = SyncFHIRClient(server.base)
    ordered = (
        client.resources("MedicationRequest")
        .search(patient=prescriptions["patient"])
        .sort("-authoredon")
        .limit(5)
        .fetch()
    )
    dates = [r["authoredOn"] for r in ordered]
    assert len(dates) == 5 and dates == sorted(dates, reverse=True) and dates[0].startswith("2026-10-25")

    every = (
        client.resources("MedicationRequest").search(patient=prescriptions["patient"]).limit(7).fetch_all()
    )
    assert len({r.id for r in every}) == 25

    bundle = requests.get(
        f"{server.base}/MedicationRequest",
        params={"patient": prescriptions["patient"], "_include": "MedicationRequest:subject", "_count": "3"},
    ).json()
    modes = [e["search"]["mode"] for e in bundle["entry"]]
    assert modes.count("match") == 3 and modes.count("include") == 1


def test_compartment_search(server: RunningServer, prescriptions: dict[str, str]) -> None:
    r = requests.get(
        f"{server.base}/Patient/{prescriptions['patient']}/MedicationRequest",
        params={"status": "completed", "_total": "accurate"},
    ).json()
    assert r["total"] == 12


def test_malformed_search_value_is_400(server: RunningServer) -> None:
    r = requests.get(f"{server.base}/MedicationRequest", params={"authoredon": "ge-not-a-date"})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"


def test_unknown_parameter_warns_or_fails_strict(server: RunningServer) -> None:
    lenient = requests.get(f"{server.base}/Patient", params={"frobnicate": "1"}).json()
    assert lenient["entry"][-1]["search"]["mode"] == "outcome"
    strict = requests.get(
        f"{server.base}/Patient", params={"frobnicate": "1"}, headers={"Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
