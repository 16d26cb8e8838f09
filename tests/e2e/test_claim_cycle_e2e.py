"""The insurer's cycle over real HTTP, authorization on, real tokens, on both stores.

A receptionist admits; the doctor prescribes two drugs, signed; the pharmacy dispenses
one in part and the other over what the insurer pays per delivery; the pharmacy claims
both deliveries (the rules reduce one line); the insurer's reviewer lowers another line
through `$adjust`; a month later the insurer settles the month; the insurer and the
ministry see it all on the dashboard (the ministry, nothing patient-level). Each step is
a test, run in order on one server (module scope).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from fhirclient import client as fhir_client

from fhir_server import authorization
from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings
from fhir_server.tehran import Month, instant
from tests.conftest import FHIR_JSON, RunningServer
from tests.e2e.smart_tokens import Site
from tests.eprescription.conftest import ENGINES, mongo_base  # noqa: F401 - the fixture
from tests.eprescription.cycle_helpers import dispense, drug, new_key, people, prescriptions, submission
from tests.insurance.conftest import org, tariff
from tests.smart_auth.auth_testkit import Browser
from tests.storage.conformance.noskhe_test_servers import with_database

pytestmark = pytest.mark.e2e
REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "Bimeh-Khoob-1405"
APP_SCOPES = "openid fhirUser launch/patient patient/*.rs user/*.cruds"
THIS_MONTH = Month.of(date.today())
LAST_MONTH = Month.of(THIS_MONTH.first_day - timedelta(days=1))
USERS = {  # username -> (role, Practitioner id, workplace)
    "monshi": ("receptionist", "sec-1", "clinic-1"),
    "dr.rezaei": ("prescriber", "dr-1", "clinic-1"),
    "shafa": ("pharmacist", "ph-1", "pharmacy-1"),
    "bimeh": ("insurer", "rev-1", "ins-tamin"),
    "bimeh2": ("insurer", "rev-2", "ins-salamat"),
    "vezarat": ("ministry", "moh-1", "moh"),
}


def world() -> list[dict[str, Any]]:
    out = [
        org("clinic-1", "clinic", "28"),
        org("pharmacy-1", "pharmacy", "28"),
        org("pharmacy-2", "pharmacy", "12"),
        org("ins-tamin", "insurer", insurer="TAMIN"),
        org("ins-salamat", "insurer", insurer="SALAMAT"),
        org("moh", "ministry"),
    ]
    for _, (_, person, workplace) in USERS.items():
        if person != "dr-1":
            out.append({"resourceType": "Practitioner", "id": person, "name": [{"text": person}]})
        out.append(
            {
                "resourceType": "PractitionerRole",
                "id": f"{person}-at-{workplace}",
                "practitioner": {"reference": f"Practitioner/{person}"},
                "organization": {"reference": f"Organization/{workplace}"},
            }
        )
    return out


@dataclass
class Cycle:
    server: RunningServer
    data: Path
    store: str | None
    key: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = sign_in(self.server, user)
        return {**FHIR_JSON, "Authorization": f"Bearer {self.tokens[user]}"}

    def send(self, user: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = requests.request(
            method, f"{self.server.base}/{path}", json=body, headers=self.headers(user), timeout=60
        )
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    def dashboard(self, user: str, month: Month, status: int = 200) -> str:
        r = requests.get(
            f"http://127.0.0.1:{self.server.port}/dashboard/view",
            params={"month": str(month), "lang": "en", "interval": "month"},
            headers={"Authorization": self.headers(user)["Authorization"]},
            timeout=60,
        )
        assert r.status_code == status, r.text
        return r.text


def sign_in(server: RunningServer, username: str) -> str:
    """fhirclient's authorize URL, the sign-in form, (the patient picker), the code exchange."""
    app = fhir_client.FHIRClient(
        settings={
            "app_id": "app",
            "api_base": server.base,
            "redirect_uri": REDIRECT,
            "scope": "openid fhirUser user/*.cruds",
        }
    )
    browser = Browser(Site(server), PASSWORD)  # type: ignore[arg-type]
    app.handle_callback(browser.authorize(app.authorize_url, username, "pat-1", "0018243460"))
    return str(app.server.auth.access_token)


