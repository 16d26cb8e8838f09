"""The MongoDB lookups behind _include and _revinclude (the rounds: search.include_rounds)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from fhir_server.search.include_rounds import Key, collect_includes
from fhir_server.search.plan import Clause, Hit, Include, SearchPlan
from fhir_server.storage.mongo_clauses import ClauseCompiler, all_of

_CHUNK = 1000


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class _Includer:
    def __init__(
        self, resources: Collection[Any], session: ClientSession | None, compiler: ClauseCompiler
    ) -> None:
        self.resources = resources
        self.session = session
        self.compiler = compiler

    def forward(self, inc: Include, ids: Sequence[str]) -> set[Key]:
        """Targets referenced by `ids` (of inc.source_type) through the include's parameter."""
        found: set[Key] = set()
        for chunk in _chunks(sorted(ids)):
            keys = [f"{inc.source_type}/{i}" for i in chunk]
            for doc in self.resources.find({"_id": {"$in": keys}}, {"ref": 1}, session=self.session):
                for ref in doc.get("ref", ()):
                    if inc.param not in ("*", ref["p"]) or ref["u"] != "" or not ref["t"] or not ref["i"]:
                        continue
                    if inc.target_type and ref["t"] != inc.target_type:
                        continue
                    found.add((ref["t"], ref["i"]))
        return found

    def reverse(self, inc: Include, target_type: str, ids: Sequence[str]) -> set[Key]:
        """Resources of inc.source_type that reference `ids` (of target_type)."""
        if inc.target_type and inc.target_type != target_type:
            return set()
        found: set[Key] = set()
        for chunk in _chunks(sorted(ids)):
            element = {"p": inc.param, "i": {"$in": list(chunk)}, "t": target_type, "u": ""}
            query = {"t": inc.source_type, "d": False, "ref": {"$elemMatch": element}}
            for doc in self.resources.find(query, {"i": 1}, session=self.session):
                found.add((inc.source_type, doc["i"]))
        return found

    def read(self, type_: str, ids: Sequence[str], limit: Clause | None) -> list[Hit]:
        hits: list[Hit] = []
        allowed = self.compiler.compile(limit, (type_,)) if limit is not None else {}
        for chunk in _chunks(sorted(f"{type_}/{i}" for i in ids)):
            query = all_of([{"_id": {"$in": list(chunk)}, "d": False}, allowed])
            docs = self.resources.find(query, {"t": 1, "i": 1, "b": 1}, session=self.session)
            hits.extend(Hit(d["t"], d["i"], d.get("b")) for d in docs)
        hits.sort(key=lambda h: (h.type, h.id))
        return hits


def includes(
    resources: Collection[Any],
    session: ClientSession | None,
    compiler: ClauseCompiler,
    plan: SearchPlan,
    matches: Sequence[Hit],
) -> list[Hit]:
    """Resources included by the plan's _include/_revinclude for this page (not matches)."""
    return collect_includes(_Includer(resources, session, compiler), plan, matches)
