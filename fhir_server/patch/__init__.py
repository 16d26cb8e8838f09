"""PATCH bodies (http.html#patch): JSON Patch (RFC 6902) and FHIRPath Patch (fhirpatch.html).

- ``Patch``                 a patch document; ``patch.apply(resource)`` -> the patched copy
- ``from_http(media, body)``  the patch of a PATCH request, by its Content-Type
- ``from_entry(resource)``  the patch of a Bundle entry: a Binary (JSON Patch) or Parameters
- ``PATCH_FORMATS``         the media types accepted, for the CapabilityStatement
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from fhir_server.outcome import FhirError
from fhir_server.patch.fhirpath_patch import apply_fhirpath_patch, parse_operations
from fhir_server.patch.json_patch import apply_json_patch

JSON_PATCH = "application/json-patch+json"
FHIRPATH_PATCH = "application/fhir+json"
PATCH_FORMATS = (JSON_PATCH, FHIRPATH_PATCH)
# Media types a PATCH body may arrive as: the two formats, FHIR's older JSON name, and
# plain JSON when the body says which format it is (an array, or a Parameters resource).
PATCH_MEDIA_TYPES = frozenset(
    {JSON_PATCH, FHIRPATH_PATCH, "application/json+fhir", "application/json", "text/json"}
)
SUPPORTED = (
    f"send a JSON Patch (an array of operations) as {JSON_PATCH}, "
    f"or a FHIRPath Patch (a Parameters resource) as {FHIRPATH_PATCH}"
)


@dataclass(frozen=True, slots=True)
class Patch:
    format: str  # JSON_PATCH | FHIRPATH_PATCH
    body: Any

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        if self.format == JSON_PATCH:
            return apply_json_patch(resource, self.body)
        return apply_fhirpath_patch(resource, self.body)


def unsupported(media: str) -> FhirError:
    return FhirError.of(
        415, "not-supported", f"PATCH does not take {media or 'a body without a type'}; {SUPPORTED}"
    )


def _is_parameters(body: Any) -> bool:
    return isinstance(body, dict) and body.get("resourceType") == "Parameters"


def from_http(media: str, body: Any) -> Patch:
    """The patch a PATCH request carries. A merge-style object (what some clients send as
    application/json) is no FHIR patch format: 415, naming the two that are."""
    if media == JSON_PATCH:
        return Patch(JSON_PATCH, body)
    if media in (FHIRPATH_PATCH, "application/json+fhir"):
        if not _is_parameters(body):
            raise FhirError.of(
                400, "invalid", f"A {media} PATCH body must be a Parameters resource (FHIRPath Patch)"
            )
        parse_operations(body)  # malformed: 400 now, before the resource is read
        return Patch(FHIRPATH_PATCH, body)
    if media in PATCH_MEDIA_TYPES and isinstance(body, list):
        return Patch(JSON_PATCH, body)
    if media in PATCH_MEDIA_TYPES and _is_parameters(body):
        parse_operations(body)
        return Patch(FHIRPATH_PATCH, body)
    raise unsupported(media)


def from_entry(resource: Any, where: str) -> Patch:
    """The patch of a transaction or batch entry: a Parameters resource (FHIRPath Patch),
    or a Binary whose contentType is application/json-patch+json (JSON Patch)."""
    if _is_parameters(resource):
        parse_operations(resource)
        return Patch(FHIRPATH_PATCH, resource)
    if isinstance(resource, dict) and resource.get("resourceType") == "Binary":
        if resource.get("contentType") != JSON_PATCH:
            raise FhirError.of(
                400, "not-supported", f"A PATCH entry's Binary must have contentType {JSON_PATCH}", where
            )
        try:
            operations = orjson.loads(base64.b64decode(resource.get("data", ""), validate=True))
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise FhirError.of(400, "invalid", f"The JSON Patch Binary cannot be read: {exc}", where) from exc
        return Patch(JSON_PATCH, operations)
    raise FhirError.of(
        400,
        "not-supported",
        "A PATCH entry carries a Parameters resource (FHIRPath Patch) or a Binary with a JSON Patch",
        where,
    )