@pytest.fixture(scope="module", params=ENGINES)
def cycle(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Cycle]:
    data = tmp_path_factory.mktemp("claim-cycle")
    store = None
    if request.param == "mongodb":
        store = with_database(request.getfixturevalue("mongo_base"), f"noskhe_e2e_{uuid.uuid4().hex[:12]}")
    store_args = ["--store", store] if store else []
    key = new_key()
    starting = [r for r in people() if r["resourceType"] not in ("Encounter", "Organization")]
    client = create_app(Settings(data_dir=data, auth=False, store_url=store)).test_client()
    for r in [*starting, *world()]:
        resp = client.put(f"/fhir/{r['resourceType']}/{r['id']}", json=r, headers=FHIR_JSON)
        assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    cli = ["--data", str(data), *store_args]
    jwk_file = data / "dr-1.jwk"
    jwk_file.write_text(json.dumps({k: v for k, v in key.items() if k != "d"}))
    assert (
        main(["practitioners", "add-key", *cli, "--practitioner", "dr-1", "--jwk-file", str(jwk_file)]) == 0
    )
    app = ["clients", "add", *cli, "--client-id", "app", "--public", "--redirect-uri", REDIRECT]
    assert main([*app, "--scope", APP_SCOPES]) == 0
    for username, (role, person, _) in USERS.items():
        user = ["users", "add", *cli, "--username", username, "--password", PASSWORD, "--role", role]
        assert main([*user, "--fhir-user", f"Practitioner/{person}"]) == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOSKHE_ACCEPT_UNSIGNED", "0")  # signatures are required
        server = RunningServer(data, *store_args, workers=2)
    yield Cycle(server, data, store, key)
    server.stop()


def test_1_admit_and_prescribe(cycle: Cycle) -> None:
    visit = {
        "resourceType": "Encounter",
        "status": "arrived",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/pat-1"},
        "participant": [{"individual": {"reference": "Practitioner/dr-1"}}],
        "serviceProvider": {"reference": "Organization/clinic-1"},
        "period": {"start": f"{date.today().isoformat()}T08:30:00+03:30"},
    }
    encounter = cycle.send("monshi", "POST", "Encounter", visit, 201)["id"]
    items = [drug("00077", 30, repeats=1), drug("90043", 30)]  # amoxicillin 2 x 30, metformin 30
    for item in items:
        item["encounter"] = {"reference": f"Encounter/{encounter}"}
    answer = cycle.send("dr.rezaei", "POST", "MedicationRequest/$prescribe", submission(items, cycle.key))
    (rx,) = prescriptions(answer)
    assert rx["status"] == "active"
    cycle.state["mr"] = {i["medicationCodeableConcept"]["coding"][0]["code"]: i for i in rx["items"]}


def test_2_pharmacy_dispenses_partly(cycle: Cycle) -> None:
    mr = cycle.state["mr"]
    # 40 of the 60 amoxicillin (TAMIN pays at most 30 per delivery), 25 of the 30 metformin
    given = {
        code: cycle.send("shafa", "POST", "MedicationDispense", dispense(mr[code], qty), 201)
        for code, qty in (("00077", 40), ("90043", 25))
    }
    cycle.state["given"] = given
    assert cycle.send("shafa", "GET", f"MedicationRequest/{mr['90043']['id']}")["status"] == "active"


def test_3_pharmacy_claims_and_the_rules_reduce_one_line(cycle: Cycle) -> None:
    given = cycle.state["given"]
    amox = cycle.send("shafa", "POST", f"MedicationDispense/{given['00077']['id']}/$claim", {}, 201)
    line = lines(amox)[1]
    price = tariff("generic|00077")
    assert line["submitted"] == 40 * price and line["eligible"] == 30 * price
    assert line["reason"] == "max-quantity" and result(amox) == "reduced"
    assert line["benefit"] == 30 * price * 70 // 100
    metformin = cycle.send("shafa", "POST", f"MedicationDispense/{given['90043']['id']}/$claim", {}, 201)
    assert result(metformin) == "accepted"
    # once only: the same answer again, and no second claim
    again = cycle.send("shafa", "POST", f"MedicationDispense/{given['00077']['id']}/$claim", {}, 200)
    assert again["id"] == amox["id"]
    assert cycle.send("shafa", "GET", "Claim", None)["total"] == 2
    cycle.state["responses"] = {"00077": amox, "90043": metformin}


def test_4_the_insurer_adjusts_a_line(cycle: Cycle) -> None:
    metformin = cycle.state["responses"]["90043"]
    other = cycle.send("bimeh2", "GET", "ClaimResponse", None)
    assert other["total"] == 0  # another insurer sees none of it
    mine = cycle.send("bimeh", "GET", "ClaimResponse?_count=10", None)
    assert {e["resource"]["id"] for e in mine["entry"]} == {
        r["id"] for r in cycle.state["responses"].values()
    }
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "decision", "valueCode": "adjusted"},
            {"name": "note", "valueString": "پنج عدد بدون مهر داروخانه"},
            {
                "name": "item",
                "part": [
                    {"name": "sequence", "valuePositiveInt": 1},
                    {"name": "quantity", "valueDecimal": 20},
                ],
            },
        ],
    }
    cycle.send("shafa", "POST", f"ClaimResponse/{metformin['id']}/$adjust", body, 403)
    cycle.send("bimeh2", "POST", f"ClaimResponse/{metformin['id']}/$adjust", body, 403)
    adjusted = cycle.send("bimeh", "POST", f"ClaimResponse/{metformin['id']}/$adjust", body, 200)
    price = tariff("generic|90043")
    assert lines(adjusted)[1]["eligible"] == 20 * price and lines(adjusted)[1]["reason"] == "reviewer"
    assert result(adjusted) == "reduced" and adjusted["meta"]["versionId"] == "2"
    cycle.send("bimeh", "PUT", f"ClaimResponse/{metformin['id']}", metformin, 405)
    # the pharmacy sees the result
    seen = cycle.send("shafa", "GET", f"ClaimResponse/{metformin['id']}")
    assert seen["meta"]["versionId"] == "2" and result(seen) == "reduced"
    cycle.state["responses"]["90043"] = adjusted


