"""`fhir-server import FILES_OR_DIR`: the $import engine on the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fhir_server.app import create_app
from fhir_server.cli import main
from fhir_server.config import Settings
from fhir_server.storage import open_store


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["in-process", "two-workers"])
def test_import_folder_with_progress_and_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: list[str]
) -> None:
    folder = tmp_path / "export"
    (folder / "nested").mkdir(parents=True)
    patients = [{"resourceType": "Patient", "id": f"p{n}", "gender": "female"} for n in range(3)]
    (folder / "Patient.ndjson").write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in patients))
    obs = {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "bp"}}
    obs["subject"] = {"reference": "Patient/p1"}
    bad = {"resourceType": "Observation", "id": "o2", "status": "nonsense", "code": {"text": "bp"}}
    (folder / "nested" / "Observation.ndjson").write_bytes(
        orjson.dumps(obs) + b"\n" + orjson.dumps(bad) + b"\n"
    )
    data = tmp_path / "data"
    assert main(["import", "--data", str(data), *workers, str(folder)]) == 1  # one line refused
    out = capsys.readouterr()
    assert "imported 1 Observation, 3 Patient from 2 file(s); 1 refused" in out.out
    assert "import [" in out.err and "Observation.ndjson:2:" in out.err
    store = open_store(data)
    with store.session() as s:
        assert {s.current("Patient", f"p{n}") is not None for n in range(3)} == {True}
        assert s.current("Observation", "o1") is not None and s.current("Observation", "o2") is None
    store.close()
    # the index entries (made by the workers with --workers) answer searches
    client = create_app(Settings(data_dir=data, auth=False)).test_client()
    found = client.get("/fhir/Observation?subject=Patient/p1&_total=accurate").get_json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == "o1"
    assert main(["import", "--data", str(data), str(folder / "Patient.ndjson")]) == 0  # again: nothing new
    assert main(["import", "--data", str(data), str(tmp_path / "missing")]) == 2
