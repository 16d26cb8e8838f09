"""The OpenAPI 3.1 document of the FHIR API, made from the CapabilityStatement (types,
interactions, search parameters), the operation registry (operations, their parameters
and levels) and the R4 definitions (schemas of the e-prescription resource types).

Nothing here is written by hand per type or per operation: a type, interaction, search
parameter or operation the server gains appears in the document by itself."""

from __future__ import annotations

from typing import Any

from fhir_server.openapi.schemas import REF, primitive, schemas_for
from fhir_server.operations import REGISTRY, Operation
from fhir_server.operations.contract import Param

# The types a prescriber's, pharmacy's or insurer's software exchanges: full schemas.
# Every other type is described as a generic Resource.
EPRESCRIPTION_TYPES = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Encounter",
    "Coverage",
    "MedicationRequest",
    "ServiceRequest",
    "MedicationDispense",
    "DiagnosticReport",
    "Provenance",
    "Claim",
    "ClaimResponse",
    "Bundle",
    "OperationOutcome",
    "Parameters",
    "CapabilityStatement",
)
FHIR_JSON = "application/fhir+json"
COMMON_SEARCH = {
    "_id": "Logical id (comma-separated: any of several) / شناسه",
    "_lastUpdated": "When the resource last changed (ge2025-01-01, lt...) / زمان آخرین تغییر",
    "_count": "Results per page / تعداد نتایج در هر صفحه",
    "_sort": "Sort order: parameter names, - for descending / ترتیب",
    "_include": "Also return resources these results refer to (Type:param)",
    "_revinclude": "Also return resources referring to these results (Type:param)",
    "_summary": "true, count, data, text or false",
    "_elements": "Only these elements (comma-separated)",
    "_total": "none, estimate or accurate",
}
ERROR = {"$ref": "#/components/responses/Error"}
VERSION_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": 'W/"versionId"'},
    "Last-Modified": {"schema": {"type": "string"}},
}
_QUERY_TYPES = frozenset(
    {"string", "code", "uri", "url", "canonical", "boolean", "integer", "decimal", "date", "dateTime",
     "instant", "id", "positiveInt", "unsignedInt", "Reference"}
)  # fmt: skip


