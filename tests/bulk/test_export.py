"""$export at system, Patient and Group level: the asynchronous pattern, the parameters,
cancellation, shipped conformance resources, writes during an export, and a job resumed
by another worker after its own died."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.bulk import export as export_module
from fhir_server.bulk import jobs as job_records
from fhir_server.config import Settings
from tests.bulk.bulk_helpers import download, kick_off, local, poll
from tests.conftest import FHIR_JSON


def _post(client: FlaskClient, resource: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/fhir/{resource['resourceType']}", json=resource, headers=FHIR_JSON)
    assert r.status_code == 201, r.get_data(as_text=True)
    return dict(r.get_json())


def _patient(client: FlaskClient, name: str) -> str:
    return _post(client, {"resourceType": "Patient", "name": [{"family": name}]})["id"]


def _observation(client: FlaskClient, patient: str, code: str = "8480-6") -> str:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
    }
    return _post(client, obs)["id"]


@pytest.fixture
def people(client: FlaskClient) -> dict[str, Any]:
    ali, sara = _patient(client, "Ahmadi"), _patient(client, "Karimi")
    obs = {
        ali: [_observation(client, ali), _observation(client, ali, "8462-4")],
        sara: [_observation(client, sara)],
    }
    org = _post(client, {"resourceType": "Organization", "name": "Clinic"})["id"]
    group = _post(
        client,
        {
            "resourceType": "Group",
            "type": "person",
            "actual": True,
            "member": [{"entity": {"reference": f"Patient/{sara}"}}],
        },
    )["id"]
    return {"ali": ali, "sara": sara, "obs": obs, "org": org, "group": group}


def test_system_export_writes_every_stored_resource_once(client: FlaskClient, people: dict[str, Any]) -> None:
    status_url = kick_off(client, "$export")
    assert status_url.startswith("http://127.0.0.1:8080/fhir/_bulk/")
    manifest = poll(client, status_url)
    assert manifest["request"] == "http://127.0.0.1:8080/fhir/$export"
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    files = download(client, manifest)
    assert sorted(files) == ["Group", "Observation", "Organization", "Patient"]
    assert {p["id"] for p in files["Patient"]} == {people["ali"], people["sara"]}
    assert len(files["Observation"]) == 3
    assert all(r["meta"]["lastUpdated"] <= manifest["transactionTime"] for rs in files.values() for r in rs)


def test_the_export_thread_reads_without_mmap(
    client: FlaskClient, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job's thread asks the SQLite store for lean reads (memory bounded by the store's
    size otherwise: bench/bulk_bench.py)."""
    from fhir_server.storage.sqlite import SQLiteStore

    callers: list[str] = []
    real = SQLiteStore.scan_reads

    def spy(self: SQLiteStore) -> None:
        callers.append(threading.current_thread().name)
        real(self)

    monkeypatch.setattr(SQLiteStore, "scan_reads", spy)
    poll(client, kick_off(client, "$export"))
    assert callers and all(name.startswith("bulk-") for name in callers)


def test_type_since_and_type_filter(client: FlaskClient, people: dict[str, Any]) -> None:
    manifest = poll(
        client, kick_off(client, "$export?_type=Observation&_typeFilter=Observation%3Fcode%3D8462-4")
    )
    files = download(client, manifest)
    assert [o["id"] for o in files["Observation"]] == [people["obs"][people["ali"]][1]]
    later = client.get(f"/fhir/Patient/{people['sara']}").get_json()["meta"]["lastUpdated"]
    since = poll(client, kick_off(client, f"$export?_type=Patient,Observation,Group&_since={later}"))
    types = {item["type"] for item in since["output"]}
    assert "Group" not in types or all(item["count"] >= 1 for item in since["output"])
    got = download(client, since)
    assert all(r["meta"]["lastUpdated"] >= later for rs in got.values() for r in rs)
    assert people["ali"] not in {p["id"] for p in got.get("Patient", [])}


@pytest.mark.parametrize(
    ("path", "headers", "why"),
    [
        ("$export", {"Prefer": ""}, "respond-async"),
        ("$export?_outputFormat=text/csv", {}, "_outputFormat"),
        ("$export?_type=Nonsense", {}, "unknown resource type"),
        ("$export?_since=yesterday", {}, "_since"),
        ("$export?_type=Patient&_typeFilter=Observation%3Fcode%3Dx", {}, "_typeFilter"),
        ("$export?_typeFilter=Patient%3Fbogus-param%3Dx", {}, "bogus"),
        ("Patient/$export?_type=Organization", {}, "compartment"),
        ("$export?patient=Patient/1", {}, "patient"),
    ],
)
def test_bad_kick_offs_are_400_and_start_nothing(
    client: FlaskClient, app: Flask, path: str, headers: dict[str, str], why: str
) -> None:
    outcome = kick_off(client, path, headers, status=400)
    assert outcome["resourceType"] == "OperationOutcome" and why in outcome["issue"][0]["diagnostics"]
    assert app.extensions["bulk_runner"].jobs.ids() == []


