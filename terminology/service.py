"""The terminology service: a registry of CodeSystems, ValueSets and ConceptMaps (all
versions), with lazily built, cached indexes, and the operations on them.

Resources are immutable once registered under (url, version); registering the same
(url, version) again replaces it and drops its cached indexes. A url without a version
means the version registered last. What the registry does not hold is looked up in the
read-only ``base`` catalogue (the R4 core terminology), then asked of the optional
``resolver`` (for instance the server's store).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .conceptmap import ConceptMapIndex, Mapping, translate_chain
from .model import CodeSystemIndex, Concept, build_code_system, canonical
from .normalize import normalize
from .r4core import Catalogue
from .text_index import TextIndex
from .valueset import Entry, Expansion, ExpansionError, expand_compose

KINDS = ("CodeSystem", "ValueSet", "ConceptMap")
MAX_EXPANSION = 10_000
Resolver = Callable[[str, str, str | None], dict[str, Any] | None]


class TerminologyError(Exception):
    """A request the service cannot answer: ``code`` is an issue type, ``status`` HTTP."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True, slots=True)
class LookupResult:
    system: CodeSystemIndex
    concept: Concept
    language: str | None

    @property
    def display(self) -> str | None:
        return self.concept.display_in(self.language)


@dataclass(frozen=True, slots=True)
class ValidationResult:
    result: bool
    message: str | None = None
    display: str | None = None
    system: str | None = None
    code: str | None = None
    version: str | None = None
    inactive: bool = False


@dataclass(frozen=True, slots=True)
class ExpandPage:
    expansion: Expansion
    total: int
    offset: int
    entries: list[Entry]
    filter: str | None


