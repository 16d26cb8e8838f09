"""The CapabilityStatement at /metadata (what this server really does) and the
TerminologyCapabilities at /metadata?mode=terminology."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import orjson
from flask import current_app

from fhir_server import search
from fhir_server.api.context import ctx
from fhir_server.openapi import openapi_document
from fhir_server.operations import REGISTRY, Operation
from fhir_server.patch import PATCH_FORMATS
from fhir_server.repository.server_records import server_written
from fhir_server.validation.profiles.registry import structure_definitions
from terminology.service import TerminologyService

SOFTWARE_VERSION = "0.1.0"
IMPLEMENTATION_GUIDE = "http://noskhe.ir/fhir/ImplementationGuide/ir-eprescription"
TYPE_INTERACTIONS = [
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
]


def openapi_json(base_url: str, only: frozenset[str] | None = None) -> bytes:
    """The OpenAPI document of what the CapabilityStatement says (`only`: about these
    types), with the SMART security schemes when authorization is on."""
    smart = current_app.extensions.get("smart_auth")
    auth_on = bool(current_app.config.get("NOSKHE_AUTH_ENABLED"))
    config = smart.smart_configuration(base_url) if smart is not None and auth_on else None
    return _openapi(base_url, ctx().resource_types, orjson.dumps(config), only)


@lru_cache(maxsize=16)  # any selection may be asked for: keep a few
def _openapi(base_url: str, types: frozenset[str], smart: bytes, only: frozenset[str] | None) -> bytes:
    # made once per base URL, security and selection (all types: 1.4 MB, about a second)
    return orjson.dumps(openapi_document(_build(base_url, types), base_url, orjson.loads(smart), only))


def capability_statement(base_url: str) -> dict[str, Any]:
    statement = _build(base_url, ctx().resource_types)
    smart = current_app.extensions.get("smart_auth")
    if smart is None or not current_app.config.get("NOSKHE_AUTH_ENABLED"):
        return statement
    rest = {**statement["rest"][0], "security": smart.capability_security(base_url)}
    return {**statement, "rest": [rest]}


@cache
def _build(base_url: str, types: frozenset[str]) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "Noskhe",
        "kind": "instance",
        # $export at system, Patient and Group level as the Bulk Data IG's server statement says
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "software": {"name": "Noskhe", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Noskhe FHIR R4 server", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/json"],
        "patchFormat": list(PATCH_FORMATS),
        "implementationGuide": [IMPLEMENTATION_GUIDE],
        "rest": [
            {
                "mode": "server",
                "resource": [_resource(t) for t in sorted(types)],
                "interaction": [
                    {"code": "transaction"},
                    {"code": "batch"},
                    {"code": "search-system"},
                    {"code": "history-system"},
                ],
                "searchParam": search.capability_search_params("Resource"),
                "operation": _operations(REGISTRY.at("system")),
            }
        ],
    }


def _supported(type_: str) -> dict[str, list[str]]:
    """supportedProfile: the IR profiles on the type, if any."""
    urls = [
        url
        for url, sd in sorted(structure_definitions().items())
        if sd.get("type") == type_ and sd.get("kind") == "resource" and sd.get("derivation") == "constraint"
    ]
    return {"supportedProfile": urls} if urls else {}


def _resource(type_: str) -> dict[str, Any]:
    only_read = server_written().get(type_)
    writes: dict[str, Any] = {
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "full-support",
        "conditionalUpdate": True,
        "conditionalDelete": "single",
    }
    if only_read is not None:  # written by the server alone
        writes = {
            "updateCreate": False,
            "conditionalRead": "full-support",
            "conditionalDelete": "not-supported",
        }
    return {
        "type": type_,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{type_}",
        **_supported(type_),
        "interaction": [{"code": code} for code in (only_read or TYPE_INTERACTIONS)],
        "versioning": "versioned-update",
        "readHistory": True,
        **writes,
        "referencePolicy": ["literal", "logical"],
        "searchInclude": search.search_includes(type_),
        "searchRevInclude": search.search_revincludes(type_),
        "searchParam": search.capability_search_params(type_),
        "operation": _operations(REGISTRY.for_type(type_)),
    }


def _operations(ops: list[Operation]) -> list[dict[str, str]]:
    return [{"name": op.name, "definition": op.url} for op in ops]


def terminology_capabilities(base_url: str, svc: TerminologyService) -> dict[str, Any]:
    """What the terminology service does (metadata?mode=terminology): its code systems and
    the $expand, $validate-code and $translate behaviour."""
    systems = []
    for url in svc.urls("CodeSystem"):
        versions = svc.versions("CodeSystem", url)
        found = svc.resource("CodeSystem", url)
        if not versions and found is not None and found.get("version"):
            versions = [str(found["version"])]
        entry: dict[str, Any] = {"uri": url}
        if versions:
            entry["version"] = [
                {"code": v, "isDefault": i == len(versions) - 1} for i, v in enumerate(versions)
            ]
        systems.append(entry)
    return {
        "resourceType": "TerminologyCapabilities",
        "status": "active",
        "date": "2026-11-27",
        "publisher": "Noskhe",
        "kind": "instance",
        "software": {"name": "Noskhe", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Noskhe terminology service", "url": base_url},
        "lockedDate": False,
        "codeSystem": systems,
        "expansion": {
            "hierarchical": False,
            "paging": True,
            "incomplete": False,
            "parameter": [
                {"name": n}
                for n in ("filter", "count", "offset", "activeOnly", "displayLanguage", "includeDesignations")
            ],
            "textFilter": "Words of the display, Persian or Latin, normalised (ی/ي, ک/ك, digits, ZWNJ).",
        },
        "codeSearch": "all",
        "validateCode": {"translations": False},
        "translation": {"needsMap": True},
        "closure": {"translation": False},
    }
