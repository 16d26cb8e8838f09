"""The national e-prescription cycle over real HTTP with authorization on and real tokens.

A receptionist admits; the doctor (prescriber token, fhirclient sign-in) lists the
admitted patients, prescribes three drugs and a lab test, signed, and confirms the
visit; the tracking code reaches the patient's SMS outbox; one pharmacy finds the
prescription by national code and dispenses two drugs fully and one partly, a second
pharmacy the rest; a lab fulfils the test; the patient reads the history and the
printout; the AuditEvents show every step. A rule violation and an uninsured patient
behave as specified. Then what a Python integrator does: a registry's backend service
written with PyJWT (RS384 and ES384 assertions) gets tokens, an insurer's gateway files a
claim and its response, every e-prescription type the server returns parses with
fhir.resources (R4B models), and a Bulk Data export with the PyJWT token parses line by
line. Each step is a test, run in order on one server (module scope).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from fhirclient import client as fhir_client
from joserfc.jwk import RSAKey

from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings
from tests.conftest import FHIR_JSON, RunningServer
from tests.e2e.smart_tokens import Site, backend_token
from tests.e2e.vendor_client import BackendService, export, parse
from tests.eprescription.conftest import ENGINES, mongo_base  # noqa: F401 - the fixture
from tests.eprescription.cycle_helpers import (
    NATIONAL,
    TRACKING,
    dispense,
    drug,
    new_key,
    people,
    prescriptions,
    service,
    submission,
)
from tests.smart_auth.auth_testkit import Browser
from tests.storage.conformance.noskhe_test_servers import with_database

pytestmark = pytest.mark.e2e
REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "Kh0sh-Amad-2026"
APP_SCOPES = "openid fhirUser launch/patient offline_access patient/*.rs user/*.cruds"
# a national registry's backend service: reads everything; an insurer's claim gateway writes claims
REGISTRY_SCOPES = "system/*.rs"
INSURED, UNINSURED = "0018243460", "1531257747"
TODAY = date.today().isoformat()
USERS = {  # username -> (role, fhirUser)
    "monshi": ("receptionist", "Practitioner/sec-1"),
    "dr.rezaei": ("prescriber", "Practitioner/dr-1"),
    "shafa": ("pharmacist", "Practitioner/ph-1"),
    "sina": ("pharmacist", "Practitioner/ph-2"),
    "noor-lab": ("paraclinic", "Practitioner/lab-1"),
    "maryam": ("patient", "Patient/pat-1"),
}


def staff() -> list[dict[str, Any]]:
    """The clinic, pharmacies, lab, their people, and an uninsured second patient."""

    def org(id_: str, name: str, kind: str) -> dict[str, Any]:
        coding = [{"system": "http://noskhe.ir/fhir/CodeSystem/organization-type", "code": kind}]
        return {"resourceType": "Organization", "id": id_, "name": name, "type": [{"coding": coding}]}

    def person(id_: str, name: str) -> dict[str, Any]:
        return {"resourceType": "Practitioner", "id": id_, "name": [{"text": name}]}

    def works_at(id_: str, org_id: str) -> dict[str, Any]:
        return {
            "resourceType": "PractitionerRole",
            "id": f"{id_}-at-{org_id}",
            "practitioner": {"reference": f"Practitioner/{id_}"},
            "organization": {"reference": f"Organization/{org_id}"},
        }

    second = {
        "resourceType": "Patient",
        "id": "pat-2",
        "identifier": [{"system": NATIONAL, "value": UNINSURED}],
        "name": [{"text": "علی کریمی"}],
        "gender": "male",
        "birthDate": "1990-06-01",
        "telecom": [{"system": "phone", "value": "09351112233", "use": "mobile"}],
    }
    return [
        org("clinic-1", "درمانگاه امید", "clinic"),
        org("lab-org-1", "آزمایشگاه نور", "laboratory"),
        person("sec-1", "زهرا منشی"),
        person("ph-1", "دکتر شفا"),
        works_at("ph-1", "pharmacy-1"),
        person("ph-2", "دکتر سینا"),
        works_at("ph-2", "pharmacy-2"),
        person("lab-1", "کارشناس آزمایشگاه"),
        second,
    ]


def load(data: Path, store: str | None, resources: list[dict[str, Any]]) -> None:
    """Write the starting data with authorization off, before the server starts."""
    client = create_app(Settings(data_dir=data, auth=False, store_url=store)).test_client()
    for r in resources:
        resp = client.put(f"/fhir/{r['resourceType']}/{r['id']}", json=r, headers=FHIR_JSON)
        assert resp.status_code in (200, 201), resp.get_data(as_text=True)


@dataclass
class Cycle:
    """What the steps pass on to each other."""

    server: RunningServer
    data: Path
    key: dict[str, Any]
    backend_key: RSAKey
    tokens: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    vendors: tuple[BackendService, ...] = ()  # a registry's backend service (PyJWT), RS384 and ES384

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = sign_in(self.server, user)
        return {**FHIR_JSON, "Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str, **params: Any) -> Any:
        r = requests.get(f"{self.server.base}/{path}", params=params, headers=self.headers(user), timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def send(self, user: str, method: str, path: str, body: Any, status: int) -> Any:
        r = requests.request(
            method, f"{self.server.base}/{path}", json=body, headers=self.headers(user), timeout=30
        )
        assert r.status_code == status, r.text
        return r.json()

    def sms(self) -> list[dict[str, Any]]:
        outbox = self.data / "sms-outbox.jsonl"
        lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
        return [json.loads(line) for line in lines if line]


def sign_in(server: RunningServer, username: str) -> str:
    """fhirclient's authorize URL, the sign-in form, (the patient picker), the code exchange."""
    role, _ = USERS[username]
    scope = "openid fhirUser patient/*.rs" if role == "patient" else "openid fhirUser user/*.cruds"
    app = fhir_client.FHIRClient(
        settings={"app_id": "app", "api_base": server.base, "redirect_uri": REDIRECT, "scope": scope}
    )
    browser = Browser(Site(server), PASSWORD)  # type: ignore[arg-type]
    # fhirclient always asks launch/patient: the picker appears for staff
    app.handle_callback(browser.authorize(app.authorize_url, username, "pat-1", INSURED))
    return str(app.server.auth.access_token)


