"""The same export on both stores: jobs as store records, files in the data directory
(SQLite) or GridFS (MongoDB), cancellation removing them on either."""

from __future__ import annotations

from pathlib import Path

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.bulk.bulk_helpers import download, kick_off, local, poll
from tests.conftest import FHIR_JSON
from tests.eprescription.conftest import BOTH_STORES, engine, mongo_base, store_url  # noqa: F401 - fixtures

pytestmark = BOTH_STORES


def test_export_download_and_cancel(tmp_path: Path, store_url: str | None) -> None:  # noqa: F811
    app = create_app(Settings(data_dir=tmp_path, auth=False, store_url=store_url))
    client = app.test_client()
    ids = set()
    for n in range(25):
        r = client.post(
            "/fhir/Patient",
            json={"resourceType": "Patient", "name": [{"family": f"P{n}"}]},
            headers=FHIR_JSON,
        )
        ids.add(r.get_json()["id"])
    status_url = kick_off(client, "$export?_type=Patient")
    manifest = poll(client, status_url)
    assert {p["id"] for p in download(client, manifest)["Patient"]} == ids
    runner = app.extensions["bulk_runner"]
    job_id = status_url.rsplit("/", 1)[1]
    assert runner.files.size(job_id, "Patient-1.ndjson")
    assert client.delete(local(status_url)).status_code == 202
    assert runner.files.read(job_id, "Patient-1.ndjson") is None
    assert runner.jobs.get(job_id) is None
    if store_url is not None:
        assert not (tmp_path / "bulk").exists()  # GridFS, not the data directory