def test_5_a_month_later_the_insurer_settles(cycle: Cycle) -> None:
    # the adjudications are a month old: as the server would have written them then
    backdate(cycle, [r["id"] for r in cycle.state["responses"].values()], LAST_MONTH)
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "period", "valueString": str(LAST_MONTH)},
            {"name": "insurer", "valueReference": {"reference": "Organization/ins-tamin"}},
        ],
    }
    cycle.send("shafa", "POST", "PaymentReconciliation/$settle", body, 403)
    answer = cycle.send("bimeh", "POST", "PaymentReconciliation/$settle", body, 200)
    (statement,) = [p["resource"] for p in answer["parameter"]]
    # TAMIN pays 70 % of amoxicillin, 90 % of metformin (policy/rules/TAMIN.json)
    expected = 30 * tariff("generic|00077") * 70 // 100 + 20 * tariff("generic|90043") * 90 // 100
    assert statement["paymentAmount"] == {"value": expected, "currency": "IRR"}
    benefits = [lines(r)[1]["benefit"] for r in cycle.state["responses"].values()]
    assert sum(benefits) == expected
    assert len(statement["detail"]) == 2 and statement["requestor"] == {
        "reference": "Organization/pharmacy-1"
    }
    assert cycle.send("shafa", "GET", f"PaymentReconciliation/{statement['id']}")["id"] == statement["id"]
    cycle.state["paid"] = expected


def test_6_the_dashboards_show_it(cycle: Cycle) -> None:
    now = cycle.dashboard("bimeh", THIS_MONTH)
    assert figure(now, "kpi-prescriptions") == "1" and figure(now, "kpi-items") == "2"
    assert "Claims of" in now
    assert table_row(now, "claims", "submitted") == "2"
    before = cycle.dashboard("bimeh", LAST_MONTH)
    assert table_row(before, "claims", "adjudicated") == "2" and table_row(before, "claims", "reduced") == "2"
    assert {
        table_row(before, "reasons", r)
        for r in ("Above the insurer's maximum quantity", "Adjusted by the insurer's reviewer")
    } == {"1"}
    ministry = cycle.dashboard("vezarat", THIS_MONTH)
    assert figure(ministry, "kpi-prescriptions") == "1"
    assert "0018243460" not in ministry and "مریم" not in ministry
    cycle.send("vezarat", "GET", "ClaimResponse", None, 403)
    cycle.send("vezarat", "GET", "Patient", None, 403)
    cycle.dashboard("shafa", THIS_MONTH, 403)


def backdate(cycle: Cycle, response_ids: list[str], month: Month) -> None:
    """Set `created` of these ClaimResponses to the month's second day (Tehran)."""
    ctx = create_app(Settings(data_dir=cycle.data, auth=False, store_url=cycle.store)).extensions["noskhe"]
    moment = instant(month.start + timedelta(days=1))
    with ctx.store.session(write=True) as s, authorization.as_system():
        for rid in response_ids:
            current = ctx.repo.read(s, "ClaimResponse", rid)
            body = orjson.loads(current.body or b"{}")
            ctx.repo.update(s, "ClaimResponse", rid, {**body, "created": moment}, current.version)


def lines(response: dict[str, Any]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for item in response["item"]:
        found: dict[str, Any] = {}
        for a in item["adjudication"]:
            found[a["category"]["coding"][0]["code"]] = a["amount"]["value"] if "amount" in a else a["value"]
            if "reason" in a:
                found["reason"] = a["reason"]["coding"][0]["code"]
        out[item["itemSequence"]] = found
    return out


def result(response: dict[str, Any]) -> str:
    url = "http://noskhe.ir/fhir/StructureDefinition/claim-result"
    return str(next(e["valueCoding"]["code"] for e in response["extension"] if e["url"] == url))


def figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    assert found, element_id
    return found.group(1).strip()


def table_row(page: str, table: str, label: str) -> str:
    """The first number of the row named `label` in the chart table `table`."""
    start = page.index(f'id="{table}-table"')
    found = re.search(rf"<th[^>]*>{re.escape(html.escape(label))}</th>\s*<td[^>]*>([^<]*)</td>", page[start:])
    assert found, (table, label)
    return found.group(1).strip()
