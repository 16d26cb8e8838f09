"""$import (ping and pull): a full export-import round trip of a realistic data set,
per-line errors, the allow-list and import directory, re-runs that change nothing, and
who may import."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.demo import load_demo
from tests.authorization.conftest import mint
from tests.bulk.bulk_helpers import download, kick_off, local, poll
from tests.eprescription.conftest import engine, make_app, signing_key, store_url  # noqa: F401 - fixtures
from tests.eprescription.cycle_helpers import dispense, drug, prescriptions, submission

IMPORT = {"Content-Type": "application/json", "Prefer": "respond-async"}


def _import(client: FlaskClient, inputs: list[dict[str, str]], headers: dict[str, str] | None = None) -> Any:
    body = {
        "inputFormat": "application/fhir+ndjson",
        "inputSource": "https://registry.example",
        "storageDetail": {"type": "https"},
        "input": inputs,
    }
    return client.post("/fhir/$import", data=orjson.dumps(body), headers={**IMPORT, **(headers or {})})


def _done(client: FlaskClient, response: Any, headers: dict[str, str] | None = None) -> Any:
    assert response.status_code == 202, response.get_data(as_text=True)
    return poll(client, response.headers["Content-Location"], headers)


def _outcomes(client: FlaskClient, manifest: Any, key: str) -> list[dict[str, Any]]:
    found = []
    for item in manifest[key]:
        r = client.get(local(item["url"]))
        found += [orjson.loads(line) for line in r.get_data().splitlines()]
    return found


# -- the round trip ----------------------------------------------------------------------

SEARCHES = [
    "Patient?_count=500",
    "Practitioner?_count=500",
    "Organization?_count=500",
    "MedicationRequest?_count=500",
    "MedicationRequest?status=active&_count=500",
    "MedicationDispense?_count=500",
    "Provenance?_count=500",
    "Coverage?_count=500",
    "Patient?national-code=0018243460",
]


def _answers(client: FlaskClient) -> dict[str, list[str]]:
    out = {}
    for query in SEARCHES:
        r = client.get("/fhir/" + query)
        assert r.status_code == 200, query
        out[query] = sorted(
            e["resource"]["id"] for e in r.get_json()["entry"] if e["search"]["mode"] == "match"
        )
    return out


def test_export_import_round_trip_answers_the_same_searches(
    make_app: Any,  # noqa: F811
    signing_key: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    source_app, api = make_app(key=signing_key)
    load_demo(source_app.extensions["noskhe"].store)
    for code, qty in (("00077", 20), ("00078", 2), ("00076", 30)):
        result = api.post("MedicationRequest/$prescribe", submission([drug(code, qty)], key=signing_key), 200)
        mr = prescriptions(result)[0]["items"][0]
        if code == "00077":
            api.post("MedicationDispense", dispense(mr, 10))
    client = source_app.test_client()
    before = _answers(client)
    assert before["MedicationDispense?_count=500"] and before["Provenance?_count=500"]
    manifest = poll(client, kick_off(client, "$export"))
    exported = download(client, manifest)
    folder = tmp_path / "incoming"
    folder.mkdir()
    inputs = []
    for type_, resources in sorted(exported.items()):
        path = folder / f"{type_}.ndjson"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
        inputs.append({"type": type_, "url": path.as_uri()})
    target = create_app(Settings(data_dir=tmp_path / "target", auth=False, import_dir=folder))
    other = target.test_client()
    result = _done(other, _import(other, inputs))
    assert result["error"] == [] and len(result["output"]) == len(inputs)
    assert all(item["inputUrl"] in {i["url"] for i in inputs} for item in result["output"])
    assert _answers(other) == before
    for type_, resources in exported.items():
        for resource in resources:
            copy = other.get(f"/fhir/{type_}/{resource['id']}").get_json()
            assert {k: v for k, v in copy.items() if k != "meta"} == {
                k: v for k, v in resource.items() if k != "meta"
            }
    versions = other.get("/fhir/_history?_count=1").get_json()["total"]
    again = _done(other, _import(other, inputs))  # a re-run changes nothing
    assert again["error"] == [] and other.get("/fhir/_history?_count=1").get_json()["total"] == versions


# -- errors, sources, callers ------------------------------------------------------------


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "www"
    folder.mkdir()
    handler = lambda *a, **kw: _Files(*a, directory=str(folder), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    server.shutdown()


def test_bad_lines_go_to_the_error_file_and_the_rest_is_imported(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    base, folder = served
    lines = [
        orjson.dumps({"resourceType": "Patient", "id": "good-1", "gender": "female"}),
        b"{not json",
        orjson.dumps({"resourceType": "Patient", "id": "bad-gender", "gender": "sometimes"}),
        orjson.dumps(
            {"resourceType": "Observation", "id": "wrong-type", "status": "final", "code": {"text": "x"}}
        ),
        orjson.dumps({"resourceType": "Patient", "gender": "male"}),
        orjson.dumps({"resourceType": "AuditEvent", "id": "audit-1"}),
        orjson.dumps({"resourceType": "Patient", "id": "good-2"}),
    ]
    (folder / "patients.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    app = create_app(Settings(data_dir=tmp_path / "data", auth=False, import_allow=(base,)))
    client = app.test_client()
    manifest = _done(client, _import(client, [{"type": "Patient", "url": f"{base}patients.ndjson"}]))
    errors = _outcomes(client, manifest, "error")
    where = [o["issue"][0]["location"][0].rsplit("=", 1)[1] for o in errors]
    assert where == ["2", "3", "4", "5", "6"]
    assert "sometimes" in orjson.dumps(errors[1]).decode() or errors[1]["issue"][0]["expression"] == [
        "Patient.gender"
    ]
    assert (
        client.get("/fhir/Patient/good-1").status_code == 200
        and client.get("/fhir/Patient/good-2").status_code == 200
    )
    assert client.get("/fhir/Patient?_count=0").get_json()["total"] == 2
    assert client.get("/fhir/AuditEvent/audit-1").status_code == 404
    (info,) = _outcomes(client, manifest, "output")
    assert "2 Patient" in info["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://elsewhere.example/p.ndjson", 403),
        ("file:///etc/passwd", 403),
        ("ftp://127.0.0.1/p.ndjson", 403),
    ],
)
def test_sources_off_the_allow_list_are_refused(tmp_path: Path, url: str, status: int) -> None:
    inside = tmp_path / "in"
    inside.mkdir()
    app = create_app(
        Settings(
            data_dir=tmp_path / "d",
            auth=False,
            import_allow=("https://registry.example/",),
            import_dir=inside,
        )
    )
    client = app.test_client()
    r = _import(client, [{"type": "Patient", "url": url}])
    assert r.status_code == status and r.get_json()["resourceType"] == "OperationOutcome"
    assert app.extensions["bulk_runner"].jobs.ids() == []


def test_kick_off_needs_async_and_a_proper_body(client: FlaskClient) -> None:
    r = client.post("/fhir/$import", data=b'{"input": []}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert _import(client, []).status_code == 400
    body = orjson.dumps({"inputFormat": "text/csv", "input": [{"url": "https://x/y"}]})
    assert client.post("/fhir/$import", data=body, headers=IMPORT).status_code == 400


@pytest.fixture
def secured(tmp_path: Path) -> Flask:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "p.ndjson").write_bytes(orjson.dumps({"resourceType": "Patient", "id": "p1"}) + b"\n")
    return create_app(Settings(data_dir=tmp_path / "d", auth=True, import_dir=folder))


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ("system/*.cruds", 202),
        ("system/Patient.cu", 202),
        ("system/*.rs", 403),
        ("user/*.cruds", 403),
        ("patient/*.rs", 403),
    ],
)
def test_only_admins_and_backend_writers_may_import(
    secured: Flask, tmp_path: Path, scope: str, status: int
) -> None:
    client = secured.test_client()
    token = {"Authorization": f"Bearer {mint(secured, scope, patient='p1')}"}
    url = (tmp_path / "in" / "p.ndjson").as_uri()
    r = _import(client, [{"type": "Patient", "url": url}], token)
    assert r.status_code == status, r.get_data(as_text=True)
    if status == 202:
        assert poll(client, r.headers["Content-Location"], token)["error"] == []
