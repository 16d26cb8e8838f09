"""The patient picker's and enrolment's questions, answered from the FHIR store (demo data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.app import build_repository
from fhir_server.cli import main
from fhir_server.directory import FhirDirectory
from fhir_server.storage import open_store


@pytest.fixture
def directory(tmp_path: Path) -> FhirDirectory:
    assert main(["seed", "--data", str(tmp_path)]) == 0
    return FhirDirectory(open_store(tmp_path, None), build_repository())


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("علی رضایی", {"patient-1", "patient-3"}),
        ("علي رضايي", {"patient-1", "patient-3"}),  # Arabic yeh, as some keyboards type it
        ("رضایی", {"patient-1", "patient-3"}),
        ("0018243460", {"patient-1"}),
        ("۰۰۱۸۲۴۳۴۶۰", {"patient-1"}),  # Persian digits
        ("زهرا", {"patient-2"}),
        ("0000000000", set()),
        ("", set()),
    ],
)
def test_search_patients(directory: FhirDirectory, typed: str, expected: set[str]) -> None:
    assert {p["id"] for p in directory.search_patients(typed)} == expected


def test_patient_summary_tells_namesakes_apart(directory: FhirDirectory) -> None:
    one, three = directory.patient("patient-1"), directory.patient("patient-3")
    assert one == {
        "id": "patient-1",
        "display": "علی رضایی",
        "national_code": "0018243460",
        "birth_date": "1985-03-21",
        "gender": "male",
    }
    assert (
        three is not None and three["display"] == one["display"] and three["birth_date"] != one["birth_date"]
    )
    assert directory.patient("nobody") is None


def test_enrolment_needs_the_registered_mobile(directory: FhirDirectory) -> None:
    assert [a["role"] for a in directory.find_practitioner("6091390996", "+98 913 123 4567")] == [
        "pharmacist"
    ]
    assert directory.find_practitioner("6091390996", "09130000000") == []