def openapi_document(
    capability: dict[str, Any],
    base_url: str,
    smart: dict[str, Any] | None,
    only: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The document for this CapabilityStatement; `smart` (the SMART configuration, None
    when authorization is off) gives the security schemes. `only`: the part about these
    resource types (and the system level), for readers who need no more."""
    rest = capability["rest"][0]
    resources = [r for r in rest["resource"] if only is None or r["type"] in only]
    types = _tag_order([r["type"] for r in resources])
    paths: dict[str, Any] = _system_paths()
    for resource in resources:
        _type_paths(paths, resource)
    for op in REGISTRY.operations:
        _operation_paths(paths, op, types)
    components: dict[str, Any] = {
        "schemas": schemas_for(list(EPRESCRIPTION_TYPES)),
        "parameters": _common_parameters(types),
        "responses": {"Error": _error_response()},
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": _info(capability),
        "servers": [{"url": base_url}],
        "tags": [
            {"name": "System", "description": "Server-wide interactions / تعامل‌های سراسری"},
            *({"name": t} for t in types),
            {"name": "Any type", "description": "Operations on every resource type / عملیات روی هر نوع منبع"},
        ],
        "paths": paths,
        "components": components,
    }
    if smart is not None:
        components["securitySchemes"] = _security(smart)
        document["security"] = [{"smart": []}, {"bearer": []}]
    return document


def _tag_order(types: list[str]) -> list[str]:
    """The e-prescription types first (what most readers came for), then the rest."""
    first = [t for t in EPRESCRIPTION_TYPES if t in types]
    return first + sorted(t for t in types if t not in first)


def _info(capability: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "Noskhe FHIR R4 API — نسخه",
        "version": capability["software"]["version"],
        "summary": "Iran's national electronic prescription on HL7 FHIR R4",
        "description": (
            "Every resource type, interaction, search parameter and operation this server offers, "
            "made from its CapabilityStatement (`/metadata`) and OperationDefinitions. Profiles, "
            "search parameters and operation definitions are served as FHIR resources under their "
            "types. Errors are OperationOutcomes.\n\n"
            "همهٔ نوع منابع، تعامل‌ها، پارامترهای جست‌وجو و عملیات این کارساز، برگرفته از "
            "CapabilityStatement و OperationDefinitionها. خطاها به صورت OperationOutcome برمی‌گردند."
        ),
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
    }


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}}


def _ok(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": _content(schema)}
    if headers:
        out["headers"] = headers
    return out


def _schema_ref(type_: str | None) -> dict[str, Any]:
    return {"$ref": REF + (type_ if type_ in EPRESCRIPTION_TYPES else "Resource")}


def _error_response() -> dict[str, Any]:
    return {
        "description": "An OperationOutcome saying what went wrong / پیام خطا",
        "content": _content({"$ref": REF + "OperationOutcome"}),
    }


def _header(name: str, doc: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"}, "description": doc}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/parameters/{name}"}


def _common_parameters(types: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9\\-.]{1,64}$"},
            "description": "Logical id / شناسه",
        },
        "vid": {
            "name": "vid",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        },
        "type": {"name": "type", "in": "path", "required": True, "schema": {"type": "string", "enum": types}},
        "If-Match": _header(
            "If-Match", 'The version the change is based on: W/"3" (412 when it is not current)'
        ),
        "If-None-Exist": _header(
            "If-None-Exist", "Create only if no resource matches this search (a query string)"
        ),
        "If-None-Match": _header("If-None-Match", "Conditional read: 304 when this ETag is current"),
        "Prefer": _header(
            "Prefer", "return=minimal | representation | OperationOutcome; handling=strict|lenient"
        ),
        "Idempotency-Key": _header(
            "Idempotency-Key", "A retry with the same key gets the first answer again / کلید تکرار امن"
        ),
        "_since": {
            "name": "_since",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "Only versions after this instant",
        },
    }
    for name, doc in COMMON_SEARCH.items():
        out[name] = {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": doc,
        }
    return out


def _system_paths() -> dict[str, Any]:
    bundle = {"$ref": REF + "Bundle"}
    tag = ["System"]
    return {
        "/metadata": {
            "get": {
                "tags": tag,
                "summary": "The CapabilityStatement (mode=terminology: TerminologyCapabilities)",
                "operationId": "capabilities",
                "security": [],
                "parameters": [
                    {
                        "name": "mode",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["full", "normative", "terminology"]},
                    }
                ],
                "responses": {
                    "200": _ok("What this server supports", {"$ref": REF + "Resource"}),
                    "default": ERROR,
                },
            }
        },
        "/": {
            "post": {
                "tags": tag,
                "summary": "A batch or transaction Bundle / دسته یا تراکنش",
                "operationId": "batchOrTransaction",
                "requestBody": {"required": True, "content": _content(bundle)},
                "responses": {
                    "200": _ok("The batch-response or transaction-response Bundle", bundle),
                    "default": ERROR,
                },
            },
        },
        "/_history": {
            "get": {
                "tags": tag,
                "summary": "The history of every resource",
                "operationId": "historySystem",
                "parameters": [_ref("_since"), _ref("_count")],
                "responses": {"200": _ok("A history Bundle", bundle), "default": ERROR},
            }
        },
        "/_bulk/{job}": {
            "parameters": [{"name": "job", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "tags": tag,
                "summary": "Status of a Bulk Data job: 202 with X-Progress while it runs, then the manifest",
                "operationId": "bulkStatus",
                "responses": {
                    "200": {
                        "description": "The manifest",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "202": {
                        "description": "Still running",
                        "headers": {"X-Progress": {"schema": {"type": "string"}}},
                    },
                    "default": ERROR,
                },
            },
            "delete": {
                "tags": tag,
                "summary": "Cancel a Bulk Data job and remove its files",
                "operationId": "bulkCancel",
                "responses": {"202": {"description": "Cancelled"}, "default": ERROR},
            },
        },
    }


def _type_paths(paths: dict[str, Any], resource: dict[str, Any]) -> None:
    type_ = resource["type"]
    interactions = {i["code"] for i in resource["interaction"]}
    tag = [type_]
    schema = _schema_ref(type_)
    bundle = {"$ref": REF + "Bundle"}
    collection: dict[str, Any] = {}
    if "search-type" in interactions:
        collection["get"] = {
            "tags": tag,
            "summary": f"Search {type_}",
            "operationId": f"search{type_}",
            "parameters": [*(_ref(n) for n in COMMON_SEARCH), *_search_params(resource)],
            "responses": {"200": _ok("A searchset Bundle", bundle), "default": ERROR},
        }
    if "create" in interactions:
        collection["post"] = {
            "tags": tag,
            "summary": f"Create a {type_}",
            "operationId": f"create{type_}",
            "parameters": [_ref("If-None-Exist"), _ref("Prefer"), _ref("Idempotency-Key")],
            "requestBody": {"required": True, "content": _content(schema)},
            "responses": {
                "201": _ok(
                    "Created", schema, {**VERSION_HEADERS, "Location": {"schema": {"type": "string"}}}
                ),
                "200": _ok("A matching resource existed (If-None-Exist)", schema),
                "default": ERROR,
            },
        }
    if collection:
        paths[f"/{type_}"] = collection
    instance = _instance_interactions(type_, interactions, schema)
    if instance:
        paths[f"/{type_}/{{id}}"] = instance
    if "history-type" in interactions:
        paths[f"/{type_}/_history"] = {"get": _history(type_, "Type", [])}
    if "history-instance" in interactions:
        paths[f"/{type_}/{{id}}/_history"] = {"get": _history(type_, "", [_ref("id")])}
    if "vread" in interactions:
        paths[f"/{type_}/{{id}}/_history/{{vid}}"] = {
            "get": {
                "tags": tag,
                "summary": f"A version of a {type_}",
                "operationId": f"vread{type_}",
                "parameters": [_ref("id"), _ref("vid")],
                "responses": {"200": _ok("That version", schema, VERSION_HEADERS), "default": ERROR},
            }
        }


def _search_params(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": p["name"],
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"{p['type']}: {p.get('documentation', '')}".strip(),
        }
        for p in resource.get("searchParam", [])
        if not p["name"].startswith("_")
    ]


def _history(type_: str, level: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tags": [type_],
        "summary": f"History of {'every' if level else 'a'} {type_}",
        "operationId": f"history{level}{type_}",
        "parameters": [*params, _ref("_since"), _ref("_count")],
        "responses": {"200": _ok("A history Bundle", {"$ref": REF + "Bundle"}), "default": ERROR},
    }


def _instance_interactions(type_: str, interactions: set[str], schema: dict[str, Any]) -> dict[str, Any]:
    tag = [type_]
    changes = [_ref("id"), _ref("If-Match"), _ref("Prefer"), _ref("Idempotency-Key")]
    out: dict[str, Any] = {}
    if "read" in interactions:
        out["get"] = {
            "tags": tag,
            "summary": f"Read a {type_}",
            "operationId": f"read{type_}",
            "parameters": [_ref("id"), _ref("If-None-Match")],
            "responses": {
                "200": _ok("The current version", schema, VERSION_HEADERS),
                "304": {"description": "Not modified (If-None-Match)"},
                "default": ERROR,
            },
        }
    if "update" in interactions:
        out["put"] = {
            "tags": tag,
            "summary": f"Update (or create with this id) a {type_}",
            "operationId": f"update{type_}",
            "parameters": changes,
            "requestBody": {"required": True, "content": _content(schema)},
            "responses": {
                "200": _ok("Updated", schema, VERSION_HEADERS),
                "201": _ok("Created", schema),
                "default": ERROR,
            },
        }
    if "patch" in interactions:
        out["patch"] = {
            "tags": tag,
            "summary": f"Patch a {type_} (JSON Patch or FHIRPath Patch)",
            "operationId": f"patch{type_}",
            "parameters": changes,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json-patch+json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    FHIR_JSON: {"schema": {"$ref": REF + "Parameters"}},
                },
            },
            "responses": {"200": _ok("Patched", schema, VERSION_HEADERS), "default": ERROR},
        }
    if "delete" in interactions:
        out["delete"] = {
            "tags": tag,
            "summary": f"Delete a {type_}",
            "operationId": f"delete{type_}",
            "parameters": [_ref("id"), _ref("Prefer"), _ref("Idempotency-Key")],
            "responses": {
                "200": _ok("Deleted", {"$ref": REF + "OperationOutcome"}),
                "204": {"description": "Deleted"},
                "default": ERROR,
            },
        }
    return out


def _operation_paths(paths: dict[str, Any], op: Operation, types: list[str]) -> None:
    """One path per level and type the operation is registered for; an operation on any
    type gets a `{type}` path parameter."""
    for level in op.levels:
        if level == "system":
            where: list[str | None] = [None]
        else:
            where = [t for t in op.types if t in types] if op.types else [None]
        for type_ in where:
            prefix = "" if level == "system" else f"/{type_ or '{type}'}"
            suffix = "/{id}" if level == "instance" else ""
            item = paths.setdefault(f"{prefix}{suffix}/${op.name}", {})
            for method in op.methods:
                item[method.lower()] = _operation(op, level, type_, method)


def _operation(op: Operation, level: str, type_: str | None, method: str) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    if level != "system" and type_ is None:
        params.append(_ref("type"))
    if level == "instance":
        params.append(_ref("id"))
    inputs = [p for p in op.parameters if p.use == "in"]
    if method == "GET":
        params += [_query(p) for p in inputs if p.type in _QUERY_TYPES]
    if op.asynchronous:
        params.append({**_header("Prefer", "respond-async (required)"), "required": True})
    elif op.affects_state:
        params.append(_ref("Idempotency-Key"))
    where = level if type_ is None else f"{level}-{type_}"
    out: dict[str, Any] = {
        "tags": [type_ or ("System" if level == "system" else "Any type")],
        "summary": f"${op.name}: {op.title.en} — {op.title.fa}",
        "description": f"{op.description.en}\n\n{op.description.fa}\n\nOperationDefinition: {op.url}",
        "operationId": f"{method.lower()}-{op.id}-{where}",
        "parameters": params,
        "responses": _operation_responses(op),
    }
    if method == "POST":
        out["requestBody"] = {
            "required": op.name == "import" or any(p.min >= 1 for p in inputs),
            "content": _operation_body(op, inputs),
        }
    return out


def _query(p: Param) -> dict[str, Any]:
    schema = {"type": "string"} if p.type == "Reference" else primitive(p.type or "string")
    if p.max != "1":
        schema = {"type": "array", "items": schema}
    return {
        "name": p.name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": f"{p.doc.en} / {p.doc.fa}",
    }


def _operation_body(op: Operation, inputs: list[Param]) -> dict[str, Any]:
    if op.name == "import":  # the SMART bulk-import "ping and pull" request is plain JSON
        return {"application/json": {"schema": _IMPORT_REQUEST}}
    resource_inputs = [p for p in inputs if p.name == "resource" and p.min >= 1]
    if resource_inputs:
        return _content(_schema_ref(resource_inputs[0].type))
    return _content({"$ref": REF + "Parameters"})


_IMPORT_REQUEST = {
    "type": "object",
    "required": ["input"],
    "properties": {
        "inputFormat": {"type": "string", "const": "application/fhir+ndjson"},
        "inputSource": {"type": "string"},
        "storageDetail": {"type": "object", "properties": {"type": {"type": "string"}}},
        "input": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {"type": {"type": "string"}, "url": {"type": "string"}},
            },
        },
    },
}


def _operation_responses(op: Operation) -> dict[str, Any]:
    if op.asynchronous:
        return {
            "202": {
                "description": "Accepted: poll Content-Location / پذیرفته شد",
                "headers": {"Content-Location": {"schema": {"type": "string"}}},
            },
            "default": ERROR,
        }
    outputs = [p for p in op.parameters if p.use == "out"]
    if len(outputs) == 1 and outputs[0].name == "return" and outputs[0].type:
        schema = _schema_ref(outputs[0].type)
    else:
        schema = {"$ref": REF + "Parameters"}
    ok = _ok(op.title.en, schema)
    for media in op.output_media:
        ok["content"][media] = {"schema": {"type": "string", "format": "binary"}}
    responses = {"200": ok, "default": ERROR}
    if op.affects_state:
        responses["201"] = _ok("Created", schema)
    return responses


def _security(smart: dict[str, Any]) -> dict[str, Any]:
    scopes = {s: s for s in smart.get("scopes_supported", [])}
    return {
        "smart": {
            "type": "oauth2",
            "description": "SMART App Launch 2.x (authorization code with PKCE S256) and SMART Backend "
            "Services (client credentials with a signed JWT assertion, RS384/ES384). "
            "Discovery: .well-known/smart-configuration",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": smart["authorization_endpoint"],
                    "tokenUrl": smart["token_endpoint"],
                    "refreshUrl": smart["token_endpoint"],
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": smart["token_endpoint"], "scopes": scopes},
            },
        },
        "bearer": {"type": "http", "scheme": "bearer", "description": "A SMART access token"},
    }
