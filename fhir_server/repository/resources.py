"""The FHIR interactions on one store session: read, create, update, patch, delete.

Every method runs inside the caller's session, so a transaction bundle composes them
into one atomic unit. Validation and index extraction happen here, before the write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from fhir_server import authorization
from fhir_server.outcome import FhirError, Issue, has_errors
from fhir_server.repository.meta import new_id, now_instant, stamp
from fhir_server.repository.patch import apply_json_patch
from fhir_server.repository.rules import WriteRule
from fhir_server.storage.base import ResourceVersion, StoreSession, VersionConflict

Validator = Callable[..., list[Issue]]  # (resource, *, expected_type) -> issues
ProfileValidator = Callable[[Any], list[Issue]]  # claimed/required profiles -> issues
WriteListener = Callable[[dict[str, Any]], None]
Indexer = Callable[[dict[str, Any]], list[Any]]
Matcher = Callable[[StoreSession, str, list[tuple[str, str]], int], list[str]]
Query = list[tuple[str, str]]


@dataclass(frozen=True)
class PreparedCreate:
    """A new resource validated, stamped and indexed before its write session."""

    id: str
    last_updated: str
    stored: dict[str, Any]
    body: bytes
    index: list[Any]
    warnings: tuple[Issue, ...]


@dataclass(frozen=True)
class WriteResult:
    version: ResourceVersion
    created: bool  # 201 rather than 200
    warnings: tuple[Issue, ...] = ()

    @property
    def resource(self) -> dict[str, Any] | None:
        return orjson.loads(self.version.body) if self.version.body is not None else None


def _no_index(resource: dict[str, Any]) -> list[Any]:
    return []


def _no_match(session: StoreSession, type_: str, query: Query, limit: int) -> list[str]:
    raise FhirError.of(501, "not-supported", "Conditional interactions need search")


class Repository:
    def __init__(
        self,
        validate: Validator,
        indexer: Indexer = _no_index,
        matcher: Matcher = _no_match,
        profiles: ProfileValidator | None = None,
        on_write: WriteListener | None = None,
        rules: Sequence[WriteRule] = (),
    ) -> None:
        self.validate = validate
        self.indexer = indexer
        self.matcher = matcher
        self.profiles = profiles
        # Told of every stored resource (the terminology service learns new code systems).
        self.on_write = on_write
        self.rules: dict[str, list[WriteRule]] = {}
        for rule in rules:
            for type_ in rule.types:
                self.rules.setdefault(type_, []).append(rule)

    # -- reads -------------------------------------------------------------------------

    def read(self, s: StoreSession, type_: str, id_: str) -> ResourceVersion:
        authorization.current().require("read", type_)
        rv = s.current(type_, id_)
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
        rv = s.version(type_, id_, version)
        if rv is None:
            if s.current(type_, id_) is None:
                raise FhirError.of(404, "not-found", f"{type_}/{id_} is not known")
            raise FhirError.of(404, "not-found", f"{type_}/{id_} has no version {version}")
        if rv.deleted:
            raise FhirError.of(410, "deleted", f"Version {version} of {type_}/{id_} is a deletion")
        _check_access(s, "vread", rv)
        return rv

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
        authorization.current().require("create", type_)
        if prepared is not None:
            rv = ResourceVersion(type_, prepared.id, 1, prepared.last_updated, False, prepared.body, "POST")
            return self._store(s, rv, prepared.stored, prepared.index, None, prepared.warnings)
        warnings = self._check(resource, type_)
        return self._write(s, type_, id_ or new_id(), resource, None, "POST", warnings)

    def prepare_create(self, type_: str, resource: Any) -> PreparedCreate | None:
        """Validate, stamp and index a new resource outside any session.

        None when a workflow rule concerns the resource: it may change it inside the
        transaction, so everything is done there."""
        authorization.current().require("create", type_)
        if not isinstance(resource, dict) or any(r.concerns_new(resource) for r in self.rules.get(type_, ())):
            return None
        warnings = self._check(resource, type_)
        last_updated = now_instant()
        stored = stamp(resource, new_id(), 1, last_updated)
        return PreparedCreate(
            stored["id"], last_updated, stored, orjson.dumps(stored), self.indexer(stored), warnings
        )

    def create_if_none_exist(
        self, s: StoreSession, type_: str, resource: Any, query: Query, *, id_: str | None = None
    ) -> WriteResult:
        """Conditional create: none → create, one → that resource (200), more → 412."""
        found = self.match(s, type_, query)
        if len(found) > 1:
            raise FhirError.of(412, "multiple-matches", "If-None-Exist matched several resources")
        if found:
            return WriteResult(self.read(s, type_, found[0]), created=False)
        return self.create(s, type_, resource, id_=id_)

    def update(
        self, s: StoreSession, type_: str, id_: str, resource: Any, if_match: int | None = None
    ) -> WriteResult:
        if isinstance(resource, dict) and resource.get("id") != id_:
            raise FhirError.of(
                400, "invalid", f"The resource id must equal the id in the URL ({id_})", f"{type_}.id"
            )
        authorization.current().require("update", type_)
        warnings = self._check(resource, type_)
        current = s.current(type_, id_)
        self._check_if_match(current, if_match)
        _check_access(s, "update", current)
        if current is not None and current.body is not None and _same_content(current.body, resource):
            return WriteResult(current, created=False, warnings=warnings)
        expected = current.version if current else None
        result = self._write(s, type_, id_, resource, expected, "PUT", warnings)
        if current is not None and current.deleted:  # re-created after a delete
            return WriteResult(result.version, created=True, warnings=result.warnings)
        return result

    def conditional_update(
        self, s: StoreSession, type_: str, query: Query, resource: Any, if_match: int | None = None
    ) -> WriteResult:
        found = self.match(s, type_, query)
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
        self, s: StoreSession, type_: str, id_: str, operations: Any, if_match: int | None = None
    ) -> WriteResult:
        current = self.read(s, type_, id_)
        self._check_if_match(current, if_match)
        _check_access(s, "patch", current)
        assert current.body is not None
        patched = apply_json_patch(orjson.loads(current.body), operations)
        warnings = self._check(patched, type_)
        return self._write(s, type_, id_, patched, current.version, "PATCH", warnings)

    def conditional_patch(
        self, s: StoreSession, type_: str, query: Query, operations: Any, if_match: int | None = None
    ) -> WriteResult:
        found = self.match(s, type_, query)
        if len(found) != 1:
            raise FhirError.of(
                404 if not found else 412,
                "not-found" if not found else "multiple-matches",
                f"The conditional patch matched {len(found)} resources; it needs exactly one",
            )
        return self.patch(s, type_, found[0], operations, if_match)

    def delete(self, s: StoreSession, type_: str, id_: str) -> ResourceVersion | None:
        """Logical delete: a new version marks it gone. Deleting what is absent does nothing."""
        authorization.current().require("delete", type_)
        current = s.current(type_, id_)
        if current is None or current.deleted:
            return None
        _check_access(s, "delete", current)
        for rule in self.rules.get(type_, ()):
            rule.before_delete(self, s, orjson.loads(current.body or b"{}"))
        rv = ResourceVersion(type_, id_, current.version + 1, now_instant(), True, None, "DELETE")
        try:
            return s.put(rv, [], current.version)
        except VersionConflict as exc:
            raise FhirError.of(409, "conflict", str(exc)) from exc

    def conditional_delete(self, s: StoreSession, type_: str, query: Query) -> list[ResourceVersion]:
        found = self.match(s, type_, query)
        if len(found) > 1:
            raise FhirError.of(412, "multiple-matches", "The conditional delete matched several resources")
        deleted = [self.delete(s, type_, id_) for id_ in found]
        return [rv for rv in deleted if rv is not None]

    def match(self, s: StoreSession, type_: str, query: Query) -> list[str]:
        if not query:
            raise FhirError.of(400, "invalid", "A conditional interaction needs search criteria")
        return self.matcher(s, type_, query, 2)

    # -- helpers -----------------------------------------------------------------------

    def _check(self, resource: Any, type_: str) -> tuple[Issue, ...]:
        """Structure first (400), then the claimed or required profiles (422)."""
        issues = self.validate(resource, expected_type=type_)
        if has_errors(issues):
            raise FhirError(400, issues)
        if self.profiles is not None:
            issues += self.profiles(resource)
            if has_errors(issues):
                raise FhirError(422, issues)
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
    ) -> WriteResult:
        version = (expected or 0) + 1
        last_updated = now_instant()
        stored = stamp(resource, id_, version, last_updated)
        warnings = [*warnings, *self._apply_rules(s, stored, expected)]
        rv = ResourceVersion(type_, id_, version, last_updated, False, orjson.dumps(stored), method)
        return self._store(s, rv, stored, self.indexer(stored), expected, warnings)

    def _store(
        self,
        s: StoreSession,
        rv: ResourceVersion,
        stored: dict[str, Any],
        index: list[Any],
        expected: int | None,
        warnings: Sequence[Issue],
    ) -> WriteResult:
        try:
            written = s.put(rv, index, expected)
        except VersionConflict as exc:
            raise FhirError.of(409, "conflict", f"Concurrent write: {exc}") from exc
        # Scopes restricted to a compartment or a query are checked on the stored result;
        # a refusal here rolls the whole session back.
        authorization.current().check(s, _INTERACTION[rv.method], stored)
        if self.on_write is not None:
            self.on_write(stored)
        return WriteResult(written, created=expected is None, warnings=tuple(warnings))


    def _apply_rules(self, s: StoreSession, stored: dict[str, Any], expected: int | None) -> list[Issue]:
        rules = self.rules.get(stored["resourceType"], ())
        if not rules:
            return []
        previous = None
        if expected is not None:
            current = s.current(stored["resourceType"], stored["id"])
            previous = orjson.loads(current.body) if current and current.body else None
        return [issue for rule in rules for issue in rule.before_write(self, s, stored, previous)]


_INTERACTION = {"POST": "create", "PUT": "update", "PATCH": "patch"}


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