@pytest.fixture(scope="module", params=ENGINES)
def cycle(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Cycle]:
    """The whole cycle's server, on SQLite and on MongoDB (secantusdb or NOSKHE_TEST_MONGODB_URI)."""
    data = tmp_path_factory.mktemp("rx-cycle")
    store = None
    if request.param == "mongodb":
        store = with_database(request.getfixturevalue("mongo_base"), f"noskhe_e2e_{uuid.uuid4().hex[:12]}")
    store_args = ["--store", store] if store else []
    key = new_key()
    base = [r for r in people() if r["resourceType"] != "Encounter"]  # the receptionist admits
    for r in base:
        if r["resourceType"] == "PractitionerRole":
            r["code"] = [{"coding": [{"code": "clinic"}]}]
            r["organization"] = {"reference": "Organization/clinic-1", "display": "درمانگاه امید"}
    load(data, store, [*base, *staff()])
    cli = ["--data", str(data), *store_args]
    jwk_file = data / "dr-1.jwk"
    jwk_file.write_text(json.dumps({k: v for k, v in key.items() if k != "d"}))
    assert (
        main(["practitioners", "add-key", *cli, "--practitioner", "dr-1", "--jwk-file", str(jwk_file)]) == 0
    )
    client = ["clients", "add", *cli, "--client-id", "app", "--public", "--redirect-uri", REDIRECT]
    assert main([*client, "--scope", APP_SCOPES]) == 0
    for username, (role, fhir_user) in USERS.items():
        user = ["users", "add", *cli, "--username", username, "--password", PASSWORD]
        assert main([*user, "--role", role, "--fhir-user", fhir_user]) == 0
    backend_key = RSAKey.generate_key(2048, parameters={"alg": "RS384", "kid": "audit-1"}, private=True)
    (data / "audit.jwks").write_text(json.dumps({"keys": [backend_key.as_dict(private=False)]}))
    jwks = ["--jwks-file", str(data / "audit.jwks"), "--scope", "system/AuditEvent.rs"]
    assert main(["clients", "add", *cli, "--client-id", "audit", *jwks]) == 0
    vendors = tuple(BackendService.generate("registry", alg) for alg in ("RS384", "ES384"))
    (data / "registry.jwks").write_text(json.dumps({"keys": [v.public_jwk() for v in vendors]}))
    jwks = ["--jwks-file", str(data / "registry.jwks"), "--scope", REGISTRY_SCOPES]
    assert main(["clients", "add", *cli, "--client-id", "registry", *jwks]) == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOSKHE_ACCEPT_UNSIGNED", "0")  # signatures are required
        server = RunningServer(data, *store_args, workers=2)
    yield Cycle(server, data, key, backend_key, vendors=vendors)
    server.stop()


