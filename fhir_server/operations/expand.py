"""ValueSet/$expand: filter (Persian or Latin, normalised), count/offset paging,
activeOnly, displayLanguage, includeDesignations."""

from __future__ import annotations

from typing import Any

from flask import Response

from fhir_server.api.http import fhir_response
from fhir_server.operations.terminology_support import (
    arguments,
    display_language,
    instance,
    require_type,
    service,
    translated_errors,
)
from fhir_server.outcome import FhirError
from terminology.parameters import boolean, expansion_valueset, integer, one, text

DEFAULT_COUNT = 1000


def expand_operation(type_: str | None, id_: str | None) -> Response:
    require_type("expand", type_, ("ValueSet",))
    args = arguments()
    target = instance("ValueSet", type_, id_)
    with translated_errors():
        valueset: dict[str, Any] | None = target or one(args, "valueSet")
        if valueset is None:
            url = text(args, "url")
            if url is None:
                raise FhirError.of(400, "required", "ValueSet/$expand needs url, valueSet or an id")
            found = service().resource("ValueSet", url, text(args, "valueSetVersion"))
            if found is None:
                raise FhirError.of(404, "not-found", f"Unknown value set {url}")
            valueset = found
        count = integer(args, "count")
        page = service().expand(
            valueset,
            filter=text(args, "filter"),
            offset=integer(args, "offset") or 0,
            count=DEFAULT_COUNT if count is None else count,
            active_only=boolean(args, "activeOnly"),
        )
        body = expansion_valueset(
            valueset, page, display_language(args), boolean(args, "includeDesignations")
        )
        return fhir_response(body)
