"""Demo data for `make run` / `fhir-server seed`: something real to look at on first run.

A clinic, a pharmacy and a lab; a prescriber, a pharmacist and a lab worker who can enrol
(national code + mobile + PractitionerRole); patients (two share a name, as in life),
Coverage; a signed prescription written through the real `$prescribe` workflow, so it
prints; the sample SMART app's public client; and a demo account for every role.
Seeding twice changes nothing. The demo accounts share one published password: seed
only a server you run for trying things, never one with real patients.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from fhir_server.storage.base import Store

DEMO_FILE = Path(__file__).with_name("resources.json")
DEMO_PASSWORD = "Noskhe-Demo-1405"
SAMPLE_CLIENT = "noskhe-sample"
SAMPLE_APP_PATH = "/apps/sample/index.html"
SAMPLE_SCOPE = "openid fhirUser profile launch launch/patient online_access patient/*.rs user/*.rs"
# The documentation page's "Try it out" (/docs, Swagger UI): a public client, PKCE S256
DOCS_CLIENT = "noskhe-docs"
DOCS_PATH = "/docs/oauth2-redirect.html"
DOCS_SCOPE = "openid fhirUser user/*.cruds"
# username -> (role, fhirUser, display)
DEMO_USERS: dict[str, tuple[str, str | None, str]] = {
    "dr.ahmadi": ("prescriber", "Practitioner/dr-ahmadi", "دکتر مریم احمدی"),
    "ph.rezaei": ("pharmacist", "Practitioner/ph-rezaei", "دکتر حسین رضایی"),
    "lab.noor": ("paraclinic", "Practitioner/lab-noor", "سارا نوری"),
    "monshi": ("receptionist", "Practitioner/monshi", "زهرا منشی"),
    "bimeh": ("insurer", "Practitioner/bimeh", "کارشناس رسیدگی بیمه"),  # at TAMIN: its claims, /dashboard
    "vezarat": ("ministry", "Practitioner/vezarat", "کارشناس آمار وزارت بهداشت"),  # aggregates only
    "ali": ("patient", "Patient/patient-1", "علی رضایی"),
    "admin": ("admin", None, "مدیر سامانه"),
}
DEMO_PATIENT = "patient-1"
DEMO_DOCTOR = "dr-ahmadi"
GENERIC = "http://noskhe.ir/fhir/CodeSystem/generic"
PRESCRIPTION = "http://noskhe.ir/fhir/sid/prescription"


@dataclass
class Seeded:
    resources: int
    prescription: str | None  # the demo prescription's id (None: it could not be written)


def demo_resources(signing_key: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The demo resources; with the demo doctor's public signing key when given."""
    from fhir_server.eprescription.signature import key_extension

    resources = list(orjson.loads(DEMO_FILE.read_bytes()))
    for resource in resources:
        if signing_key and resource["resourceType"] == "Practitioner" and resource["id"] == DEMO_DOCTOR:
            resource["extension"] = [key_extension(signing_key)]
    return resources


def load_demo(store: Store, signing_key: dict[str, Any] | None = None) -> int:
    """Write the demo resources by id; loading twice changes nothing."""
    from fhir_server.app import build_repository
    from fhir_server.search.custom import load_custom_search_parameters

    load_custom_search_parameters(store)  # the IR search parameters index what is written now
    repo = build_repository()
    resources = demo_resources(signing_key)
    with store.session(write=True) as s:
        for resource in resources:
            repo.update(s, resource["resourceType"], resource["id"], resource)
    return len(resources)


def seed(data_dir: Path, store_url: str | None, fhir_base: str) -> Seeded:
    """Demo resources, the signed demo prescription, the sample app's client and the demo users."""
    from fhir_server.storage import open_store

    store = open_store(data_dir, store_url)  # creates the data directory on a first run
    key = _signing_key(data_dir)
    try:
        count = load_demo(store, key)
        prescription = _demo_prescription(data_dir, store_url, store, key)
    finally:
        store.close()
    _demo_accounts(data_dir, store_url, fhir_base)
    return Seeded(count, prescription)


def sample_redirect_uris(fhir_base: str, path: str = SAMPLE_APP_PATH) -> list[str]:
    """Where the sample app (or another page) lives for a base URL (on loopback, as
    127.0.0.1 and as localhost)."""
    parts = urlsplit(fhir_base)
    hosts = [parts.netloc]
    if parts.hostname in ("127.0.0.1", "localhost"):
        port = f":{parts.port}" if parts.port else ""
        hosts = [f"127.0.0.1{port}", f"localhost{port}"]
    return [urlunsplit((parts.scheme, host, path, "", "")) for host in hosts]