def admission(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "arrived",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{patient}"},
        "participant": [{"individual": {"reference": "Practitioner/dr-1"}}],
        "serviceProvider": {"reference": "Organization/clinic-1"},
        "period": {"start": f"{TODAY}T08:30:00+03:30"},
    }


def for_patient(item: dict[str, Any], patient: str, encounter: str, insured: bool = True) -> dict[str, Any]:
    item = {**item, "subject": {"reference": f"Patient/{patient}"}}
    item["encounter"] = {"reference": f"Encounter/{encounter}"}
    if not insured:
        del item["insurance"]
    return item


# -- the steps, in order ------------------------------------------------------------------


def test_1_receptionist_admits(cycle: Cycle) -> None:
    for patient in ("pat-1", "pat-2"):
        encounter = cycle.send("monshi", "POST", "Encounter", admission(patient), 201)
        assert encounter["status"] == "arrived"
        cycle.state[f"encounter:{patient}"] = encounter["id"]
    eligibility = {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "Patient/pat-2"},
        "created": TODAY,
        "insurer": {"display": "?"},
    }
    answer = cycle.send("monshi", "POST", "CoverageEligibilityRequest/$eligibility", eligibility, 200)
    assert answer["disposition"] == "not covered"
    # A receptionist writes no prescriptions.
    item = for_patient(drug("00077", 20), "pat-1", cycle.state["encounter:pat-1"])
    cycle.send("monshi", "POST", "MedicationRequest", item, 403)


def test_2_doctor_lists_admitted_patients(cycle: Cycle) -> None:
    found = cycle.get(
        "dr.rezaei",
        "Encounter",
        participant="Practitioner/dr-1",
        status="arrived",
        date=f"ge{TODAY}",
        _include="Encounter:subject",
    )
    kinds = sorted((e["resource"]["resourceType"], e["resource"]["id"]) for e in found["entry"])
    assert ("Patient", "pat-1") in kinds and ("Patient", "pat-2") in kinds
    assert sum(1 for k, _ in kinds if k == "Encounter") == 2


def test_3_doctor_prescribes_signed_and_confirms_the_visit(cycle: Cycle) -> None:
    encounter = cycle.state["encounter:pat-1"]
    items = [
        for_patient(i, "pat-1", encounter)
        for i in (drug("00077", 20), drug("90043", 30), drug("90010", 14), service("801005"))
    ]
    answer = cycle.send(
        "dr.rezaei", "POST", "MedicationRequest/$prescribe", submission(items, cycle.key), 200
    )
    found = {p["type"]: p for p in prescriptions(answer)}
    assert set(found) == {"drug", "lab"}
    assert all(p["status"] == "active" for p in found.values())  # the signature verified
    assert found["drug"]["trackingCode"] == found["lab"]["trackingCode"]
    cycle.state["rx"] = found
    verdict = cycle.get("shafa", f"MedicationRequest/$verify?prescription={found['drug']['id']}")
    assert verdict["parameter"][0] == {"name": "valid", "valueBoolean": True}

    visit = cycle.get("dr.rezaei", f"Encounter/{encounter}")
    finished = cycle.send("dr.rezaei", "PUT", f"Encounter/{encounter}", {**visit, "status": "finished"}, 200)
    assert finished["status"] == "finished"
    waiting = cycle.get("dr.rezaei", "Encounter", participant="Practitioner/dr-1", status="arrived")
    assert [e["resource"]["subject"]["reference"] for e in waiting["entry"]] == ["Patient/pat-2"]


