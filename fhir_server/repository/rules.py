"""Workflow rules: domain checks that run inside the write's transaction.

A rule sees the resource about to be stored and the version it replaces, in the same
store session (a `Prefetching` rule may do its reads before, and check them there), so
it can read other resources and write through the repository atomically (a dispense
lowering a prescription's remaining quantity, say). It refuses by raising `FhirError`
(409/422), which rolls the whole session back, and may return warnings that travel with
the write's result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from fhir_server.outcome import Issue
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository


class WriteRule(Protocol):
    types: frozenset[str]  # the resource types the rule is about

    def before_write(
        self, repo: Repository, s: StoreSession, resource: dict[str, Any], previous: dict[str, Any] | None
    ) -> list[Issue]:
        """Called with the resource as it will be stored (id and meta set), before it is."""
        ...

    def concerns_new(self, resource: dict[str, Any]) -> bool:
        """Whether `before_write` may act on this new resource (False lets a plain create be
        validated and indexed before the write session starts)."""
        ...

    def before_delete(self, repo: Repository, s: StoreSession, current: dict[str, Any]) -> None:
        """Called before a logical delete; raise FhirError to refuse it."""
        ...


@runtime_checkable
class Prefetching(Protocol):
    """A rule whose reads can be done before the write lock (in a read session), handed to
    it in the write session, where it checks that they still hold (by version or change
    stamp) and reads again what moved."""

    def prefetch(self, repo: Repository, reads: StoreSession, resource: dict[str, Any]) -> Any:
        """What the rule will read for this new resource, read now (None: nothing)."""
        ...

    def adopt(self, s: StoreSession, prefetched: Any) -> None:
        """Offer what `prefetch` read to the rule's work in write session `s`."""
        ...
