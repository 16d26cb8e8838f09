"""The FHIR interactions on one store session: read, search, history, create, update,
patch, delete. The one door: nothing else reads more than one resource or writes any.

Every method runs inside the caller's session, so a transaction bundle composes them
into one atomic unit. Validation and index extraction happen here, before the write.
Searches and history are narrowed to what the acting identity may see before the store
runs them (`fhir_server.authorization`); the server's own work runs `as_system()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import authorization, search
from fhir_server.conformance.merge import merge_results
from fhir_server.outcome import FhirError, Issue, has_errors, most_severe_first
from fhir_server.patch import Patch
from fhir_server.repository import conditional
from fhir_server.repository.meta import new_id, now_instant, stamp
from fhir_server.repository.rules import Prefetching, WriteRule
from fhir_server.repository.server_records import check_writable
from fhir_server.search.plan import SearchPlan, SearchResult
from fhir_server.storage.base import (
    STAMP_WINDOW_SECONDS,
    HistoryPage,
    HistoryQuery,
    ResourceVersion,
    StoreSession,
    VersionConflict,
    instant,
)

if TYPE_CHECKING:
    from fhir_server.conformance.shipped import ShippedConformance

Validator = Callable[..., list[Issue]]  # (resource, *, expected_type) -> issues
ProfileValidator = Callable[[Any], list[Issue]]  # claimed/required profiles -> issues
WriteListener = Callable[[dict[str, Any]], None]
Indexer = Callable[[dict[str, Any]], list[Any]]
Stamper = Callable[[dict[str, Any]], list[str]]
Query = list[tuple[str, str]]


@dataclass(frozen=True)
class PreparedCreate:
    """A new resource validated (and, unless a workflow rule concerns it, stamped and
    indexed) before its write session."""

    id: str
    last_updated: str
    stored: dict[str, Any] | None  # None: a workflow rule completes it in the session
    body: bytes | None
    index: list[Any] | None
    warnings: tuple[Issue, ...]
    ahead: dict[int, Any] = field(default_factory=dict)  # rule number -> what it prefetched


@dataclass(frozen=True)
class PreparedUpdate:
    """An update checked before its write session (see `Repository.prepare_update`)."""

    warnings: tuple[Issue, ...]
    index: list[Any] | None  # None: extracted in the session, after the workflow rules


@dataclass(frozen=True)
class WriteResult:
    version: ResourceVersion
    created: bool  # 201 rather than 200
    warnings: tuple[Issue, ...] = ()

    @property
    def resource(self) -> dict[str, Any] | None:
        return orjson.loads(self.version.body) if self.version.body is not None else None


class Repository:
    def __init__(
        self,
        validate: Validator,
        indexer: Indexer = search.extract_index,
        profiles: ProfileValidator | None = None,
        on_write: WriteListener | None = None,
        rules: Sequence[WriteRule] = (),
        stamps: Stamper | None = None,
        shipped: ShippedConformance | None = None,
    ) -> None:
        self.validate = validate
        self.indexer = indexer
        self.profiles = profiles
        # The change stamps a stored resource bumps (see StoreSession.stamp): views read
        # before the write lock (a patient's items for the rules) are checked by them.
        self.stamps = stamps
        # Told of every stored resource (the terminology service learns new code systems).
        self.on_write = on_write
        # The read-only conformance resources served beside the stored ones.
        self.shipped = shipped
        self.rules: dict[str, list[WriteRule]] = {}
        for rule in rules:
            for type_ in rule.types:
                self.rules.setdefault(type_, []).append(rule)

    # -- reads -------------------------------------------------------------------------

    def read(self, s: StoreSession, type_: str, id_: str) -> ResourceVersion:
        authorization.current().require("read", type_)
        rv = self._shipped_version(type_, id_) or s.current(type_, id_)
        if rv is None:
            raise FhirError.of(404, "not-found", f"{type_}/{id_} is not known")
        if rv.deleted:
            raise FhirError(
                410,
                [Issue("error", "deleted", f"{type_}/{id_} was deleted")],
                {"ETag": f'W/"{rv.version}"'},
            )
        _check_access(s, "read", rv)
        return rv

    def vread(self, s: StoreSession, type_: str, id_: str, version: int) -> ResourceVersion:
        authorization.current().require("vread", type_)
        shipped = self._shipped_version(type_, id_)
        rv = (shipped if version == 1 else None) if shipped else s.version(type_, id_, version)
        if rv is None:
            if shipped is None and s.current(type_, id_) is None:
                raise FhirError.of(404, "not-found", f"{type_}/{id_} is not known")
            raise FhirError.of(404, "not-found", f"{type_}/{id_} has no version {version}")
        if rv.deleted:
            raise FhirError.of(410, "deleted", f"Version {version} of {type_}/{id_} is a deletion")
        _check_access(s, "vread", rv)
        return rv

    def search(
        self,
        s: StoreSession,
        plan: SearchPlan,
        interaction: str = "search-type",
        *,
        with_shipped: bool = True,
    ) -> SearchResult:
        """Run a search plan, narrowed to what the acting identity may see: every search,
        include, conditional match and server lookup goes through here. Searches of the
        conformance types include the shipped resources unless `with_shipped` is false
        (a system export that did not name them)."""
        auth = authorization.current()
        narrowed = auth.narrow(plan, interaction)
        result = _checked(auth, s, interaction, narrowed, s.search(narrowed))
        shipped_types = tuple(
            t for t in narrowed.types if with_shipped and self.shipped and t in self.shipped.types
        )
        if not shipped_types or self.shipped is None:
            return result
        shipped = self.shipped
        with shipped.session() as cs:
            only_shipped = replace(narrowed, types=shipped_types)
            extra = _checked(auth, cs, interaction, only_shipped, cs.search(only_shipped))
        return merge_results(narrowed, result, extra, lambda hit: shipped.holds(hit.type, hit.id))

    def find(
        self, s: StoreSession, type_: str, query: Query, limit: int = 200, interaction: str = "search-type"
    ) -> list[dict[str, Any]]:
        """The current resources of `type_` matching `query` (at most `limit`), as dicts."""
        plan = replace(search.match_plan(type_, query, limit), ids_only=False)
        return [orjson.loads(h.body) for h in self.search(s, plan, interaction).matches if h.body]

    def history(self, s: StoreSession, query: HistoryQuery) -> HistoryPage:
        """A page of history (newest first), narrowed to the resources the acting identity
        may see now and, among their versions, those it could have seen then."""
        auth = authorization.current()
        if query.id is not None and query.type is not None:
            shipped = self._shipped_version(query.type, query.id)
            current = shipped or s.current(query.type, query.id)
            if current is None:
                raise FhirError.of(404, "not-found", f"{query.type}/{query.id} is not known")
            auth.require("history-instance", query.type)
            _check_access(s, "read", current)
            if shipped is not None:  # one version, never changed
                versions = [shipped] if query.since is None or query.since <= shipped.last_updated else []
                return HistoryPage(versions, len(versions), None)
        elif auth.unrestricted:
            return s.history(query)
        else:
            interaction = "history-type" if query.type else "history-system"
            query = replace(query, only=auth.history_only(interaction, query.type))
        if auth.unrestricted:
            return s.history(query)
        return _visible_versions(s, auth, query)

    # -- writes ------------------------------------------------------------------------

    def create(
        self,
        s: StoreSession,
        type_: str,
        resource: Any,
        *,
        id_: str | None = None,
        prepared: PreparedCreate | None = None,
    ) -> WriteResult:
        """POST: the server assigns the id (or the transaction pre-assigned one).

        `prepared` (from `prepare_create`, done before the session) skips the work that
        needs no store, so it is not done while the store's write lock is held."""
        check_writable(type_, "create")
        authorization.current().require("create", type_)
        if prepared is not None and prepared.stored is not None:
            assert prepared.body is not None and prepared.index is not None
            rv = ResourceVersion(type_, prepared.id, 1, prepared.last_updated, False, prepared.body, "POST")
            return self._store(s, rv, prepared.stored, prepared.index, None, prepared.warnings)
        if prepared is not None:  # validated; a workflow rule completes it here
            return self._write(
                s, type_, prepared.id, resource, None, "POST", prepared.warnings, ahead=prepared.ahead
            )
        warnings = self._check(resource, type_)
        return self._write(s, type_, id_ or new_id(), resource, None, "POST", warnings)

    def prepare_create(
        self, type_: str, resource: Any, id_: str | None = None, reads: StoreSession | None = None
    ) -> PreparedCreate | None:
        """Validate, stamp and index a new resource outside any write session (None: not an
        object).

        When a workflow rule concerns the resource it may change it inside the session:
        then only the validation is done here, and, given a read session `reads`, the
        reads of rules that can do them ahead; the rest is done in the session."""
        check_writable(type_, "create")
        authorization.current().require("create", type_)
        if not isinstance(resource, dict):
            return None
        warnings = self._check(resource, type_)
        id_ = id_ or new_id()
        last_updated = now_instant()
        rules = self.rules.get(type_, ())
        if any(r.concerns_new(resource) for r in rules):
            ahead = {}
            if reads is not None:
                for n, rule in enumerate(rules):
                    if isinstance(rule, Prefetching) and rule.concerns_new(resource):
                        ahead[n] = rule.prefetch(self, reads, resource)
            return PreparedCreate(id_, last_updated, None, None, None, warnings, ahead)
        stored = stamp(resource, id_, 1, last_updated)
        return PreparedCreate(id_, last_updated, stored, orjson.dumps(stored), self.indexer(stored), warnings)

    def create_if_none_exist(
        self, s: StoreSession, type_: str, resource: Any, query: Query, *, id_: str | None = None
    ) -> WriteResult:
        """Conditional create: none → create, one → that resource (200), more → 412."""
        check_writable(type_, "create")
        found = self.match(s, type_, query, "create")
        if len(found) > 1:
            raise FhirError.of(412, "multiple-matches", "If-None-Exist matched several resources")
        if found:
            return WriteResult(self.read(s, type_, found[0]), created=False)
        return self.create(s, type_, resource, id_=id_)

    def prepare_update(self, type_: str, id_: str, resource: Any) -> PreparedUpdate:
        """What an update needs no store for, done before its write session: the id check,
        the type-level permission, validation, and (when no workflow rule is about the type,
        so nothing will change the resource inside) the index entries. Everything decided
        against stored data (If-Match, compartment access, no-op) is done in the session."""
        check_writable(type_, "update")
        if isinstance(resource, dict) and resource.get("id") != id_:
            raise FhirError.of(
                400, "invalid", f"The resource id must equal the id in the URL ({id_})", f"{type_}.id"
            )
        authorization.current().require("update", type_)
        self._refuse_shipped(type_, id_, "update")
        warnings = self._check(resource, type_)
        index = None if self.rules.get(type_) else self.indexer(resource)
        return PreparedUpdate(warnings, index)

    def update(
        self,
        s: StoreSession,
        type_: str,
        id_: str,
        resource: Any,
        if_match: int | None = None,
        *,
        prepared: PreparedUpdate | None = None,
    ) -> WriteResult:
        check_writable(type_, "update")
        prepared = prepared or self.prepare_update(type_, id_, resource)
        warnings = prepared.warnings
        current = s.current(type_, id_)
        self._check_if_match(current, if_match)
        _check_access(s, "update", current)
        if current is not None and current.body is not None and _same_content(current.body, resource):
            return WriteResult(current, created=False, warnings=warnings)
        expected = current.version if current else None
        result = self._write(s, type_, id_, resource, expected, "PUT", warnings, prepared.index)
        if current is not None and current.deleted:  # re-created after a delete
            return WriteResult(result.version, created=True, warnings=result.warnings)
        return result

    def conditional_update(
        self, s: StoreSession, type_: str, query: Query, resource: Any, if_match: int | None = None
    ) -> WriteResult:
        check_writable(type_, "update")
        if not isinstance(resource, dict):
            self._check(resource, type_)  # 400: not a resource at all
        found = self.match(s, type_, query, "update")
        if len(found) > 1:
            raise FhirError.of(412, "multiple-matches", "The conditional update matched several resources")
        body_id = resource.get("id") if isinstance(resource, dict) else None
        if found:
            if body_id is not None and body_id != found[0]:
                raise FhirError.of(400, "invalid", "The resource id differs from the matched resource")
            return self.update(s, type_, found[0], {**resource, "id": found[0]}, if_match)
        if body_id is not None:
            return self.update(s, type_, body_id, resource, if_match)
        return self.create(s, type_, resource)

    def patch(
        self, s: StoreSession, type_: str, id_: str, patch: Patch, if_match: int | None = None
    ) -> WriteResult:
        """JSON Patch or FHIRPath Patch; the result is validated as an update would be."""
        check_writable(type_, "patch")
        self._refuse_shipped(type_, id_, "patch")
        current = self.read(s, type_, id_)
        self._check_if_match(current, if_match)
        _check_access(s, "patch", current)
        assert current.body is not None
        patched = patch.apply(orjson.loads(current.body))
        warnings = self._check(patched, type_)
        return self._write(s, type_, id_, patched, current.version, "PATCH", warnings)

    def conditional_patch(
        self, s: StoreSession, type_: str, query: Query, patch: Patch, if_match: int | None = None
    ) -> WriteResult:
        check_writable(type_, "patch")
        found = self.match(s, type_, query, "patch")
        if len(found) != 1:
            raise FhirError.of(
                404 if not found else 412,
                "not-found" if not found else "multiple-matches",
                f"The conditional patch matched {len(found)} resources; it needs exactly one",
            )
        return self.patch(s, type_, found[0], patch, if_match)

    def delete(self, s: StoreSession, type_: str, id_: str) -> ResourceVersion | None:
        """Logical delete: a new version marks it gone. Deleting what is absent does nothing."""
        check_writable(type_, "delete")
        authorization.current().require("delete", type_)
        self._refuse_shipped(type_, id_, "delete")
        current = s.current(type_, id_)
        if current is None or current.deleted:
            return None
        _check_access(s, "delete", current)
        gone = orjson.loads(current.body or b"{}")
        for rule in self.rules.get(type_, ()):
            rule.before_delete(self, s, gone)
        rv = ResourceVersion(type_, id_, current.version + 1, now_instant(), True, None, "DELETE")
        try:
            written = s.put(rv, [], current.version)
        except VersionConflict as exc:
            raise FhirError.of(409, "conflict", str(exc)) from exc
        self._bump(s, gone, None)
        return written

    def conditional_delete(self, s: StoreSession, type_: str, query: Query) -> list[ResourceVersion]:
        check_writable(type_, "delete")
        found = self.match(s, type_, query, "delete")
        if len(found) > 1:
            raise FhirError.of(412, "multiple-matches", "The conditional delete matched several resources")
        deleted = [self.delete(s, type_, id_) for id_ in found]
        return [rv for rv in deleted if rv is not None]

    def match(self, s: StoreSession, type_: str, query: Query, interaction: str = "search-type") -> list[str]:
        """Ids matching a conditional interaction's criteria (at most two: one is enough to
        act on, two refuse), among what the acting identity may `interaction`."""
        if not query:
            raise FhirError.of(400, "invalid", "A conditional interaction needs search criteria")
        conditional.before_match(s, type_, query)
        plan = search.match_plan(type_, query, 2)
        return [hit.id for hit in self.search(s, plan, interaction).matches]

    # -- helpers -----------------------------------------------------------------------

    def _shipped_version(self, type_: str, id_: str) -> ResourceVersion | None:
        """A shipped conformance resource (it shadows a stored one with the same id)."""
        return self.shipped.current(type_, id_) if self.shipped is not None else None

    def _refuse_shipped(self, type_: str, id_: str, interaction: str) -> None:
        if self.shipped is not None and self.shipped.holds(type_, id_):
            raise FhirError.of(
                405,
                "not-supported",
                f"{type_}/{id_} is shipped with the server and read-only: no {interaction}",
            )

    def _check(self, resource: Any, type_: str) -> tuple[Issue, ...]:
        """Structure first (400), then the claimed or required profiles (422)."""
        issues = self.validate(resource, expected_type=type_)
        if has_errors(issues):
            raise FhirError(400, most_severe_first(issues))
        if self.profiles is not None:
            issues += self.profiles(resource)
            if has_errors(issues):
                raise FhirError(422, most_severe_first(issues))
        return tuple(issues)

    @staticmethod
    def _check_if_match(current: ResourceVersion | None, if_match: int | None) -> None:
        if if_match is None:
            return
        found = current.version if current and not current.deleted else None
        if found != if_match:
            raise FhirError.of(
                412, "conflict", f"If-Match expected version {if_match}, current is {found or 'none'}"
            )

    def _write(
        self,
        s: StoreSession,
        type_: str,
        id_: str,
        resource: dict[str, Any],
        expected: int | None,
        method: str,
        warnings: Sequence[Issue],
        index: list[Any] | None = None,
        ahead: dict[int, Any] | None = None,
    ) -> WriteResult:
        """`index`: entries extracted before the session (no rule may change the resource);
        `ahead`: what prefetching rules read before it."""
        version = (expected or 0) + 1
        last_updated = now_instant()
        stored = stamp(resource, id_, version, last_updated)
        issues, previous = self._apply_rules(s, stored, expected, ahead or {})
        rv = ResourceVersion(type_, id_, version, last_updated, False, orjson.dumps(stored), method)
        entries = self.indexer(stored) if index is None else index
        return self._store(s, rv, stored, entries, expected, [*warnings, *issues], previous)

    def _store(
        self,
        s: StoreSession,
        rv: ResourceVersion,
        stored: dict[str, Any],
        index: list[Any],
        expected: int | None,
        warnings: Sequence[Issue],
        previous: dict[str, Any] | None = None,
    ) -> WriteResult:
        if rv.last_updated < instant(time.time() - STAMP_WINDOW_SECONDS):  # see Store.settled_instant
            stored = stamp(stored, rv.id, rv.version, now_instant())
            rv = replace(rv, last_updated=stored["meta"]["lastUpdated"], body=orjson.dumps(stored))
        try:
            written = s.put(rv, index, expected)
        except VersionConflict as exc:
            raise FhirError.of(409, "conflict", f"Concurrent write: {exc}") from exc
        self._bump(s, stored, previous)
        conditional.after_store(s, stored)
        # Scopes restricted to a compartment or a query are checked on the stored result;
        # a refusal here rolls the whole session back.
        authorization.current().check(s, _INTERACTION[rv.method], stored)
        if self.on_write is not None:
            self.on_write(stored)
        return WriteResult(written, created=expected is None, warnings=tuple(warnings))

    def _apply_rules(
        self, s: StoreSession, stored: dict[str, Any], expected: int | None, ahead: dict[int, Any]
    ) -> tuple[list[Issue], dict[str, Any] | None]:
        """The rules' issues, and the version replaced (loaded when rules or stamps need it)."""
        rules = self.rules.get(stored["resourceType"], ())
        previous = None
        if expected is not None and (rules or (self.stamps is not None and self.stamps(stored))):
            current = s.current(stored["resourceType"], stored["id"])
            previous = orjson.loads(current.body) if current and current.body else None
        issues: list[Issue] = []
        for n, rule in enumerate(rules):
            if n in ahead and isinstance(rule, Prefetching):
                rule.adopt(s, ahead[n])
            issues += rule.before_write(self, s, stored, previous)
        return issues, previous

    def _bump(self, s: StoreSession, stored: dict[str, Any], previous: dict[str, Any] | None) -> None:
        if self.stamps is None:
            return
        keys = set(self.stamps(stored))
        if previous is not None:
            keys.update(self.stamps(previous))
        for key in sorted(keys):
            s.bump(key)