def test_4_tracking_code_arrives_by_sms(cycle: Cycle) -> None:
    tracking = cycle.state["rx"]["drug"]["trackingCode"]
    to_patient = [m for m in cycle.sms() if m["to"] == "09121234567"]
    assert len(to_patient) == 1 and tracking in str(to_patient[0]["text"])
    assert cycle.state["rx"]["drug"]["id"] in str(to_patient[0]["text"])


def test_5_rule_violation_is_refused_and_nothing_is_sent(cycle: Cycle) -> None:
    before = len(cycle.sms())
    item = for_patient(drug("00077", 40), "pat-1", cycle.state["encounter:pat-1"])  # TAMIN: at most 30
    r = requests.post(
        f"{cycle.server.base}/MedicationRequest/$prescribe",
        json=submission([item], cycle.key),
        headers={**cycle.headers("dr.rezaei"), "Accept-Language": "fa"},
        timeout=30,
    )
    assert r.status_code == 422 and r.json()["resourceType"] == "OperationOutcome"
    assert "بیش از حداکثر مجاز" in r.json()["issue"][0]["diagnostics"]
    assert len(cycle.sms()) == before


def test_6_uninsured_patient_gets_a_free_prescription(cycle: Cycle) -> None:
    item = for_patient(drug("00077", 20), "pat-2", cycle.state["encounter:pat-2"], insured=False)
    answer = cycle.send(
        "dr.rezaei", "POST", "MedicationRequest/$prescribe", submission([item], cycle.key), 200
    )
    rx = prescriptions(answer)[0]
    assert rx["free"] is True and rx["status"] == "active"
    cycle.state["free"] = [rx["id"]]
    outcome = next(p["resource"] for p in answer["parameter"] if p["name"] == "outcome")
    assert any("free" in i.get("diagnostics", "") for i in outcome["issue"])
    assert any(m["to"] == "09351112233" and rx["trackingCode"] in str(m["text"]) for m in cycle.sms())


def test_7_first_pharmacy_finds_by_national_code_and_dispenses(cycle: Cycle) -> None:
    tracking = cycle.state["rx"]["drug"]["trackingCode"]
    found = cycle.get(
        "shafa",
        "MedicationRequest",
        **{
            "subject:Patient.identifier": f"{NATIONAL}|{INSURED}",
            "identifier": f"{TRACKING}|{tracking}",
            "status": "active",
            "_include": "MedicationRequest:requester",
        },
    )
    requests_ = {
        e["resource"]["medicationCodeableConcept"]["coding"][0]["code"]: e["resource"]
        for e in found["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    }
    assert set(requests_) == {"00077", "90043", "90010"}
    assert any(e["resource"]["resourceType"] == "Practitioner" for e in found["entry"])
    cycle.state["mr"] = requests_
    for code, qty in (("00077", 20), ("90010", 14), ("90043", 10)):
        cycle.send("shafa", "POST", "MedicationDispense", dispense(requests_[code], qty, "pharmacy-1"), 201)
    still_open = cycle.get(
        "shafa",
        "MedicationRequest",
        **{"subject:Patient.identifier": f"{NATIONAL}|{INSURED}", "status": "active"},
    )
    assert [e["resource"]["id"] for e in still_open["entry"]] == [requests_["90043"]["id"]]


def test_8_second_pharmacy_dispenses_the_rest_and_no_more(cycle: Cycle) -> None:
    metformin = cycle.state["mr"]["90043"]
    cycle.send("sina", "POST", "MedicationDispense", dispense(metformin, 21, "pharmacy-2"), 409)
    cycle.send("sina", "POST", "MedicationDispense", dispense(metformin, 20, "pharmacy-2"), 201)
    assert cycle.get("sina", f"MedicationRequest/{metformin['id']}")["status"] == "completed"
    amoxicillin = cycle.state["mr"]["00077"]
    cycle.send("sina", "POST", "MedicationDispense", dispense(amoxicillin, 1, "pharmacy-2"), 409)


def test_9_lab_fulfils_the_test(cycle: Cycle) -> None:
    found = cycle.get(
        "noor-lab",
        "ServiceRequest",
        **{"subject:Patient.identifier": f"{NATIONAL}|{INSURED}", "status": "active"},
    )
    (sr,) = [e["resource"] for e in found["entry"]]
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": "Patient/pat-1"},
        "valueQuantity": {"value": 6.1, "unit": "%"},
    }
    obs = cycle.send("noor-lab", "POST", "Observation", observation, 201)
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "basedOn": [{"reference": f"ServiceRequest/{sr['id']}"}],
        "code": sr["code"],
        "subject": {"reference": "Patient/pat-1"},
        "performer": [{"reference": "Organization/lab-org-1"}],
        "result": [{"reference": f"Observation/{obs['id']}"}],
    }
    cycle.send("noor-lab", "POST", "DiagnosticReport", report, 201)
    assert cycle.get("noor-lab", f"ServiceRequest/{sr['id']}")["status"] == "completed"
    cycle.send("noor-lab", "POST", "DiagnosticReport", report, 409)  # once only
    cycle.send("noor-lab", "POST", "MedicationDispense", dispense(cycle.state["mr"]["00077"], 1), 403)


