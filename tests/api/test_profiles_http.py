"""Profiles on the write path over HTTP: a claimed profile that fails is 422, in Persian or English."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.conftest import FHIR_JSON

EXAMPLE = Path(__file__).parents[2] / "profiles/ir-eprescription/examples/Patient-ir-patient-example.json"
IR_PATIENT = "http://noskhe.ir/fhir/StructureDefinition/ir-patient"


@pytest.fixture
def ir_patient() -> dict[str, Any]:
    patient = orjson.loads(EXAMPLE.read_bytes())
    patient.pop("id", None)
    return patient


def with_bad_national_code(patient: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(patient)
    for ident in bad["identifier"]:
        if ident["system"] == "http://noskhe.ir/fhir/sid/national-code":
            ident["value"] = "0018243461"  # wrong check digit
    return bad


def test_valid_ir_patient_is_stored(client: FlaskClient, ir_patient: dict[str, Any]) -> None:
    assert IR_PATIENT in ir_patient["meta"]["profile"]
    assert client.post("/fhir/Patient", json=ir_patient, headers=FHIR_JSON).status_code == 201


def test_bad_national_code_is_422_and_not_stored(client: FlaskClient, ir_patient: dict[str, Any]) -> None:
    r = client.post("/fhir/Patient", json=with_bad_national_code(ir_patient), headers=FHIR_JSON)
    assert r.status_code == 422
    issue = next(i for i in r.json["issue"] if i["severity"] == "error")
    assert issue["expression"] and "identifier" in issue["expression"][0]
    assert client.get("/fhir/_history").json["total"] == 0


def test_messages_follow_accept_language(client: FlaskClient, ir_patient: dict[str, Any]) -> None:
    body = with_bad_national_code(ir_patient)
    en = client.post("/fhir/Patient", json=body, headers=FHIR_JSON).json["issue"][0]["diagnostics"]
    fa = client.post("/fhir/Patient", json=body, headers={**FHIR_JSON, "Accept-Language": "fa-IR"}).json
    assert en != fa["issue"][0]["diagnostics"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in fa["issue"][0]["diagnostics"])


def test_validate_with_profile_parameter(client: FlaskClient) -> None:
    narrative = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">A man</div>'}
    plain = {"resourceType": "Patient", "gender": "male", "text": narrative}
    assert client.post("/fhir/Patient/$validate", json=plain, headers=FHIR_JSON).json["issue"][0][
        "severity"
    ] == ("information")
    r = client.post(f"/fhir/Patient/$validate?profile={IR_PATIENT}", json=plain, headers=FHIR_JSON).json
    assert any(i["severity"] == "error" for i in r["issue"])


def test_required_ir_profiles_setting(tmp_path: Path) -> None:
    strict = create_app(Settings(data_dir=tmp_path, auth=False, require_ir_profiles=True)).test_client()
    r = strict.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "male"}, headers=FHIR_JSON)
    assert r.status_code == 422
