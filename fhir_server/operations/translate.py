"""ConceptMap/$translate: one map (url or instance) or all, chaining maps to reach a
target system (IRC -> generic -> ATC)."""

from __future__ import annotations

from typing import Any

from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.operations.terminology_support import arguments, instance, translated_errors
from fhir_server.outcome import FhirError
from terminology.parameters import boolean, coding, text, translate_parameters


def translate(req: OperationRequest) -> dict[str, Any]:
    args = arguments(req)
    target_map = instance(req, "ConceptMap")
    with translated_errors():
        system, code, _, _ = coding(args)
        if not system or not code:
            raise FhirError.of(400, "required", "$translate needs system and code (or coding)")
        url = target_map.get("url") if target_map is not None else text(args, "url")
        found = req.server.terminology.translate(
            system=system,
            code=code,
            target=text(args, "targetsystem"),
            url=url,
            reverse=boolean(args, "reverse"),
        )
        return translate_parameters(found)


OPERATIONS = (
    Operation(
        name="translate",
        id="ConceptMap-translate",
        base="http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
        title=Text("Concept translation", "برگردان کد"),
        description=Text(
            "Maps a code to another system with the concept maps (IRC to generic code to ATC).",
            "یک کد را با نقشه‌های مفهومی به سامانهٔ دیگری برمی‌گرداند (IRC به کد ژنریک به ATC).",
        ),
        levels=("type", "instance"),
        types=("ConceptMap",),
        handler=translate,
        parameters=(
            In("url", "uri", "The concept map to use", "نقشهٔ مفهومی مورد استفاده"),
            In("code", "code", "The code to translate", "کدی که برگردانده می‌شود"),
            In("system", "uri", "The code's system", "سامانهٔ کد"),
            In("coding", "Coding", "The code as a Coding", "کد به صورت Coding"),
            In("targetsystem", "uri", "The system to translate into", "سامانهٔ مقصد"),
            In("reverse", "boolean", "Translate from target to source", "برگردان از مقصد به مبدأ"),
            Out("result", "boolean", "True when a mapping was found", "اگر نگاشتی پیدا شد، true", 1),
            Out("message", "string", "Why none was found", "دلیل پیدا نشدن"),
            Out(
                "match",
                None,
                "A mapping found",
                "نگاشت پیدا‌شده",
                0,
                "*",
                Out("equivalence", "code", "How close the match is", "میزان هم‌ارزی"),
                Out("concept", "Coding", "The code in the target system", "کد در سامانهٔ مقصد"),
                Out("source", "uri", "The concept map that gave it", "نقشهٔ مفهومی منبع"),
            ),
        ),
    ),
)