_INTERACTION = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def _checked(
    auth: authorization.Authorizer, s: StoreSession, interaction: str, plan: SearchPlan, result: SearchResult
) -> SearchResult:
    """The safety net over a narrowed result (see Authorizer.safety_net)."""
    if auth.unrestricted or plan.ids_only:
        return result
    return replace(
        result,
        matches=auth.safety_net(s, interaction, result.matches, "match"),
        included=auth.safety_net(s, interaction, result.included, "include"),
    )


def _visible_versions(s: StoreSession, auth: authorization.Authorizer, query: HistoryQuery) -> HistoryPage:
    """The narrowed history, keeping only versions the token could have seen (a resource
    moved into its patient's compartment keeps its earlier versions out); pages are
    filled up from the store so their size tells nothing. No total: it would count
    what is not shown."""
    kept: list[ResourceVersion] = []
    cursor = query.before
    while True:
        page = s.history(replace(query, before=cursor))
        for rv in page.versions:
            if rv.body is not None and auth.version_visible(orjson.loads(rv.body)):
                kept.append(rv)
        cursor = page.next_cursor
        if len(kept) > query.count or cursor is None:
            break
    more = len(kept) > query.count
    kept = kept[: query.count]
    return HistoryPage(kept, None, kept[-1].position if more and kept else None)


def _check_access(s: StoreSession, interaction: str, rv: ResourceVersion | None) -> None:
    """Refuse (403) an interaction on a stored version the token may not touch."""
    auth = authorization.current()
    if auth.unrestricted or rv is None or rv.body is None:
        return
    auth.check(s, interaction, orjson.loads(rv.body))


def _same_content(stored: bytes, new: dict[str, Any]) -> bool:
    """True when an update would change nothing but meta.versionId/lastUpdated."""

    def strip(r: dict[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (r.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
        out = {k: v for k, v in r.items() if k != "meta"}
        if meta:
            out["meta"] = meta
        return out

    return strip(orjson.loads(stored)) == strip(new)
