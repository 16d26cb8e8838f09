"""JSON Patch (RFC 6902) on a stored resource."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from fhir_server.outcome import FhirError


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list) or not operations:
        raise FhirError.of(400, "invalid", "A JSON Patch body must be a non-empty array of operations")
    try:
        patched = jsonpatch.JsonPatch(operations).apply(copy.deepcopy(resource))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise FhirError.of(422, "processing", f"JSON Patch failed: {exc}") from exc
    except (TypeError, KeyError, ValueError) as exc:
        raise FhirError.of(400, "invalid", f"Malformed JSON Patch: {exc}") from exc
    if not isinstance(patched, dict):
        raise FhirError.of(422, "processing", "JSON Patch must leave a resource object")
    for key in ("resourceType", "id"):
        if patched.get(key) != resource.get(key):
            raise FhirError.of(422, "processing", f"JSON Patch may not change {key}")
    return patched