class TerminologyService:
    def __init__(
        self,
        resources: Iterable[dict[str, Any]] = (),
        resolver: Resolver | None = None,
        base: Catalogue | None = None,
    ) -> None:
        self.base = base
        self._store: dict[str, dict[str, dict[str, dict[str, Any]]]] = {k: {} for k in KINDS}
        self._latest: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        self._cache: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self.resolver = resolver
        for r in resources:
            self.register(r)

    # -- registry ----------------------------------------------------------------------

    def register(self, resource: dict[str, Any]) -> None:
        kind, url = resource.get("resourceType"), resource.get("url")
        if kind not in KINDS or not isinstance(url, str):
            raise TerminologyError(
                "invalid", "Only CodeSystem, ValueSet and ConceptMap with a url can be registered"
            )
        version = resource.get("version") or ""
        with self._lock:
            self._store[kind].setdefault(url, {})[version] = resource
            self._latest[kind][url] = version
            for key in [k for k in self._cache if k[1] == url and k[2] == version]:
                del self._cache[key]
            if kind != "ValueSet":  # expansions depend on code systems: drop them all
                for key in [k for k in self._cache if k[0] in ("expansion", "text")]:
                    del self._cache[key]

    def resource(self, kind: str, url: str, version: str | None = None) -> dict[str, Any] | None:
        base, pinned = canonical(url)
        version = version or pinned
        versions = self._store[kind].get(base)
        if versions is not None:
            key = version if version is not None else self._latest[kind][base]
            found = versions.get(key)
            if found is not None:
                return found
        if self.base is not None:
            found = self.base.get(kind, base, version)
            if found is not None:
                return found
        if self.resolver is not None:
            found = self.resolver(kind, base, version)
            if found is not None:
                self.register(found)
                return found
        return None

    def by_id(self, kind: str, id_: str) -> dict[str, Any] | None:
        """The latest registered resource of that kind with this id (shipped ids: "drugs")."""
        for url, version in self._latest[kind].items():
            res = self._store[kind][url][version]
            if res.get("id") == id_:
                return res
        return self.base.by_id(kind, id_) if self.base is not None else None

    def urls(self, kind: str) -> list[str]:
        own = set(self._store[kind])
        return sorted(own | set(self.base.urls(kind)) if self.base is not None else own)

    def versions(self, kind: str, url: str) -> list[str]:
        return list(self._store[kind].get(url, {}))

    def _cached(self, kind: str, url: str, version: str, build: Callable[[], Any]) -> Any:
        key = (kind, url, version)
        value = self._cache.get(key)
        if value is None:
            value = build()
            self._cache[key] = value
        return value

    def code_system(self, url: str, version: str | None = None) -> CodeSystemIndex | None:
        res = self.resource("CodeSystem", url, version)
        if res is None:
            return None
        return self._cached("cs", res["url"], res.get("version") or "", lambda: build_code_system(res))

    def _cs_getter(self, url: str, version: str | None) -> CodeSystemIndex | None:
        cs = self.code_system(url, version)
        if cs is None and version is not None:
            cs = self.code_system(url)  # a version we do not hold: use the latest
        return cs

    def expansion(self, valueset: str | dict[str, Any]) -> Expansion:
        return self._expansion(valueset)[0]

    def _expansion(self, valueset: str | dict[str, Any]) -> tuple[Expansion, tuple[str, str] | None]:
        """The expansion and its cache key; resources given inline are cached only when they
        are the registered object itself (an inline copy may differ from what is stored)."""
        res = self._valueset(valueset)
        build = lambda: expand_compose(res, self._cs_getter, self.expansion)  # noqa: E731
        url, version = res.get("url"), res.get("version") or ""
        try:
            if not isinstance(url, str):
                return build(), None
            if isinstance(valueset, dict) and (
                not url or self.resource("ValueSet", url, version or None) is not res
            ):
                return build(), None
            return self._cached("expansion", url, version, build), (url, version)
        except RecursionError as exc:
            raise TerminologyError("invalid", "The value set includes itself") from exc

    def _valueset(self, valueset: str | dict[str, Any]) -> dict[str, Any]:
        if isinstance(valueset, dict):
            return valueset
        res = self.resource("ValueSet", valueset)
        if res is None:
            raise TerminologyError("not-found", f"Unknown value set {valueset}", 404)
        return res

    def _text_index(self, expansion: Expansion, key: tuple[str, str] | None) -> TextIndex:
        def build() -> TextIndex:
            texts = []
            for e in expansion.entries:
                entry = [e.code, e.display or ""]
                if e.concept is not None:
                    entry += [d.value for d in e.concept.designations]
                texts.append(entry)
            return TextIndex(texts)

        if key is None:
            return build()
        return self._cached("text", key[0], key[1], build)

    # -- operations ----------------------------------------------------------------------

    def lookup(
        self, system: str, code: str, version: str | None = None, language: str | None = None
    ) -> LookupResult:
        cs = self.code_system(system, version)
        if cs is None:
            raise TerminologyError(
                "not-found", f"Unknown code system {system}" + (f" version {version}" if version else ""), 404
            )
        concept = cs.get(code)
        if concept is None:
            raise TerminologyError("not-found", f"Unknown code '{code}' in {system}", 404)
        return LookupResult(cs, concept, language)

    def validate_code(
        self,
        *,
        system: str | None,
        code: str | None,
        valueset: str | dict[str, Any] | None = None,
        version: str | None = None,
        display: str | None = None,
        language: str | None = None,
    ) -> ValidationResult:
        if not code:
            raise TerminologyError("required", "A code is required")
        if valueset is None:
            if not system:
                raise TerminologyError(
                    "required", "A system is required to validate a code against a code system"
                )
            return self._validate_in_system(system, code, version, display, language)
        try:
            expansion = self.expansion(valueset)
        except ExpansionError as exc:
            raise TerminologyError("not-supported", str(exc), 422) from exc
        vs_name = expansion.url or "the value set"
        if system is None:
            matches = [e for e in expansion.entries if e.code == code]
            if len({e.system for e in matches}) == 1:
                system = matches[0].system
        if system is None:
            return ValidationResult(
                False, f"'{code}' is not in {vs_name} (or its system is ambiguous)", code=code
            )
        if (system, code) in expansion.keys:
            checked = self._validate_in_system(system, code, version, display, language)
            return (
                checked
                if checked.result or checked.message is None
                else ValidationResult(
                    True, checked.message, checked.display, system, code, checked.version, checked.inactive
                )
            )
        if system in expansion.open_systems:
            return ValidationResult(
                True,
                f"Code system {system} is not available here; the code was not checked",
                None,
                system,
                code,
            )
        return ValidationResult(False, f"'{code}' from {system} is not in {vs_name}", None, system, code)

    def _validate_in_system(
        self, system: str, code: str, version: str | None, display: str | None, language: str | None
    ) -> ValidationResult:
        cs = self.code_system(system, version)
        if cs is None:
            return ValidationResult(False, f"Unknown code system {system}", None, system, code, version)
        concept = cs.get(code)
        if concept is None:
            return ValidationResult(
                False, f"'{code}' is not a code in {system}", None, system, code, cs.version
            )
        shown = concept.display_in(language)
        message = None
        if concept.inactive:
            message = f"'{code}' is inactive in {system}"
        if display and not _display_ok(concept, display):
            message = f"Display '{display}' does not match '{concept.display}' for {system}#{code}"
        return ValidationResult(True, message, shown, system, concept.code, cs.version, concept.inactive)

    def member(self, valueset_url: str, system: str | None, code: str) -> bool | None:
        """Fast membership check for validators: True/False, or None when the value set
        is unknown here or the system is not enumerable."""
        try:
            expansion = self.expansion(valueset_url)
        except (TerminologyError, ExpansionError):
            return None
        if system is not None:
            if (system, code) in expansion.keys:
                return True
            return None if system in expansion.open_systems else False
        return any(e.code == code for e in expansion.entries) or None

    def expand(
        self,
        valueset: str | dict[str, Any],
        *,
        filter: str | None = None,
        offset: int = 0,
        count: int | None = None,
        active_only: bool = False,
    ) -> ExpandPage:
        if offset < 0 or (count is not None and count < 0):
            raise TerminologyError("invalid", "offset and count must not be negative")
        try:
            expansion, key = self._expansion(valueset)
        except ExpansionError as exc:
            raise TerminologyError("not-supported", str(exc), 422) from exc
        if expansion.open_systems:
            systems = ", ".join(sorted(expansion.open_systems))
            raise TerminologyError("too-costly", f"Cannot expand: {systems} is not available here", 422)
        entries = expansion.entries
        if filter and filter.strip():
            hits = self._text_index(expansion, key).search(filter)
            if hits is not None:
                entries = [entries[i] for i in hits]
        if active_only:
            entries = [e for e in entries if not e.inactive]
        total = len(entries)
        if count is None and total - offset > MAX_EXPANSION:
            raise TerminologyError("too-costly", f"The expansion has {total} codes; page with count", 422)
        end = None if count is None else offset + count
        return ExpandPage(expansion, total, offset, entries[offset:end], filter)

    def translate(
        self,
        *,
        system: str,
        code: str,
        target: str | None = None,
        url: str | None = None,
        reverse: bool = False,
    ) -> list[Mapping]:
        if url is not None:
            res = self.resource("ConceptMap", url)
            if res is None:
                raise TerminologyError("not-found", f"Unknown concept map {url}", 404)
            maps = [self._concept_map(res)]
        else:
            maps = [self._concept_map(r) for r in self._all_latest("ConceptMap")]
        found = translate_chain(maps, system, code, target, reverse)
        if target is not None:
            found = [m for m in found if m.target_system == target]
        return found

    def _concept_map(self, res: dict[str, Any]) -> ConceptMapIndex:
        return self._cached("cm", res["url"], res.get("version") or "", lambda: ConceptMapIndex(res))

    def _all_latest(self, kind: str) -> list[dict[str, Any]]:
        return [self._store[kind][url][v] for url, v in self._latest[kind].items()]

    def subsumes(self, system: str, code_a: str, code_b: str, version: str | None = None) -> str:
        cs = self.code_system(system, version)
        if cs is None:
            raise TerminologyError("not-found", f"Unknown code system {system}", 404)
        for c in (code_a, code_b):
            if cs.get(c) is None:
                raise TerminologyError("invalid", f"Unknown code '{c}' in {system}")
        if code_a == code_b:
            return "equivalent"
        if code_a in cs.ancestors(code_b):
            return "subsumes"
        if code_b in cs.ancestors(code_a):
            return "subsumed-by"
        return "not-subsumed"


def _display_ok(concept: Concept, display: str) -> bool:
    wanted = normalize(display)
    names = [concept.display or "", *(d.value for d in concept.designations)]
    return any(normalize(n) == wanted for n in names)
