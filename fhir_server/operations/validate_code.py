"""$validate-code on CodeSystem and ValueSet (type and instance level)."""

from __future__ import annotations

from typing import Any

from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Param, Text
from fhir_server.operations.terminology_support import (
    arguments,
    display_language,
    instance,
    translated_errors,
)
from fhir_server.outcome import FhirError
from terminology.parameters import coding, one, text, validation_parameters


def validate_code(req: OperationRequest) -> dict[str, Any]:
    args = arguments(req)
    kind = str(req.type)
    target = instance(req, kind)
    svc = req.server.terminology
    with translated_errors():
        system, code, version, display = coding(args)
        language = display_language(req, args)
        if kind == "CodeSystem":
            if target is not None:
                system = target.get("url")
            system = system or text(args, "url")
            result = svc.validate_code(
                system=system, code=code, version=version, display=display, language=language
            )
        else:
            valueset: str | dict[str, Any] | None = target or one(args, "valueSet") or text(args, "url")
            if valueset is None:
                raise FhirError.of(400, "required", "ValueSet/$validate-code needs url, valueSet or an id")
            result = svc.validate_code(
                valueset=valueset,
                system=system,
                code=code,
                version=version,
                display=display,
                language=language,
            )
        return validation_parameters(result)


_CODE_INPUTS = (
    In("code", "code", "The code to check", "کدی که بررسی می‌شود"),
    In("system", "uri", "The code's system", "سامانهٔ کد"),
    In("version", "string", "The code system's version", "نسخهٔ سامانهٔ کدگذاری"),
    In("display", "string", "A display to check as well", "نمایشی که آن هم بررسی شود"),
    In("coding", "Coding", "The code as a Coding", "کد به صورت Coding"),
    In("displayLanguage", "code", "Language of the display (fa, en)", "زبان نمایش (fa یا en)"),
)
_RESULT: tuple[Param, ...] = (
    Out("result", "boolean", "True when the code is valid", "اگر کد معتبر باشد، true", 1),
    Out("message", "string", "Why not, or a warning", "دلیل نامعتبر بودن یا یک هشدار"),
    Out("display", "string", "The code's display", "نمایش کد"),
    Out("code", "code", "The code checked", "کد بررسی‌شده"),
    Out("system", "uri", "Its system", "سامانهٔ آن"),
    Out("version", "string", "The version of the system", "نسخهٔ سامانه"),
    Out("inactive", "boolean", "True when the code is no longer active", "اگر کد دیگر فعال نباشد، true"),
)

OPERATIONS = (
    Operation(
        name="validate-code",
        id="CodeSystem-validate-code",
        base="http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code",
        title=Text("Is a code in a code system?", "آیا کد در سامانهٔ کدگذاری هست؟"),
        description=Text(
            "Checks that a code (and optionally its display) is defined by a code system.",
            "بررسی می‌کند که کد (و در صورت نیاز نمایش آن) در سامانهٔ کدگذاری تعریف شده باشد.",
        ),
        levels=("type", "instance"),
        types=("CodeSystem",),
        handler=validate_code,
        parameters=(
            In("url", "uri", "The code system's URL", "نشانی سامانهٔ کدگذاری"),
            *_CODE_INPUTS,
            *_RESULT,
        ),
    ),
    Operation(
        name="validate-code",
        id="ValueSet-validate-code",
        base="http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
        title=Text("Is a code in a value set?", "آیا کد در مجموعهٔ مقادیر هست؟"),
        description=Text(
            "Checks that a code is a member of a value set (by url, in the body, or the instance called).",
            "بررسی می‌کند که کد عضو مجموعهٔ مقادیر باشد (با نشانی، در بدنه، یا نمونهٔ فراخوانده‌شده).",
        ),
        levels=("type", "instance"),
        types=("ValueSet",),
        handler=validate_code,
        parameters=(
            In("url", "uri", "The value set's URL", "نشانی مجموعهٔ مقادیر"),
            In("valueSet", "ValueSet", "The value set itself", "خود مجموعهٔ مقادیر"),
            *_CODE_INPUTS,
            *_RESULT,
        ),
    ),
)
