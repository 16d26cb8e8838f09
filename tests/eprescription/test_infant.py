"""The infant without a birth certificate, found by the mother's national code: the
`mother-national-code` search parameter (bare and system|code, exact), chained from the
infant's prescriptions and service requests, and the printout and patient picker that
show the infant with the mother's name (both stores)."""

from __future__ import annotations

from typing import Any

import jdatetime
import pytest

from fhir_server.directory import FhirDirectory
from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import NATIONAL, drug, service, submission

pytestmark = BOTH_STORES
MOTHER = "0018243460"  # pat-1 of cycle_helpers.people(), مریم احمدی
MOTHER_EXT = "http://noskhe.ir/fhir/StructureDefinition/mother-national-code"
BIRTH = "2026-10-30"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def infant(id_: str, mother_code: str, contact: str | None = None) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": id_,
        "extension": [{"url": MOTHER_EXT, "valueString": mother_code}],
        "name": [{"text": f"نوزاد {id_}"}],
        "gender": "male",
        "birthDate": BIRTH,
    }
    if contact:
        mth = {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH"}
        relationship = {"coding": [mth]}
        patient["contact"] = [{"relationship": [relationship], "name": {"text": contact}}]
    return patient


def for_infant(item: dict[str, Any], who: str) -> dict[str, Any]:
    item = {**item, "subject": {"reference": f"Patient/{who}"}}
    item.pop("encounter")
    item.pop("insurance")
    return item


@pytest.fixture
def family(api: Api) -> Api:
    """The mother (pat-1), her infant, another mother's infant, and a prescription each."""
    api.put("Patient/baby-1", infant("baby-1", MOTHER), 201)
    api.put("Patient/baby-2", infant("baby-2", "1531257747", contact="زهرا کریمی"), 201)
    for who in ("baby-1", "baby-2"):
        items = [for_infant(drug("00078", 1), who), for_infant(service("801005"), who)]
        api.post("MedicationRequest/$prescribe", submission(items), 200)
    api.post("MedicationRequest/$prescribe", submission([drug("00077", 10)]), 200)  # the mother's own
    return api


def ids(bundle: dict[str, Any]) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry") or [] if e["search"]["mode"] == "match"}


def subjects(bundle: dict[str, Any]) -> set[str]:
    return {e["resource"]["subject"]["reference"] for e in bundle.get("entry") or []}


CASES = [
    (MOTHER, {"baby-1"}),
    (f"{NATIONAL}|{MOTHER}", {"baby-1"}),
    ("1531257747", {"baby-2"}),
    (f"http://example.org/other|{MOTHER}", set()),  # another system
    (f"|{MOTHER}", set()),  # "no system": these codes are national codes
    (MOTHER[:-1], set()),  # exact, not a prefix
    ("1234567891", set()),
]


def test_patient_by_mother_national_code(family: Api) -> None:
    for value, found in CASES:
        assert ids(family.get(f"Patient?mother-national-code={value}")) == found, value


def test_the_mother_is_not_her_own_infant(family: Api) -> None:
    # the mother's own national code finds her through national-code, never through this one
    assert ids(family.get(f"Patient?national-code={MOTHER}")) == {"pat-1"}
    assert "pat-1" not in ids(family.get(f"Patient?mother-national-code={MOTHER}"))


@pytest.mark.parametrize("type_", ["MedicationRequest", "ServiceRequest"])
def test_chained_from_the_infants_items(family: Api, type_: str) -> None:
    for value in (MOTHER, f"{NATIONAL}|{MOTHER}"):
        found = family.get(f"{type_}?subject:Patient.mother-national-code={value}")
        assert subjects(found) == {"Patient/baby-1"}, found
    # by the national code a pharmacy finds only the mother's own prescription
    own = family.get(f"MedicationRequest?subject:Patient.national-code={MOTHER}")
    assert subjects(own) == {"Patient/pat-1"}


def test_printout_names_the_infant_with_the_mother(family: Api) -> None:
    found = family.get(f"MedicationRequest?subject:Patient.mother-national-code={MOTHER}")
    item = found["entry"][0]["resource"]
    page = family.client.get(f"/fhir/MedicationRequest/{item['id']}/$printout").get_data(as_text=True)
    jalali_birth = jdatetime.date(1405, 8, 8).strftime("%Y/%m/%d").translate(PERSIAN)  # 2026-10-30
    assert "نوزاد baby-1" in page
    assert f'<dd id="birth">{jalali_birth}</dd>' in page
    mother = 'نوزاد بدون شناسنامه؛ مادر: مریم احمدی - کد ملی مادر <span class="code">0018243460</span>'
    assert f'id="mother">{mother}' in page
    pdf = family.client.get(f"/fhir/MedicationRequest/{item['id']}/$printout?format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_printout_takes_the_mother_from_the_infants_contact(family: Api) -> None:
    found = family.get("ServiceRequest?subject:Patient.mother-national-code=1531257747")
    item = found["entry"][0]["resource"]
    page = family.client.get(f"/fhir/ServiceRequest/{item['id']}/$printout").get_data(as_text=True)
    assert "مادر: زهرا کریمی - کد ملی مادر" in page


def test_an_adults_printout_has_no_mother_line(family: Api) -> None:
    found = family.get(f"MedicationRequest?subject:Patient.national-code={MOTHER}")
    page = family.client.get(f"/fhir/MedicationRequest/{found['entry'][0]['resource']['id']}/$printout")
    assert 'id="mother"' not in page.get_data(as_text=True)


def test_picker_lists_the_infant_under_the_mothers_code(family: Api) -> None:
    app = family.client.application
    c = app.extensions["noskhe"]
    directory = FhirDirectory(c.store, c.repo)
    found = {p["id"]: p for p in directory.search_patients("۰۰۱۸۲۴۳۴۶۰")}
    assert set(found) == {"pat-1", "baby-1"}
    assert "mother" not in found["pat-1"]
    assert found["baby-1"]["mother"] == "مریم احمدی"
    assert found["baby-1"]["mother_national_code"] == MOTHER
    assert found["baby-1"]["birth_date"] == BIRTH
    assert directory.patient("baby-2") is not None and directory.patient("baby-2")["mother"] == "زهرا کریمی"  # type: ignore[index]
