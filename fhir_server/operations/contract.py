"""The calling contract of every `$operation`, free of HTTP.

An operation is declared once as an `Operation`: its name, the levels (system, type,
instance), resource types and HTTP methods it answers, its parameters with English and
Persian documentation, and its handler. The registry of these declarations drives
dispatch (`fhir_server.api.operations`), the OperationDefinitions, the
CapabilityStatement and the OpenAPI document, so nothing can be offered undocumented.

A handler takes an `OperationRequest` (level, type, id, the inputs, the caller, the
language) and returns a resource (a dict), an `OperationResult` (a resource or nothing
with a status and headers), a repository `WriteResult` (answered like a create or
update), `Content` (bytes that are not FHIR JSON: a PDF, an HTML page, an ndjson file) or
`Accepted` (an asynchronous request was accepted: 202 and where to poll). Errors are
raised as `FhirError`. HTTP itself (headers, Prefer: return, Idempotency-Key, the SMS
sent after commit, Content-Language) is the API layer's business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from fhir_server.outcome import FhirError

if TYPE_CHECKING:
    from fhir_server.authorization import Authorizer
    from fhir_server.config import Settings
    from fhir_server.repository import Repository
    from fhir_server.storage.base import Store
    from terminology.service import TerminologyService

Level = Literal["system", "type", "instance"]
LEVELS: tuple[Level, ...] = ("system", "type", "instance")
CANONICAL_BASE = "http://noskhe.ir/fhir/OperationDefinition/"


@dataclass(frozen=True, slots=True)
class Text:
    """Documentation in English and Persian."""

    en: str
    fa: str


@dataclass(frozen=True, slots=True)
class Param:
    """One OperationDefinition.parameter: `type` is a FHIR type (None for a group of parts)."""

    name: str
    use: Literal["in", "out"]
    type: str | None
    doc: Text
    min: int = 0
    max: str = "1"  # "1", "2", ... or "*"
    parts: tuple[Param, ...] = ()
    target_profile: tuple[str, ...] = ()  # for Reference / canonical types


def In(name: str, type_: str | None, en: str, fa: str, min: int = 0, max: str = "1", *parts: Param) -> Param:
    """An input parameter."""
    return Param(name, "in", type_, Text(en, fa), min, max, parts)


def Out(name: str, type_: str | None, en: str, fa: str, min: int = 0, max: str = "1", *parts: Param) -> Param:
    """An output parameter."""
    return Param(name, "out", type_, Text(en, fa), min, max, parts)


@dataclass(frozen=True, slots=True)
class Server:
    """What a handler may use of the server: its store, repository, settings, terminology."""

    store: Store
    repo: Repository
    settings: Settings
    base_url: str
    resource_types: frozenset[str]
    # The terminology service, brought up to date with the store when asked for.
    terminology_source: Callable[[], TerminologyService] | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)  # e.g. the bulk job runner

    @property
    def terminology(self) -> TerminologyService:
        if self.terminology_source is not None:
            return self.terminology_source()
        import terminology

        return terminology.default_service()


@dataclass(frozen=True)
class OperationRequest:
    """One call of an operation, parsed: where it was called, with what, by whom."""

    name: str
    level: Level
    type: str | None
    id: str | None
    method: str  # GET | POST
    query: tuple[tuple[str, str], ...]  # the URL's parameters (and a form body), in order
    body: Any  # the JSON body as sent (a Parameters, a resource posted as is, plain JSON) or None
    caller: Authorizer
    server: Server
    language: str = "en"  # fa | en: the language of messages
    display_language: str | None = None  # the first Accept-Language tag, as sent
    accept: tuple[str, ...] = ()  # media types the caller accepts, in order
    prefer: Mapping[str, str] = field(default_factory=dict)  # Prefer: respond-async, return, handling

    # -- inputs ------------------------------------------------------------------------

    @property
    def is_parameters(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("resourceType") == "Parameters"

    def parameters(self) -> list[dict[str, Any]]:
        """Every input as a Parameters.parameter: the URL's (as valueString), then the body's."""
        out: list[dict[str, Any]] = [{"name": k, "valueString": v} for k, v in self.query]
        if self.is_parameters:
            out += [p for p in self.body.get("parameter") or [] if isinstance(p, dict)]
        return out

    def values(self, name: str) -> list[Any]:
        """The values given for `name` (value[x], or the resource of a resource parameter)."""
        found = []
        for p in self.parameters():
            if p.get("name") != name:
                continue
            if "resource" in p:
                found.append(p["resource"])
            elif "part" in p:
                found.append(p["part"])
            else:
                found.extend(v for k, v in p.items() if k.startswith("value"))
        return found

    def value(self, name: str) -> Any:
        """The one value of `name` (None when absent; 400 when given twice)."""
        found = self.values(name)
        if len(found) > 1:
            raise FhirError.of(400, "invalid", f"${self.name}: parameter {name} may be given once")
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        value = self.value(name)
        if value is None or isinstance(value, str):
            return value
        raise FhirError.of(400, "invalid", f"${self.name}: parameter {name} must be a string")

    def resource(self, name: str = "resource") -> Any:
        """The resource input: a resource posted as the body, or the `name` parameter."""
        if self.body is not None and not self.is_parameters:
            return self.body
        return self.value(name) if self.is_parameters else None

    def require_body(self, what: str) -> Any:
        if self.method != "POST" or self.body is None:
            raise FhirError.of(405 if self.method != "POST" else 400, "invalid", f"${self.name} takes {what}")
        return self.body

    @property
    def wants_async(self) -> bool:
        return "respond-async" in self.prefer


@dataclass(frozen=True)
class OperationResult:
    """A resource (or no body) with its status and extra headers."""

    resource: dict[str, Any] | None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Content:
    """A body that is not FHIR JSON: bytes or a stream of them, with its media type."""

    data: bytes | Iterable[bytes]
    media_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class Accepted:
    """An asynchronous request was accepted (202): poll `status_url`."""

    status_url: str


Handler = Callable[[OperationRequest], Any]


@dataclass(frozen=True)
class Operation:
    """The declaration of one operation (an OperationDefinition, and how to run it).

    `types` are the resource types of type and instance calls (empty: any type).
    `methods`: GET is offered only for operations that change nothing (R4 3.1.0.1.1).
    `base` is the canonical of the HL7 definition it implements, when it does.
    `id` defaults to the name; give `<Type>-<name>` when one name has per-type definitions.
    """

    name: str
    title: Text
    description: Text
    levels: tuple[Level, ...]
    handler: Handler
    parameters: tuple[Param, ...] = ()
    types: tuple[str, ...] = ()
    affects_state: bool = False
    methods: tuple[str, ...] = ("GET", "POST")
    base: str | None = None
    id: str = ""
    asynchronous: bool = False  # answers 202 + Content-Location (Bulk Data)
    output_media: tuple[str, ...] = ()  # non-FHIR outputs it may answer (application/pdf)

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.name)
        if self.affects_state and "GET" in self.methods:
            raise ValueError(f"${self.name} changes state: it cannot be offered with GET")

    @property
    def url(self) -> str:
        return CANONICAL_BASE + self.id

    def answers(self, level: Level, type_: str | None) -> bool:
        if level not in self.levels:
            return False
        return level == "system" or not self.types or type_ in self.types
