"""A world of claims: a patient insured by TAMIN, two pharmacies and a laboratory in two
provinces, two insurers, and the people who work there; clients with the tokens their
roles get (workplace-restricted scopes), on SQLite or MongoDB."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.eprescription.config import DEFAULT_POLICY
from smart_auth.roles import Roles
from smart_auth.scope_grant import narrow
from smart_auth.scopes import ScopeSet
from tests.authorization.conftest import mint
from tests.eprescription.conftest import (  # noqa: F401 - fixtures
    BOTH_STORES,
    Api,
    engine,
    make_app,
    mongo_base,
    store_url,
)

SD = "http://noskhe.ir/fhir/StructureDefinition/"
INSURER_SID = "http://noskhe.ir/fhir/sid/insurer"
ORG_TYPE = "http://noskhe.ir/fhir/CodeSystem/organization-type"
# user -> (role, workplace)
STAFF = {
    "ph-1": ("pharmacist", "pharmacy-1"),
    "ph-2": ("pharmacist", "pharmacy-2"),
    "lab-1": ("paraclinic", "lab-1"),
    "rev-tamin": ("insurer", "ins-tamin"),
    "rev-salamat": ("insurer", "ins-salamat"),
    "moh-1": ("ministry", "moh"),
}


def org(id_: str, kind: str, province: str | None = None, insurer: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "resourceType": "Organization",
        "id": id_,
        "name": id_,
        "type": [{"coding": [{"system": ORG_TYPE, "code": kind}]}],
    }
    if province:
        coding = {"system": "http://noskhe.ir/fhir/CodeSystem/province", "code": province}
        found["extension"] = [{"url": SD + "province", "valueCoding": coding}]
    if insurer:
        found["identifier"] = [{"system": INSURER_SID, "value": insurer}]
    return found


def world() -> list[dict[str, Any]]:
    out = [
        org("pharmacy-1", "pharmacy", "28"),
        org("pharmacy-2", "pharmacy", "12"),
        org("lab-1", "laboratory", "28"),
        org("ins-tamin", "insurer", insurer="TAMIN"),
        org("ins-salamat", "insurer", insurer="SALAMAT"),
        org("moh", "ministry"),
    ]
    for user, (_, workplace) in STAFF.items():
        out.append({"resourceType": "Practitioner", "id": user, "name": [{"text": user}]})
        out.append(
            {
                "resourceType": "PractitionerRole",
                "id": f"{user}-at-{workplace}",
                "practitioner": {"reference": f"Practitioner/{user}"},
                "organization": {"reference": f"Organization/{workplace}"},
            }
        )
    return out


def role_scope(role: str, workplace: str) -> str:
    """What the authorization server grants a user of `role` at `workplace` asking everything."""
    return str(narrow(ScopeSet.parse("user/*.cruds"), Roles().ceiling(role, [f"Organization/{workplace}"])))


class Client:
    """A staff member's client on the secured app: their role's token."""

    def __init__(self, app: Flask, user: str) -> None:
        role, workplace = STAFF[user]
        self.user = user
        self.scope = role_scope(role, workplace)
        self.token = mint(app, self.scope, fhir_user=f"Practitioner/{user}")
        self.client = app.test_client()

    def call(self, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"}
        data = None if body is None else orjson.dumps(body)
        response = self.client.open("/fhir/" + path, method=method, data=data, headers=headers)
        if status is not None:
            assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json(silent=True)

    def ids(self, query: str) -> set[str]:
        bundle = self.call("GET", query, status=200)
        return {e["resource"]["id"] for e in bundle.get("entry") or [] if e["search"]["mode"] == "match"}


@dataclass
class Claims:
    api: Api  # authorization off: the setting up
    app: Flask  # authorization on, same store
    staff: Callable[[str], Client]


@pytest.fixture
def claims_world(make_app: Any, tmp_path: Path, store_url: str | None) -> Claims:  # noqa: F811
    _, api = make_app(accept_unsigned=True)
    for resource in world():
        api.put(f"{resource['resourceType']}/{resource['id']}", resource, None)
    secured = create_app(Settings(data_dir=tmp_path, store_url=store_url))
    clients: dict[str, Client] = {}

    def staff(user: str) -> Client:
        if user not in clients:
            clients[user] = Client(secured, user)
        return clients[user]

    return Claims(api, secured, staff)


def tariff(key: str, insurer: str = "TAMIN", day: date | None = None) -> int:
    """The unit price the shipped tariff file gives (read here, not through the server)."""
    day = day or date.today()
    doc = json.loads((DEFAULT_POLICY / "tariffs.json").read_text(encoding="utf-8"))
    for owner in (insurer, "*"):
        for schedule in doc["schedules"]:
            in_force = schedule["validFrom"] <= day.isoformat() <= schedule.get("validTo", "9999")
            if schedule["insurer"] == owner and in_force and key in schedule["prices"]:
                return int(schedule["prices"][key])
    raise KeyError(key)


def paper(pharmacy: str = "pharmacy-2", code: str = "90043", quantity: float = 30) -> dict[str, Any]:
    """`$record-paper`'s Parameters: the demo doctor's paper prescription for pat-1, handed
    over in full by `pharmacy`."""
    medication = {"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": code}
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "councilNumber", "valueString": "123456"},
            {"name": "nationalCode", "valueString": "0018243460"},
            {"name": "pharmacy", "valueReference": {"reference": f"Organization/{pharmacy}"}},
            {
                "name": "item",
                "part": [
                    {"name": "medication", "valueCoding": medication},
                    {"name": "quantity", "valueDecimal": quantity},
                ],
            },
        ],
    }
