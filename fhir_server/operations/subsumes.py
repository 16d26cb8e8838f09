"""CodeSystem/$subsumes: is codeA an ancestor of codeB (or the reverse) in the is-a tree?"""

from __future__ import annotations

from typing import Any

from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.operations.terminology_support import arguments, instance, translated_errors
from fhir_server.outcome import FhirError
from terminology.parameters import Args, one, subsumes_parameters, text


def subsumes(req: OperationRequest) -> dict[str, Any]:
    args = arguments(req)
    target = instance(req, "CodeSystem")
    with translated_errors():
        system = target.get("url") if target is not None else text(args, "system")
        code_a, system_a = _code(args, "A")
        code_b, system_b = _code(args, "B")
        system = system or system_a or system_b
        if not system or not code_a or not code_b:
            raise FhirError.of(
                400, "required", "$subsumes needs system, codeA and codeB (or codingA/codingB)"
            )
        if any(s not in (None, system) for s in (system_a, system_b)):
            raise FhirError.of(400, "invalid", "codingA and codingB must be in the same system")
        outcome = req.server.terminology.subsumes(system, code_a, code_b, text(args, "version"))
        return subsumes_parameters(outcome)


def _code(args: Args, which: str) -> tuple[str | None, str | None]:
    c = one(args, f"coding{which}")
    if isinstance(c, dict):
        return c.get("code"), c.get("system")
    return text(args, f"code{which}"), None


OPERATIONS = (
    Operation(
        name="subsumes",
        id="CodeSystem-subsumes",
        base="http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes",
        title=Text("Subsumption testing", "آزمون زیرمجموعه بودن"),
        description=Text(
            "Whether codeA subsumes codeB (or the reverse) in a hierarchical code system such as ATC.",
            "آیا codeA در سامانه‌ای سلسله‌مراتبی مانند ATC شامل codeB است (یا برعکس).",
        ),
        levels=("type", "instance"),
        types=("CodeSystem",),
        handler=subsumes,
        parameters=(
            In("codeA", "code", "The first code", "کد نخست"),
            In("codeB", "code", "The second code", "کد دوم"),
            In("system", "uri", "The code system", "سامانهٔ کدگذاری"),
            In("version", "string", "The code system's version", "نسخهٔ سامانهٔ کدگذاری"),
            In("codingA", "Coding", "The first code as a Coding", "کد نخست به صورت Coding"),
            In("codingB", "Coding", "The second code as a Coding", "کد دوم به صورت Coding"),
            Out(
                "outcome",
                "code",
                "equivalent, subsumes, subsumed-by or not-subsumed",
                "equivalent، subsumes، subsumed-by یا not-subsumed",
                1,
            ),
        ),
    ),
)