def test_10_patient_reads_the_history(cycle: Cycle) -> None:
    requests_ = cycle.get("maryam", "MedicationRequest", _count="50")
    assert sorted(e["resource"]["status"] for e in requests_["entry"]) == ["completed"] * 3
    dispenses = cycle.get("maryam", "MedicationDispense", _count="50")
    assert sum(e["resource"]["quantity"]["value"] for e in dispenses["entry"]) == 20 + 14 + 30
    reports = cycle.get("maryam", "DiagnosticReport", _include="DiagnosticReport:result")
    assert {e["resource"]["resourceType"] for e in reports["entry"]} == {"DiagnosticReport", "Observation"}
    forbidden = requests.get(
        f"{cycle.server.base}/Patient/pat-2", headers=cycle.headers("maryam"), timeout=30
    )
    assert forbidden.status_code == 403
    other = cycle.get("maryam", "MedicationRequest", subject="Patient/pat-2")
    assert other.get("entry", []) == []


def test_10b_patient_gets_the_printout(cycle: Cycle) -> None:
    rx = cycle.state["rx"]["drug"]
    auth = {"Authorization": cycle.headers("maryam")["Authorization"]}
    page = requests.get(
        f"{cycle.server.base}/MedicationRequest/$printout", params={"prescription": rx["id"]}, headers=auth
    )
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'dir="rtl"' in page.text and rx["trackingCode"] in page.text and "<svg" in page.text
    pdf = requests.get(
        f"{cycle.server.base}/MedicationRequest/$printout",
        params={"prescription": rx["id"], "format": "pdf"},
        headers=auth,
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    for other in cycle.state["free"]:  # another patient's prescription: not known to this token
        r = requests.get(
            f"{cycle.server.base}/MedicationRequest/$printout", params={"prescription": other}, headers=auth
        )
        assert r.status_code == 404 and "is not known" in r.text, r.text


def test_11_audit_trail_shows_every_step(cycle: Cycle) -> None:
    token = backend_token(cycle.server, cycle.backend_key, "audit", "system/AuditEvent.rs")
    headers = {"Authorization": f"Bearer {token}"}
    expected = {
        ("Practitioner/sec-1", "create"),
        ("Practitioner/sec-1", "operation"),
        ("Practitioner/dr-1", "search-type"),
        ("Practitioner/dr-1", "operation"),
        ("Practitioner/dr-1", "update"),
        ("Practitioner/ph-1", "search-type"),
        ("Practitioner/ph-1", "create"),
        ("Practitioner/ph-2", "create"),
        ("Practitioner/lab-1", "search-type"),
        ("Practitioner/lab-1", "create"),
        ("Patient/pat-1", "search-type"),
        ("Patient/pat-1", "operation"),
    }
    deadline = time.monotonic() + 15
    seen: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:  # audit is written in the background
        bundle = requests.get(
            f"{cycle.server.base}/AuditEvent", params={"_count": "500"}, headers=headers, timeout=30
        ).json()
        events = [e["resource"] for e in bundle.get("entry", [])]
        seen = {
            (str(ev["agent"][0]["who"].get("reference")), ev["subtype"][0]["code"])
            for ev in events
            if ev["type"]["code"] == "rest"
        }
        if expected <= seen:
            break
        time.sleep(0.3)
    assert expected <= seen, expected - seen
    refused = [
        ev
        for ev in events
        if ev["agent"][0]["who"].get("reference") == "Practitioner/dr-1" and ev["outcome"] != "0"
    ]
    assert refused, "the refused prescription (422) is in the trail too"


# -- what Python integrators use: fhir.resources (R4B models) and PyJWT ---------------------

VENDOR_TYPES = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Encounter",
    "Coverage",
    "MedicationRequest",
    "ServiceRequest",
    "MedicationDispense",
    "DiagnosticReport",
    "Provenance",
    "Claim",
    "ClaimResponse",
)


