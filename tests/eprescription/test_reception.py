"""Reception and the doctor's list (مراجعین): admitting is an Encounter (arrived) for a
practitioner at a clinic; the list is a search; confirming the visit finishes it."""

from __future__ import annotations

from typing import Any

from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import TODAY, drug, submission


def admit(api: Api, patient: str = "pat-1", doctor: str = "dr-1", clinic: str = "clinic-1") -> Any:
    return api.post(
        "Encounter",
        {
            "resourceType": "Encounter",
            "status": "arrived",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": f"Patient/{patient}"},
            "participant": [{"individual": {"reference": f"Practitioner/{doctor}"}}],
            "serviceProvider": {"reference": f"Organization/{clinic}"},
            "period": {"start": f"{TODAY}T09:00:00+03:30"},
        },
    )


def doctors_list(api: Api, doctor: str = "dr-1", clinic: str = "clinic-1") -> list[str]:
    """The admitted patients of a doctor at a clinic today, with the patients included."""
    bundle = api.get(
        f"Encounter?participant=Practitioner/{doctor}&service-provider=Organization/{clinic}"
        f"&status=arrived&date=ge{TODAY}&_include=Encounter:subject&_sort=date"
    )
    entries = bundle.get("entry", [])
    patients = {e["resource"]["id"] for e in entries if e["resource"]["resourceType"] == "Patient"}
    listed = [
        e["resource"]["subject"]["reference"].split("/")[1]
        for e in entries
        if e["resource"]["resourceType"] == "Encounter"
    ]
    assert set(listed) <= patients  # every listed patient comes with the list
    return listed


@BOTH_STORES
def test_admitted_patients_are_on_the_doctors_list_until_the_visit_is_confirmed(api: Api) -> None:
    api.put("Patient/pat-9", {"resourceType": "Patient", "id": "pat-9", "name": [{"text": "رضا"}]}, None)
    first = admit(api)
    admit(api, "pat-9")
    admit(api, "pat-9", clinic="clinic-2")  # another clinic's list
    assert sorted(doctors_list(api)) == ["pat-1", "pat-9"]
    assert doctors_list(api, doctor="dr-2") == []

    api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200)
    confirmed = api.put(f"Encounter/{first['id']}", {**first, "status": "finished"})  # ویزیت شد
    assert confirmed["status"] == "finished"
    assert doctors_list(api) == ["pat-9"]


@BOTH_STORES
def test_a_prescription_belongs_to_the_patients_own_current_visit(api: Api) -> None:
    api.put("Patient/pat-9", {"resourceType": "Patient", "id": "pat-9", "name": [{"text": "رضا"}]}, None)
    other = admit(api, "pat-9")
    item = drug("00077", 20)
    item["encounter"] = {"reference": f"Encounter/{other['id']}"}
    outcome = api.post("MedicationRequest/$prescribe", submission([item]), 422)
    assert "another patient's visit" in outcome["issue"][0]["diagnostics"]
    own = admit(api)
    api.put(f"Encounter/{own['id']}", {**own, "status": "cancelled"})
    item["encounter"] = {"reference": f"Encounter/{own['id']}"}
    assert (
        "cancelled"
        in api.post("MedicationRequest/$prescribe", submission([item]), 422)["issue"][0]["diagnostics"]
    )
