"""Official R4 examples (copied by scripts/derive_definitions.py --examples) are valid."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fhir_server.validation import validate_resource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "r4-examples"
EXAMPLES = sorted(FIXTURES.glob("*.json"))
TYPES = {
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Encounter",
    "Coverage",
    "Medication",
    "MedicationRequest",
    "MedicationDispense",
    "ServiceRequest",
    "Observation",
    "Bundle",
}


def test_fixtures_cover_the_server_types() -> None:
    found = {orjson.loads(p.read_bytes())["resourceType"] for p in EXAMPLES}
    assert found >= TYPES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_official_example_is_valid(path: Path) -> None:
    resource = orjson.loads(path.read_bytes())
    issues = validate_resource(resource, expected_type=resource["resourceType"])
    assert [i for i in issues if i.severity == "error"] == []
    # the only warning an official example draws: dom-6, a resource without narrative
    assert {i.diagnostics.split(":")[0] for i in issues if i.severity == "warning"} <= {"dom-6"}
