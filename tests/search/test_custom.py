"""Custom SearchParameters: shipped IR ones, and stored ones after reindex and restart."""

from __future__ import annotations

from pathlib import Path

from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings

FHIR_JSON = {"Content-Type": "application/fhir+json"}
RELIGION = "http://example.org/fhir/StructureDefinition/religion"


def test_shipped_prescription_parameter_searches_group_identifier(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    rx = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "x"},
        "groupIdentifier": {"system": "http://example.org/fhir/sid/orders", "value": "14050901"},
    }
    assert client.post("/fhir/MedicationRequest", json=rx, headers=FHIR_JSON).status_code == 201
    found = client.get("/fhir/MedicationRequest?prescription=14050901").json
    assert len(found["entry"]) == 1 and found["entry"][0]["search"]["mode"] == "match"


def test_posted_parameter_is_active_after_reindex_and_restart(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    patient = {"resourceType": "Patient", "extension": [{"url": RELIGION, "valueString": "Zoroastrian"}]}
    assert client.post("/fhir/Patient", json=patient, headers=FHIR_JSON).status_code == 201
    sp = {
        "resourceType": "SearchParameter",
        "url": "http://example.org/fhir/SearchParameter/religion",
        "name": "religion",
        "status": "active",
        "description": "religion",
        "code": "religion",
        "base": ["Patient"],
        "type": "string",
        "expression": f"Patient.extension.where(url='{RELIGION}').value",
    }
    assert client.post("/fhir/SearchParameter", json=sp, headers=FHIR_JSON).status_code == 201

    strict = client.get("/fhir/Patient?religion=zoro", headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400  # not active yet

    assert main(["reindex", "--data", str(tmp_path)]) == 0
    restarted = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    found = restarted.get("/fhir/Patient?religion=zoro", headers={"Prefer": "handling=strict"})
    assert found.status_code == 200 and len(found.json["entry"]) == 1
