"""Patient/[id]/$everything: the compartment plus what it refers to, _type, _since and
_count paging, narrowed by the token like a search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.authorization.conftest import mint
from tests.conftest import FHIR_JSON


def _post(client: FlaskClient, resource: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    r = client.post(
        f"/fhir/{resource['resourceType']}", json=resource, headers={**FHIR_JSON, **(headers or {})}
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    return str(r.get_json()["id"])


def _world(client: FlaskClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    doctor = _post(client, {"resourceType": "Practitioner", "name": [{"family": "Rahimi"}]}, headers)
    ids: dict[str, Any] = {"doctor": doctor, "obs": []}
    for who in ("ali", "sara"):
        pid = _post(client, {"resourceType": "Patient", "name": [{"family": who}]}, headers)
        ids[who] = pid
        for code in ("8480-6", "8462-4", "8867-4"):
            obs = {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": f"Patient/{pid}"},
                "performer": [{"reference": f"Practitioner/{doctor}"}],
            }
            oid = _post(client, obs, headers)
            if who == "ali":
                ids["obs"].append(oid)
        enc = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}
        enc["subject"] = {"reference": f"Patient/{pid}"}
        ids[f"{who}-encounter"] = _post(client, enc, headers)
    return ids


def _pages(client: FlaskClient, url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    pages = []
    while url:
        r = client.get(url, headers=headers or {})
        assert r.status_code == 200, r.get_data(as_text=True)
        pages.append(r.get_json())
        nxt = [link["url"] for link in r.get_json()["link"] if link["relation"] == "next"]
        url = "/fhir/" + nxt[0].split("/fhir/", 1)[1] if nxt else ""
    return pages


def test_everything_holds_the_compartment_and_what_it_refers_to(client: FlaskClient) -> None:
    ids = _world(client)
    (page,) = _pages(client, f"/fhir/Patient/{ids['ali']}/$everything")
    assert page["type"] == "searchset"
    matches = {
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in page["entry"]
        if e["search"]["mode"] == "match"
    }
    assert matches == {("Patient", ids["ali"]), ("Encounter", ids["ali-encounter"])} | {
        ("Observation", o) for o in ids["obs"]
    }
    included = [
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in page["entry"]
        if e["search"]["mode"] == "include"
    ]
    assert included == [("Practitioner", ids["doctor"])]
    assert page["entry"][0]["resource"]["resourceType"] == "Patient"


def test_count_pages_through_everything_once(client: FlaskClient) -> None:
    ids = _world(client)
    pages = _pages(client, f"/fhir/Patient/{ids['ali']}/$everything?_count=2")
    assert len(pages) == 3
    seen = [e["resource"]["id"] for p in pages for e in p["entry"] if e["search"]["mode"] == "match"]
    assert len(seen) == len(set(seen)) == 5
    assert all(len([e for e in p["entry"] if e["search"]["mode"] == "match"]) <= 2 for p in pages)


def test_type_and_since(client: FlaskClient) -> None:
    ids = _world(client)
    (only,) = _pages(client, f"/fhir/Patient/{ids['ali']}/$everything?_type=Observation")
    assert sorted(e["resource"]["id"] for e in only["entry"] if e["search"]["mode"] == "match") == sorted(
        ids["obs"]
    )
    last = client.get(f"/fhir/Encounter/{ids['ali-encounter']}").get_json()["meta"]["lastUpdated"]
    (recent,) = _pages(client, f"/fhir/Patient/{ids['ali']}/$everything?_since={last}")
    assert [e["resource"]["id"] for e in recent["entry"] if e["search"]["mode"] == "match"] == [
        ids["ali-encounter"]
    ]
    for bad in ("_type=Organization", "_since=yesterday", "_count=0", "_page=nonsense"):
        r = client.get(f"/fhir/Patient/{ids['ali']}/$everything?{bad}")
        assert r.status_code == 400 and r.get_json()["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/Patient/nobody/$everything").status_code == 404


@pytest.fixture
def secured(tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path, auth=True))


def test_a_patient_token_gets_its_own_everything_and_nobody_elses(secured: Flask) -> None:
    client = secured.test_client()
    admin = {"Authorization": f"Bearer {mint(secured, 'system/*.cruds')}"}
    ids = _world(client, admin)
    own = {"Authorization": f"Bearer {mint(secured, 'patient/*.rs', patient=ids['ali'])}"}
    (page,) = _pages(client, f"/fhir/Patient/{ids['ali']}/$everything", own)
    types = {e["resource"]["resourceType"] for e in page["entry"]}
    assert types == {"Patient", "Observation", "Encounter"}  # the Practitioner is not in their scopes' reach
    assert client.get(f"/fhir/Patient/{ids['sara']}/$everything", headers=own).status_code in (403, 404)
    narrow = {"Authorization": f"Bearer {mint(secured, 'user/Patient.rs user/Encounter.rs')}"}
    (limited,) = _pages(client, f"/fhir/Patient/{ids['ali']}/$everything", narrow)
    assert {e["resource"]["resourceType"] for e in limited["entry"]} == {"Patient", "Encounter"}
