from typing import Any

import pytest
from search_helpers import ids, write

from fhir_server.outcome import FhirError
from fhir_server.search import (
    capability_search_params,
    match_plan,
    registry,
    reindex,
    search_includes,
    search_revincludes,
)
from fhir_server.storage.sqlite import SQLiteStore

NC = "http://noskhe.ir/fhir/sid/national-code"


def match(s: Any, type_: str, query: list[tuple[str, str]], limit: int = 2) -> list[str]:
    return [hit.id for hit in s.search(match_plan(type_, query, limit)).matches]


def test_match_conditional(store: SQLiteStore) -> None:
    write(
        store,
        {"resourceType": "Patient", "id": "a", "identifier": [{"system": NC, "value": "1"}]},
        {"resourceType": "Patient", "id": "b", "identifier": [{"system": NC, "value": "1"}]},
        {"resourceType": "Patient", "id": "c", "identifier": [{"system": NC, "value": "2"}]},
    )
    with store.session() as s:
        assert match(s, "Patient", [("identifier", f"{NC}|2")]) == ["c"]
        assert len(match(s, "Patient", [("identifier", f"{NC}|1")], limit=5)) == 2
        assert match(s, "Patient", [("identifier", f"{NC}|3")]) == []
        with pytest.raises(FhirError):
            match(s, "Patient", [("unknown", "1")])
        with pytest.raises(FhirError):
            match(s, "Patient", [])


def test_capability() -> None:
    params = {p["name"]: p for p in capability_search_params("MedicationRequest")}
    assert params["patient"]["type"] == "reference" and "_id" in params and "_text" not in params
    assert "MedicationRequest:subject" in search_includes("MedicationRequest")
    assert "MedicationRequest:subject" in search_revincludes("Patient")
    assert "MedicationRequest:subject" not in search_revincludes("Organization")


def test_custom_parameter_and_reindex(store: SQLiteStore) -> None:
    mr: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "groupIdentifier": {"system": "http://noskhe.ir/fhir/sid/tracking-code", "value": "T1"},
    }
    write(store, mr)
    registry().add(
        {
            "resourceType": "SearchParameter",
            "url": "http://noskhe.ir/fhir/SearchParameter/mr-tracking-code",
            "code": "tracking-code",
            "base": ["MedicationRequest"],
            "type": "token",
            "expression": "MedicationRequest.groupIdentifier",
        }
    )
    assert ids(store, "MedicationRequest", "tracking-code=T1") == []  # not indexed yet
    seen: list[tuple[int, int]] = []
    assert reindex(store, "MedicationRequest", lambda done, total: seen.append((done, total))) == 1
    assert seen[-1] == (1, 1)
    assert ids(store, "MedicationRequest", "tracking-code=T1") == ["m1"]