def _demo_accounts(data_dir: Path, store_url: str | None, fhir_base: str) -> None:
    from smart_auth.registry import add_client, add_user
    from smart_auth.store import open_auth_store

    auth = open_auth_store(data_dir, store_url)
    try:
        for client, path, scope, name in (
            (SAMPLE_CLIENT, SAMPLE_APP_PATH, SAMPLE_SCOPE, "برنامهٔ نمونهٔ نسخه (Noskhe sample app)"),
            (DOCS_CLIENT, DOCS_PATH, DOCS_SCOPE, "مستندات API نسخه (Noskhe API docs)"),
        ):
            existing = auth.get_client(client)
            redirects = sample_redirect_uris(fhir_base, path)
            known = list(existing["redirect_uris"]) if existing else []
            add_client(
                auth,
                client,
                redirect_uris=[*known, *(r for r in redirects if r not in known)],
                scope=scope,
                name=name,
            )
        for username, (role, fhir_user, display) in DEMO_USERS.items():
            if auth.find_user(username) is None:
                add_user(auth, username, DEMO_PASSWORD, role, fhir_user=fhir_user, display=display)
    finally:
        auth.close()


def _demo_prescription(
    data_dir: Path, store_url: str | None, store: Store, key: dict[str, Any]
) -> str | None:
    """The demo patient's signed prescription, written once through `$prescribe`."""
    from fhir_server.app import create_app
    from fhir_server.config import Settings

    client = create_app(Settings(data_dir=data_dir, store_url=store_url, auth=False), store).test_client()
    json_headers = {"Content-Type": "application/fhir+json"}
    found = client.get(f"/fhir/MedicationRequest?subject=Patient/{DEMO_PATIENT}&_count=1").get_json()
    for entry in found.get("entry") or []:
        return str(entry["resource"]["groupIdentifier"]["value"])
    visit = client.post("/fhir/Encounter", json=_visit(), headers=json_headers).get_json()
    answer = client.post(
        "/fhir/MedicationRequest/$prescribe", json=_submission(visit["id"], key), headers=json_headers
    ).get_json()
    for param in answer.get("parameter") or []:
        if param["name"] == "prescription":
            return str(param["part"][0]["valueIdentifier"]["value"])
    return None


def _signing_key(data_dir: Path) -> dict[str, Any]:
    """The demo doctor's private signing key, kept (0600) in the data directory."""
    from joserfc.jwk import ECKey

    path = data_dir / "demo-signing-key.jwk"
    if path.exists():
        return dict(json.loads(path.read_text()))
    key = {**ECKey.generate_key("P-256", private=True).as_dict(private=True), "kid": "dr-ahmadi-demo"}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(key))
    return key


def _visit() -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{DEMO_PATIENT}"},
        "participant": [{"individual": {"reference": "Practitioner/dr-ahmadi"}}],
        "serviceProvider": {"reference": "Organization/clinic-1"},
        "period": {"start": date.today().isoformat()},
    }


def _drug(
    encounter: str, code: str, name: str, qty: int, unit: str, dose: str, frequency: str
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "groupIdentifier": {"system": PRESCRIPTION, "value": "new"},
        "medicationCodeableConcept": {"coding": [{"system": GENERIC, "code": code}], "text": name},
        "subject": {"reference": f"Patient/{DEMO_PATIENT}"},
        "encounter": {"reference": f"Encounter/{encounter}"},
        "requester": {"reference": "Practitioner/dr-ahmadi"},
        "insurance": [{"reference": "Coverage/coverage-1"}],
        "dosageInstruction": [
            {
                "text": dose,
                "timing": {
                    "code": {
                        "coding": [
                            {"system": "http://noskhe.ir/fhir/CodeSystem/drug-frequency", "code": frequency}
                        ]
                    }
                },
            }
        ],
        "dispenseRequest": {"numberOfRepeatsAllowed": 0, "quantity": {"value": qty, "unit": unit}},
    }


def _submission(encounter: str, key: dict[str, Any]) -> dict[str, Any]:
    from fhir_server.eprescription.signature import sign

    items = [
        _drug(encounter, "00077", "آموکسی‌سیلین ۵۰۰", 21, "capsule", "هر ۸ ساعت یک کپسول بعد از غذا", "TID"),
        _drug(encounter, "90043", "متفورمین ۵۰۰", 30, "tablet", "روزی یک قرص با شام", "QD"),
    ]
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": item,
            "request": {"method": "POST", "url": item["resourceType"]},
        }
        for item in items
    ]
    now = f"{date.today().isoformat()}T09:30:00+03:30"
    signature = {
        "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1"}],
        "when": now,
        "who": {"reference": "Practitioner/dr-ahmadi"},
        "sigFormat": "application/jose",
        "data": sign(items, key),
    }
    provenance = {
        "resourceType": "Provenance",
        "target": [{"reference": e["fullUrl"]} for e in entries],
        "recorded": now,
        "agent": [{"who": {"reference": "Practitioner/dr-ahmadi"}}],
        "signature": [signature],
    }
    entries.append(
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": provenance,
            "request": {"method": "POST", "url": "Provenance"},
        }
    )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
