"""Grants as plan clauses, and the safety net behind them, on a real SQLite store."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fhir_server import authorization, search
from fhir_server.authorization import Authorizer, SafetyNetTripped
from fhir_server.outcome import FhirError
from fhir_server.repository import Repository
from fhir_server.search.plan import NOTHING, AnyClause, ChainClause, Hit, TypeClause
from fhir_server.storage.sqlite import SQLiteStore
from fhir_server.validation import validate_resource
from smart_auth.scopes import AccessContext, ScopeSet


def access(scope: str, patient: str | None = "a") -> AccessContext:
    return AccessContext("app", ScopeSet.parse(scope), patient=patient)


def obs(id_: str, who: str, category: str = "laboratory") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "category": [{"coding": [{"code": category}]}],
        "code": {"text": "x"},
        "subject": {"reference": f"Patient/{who}"},
    }


@pytest.fixture
def repo(store: SQLiteStore) -> Repository:
    repo = Repository(validate_resource)
    with store.session(write=True) as s:
        for resource in (
            {"resourceType": "Patient", "id": "a"},
            {"resourceType": "Patient", "id": "b"},
            obs("oa", "a"),
            obs("ov", "a", "vital-signs"),
            obs("ob", "b"),
        ):
            repo.update(s, resource["resourceType"], resource["id"], resource)
    return repo


def ids(repo: Repository, store: SQLiteStore, scope: str, type_: str | None, query: str) -> list[str]:
    plan = search.parse_search(type_, [tuple(p.split("=", 1)) for p in query.split("&") if p])  # type: ignore[misc]
    with authorization.acting_as(access(scope)), store.session() as s:
        return [f"{h.type}/{h.id}" for h in repo.search(s, plan, "search-type").matches]


def test_grant_of_a_patient_scope_is_the_compartment() -> None:
    auth = Authorizer(access("patient/*.rs"))
    grant = auth.grant("search-type", "Observation")
    assert isinstance(grant, TypeClause) and grant.type == "Observation" and grant.clauses
    assert auth.grant("search-type", "Practitioner") == NOTHING  # outside the compartment
    assert Authorizer(access("patient/Observation.rs")).grant("search-type", "Patient") is None
    assert Authorizer(access("user/*.rs")).grant("search-type", "Observation") == TypeClause("Observation")


def test_several_constraints_are_alternatives(repo: Repository, store: SQLiteStore) -> None:
    scope = "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs"
    grant = Authorizer(access(scope)).grant("search-type", "Observation")
    assert isinstance(grant, AnyClause) and len(grant.clauses) == 2
    assert ids(repo, store, scope, "Observation", "") == ["Observation/oa", "Observation/ov"]
    assert ids(repo, store, "patient/Observation.rs?category=laboratory", "Observation", "") == [
        "Observation/oa"
    ]


def test_narrowed_plans(repo: Repository, store: SQLiteStore) -> None:
    everything = ids(repo, store, "patient/*.rs", None, "")
    assert everything == ["Observation/oa", "Observation/ov", "Patient/a"]
    assert ids(repo, store, "user/*.rs", None, "_type=Patient") == ["Patient/a", "Patient/b"]
    with pytest.raises(FhirError) as refused:
        ids(repo, store, "patient/Observation.rs", None, "_type=Patient")
    assert refused.value.status == 403
    plan = search.parse_search("Observation", [("subject:Patient._id", "b")])
    narrowed = Authorizer(access("patient/*.rs")).narrow(plan, "search-type")
    chain = narrowed.clauses[0]
    assert isinstance(chain, ChainClause) and isinstance(chain.inner, TypeClause)
    assert ids(repo, store, "patient/*.rs", "Observation", "subject:Patient._id=b") == []
    assert ids(repo, store, "user/*.rs", "Observation", "subject:Patient._id=b") == ["Observation/ob"]


def test_safety_net_fails_loudly_when_it_removes_anything(store: SQLiteStore, monkeypatch: Any) -> None:
    """Strict (as in the whole test suite): a hit the token may not see is a narrowing bug."""
    auth = Authorizer(access("patient/*.rs"))
    theirs = Hit("Observation", "ob", orjson.dumps(obs("ob", "b")))
    mine = Hit("Observation", "oa", orjson.dumps(obs("oa", "a")))
    with store.session() as s:
        assert auth.safety_net(s, "search-type", [mine], "match") == [mine]
        with pytest.raises(SafetyNetTripped):
            auth.safety_net(s, "search-type", [mine, theirs], "match")
        monkeypatch.setenv(authorization.STRICT_ENV, "0")  # production: filtered and logged
        assert auth.safety_net(s, "search-type", [mine, theirs], "match") == [mine]
