"""Search answers that a naive implementation gets wrong without saying so (issue 12):
the total of `_count=0` and of later pages, this server's absolute URLs as reference
values, and composite parameters over every branch of their expression."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import bundle, follow, ids, page_ids, patient, write

from fhir_server.search import totals
from fhir_server.storage.base import Store

BASE = "http://test/fhir"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def test_count_zero_gives_the_true_total(store: Store) -> None:
    write(store, *[patient(f"m{i}", gender="male") for i in range(7)], patient("f1", gender="female"))
    # fhirpy's count(): `_count=0&_totalMethod=count` (the second is not FHIR: a warning).
    b = bundle(store, "Patient", [("gender", "male"), ("_count", "0"), ("_totalMethod", "count")])
    assert b["total"] == 7 and page_ids(b) == []
    assert bundle(store, "Patient", [("_count", "0")])["total"] == 8
    # Asked not to count: no total at all, never a wrong one.
    assert "total" not in bundle(store, "Patient", [("_count", "0"), ("_total", "none")])


def test_total_on_every_page_when_cheap(store: Store) -> None:
    write(store, *[patient(f"p{i}", gender="male") for i in range(5)], patient("x", gender="female"))
    first = bundle(store, "Patient", [("gender", "male"), ("_count", "2")])
    second = follow(store, "Patient", first, "next")
    assert second is not None
    last = follow(store, "Patient", second, "next")
    assert last is not None and len(page_ids(last)) == 1
    assert [first["total"], second["total"], last["total"]] == [5, 5, 5]


def test_total_is_omitted_above_the_cap_never_wrong(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(totals, "TOTAL_CAP", 3)
    write(store, *[patient(f"p{i}", gender="male") for i in range(5)])
    b = bundle(store, "Patient", [("gender", "male"), ("_count", "2")])
    assert "total" not in b and len(page_ids(b)) == 2
    assert (
        bundle(store, "Patient", [("gender", "male"), ("_count", "2"), ("_total", "accurate")])["total"] == 5
    )
    assert bundle(store, "Patient", [("_id", "p1,p2,p3"), ("_count", "2")])["total"] == 3
    # Counting that would check each candidate has a lower budget: a total, if any, is true.
    monkeypatch.setattr(totals, "CHECK_CAP", 1)
    two = bundle(store, "Patient", [("gender", "male"), ("_id", "p1,p2,p3,x"), ("_count", "2")])
    assert two.get("total") in (None, 3) and len(page_ids(two)) == 2
    # A first page holding every match counts itself, whatever the cap.
    assert bundle(store, "Patient", [("gender", "male"), ("_count", "10")])["total"] == 5


def _obs(id_: str, subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": subject},
    }


def test_own_absolute_url_matches_the_relative_reference(store: Store) -> None:
    write(
        store,
        _obs("relative", "Patient/123"),
        _obs("own-absolute", f"{BASE}/Patient/123"),
        _obs("other-server", "http://other.org/fhir/Patient/123"),
        _obs("longer-base", "http://test/fhir2/Patient/123"),
        _obs("other-id", "Patient/1234"),
    )
    query = f"subject={BASE}/Patient/123"
    assert ids(store, "Observation", query, base_url=BASE) == ["own-absolute", "relative"]
    assert ids(store, "Observation", f"patient={BASE}/Patient/123", base_url=BASE) == [
        "own-absolute",
        "relative",
    ]
    assert ids(store, "Observation", f"subject:Patient={BASE}/Patient/123/_history/4", base_url=BASE) == [
        "relative"
    ]
    # Another server's URL with the same tail is a different patient.
    assert ids(store, "Observation", "subject=http://other.org/fhir/Patient/123", base_url=BASE) == [
        "other-server"
    ]
    # Chains and the relative form are unchanged.
    assert ids(store, "Observation", "subject=Patient/123", base_url=BASE) == ["relative"]
    assert ids(store, "Observation", f"subject={BASE}/Patient/123,Patient/1234", base_url=BASE) == [
        "other-id",
        "own-absolute",
        "relative",
    ]


def _quantity(value: float) -> dict[str, Any]:
    return {"value": value, "system": UCUM, "code": "mm[Hg]", "unit": "mmHg"}


def _coded(code: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code}]}


def test_composite_evaluates_every_branch_on_one_element_at_a_time(store: Store) -> None:
    panel = {
        "resourceType": "Observation",
        "id": "panel",
        "status": "final",
        "code": _coded("85354-9"),
        "component": [
            {"code": _coded("8480-6"), "valueQuantity": _quantity(120)},
            {"code": _coded("8462-4"), "valueQuantity": _quantity(107)},
        ],
    }
    single = {
        "resourceType": "Observation",
        "id": "single",
        "status": "final",
        "code": _coded("8480-6"),
        "valueQuantity": _quantity(107),
    }
    write(store, panel, single)
    # The component branch: a diastolic of 107 lives in a component.
    assert ids(store, "Observation", "combo-code-value-quantity=8462-4$107") == ["panel"]
    # Systolic 107: only the single observation. The panel has a systolic (120) and a 107
    # (diastolic), but on different components: a mixed pair is not a match.
    assert ids(store, "Observation", "combo-code-value-quantity=8480-6$107") == ["single"]
    assert ids(store, "Observation", f"combo-code-value-quantity={LOINC}|8480-6$gt100") == ["panel", "single"]
    assert ids(store, "Observation", "component-code-value-quantity=8480-6$107") == []
    assert ids(store, "Observation", "code-value-quantity=8462-4$107") == []


def test_in_with_an_r4_core_value_set(store: Store) -> None:
    def obs(id_: str, system: str, code: str, status: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": id_,
            "status": status,
            "code": {"coding": [{"system": system, "code": code}]},
        }

    write(
        store,
        obs("systolic", LOINC, "8480-6", "final"),
        obs("glucose", LOINC, "2339-0", "final"),
        obs("lookalike", "http://example.org/lab", "8480-6", "registered"),
    )
    vitals = "http://hl7.org/fhir/ValueSet/observation-vitalsignresult"
    assert ids(store, "Observation", f"code:in={vitals}") == ["systolic"]
    assert ids(store, "Observation", f"code:not-in={vitals}") == ["glucose", "lookalike"]
    # A `code` element is stored without a system; its value set still applies.
    assert ids(store, "Observation", "status:in=http://hl7.org/fhir/ValueSet/observation-status") == [
        "glucose",
        "lookalike",
        "systolic",
    ]
