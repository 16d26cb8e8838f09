"""ValueSet/$expand: filter (Persian or Latin, normalised), count/offset paging,
activeOnly, displayLanguage, includeDesignations."""

from __future__ import annotations

from typing import Any

from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.operations.terminology_support import (
    arguments,
    display_language,
    instance,
    translated_errors,
)
from fhir_server.outcome import FhirError
from terminology.parameters import boolean, expansion_valueset, integer, one, text

DEFAULT_COUNT = 1000


def expand(req: OperationRequest) -> dict[str, Any]:
    args = arguments(req)
    target = instance(req, "ValueSet")
    svc = req.server.terminology
    with translated_errors():
        valueset: dict[str, Any] | None = target or one(args, "valueSet")
        if valueset is None:
            url = text(args, "url")
            if url is None:
                raise FhirError.of(400, "required", "ValueSet/$expand needs url, valueSet or an id")
            found = svc.resource("ValueSet", url, text(args, "valueSetVersion"))
            if found is None:
                raise FhirError.of(404, "not-found", f"Unknown value set {url}")
            valueset = found
        count = integer(args, "count")
        page = svc.expand(
            valueset,
            filter=text(args, "filter"),
            offset=integer(args, "offset") or 0,
            count=DEFAULT_COUNT if count is None else count,
            active_only=boolean(args, "activeOnly"),
        )
        return expansion_valueset(
            valueset, page, display_language(req, args), boolean(args, "includeDesignations")
        )


OPERATIONS = (
    Operation(
        name="expand",
        id="ValueSet-expand",
        base="http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
        title=Text("Value set expansion", "فهرست کردن مجموعهٔ مقادیر"),
        description=Text(
            "The codes of a value set, filtered by text (Persian or Latin) and paged with offset and count.",
            "کدهای یک مجموعهٔ مقادیر، پالایش‌شده با متن (فارسی یا لاتین) و صفحه‌بندی‌شده با offset و count.",
        ),
        levels=("type", "instance"),
        types=("ValueSet",),
        handler=expand,
        parameters=(
            In("url", "uri", "The value set's URL", "نشانی مجموعهٔ مقادیر"),
            In("valueSet", "ValueSet", "The value set itself", "خود مجموعهٔ مقادیر"),
            In("valueSetVersion", "string", "The value set's version", "نسخهٔ مجموعهٔ مقادیر"),
            In(
                "filter",
                "string",
                "Text the codes' displays must contain",
                "متنی که نمایش کدها باید داشته باشد",
            ),
            In("offset", "integer", "Codes to skip (paging)", "تعداد کدهایی که رد می‌شوند (صفحه‌بندی)"),
            In("count", "integer", "Codes to return at most", "بیشترین تعداد کدهای برگشتی"),
            In("activeOnly", "boolean", "Only active codes", "فقط کدهای فعال"),
            In("displayLanguage", "code", "Language of the displays (fa, en)", "زبان نمایش‌ها (fa یا en)"),
            In("includeDesignations", "boolean", "Include other names", "نام‌های دیگر هم بیاید"),
            Out("return", "ValueSet", "The value set with its expansion", "مجموعهٔ مقادیر با فهرست کدها", 1),
        ),
    ),
)