def _claim_and_response(cycle: Cycle) -> None:
    """The dispensing pharmacy claims the amoxicillin it handed over: the server writes the
    Claim and its ClaimResponse (no client writes either), for the registry to read."""
    dispensed = cycle.state["mr"]["00077"]
    found = cycle.get("shafa", "MedicationDispense", prescription=f"MedicationRequest/{dispensed['id']}")
    (given,) = [e["resource"] for e in found["entry"]]
    response = cycle.send("shafa", "POST", f"MedicationDispense/{given['id']}/$claim", {}, 201)
    assert response["resourceType"] == "ClaimResponse" and response["outcome"] == "complete"


def test_12_backend_service_with_pyjwt_gets_tokens_with_rs384_and_es384(cycle: Cycle) -> None:
    for vendor in cycle.vendors:
        token = vendor.token(cycle.server.base, REGISTRY_SCOPES)
        assert token["token_type"].lower() == "bearer" and token["scope"] == REGISTRY_SCOPES
        cycle.tokens[f"registry-{vendor.alg}"] = token["access_token"]
    stranger = BackendService.generate("registry", "ES384")  # the right name, a key it never registered
    with pytest.raises(AssertionError):
        stranger.token(cycle.server.base, REGISTRY_SCOPES)
    _claim_and_response(cycle)


def test_13_every_eprescription_type_parses_with_fhir_resources(cycle: Cycle) -> None:
    auth = {"Authorization": f"Bearer {cycle.tokens['registry-ES384']}", "Accept": "application/fhir+json"}
    for type_ in VENDOR_TYPES:
        answer = requests.get(
            f"{cycle.server.base}/{type_}", params={"_count": "50"}, headers=auth, timeout=30
        )
        assert answer.status_code == 200, answer.text
        bundle = parse(answer.json())  # the searchset Bundle, entries and all
        resources = [e["resource"] for e in answer.json()["entry"]]
        assert resources and {r["resourceType"] for r in resources} == {type_}, type_
        assert [parse(r).id for r in resources] == [e.resource.id for e in bundle.entry]
    assert parse(requests.get(f"{cycle.server.base}/metadata", timeout=30).json()).fhirVersion == "4.0.1"
    missing = requests.get(f"{cycle.server.base}/Patient/nobody", headers=auth, timeout=30)
    assert missing.status_code == 404
    assert parse(missing.json()).issue[0].severity == "error"  # an OperationOutcome


def test_14_registry_exports_with_its_pyjwt_token_and_parses_every_line(cycle: Cycle) -> None:
    token = cycle.tokens["registry-ES384"]
    query = "_type=Patient,MedicationRequest,MedicationDispense,Provenance,Claim"
    manifest = export(cycle.server.base, token, query)
    assert manifest["requiresAccessToken"] is True
    counts: dict[str, int] = {}
    for item in manifest["output"]:
        assert requests.get(item["url"], timeout=30).status_code == 401  # the token is required
        lines = requests.get(item["url"], headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert lines.status_code == 200
        for line in lines.content.splitlines():
            resource = parse(json.loads(line))
            counts[resource.get_resource_type()] = counts.get(resource.get_resource_type(), 0) + 1
    for type_ in query.removeprefix("_type=").split(","):  # what a search with the same token counts
        total = requests.get(
            f"{cycle.server.base}/{type_}",
            params={"_summary": "count"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()["total"]
        assert counts.get(type_, 0) == total > 0, type_
    assert counts["MedicationDispense"] == 4 and counts["Claim"] == 1
