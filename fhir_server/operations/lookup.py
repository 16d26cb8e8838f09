"""$lookup (CodeSystem, system level): details of a code: display, designations, properties."""

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
from terminology.parameters import coding, lookup_parameters


def lookup(req: OperationRequest) -> dict[str, Any]:
    args = arguments(req)
    target = instance(req, "CodeSystem")
    with translated_errors():
        system, code, version, _ = coding(args)
        if target is not None:
            system, version = target.get("url"), version or target.get("version")
        if not system or not code:
            raise FhirError.of(400, "required", "$lookup needs system and code (or coding)")
        found = req.server.terminology.lookup(system, code, version, display_language(req, args))
        wanted = [p for p in args.get("property", []) if isinstance(p, str)]
        return lookup_parameters(found, wanted)


OPERATIONS = (
    Operation(
        name="lookup",
        id="CodeSystem-lookup",
        base="http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
        title=Text("Concept look-up", "جست‌وجوی مفهوم"),
        description=Text(
            "Details of a code: its display (in the language asked for), designations and properties.",
            "جزئیات یک کد: نمایش آن (به زبان خواسته‌شده)، نام‌های دیگر و ویژگی‌ها.",
        ),
        levels=("system", "type", "instance"),
        types=("CodeSystem",),
        handler=lookup,
        parameters=(
            In("code", "code", "The code to look up", "کدی که جست‌وجو می‌شود"),
            In("system", "uri", "The code system's URL", "نشانی سامانهٔ کدگذاری"),
            In("version", "string", "The code system's version", "نسخهٔ سامانهٔ کدگذاری"),
            In("coding", "Coding", "system and code as one Coding", "سامانه و کد در یک Coding"),
            In("displayLanguage", "code", "Language of the display (fa, en)", "زبان نمایش (fa یا en)"),
            In("property", "code", "Properties to return", "ویژگی‌هایی که برگردانده شوند", 0, "*"),
            Out("name", "string", "The code system's name", "نام سامانهٔ کدگذاری", 1),
            Out("version", "string", "The code system's version", "نسخهٔ سامانهٔ کدگذاری"),
            Out("display", "string", "The code's display", "نمایش کد", 1),
            Out("definition", "string", "The code's definition", "تعریف کد"),
            Out("abstract", "boolean", "True when the code is abstract", "اگر کد انتزاعی باشد، true"),
            Out(
                "designation",
                None,
                "Other names of the code",
                "نام‌های دیگر کد",
                0,
                "*",
                Out("language", "code", "Its language", "زبان آن"),
                Out("value", "string", "The text", "متن", 1),
            ),
            Out(
                "property",
                None,
                "A property of the code (parent, child, inactive, ...)",
                "یک ویژگی کد (والد، فرزند، غیرفعال و ...)",
                0,
                "*",
                Out("code", "code", "The property's code", "کد ویژگی", 1),
                Out(
                    "value",
                    "Element",
                    "Its value (code, string, boolean, ...)",
                    "مقدار آن (کد، متن، بولی و ...)",
                ),
            ),
        ),
    ),
)
