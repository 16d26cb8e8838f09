"""Paper prescriptions: recorded as dispensed by the pharmacy, rules applied, marked paper."""

from __future__ import annotations

from typing import Any

from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import GENERIC, drug, submission

PAPER = "http://noskhe.ir/fhir/StructureDefinition/prescription-paper"


def paper(*items: tuple[str, float, float], national_code: str = "0018243460") -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "councilNumber", "valueString": "123456"},
            {"name": "nationalCode", "valueString": national_code},
            {"name": "pharmacy", "valueReference": {"reference": "Organization/pharmacy-1"}},
            *(
                {
                    "name": "item",
                    "part": [
                        {"name": "medication", "valueCoding": {"system": GENERIC, "code": code}},
                        {"name": "quantity", "valueDecimal": qty},
                        {"name": "dispensed", "valueDecimal": given},
                        {"name": "dosage", "valueString": "روزی دو بار"},
                    ],
                }
                for code, qty, given in items
            ),
        ],
    }


def parts(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [p["resource"] for p in result["parameter"] if p["name"] == name]


@BOTH_STORES
def test_paper_prescription_is_recorded_as_dispensed_and_marked(api: Api) -> None:
    result = api.post("MedicationDispense/$record-paper", paper(("00077", 20, 20), ("90043", 30, 10)), 200)
    requests_, dispenses = parts(result, "request"), parts(result, "dispense")
    assert len(requests_) == 2 and len(dispenses) == 2
    full, partial = (api.get(f"MedicationRequest/{r['id']}") for r in requests_)
    assert full["status"] == "completed" and partial["status"] == "active"
    for mr in (full, partial):
        assert {"url": PAPER, "valueBoolean": True} in mr["extension"]
        assert mr["requester"] == {"reference": "Practitioner/dr-1"}
        assert mr["subject"] == {"reference": "Patient/pat-1"}
    shares = next(e for e in dispenses[1]["extension"] if e["url"].endswith("cost-shares"))
    assert shares["extension"][0]["valueDecimal"] == 90  # TAMIN's share, as on an e-prescription
    assert any(e["url"] == PAPER for e in dispenses[0]["extension"])
    found = api.get(f"MedicationDispense?prescription=MedicationRequest/{partial['id']}")
    assert [e["resource"]["quantity"]["value"] for e in found["entry"]] == [10]


@BOTH_STORES
def test_paper_prescription_rules_apply(api: Api) -> None:
    outcome = api.post("MedicationDispense/$record-paper", paper(("00077", 40, 40)), 422)
    assert "exceeds the maximum of 30" in outcome["issue"][0]["diagnostics"]
    outcome = api.post("MedicationDispense/$record-paper", paper(("90196", 4, 4)), 422)  # female patient
    assert "only for male" in outcome["issue"][0]["diagnostics"]
    assert api.get("MedicationRequest").get("entry", []) == []  # nothing stored


@BOTH_STORES
def test_unknown_patient_or_prescriber(api: Api) -> None:
    api.post("MedicationDispense/$record-paper", paper(("00077", 20, 20), national_code="1234567891"), 422)
    body = paper(("00077", 20, 20))
    body["parameter"][0]["valueString"] = "999999"
    api.post("MedicationDispense/$record-paper", body, 422)
    api.post("MedicationDispense/$record-paper", paper(("00077", 20, 30)), 400)  # more than prescribed


@BOTH_STORES
def test_an_item_cannot_be_marked_paper_to_skip_the_rules(api: Api) -> None:
    item = drug("00077", 40)
    item["extension"] = [{"url": PAPER, "valueBoolean": True}]
    outcome = api.post("MedicationRequest/$prescribe", submission([item]), 422)
    assert "$record-paper" in outcome["issue"][0]["diagnostics"]
