"""Run a SearchPlan on MongoDB: filter, sort, keyset paging, total, includes.

Without `_sort` the page is a `find` ordered by `(t, i)`, which the `type_id` index
serves. With `_sort` it is an aggregation: `$addFields` takes each sort value from the
document's `sa` / `sd` maps (a missing value becomes a sentinel that sorts last, as in the
SQLite engine), then `$match` on the keyset, `$sort`, `$limit`. `type, id` end every
ordering so it is total, which keyset paging needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from fhir_server import definitions
from fhir_server.search import totals
from fhir_server.search.page_end import column_directions, finish, keyset_terms, missing_sort_value
from fhir_server.search.plan import Hit, SearchPlan, SearchResult, SortKey
from fhir_server.search.totals import exact_total_wanted
from fhir_server.storage.mongo_clauses import ClauseCompiler, Query, all_of
from fhir_server.storage.mongo_include import includes


def _types(plan: SearchPlan) -> tuple[str, ...]:
    return plan.types or tuple(sorted(definitions.resource_types()))


def _sort_expr(key: SortKey) -> Any:
    if key.kind == "id":
        return "$i"
    if key.kind == "lastUpdated":
        return "$lu"
    field = "sd" if key.descending else "sa"
    return {"$ifNull": [f"${field}.{key.param}", missing_sort_value(key.kind, key.descending)]}


def _keyset(cols: Sequence[str], descending: Sequence[bool], key: Sequence[Any]) -> Query:
    """Documents strictly after `key` in the order given by `descending` per column."""
    ors: list[Query] = []
    for i, op in keyset_terms(list(descending)):
        cond: Query = {c: key[j] for j, c in enumerate(cols[:i])}
        cond[cols[i]] = {"$lt" if op == "<" else "$gt": key[i]}
        ors.append(cond)
    return {"$or": ors}


class MongoSearch:
    def __init__(self, resources: Collection[Any], session: ClientSession | None) -> None:
        self.resources = resources
        self.session = session
        self.compiler = ClauseCompiler(self._find)

    def _find(self, query: Query, projection: dict[str, int]) -> list[dict[str, Any]]:
        return list(self.resources.find(query, projection, session=self.session))

    def where(self, plan: SearchPlan) -> Query:
        types = _types(plan)
        conds: list[Query] = [{"d": False}]
        if plan.types:
            conds.append({"t": types[0]} if len(types) == 1 else {"t": {"$in": list(types)}})
        conds.extend(self.compiler.compile(c, types) for c in plan.clauses)
        return all_of(conds)

    def _page(self, plan: SearchPlan, where: Query) -> list[Hit]:
        cols = [f"s{i}" for i in range(len(plan.sort))] + ["t", "i"]
        descending = column_directions(plan)
        projection: dict[str, Any] = {"_id": 0, "t": 1, "i": 1, **({} if plan.ids_only else {"b": 1})}
        order = [(c, -1 if d else 1) for c, d in zip(cols, descending, strict=True)]
        if not plan.sort:
            query = where
            if plan.cursor is not None:
                query = all_of([where, _keyset(cols, descending, plan.cursor.key)])
            cursor = self.resources.find(query, projection, session=self.session)
            docs: Iterable[dict[str, Any]] = cursor.sort(order).limit(plan.count + 1)
        else:
            pipeline: list[dict[str, Any]] = [
                {"$match": where},
                {"$addFields": {f"s{i}": _sort_expr(k) for i, k in enumerate(plan.sort)}},
            ]
            if plan.cursor is not None:
                pipeline.append({"$match": _keyset(cols, descending, plan.cursor.key)})
            pipeline += [
                {"$sort": dict(order)},
                {"$limit": plan.count + 1},
                {"$project": {**projection, **{f"s{i}": 1 for i in range(len(plan.sort))}}},
            ]
            docs = self.resources.aggregate(pipeline, session=self.session)
        return [_hit(doc, len(plan.sort)) for doc in docs]

    def execute(self, plan: SearchPlan) -> SearchResult:
        where = self.where(plan)
        total = None
        if exact_total_wanted(plan):
            total = self.resources.count_documents(where, session=self.session)
        rows = self._page(plan, where) if plan.count > 0 else []

        def count_upto() -> int:
            return self.resources.count_documents(where, limit=totals.TOTAL_CAP + 1, session=self.session)

        return finish(
            plan,
            rows,
            total,
            count_upto,
            lambda hits: includes(self.resources, self.session, self.compiler, plan, hits),
        )


def _hit(doc: dict[str, Any], n_sort: int) -> Hit:
    values = [doc.get(f"s{i}") for i in range(n_sort)]
    return Hit(doc["t"], doc["i"], doc.get("b"), (*values, doc["t"], doc["i"]))
