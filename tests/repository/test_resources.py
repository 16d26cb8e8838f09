"""The interactions on a store session: validation, versioning, conditional rules."""

from __future__ import annotations

import orjson
import pytest

from fhir_server.outcome import FhirError
from fhir_server.patch import JSON_PATCH, Patch
from fhir_server.repository import Repository
from fhir_server.storage.sqlite import SQLiteStore
from fhir_server.validation import validate_resource


@pytest.fixture
def repo() -> Repository:
    return Repository(validate_resource)


def patient(**extra: object) -> dict[str, object]:
    return {"resourceType": "Patient", "gender": "male", **extra}


def test_create_assigns_id_version_and_meta(store: SQLiteStore, repo: Repository) -> None:
    with store.session(write=True) as s:
        result = repo.create(s, "Patient", patient(meta={"tag": [{"code": "demo"}]}))
    body = result.resource
    assert body is not None and result.created
    assert body["meta"]["versionId"] == "1" and body["meta"]["lastUpdated"].endswith("Z")
    assert body["meta"]["tag"] == [{"code": "demo"}]
    assert list(body)[:3] == ["resourceType", "id", "meta"]


def test_invalid_resource_is_400_and_not_written(store: SQLiteStore, repo: Repository) -> None:
    with pytest.raises(FhirError) as err, store.session(write=True) as s:
        repo.create(s, "Patient", patient(gender="bogus"))
    assert err.value.status == 400 and err.value.issues[0].expression == ("Patient.gender",)
    with store.session() as s:
        assert list(s.iter_current(None)) == []


def test_resource_type_must_match_url(store: SQLiteStore, repo: Repository) -> None:
    with pytest.raises(FhirError) as err, store.session(write=True) as s:
        repo.create(s, "Observation", patient())
    assert err.value.status == 400


def test_update_needs_matching_id_and_if_match(store: SQLiteStore, repo: Repository) -> None:
    with store.session(write=True) as s:
        created = repo.update(s, "Patient", "p1", patient(id="p1"))
        assert created.created and created.version.version == 1
        with pytest.raises(FhirError) as wrong_id:
            repo.update(s, "Patient", "p1", patient(id="p2"))
        assert wrong_id.value.status == 400
        with pytest.raises(FhirError) as stale:
            repo.update(s, "Patient", "p1", patient(id="p1", gender="female"), if_match=7)
        assert stale.value.status == 412
        updated = repo.update(s, "Patient", "p1", patient(id="p1", gender="female"), if_match=1)
        assert updated.version.version == 2 and not updated.created


def test_identical_update_makes_no_new_version(store: SQLiteStore, repo: Repository) -> None:
    with store.session(write=True) as s:
        repo.update(s, "Patient", "p1", patient(id="p1"))
        again = repo.update(s, "Patient", "p1", patient(id="p1"))
    assert again.version.version == 1


def test_delete_then_read_is_410_and_recreate_is_201(store: SQLiteStore, repo: Repository) -> None:
    with store.session(write=True) as s:
        repo.update(s, "Patient", "p1", patient(id="p1"))
        deleted = repo.delete(s, "Patient", "p1")
        assert deleted is not None and deleted.version == 2 and deleted.deleted
        assert repo.delete(s, "Patient", "p1") is None  # deleting again changes nothing
        with pytest.raises(FhirError) as gone:
            repo.read(s, "Patient", "p1")
        assert gone.value.status == 410
        again = repo.update(s, "Patient", "p1", patient(id="p1"))
    assert again.created and again.version.version == 3


def test_patch_refuses_invalid_result_and_id_change(store: SQLiteStore, repo: Repository) -> None:
    with store.session(write=True) as s:
        repo.update(s, "Patient", "p1", patient(id="p1"))
        for ops, status in (
            ([{"op": "replace", "path": "/gender", "value": "bogus"}], 400),
            ([{"op": "replace", "path": "/id", "value": "other"}], 422),
            ([{"op": "test", "path": "/gender", "value": "female"}], 422),
            ({"op": "replace"}, 400),
        ):
            with pytest.raises(FhirError) as err:
                repo.patch(s, "Patient", "p1", Patch(JSON_PATCH, ops))
            assert err.value.status == status
        ops = [{"op": "replace", "path": "/gender", "value": "female"}]
        ok = repo.patch(s, "Patient", "p1", Patch(JSON_PATCH, ops))
    assert ok.version.version == 2 and orjson.loads(ok.version.body or b"{}")["gender"] == "female"


def test_conditional_create_none_one_many(store: SQLiteStore, repo: Repository) -> None:
    query = [("identifier", "x")]
    marked = patient(identifier=[{"value": "x"}])
    with store.session(write=True) as s:
        first = repo.create_if_none_exist(s, "Patient", marked, query)
        assert first.created
        second = repo.create_if_none_exist(s, "Patient", {**marked, "gender": "female"}, query)
        assert not second.created and second.version.id == first.version.id
        repo.create(s, "Patient", marked)  # a second match
        with pytest.raises(FhirError) as many:
            repo.create_if_none_exist(s, "Patient", marked, query)
    assert many.value.status == 412
