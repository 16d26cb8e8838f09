"""A code system imported through one worker is answered by the others without a restart."""

from __future__ import annotations

from pathlib import Path

from fhir_server.app import create_app
from fhir_server.config import Settings

FHIR_JSON = {"Content-Type": "application/fhir+json"}
URL = "http://example.org/fhir/CodeSystem/ward"


def test_import_in_one_worker_is_seen_by_another(tmp_path: Path) -> None:
    worker_a = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    worker_b = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()  # same store
    unknown = worker_b.get(f"/fhir/CodeSystem/$lookup?system={URL}&code=ICU")
    assert unknown.status_code in (400, 404)

    cs = {
        "resourceType": "CodeSystem",
        "url": URL,
        "version": "1",
        "name": "Ward",
        "status": "active",
        "content": "complete",
        "concept": [{"code": "ICU", "display": "Intensive care"}],
    }
    assert worker_a.post("/fhir/$terminology-import", json=cs, headers=FHIR_JSON).status_code == 200

    found = worker_b.get(f"/fhir/CodeSystem/$lookup?system={URL}&code=ICU")
    assert found.status_code == 200, found.json
    display = next(p for p in found.json["parameter"] if p["name"] == "display")
    assert display["valueString"] == "Intensive care"
