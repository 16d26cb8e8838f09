"""Every match of a search, page by page through the Repository (the one door): the
server's own long reads (a month's claims, a measure's first evaluation) without
holding them all in memory or going around the token's narrowing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.search.parse import parse_search
from fhir_server.search.plan import Cursor
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository


def iterate(
    repo: Repository, s: StoreSession, type_: str, query: list[tuple[str, str]], page: int = 500
) -> Iterator[dict[str, Any]]:
    """The current resources of `type_` matching `query`, in the store's keyset order."""
    plan = parse_search(type_, query, strict=True)
    plan = replace(plan, count=page, total="none", includes=(), revincludes=(), summary=None, elements=None)
    while True:
        result = repo.search(s, plan)
        for hit in result.matches:
            if hit.body:
                yield orjson.loads(hit.body)
        if result.next_key is None:
            return
        plan = replace(plan, cursor=Cursor(True, result.next_key))
