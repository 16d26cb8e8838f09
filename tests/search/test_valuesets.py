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


VITALS = "http://hl7.org/fhir/ValueSet/observation-vitalsignresult"
LOINC = "http://loinc.org"


def _obs(codings: list[tuple[str, str]], status: str = "final") -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "status": status,
        "code": {"coding": [{"system": s, "code": c} for s, c in codings]},
    }


def test_in_with_r4_core_value_sets(tmp_path: Path) -> None:
    """observation-vitalsignresult (13 LOINC codes) from the R4 core terminology; matching
    is by system and code (8480-6 of another system is not systolic blood pressure)."""
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    made = {}
    for name, obs in (
        ("systolic", _obs([(LOINC, "8480-6")])),
        ("glucose", _obs([(LOINC, "2339-0")], status="amended")),
        ("lookalike", _obs([("http://example.org/lab", "8480-6")], status="cancelled")),
        ("two-codings", _obs([("http://example.org/lab", "bp-sys"), (LOINC, "8480-6")])),
    ):
        r = client.post("/fhir/Observation", json=obs, headers=FHIR_JSON)
        assert r.status_code == 201, r.json
        made[name] = r.json["id"]

    def found(query: str) -> set[str]:
        r = client.get(f"/fhir/Observation?{query}")
        assert r.status_code == 200, r.json
        names = {v: k for k, v in made.items()}
        return {names[e["resource"]["id"]] for e in r.json["entry"] if e["search"]["mode"] == "match"}

    assert found(f"code:in={VITALS}") == {"systolic", "two-codings"}
    assert found(f"code:not-in={VITALS}") == {"glucose", "lookalike"}
    # `status` is a code element, stored without a system: its binding's value set works.
    statuses = "http://hl7.org/fhir/ValueSet/observation-status"
    assert found(f"status:in={statuses}") == set(made)
    assert found(f"status:not-in={statuses}") == set()
    assert found("code:in=http://hl7.org/fhir/ValueSet/observation-vitalsignresult&status=final") == {
        "systolic",
        "two-codings",
    }


def test_in_refuses_a_value_set_it_cannot_list(tmp_path: Path) -> None:
    """condition-code is all of SNOMED CT, which is not held here: an empty answer would be
    wrong, so the search is refused with a reason."""
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    r = client.get("/fhir/Condition?code:in=http://hl7.org/fhir/ValueSet/condition-code")
    assert r.status_code == 400 and "snomed" in r.json["issue"][0]["diagnostics"]
    r = client.get("/fhir/Patient?language:in=http://hl7.org/fhir/ValueSet/jurisdiction")
    assert r.status_code == 400 and r.json["resourceType"] == "OperationOutcome"
