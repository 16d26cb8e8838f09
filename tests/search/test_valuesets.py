"""Token :in and :not-in against a local ValueSet of the terminology service."""

from __future__ import annotations

from pathlib import Path

from fhir_server.app import create_app
from fhir_server.config import Settings

FHIR_JSON = {"Content-Type": "application/fhir+json"}
DRUGS = "http://noskhe.ir/fhir/ValueSet/drugs"


def _rx(system: str, code: str) -> dict[str, object]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
    }


def test_in_and_not_in(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    ids = {}
    for name, system, code in (
        ("amoxicillin", "http://noskhe.ir/fhir/CodeSystem/generic", "00077"),
        ("unknown-code", "http://noskhe.ir/fhir/CodeSystem/generic", "99999x"),
        ("other-system", "http://example.org/drugs", "00077"),
    ):
        ids[name] = client.post("/fhir/MedicationRequest", json=_rx(system, code), headers=FHIR_JSON).json[
            "id"
        ]

    def found(query: str) -> set[str]:
        r = client.get(f"/fhir/MedicationRequest?{query}")
        assert r.status_code == 200, r.json
        return {e["resource"]["id"] for e in r.json["entry"] if e["search"]["mode"] == "match"}

    assert found(f"code:in={DRUGS}") == {ids["amoxicillin"]}
    assert found(f"code:not-in={DRUGS}") == {ids["unknown-code"], ids["other-system"]}


def test_unknown_value_set_is_400(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    r = client.get("/fhir/MedicationRequest?code:in=http://example.org/ValueSet/nope")
    assert r.status_code == 400 and r.json["resourceType"] == "OperationOutcome"
