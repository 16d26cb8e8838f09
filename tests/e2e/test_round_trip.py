"""Official R4 examples survive a write and a read unchanged, apart from meta."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from tests.conftest import EXAMPLES, FHIR_JSON, RunningServer

pytestmark = pytest.mark.e2e

TYPES = (
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
)
FILES = sorted(p for p in EXAMPLES.glob("*.json") if p.name.split("-", 1)[0] in TYPES)


def without_server_meta(resource: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    out = {k: v for k, v in resource.items() if k != "meta"}
    return {**out, "meta": meta} if meta else out


def test_every_required_type_has_examples() -> None:
    assert {p.name.split("-", 1)[0] for p in FILES} == set(TYPES)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_example_round_trips(server: RunningServer, path: Path) -> None:
    example = orjson.loads(path.read_bytes())
    url = f"{server.base}/{example['resourceType']}/{example['id']}"
    r = requests.put(url, data=orjson.dumps(example), headers=FHIR_JSON)
    assert r.status_code in (200, 201), r.text
    stored = requests.get(url).json()
    assert without_server_meta(stored) == without_server_meta(example)
