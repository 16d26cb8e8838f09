"""Registry sync: new versions, inactive carry-over, same-version no-op, CSV, bundles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terminology import TerminologyError, TerminologyService, parse_resources, plan_import, read_file

URL = "http://noskhe.ir/fhir/CodeSystem/test-drugs"


def cs(version: str, codes: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": "test-drugs",
        "url": URL,
        "version": version,
        "name": "TestDrugs",
        "status": "active",
        "content": "complete",
        "concept": [{"code": c, "display": f"Drug {c}"} for c in codes],
    }


def stored(*resources: dict[str, Any]) -> Any:
    svc = TerminologyService(resources)
    return lambda kind, url: svc.resource(kind, url)


def test_first_import_writes_as_given() -> None:
    plan = plan_import([cs("1", ["a", "b"])], stored())
    assert [r["id"] for r in plan.writes] == ["TestDrugs-1"]


def test_new_version_keeps_disappeared_concepts_inactive() -> None:
    old = cs("1", ["a", "b", "c"])
    plan = plan_import([cs("2", ["a", "c", "d"])], stored(old))
    new = plan.writes[0]
    assert new["version"] == "2" and new["id"] == "TestDrugs-2"
    by_code = {c["code"]: c for c in new["concept"]}
    assert set(by_code) == {"a", "b", "c", "d"}
    assert {"code": "inactive", "valueBoolean": True} in by_code["b"]["property"]
    assert plan.deactivated == {f"{URL}|2": ["b"]}
    svc = TerminologyService([old, new])
    assert svc.validate_code(system=URL, code="b").inactive
    assert svc.validate_code(system=URL, code="b", version="1").inactive is False  # old version still there


def test_reimport_same_version_is_a_no_op() -> None:
    old = cs("1", ["a"])
    plan = plan_import([dict(old, id="other-id", meta={"versionId": "3"})], stored(old))
    assert plan.writes == [] and plan.unchanged == [f"{URL}|1"]


def test_same_version_different_content_is_refused() -> None:
    with pytest.raises(TerminologyError) as err:
        plan_import([cs("1", ["a", "x"])], stored(cs("1", ["a"])))
    assert err.value.status == 409


def test_progress_is_reported() -> None:
    seen: list[tuple[int, int]] = []
    plan_import(
        [cs("1", ["a"]), dict(cs("1", ["a"]), url=URL + "2")], stored(), lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]


def test_bundle_and_refusals() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": cs("1", ["a"])}]}
    assert len(parse_resources(bundle)) == 1
    with pytest.raises(TerminologyError):
        parse_resources({"resourceType": "Patient"})
    with pytest.raises(TerminologyError):
        parse_resources({"resourceType": "CodeSystem", "url": URL})  # no version


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "drugs.csv"
    path.write_text(
        "system,version,code,display,display:fa,parent,inactive,prop:atc:code\n"
        f"{URL},3,G1,Group,گروه,,,\n"
        f"{URL},3,a,Drug a,داروی الف,G1,,J01CA04\n"
        f"{URL},3,b,Drug b,داروی ب,G1,true,\n",
        encoding="utf-8",
    )
    [res] = read_file(path)
    svc = TerminologyService([res])
    assert svc.lookup(URL, "a", language="fa").display == "داروی الف"
    assert svc.subsumes(URL, "G1", "a") == "subsumes"
    assert svc.lookup(URL, "b").concept.inactive
    assert svc.lookup(URL, "a").concept.property_values("atc") == ["J01CA04"]


def test_csv_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,display\na,A\n", encoding="utf-8")
    with pytest.raises(TerminologyError):
        read_file(path)


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "cs.json"
    path.write_text(json.dumps(cs("1", ["a"])), encoding="utf-8")
    assert read_file(path)[0]["url"] == URL


def test_cli_import_into_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fhir_server.app import build_repository
    from fhir_server.operations.terminology_import import cli_import
    from fhir_server.storage.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "store.sqlite3")
    try:
        path = tmp_path / "cs.json"
        path.write_text(json.dumps(cs("1", ["a", "b"])), encoding="utf-8")
        assert cli_import(path, store, build_repository()) == 0
        path.write_text(json.dumps(cs("2", ["a"])), encoding="utf-8")
        assert cli_import(path, store, build_repository()) == 0
        assert cli_import(path, store, build_repository()) == 0  # same version again: no-op
        out = capsys.readouterr()
        assert "inactive in" in out.out and "unchanged" in out.out and "import [" in out.err
        with store.session() as s:
            v1, v2 = s.current("CodeSystem", "TestDrugs-1"), s.current("CodeSystem", "TestDrugs-2")
        assert v1 is not None and v2 is not None and v2.version == 1
        stored = json.loads(v2.body or b"{}")
        assert {c["code"] for c in stored["concept"]} == {"a", "b"}
    finally:
        store.close()