def test_patient_and_group_exports_hold_the_compartments(client: FlaskClient, people: dict[str, Any]) -> None:
    manifest = poll(client, kick_off(client, "Patient/$export"))
    files = download(client, manifest)
    assert sorted(files) == ["Group", "Observation", "Patient"]  # the Organization is outside
    assert len(files["Observation"]) == 3
    group = download(client, poll(client, kick_off(client, f"Group/{people['group']}/$export")))
    assert [p["id"] for p in group["Patient"]] == [people["sara"]]
    assert [o["id"] for o in group["Observation"]] == people["obs"][people["sara"]]
    assert kick_off(client, "Group/nope/$export", status=404)["resourceType"] == "OperationOutcome"


def test_delete_cancels_and_removes_the_files(
    client: FlaskClient, people: dict[str, Any], tmp_path: Path
) -> None:
    status_url = kick_off(client, "$export")
    manifest = poll(client, status_url)
    job_dir = tmp_path / "bulk" / status_url.rsplit("/", 1)[1]
    assert job_dir.is_dir() and (job_dir.stat().st_mode & 0o777) == 0o700
    assert all((f.stat().st_mode & 0o777) == 0o600 for f in job_dir.iterdir())
    r = client.delete(local(status_url))
    assert r.status_code == 202
    assert not job_dir.exists()
    assert client.get(local(status_url)).status_code == 404
    assert client.get(local(manifest["output"][0]["url"])).status_code == 404


def test_shipped_conformance_resources_only_when_named(client: FlaskClient, people: dict[str, Any]) -> None:
    everything = poll(client, kick_off(client, "$export"))
    assert not {"StructureDefinition", "ValueSet", "SearchParameter"} & {
        o["type"] for o in everything["output"]
    }
    named = download(client, poll(client, kick_off(client, "$export?_type=CompartmentDefinition")))
    assert sorted(c["id"] for c in named["CompartmentDefinition"]) == [
        "device",
        "encounter",
        "patient",
        "practitioner",
        "relatedPerson",
    ]


def test_export_while_writes_continue_is_the_data_as_of_the_transaction_time(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "PAGE", 7)
    before = {_patient(client, f"P{n}") for n in range(40)}
    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:
        other = app.test_client()
        while not stop.is_set():
            written.append(_patient(other, "Later"))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = poll(client, kick_off(client, "$export?_type=Patient"))
    finally:
        stop.set()
        thread.join()
    exported = [p for p in download(client, manifest)["Patient"]]
    ids = [p["id"] for p in exported]
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
    assert all(p["meta"]["lastUpdated"] <= manifest["transactionTime"] for p in exported)
    assert written  # writes really went on
    since = manifest["transactionTime"]  # the next increment misses nothing written meanwhile
    later = download(client, poll(client, kick_off(client, f"$export?_type=Patient&_since={since}")))
    assert set(ids) | {p["id"] for p in later.get("Patient", [])} >= before | set(written)


class WorkerKilled(BaseException):
    """Ends the worker's thread as a killed process would: no clean-up, lease still held."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_job_whose_worker_died_is_resumed_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "PAGE", 5)
    monkeypatch.setattr(export_module, "PART_SIZE", 10)
    monkeypatch.setattr(job_records, "LEASE_SECONDS", 0.3)
    settings = Settings(data_dir=tmp_path, auth=False)
    first = create_app(settings)
    client = first.test_client()
    ids = {_patient(client, f"P{n}") for n in range(33)}
    died = threading.Event()
    runner = first.extensions["bulk_runner"]
    real_checkpoint = runner.checkpoint

    def die_after_first_part(job: job_records.Job) -> job_records.Job:
        real_checkpoint(job)
        died.set()
        raise WorkerKilled  # the thread ends holding the lease

    monkeypatch.setattr(runner, "checkpoint", die_after_first_part)
    status_url = kick_off(client, "$export?_type=Patient")
    assert died.wait(10)
    second = create_app(settings)  # another worker on the same store
    other = second.test_client()
    manifest = poll(other, status_url)
    exported = download(other, manifest)["Patient"]
    assert sorted(p["id"] for p in exported) == sorted(ids)  # each exactly once
    assert len(manifest["output"]) >= 2  # the first part came from the worker that died
