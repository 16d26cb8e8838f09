"""CoverageEligibilityRequest/$eligibility (استحقاق‌سنجی), answered synchronously.

POST a CoverageEligibilityRequest (patient, optionally insurance.coverage and
servicedDate); the server stores it with its CoverageEligibilityResponse, checked
against the insured registry, and answers with the response: covered or not, valid
until (benefitPeriod), the coverage (relationship, insurer).

The caller needs create on CoverageEligibilityRequest; the response is the server's
answer, written by the server (a prescriber or receptionist may only read responses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_server import authorization
from fhir_server.eprescription import eligibility
from fhir_server.eprescription.items import ref_id
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError


def check_eligibility(req: OperationRequest) -> dict[str, Any]:
    body = req.require_body("a CoverageEligibilityRequest")
    if not isinstance(body, dict) or body.get("resourceType") != "CoverageEligibilityRequest":
        raise FhirError.of(400, "invalid", "$eligibility takes a CoverageEligibilityRequest")
    patient = ref_id(body.get("patient"), "Patient")
    if patient is None:
        raise FhirError.of(
            422, "required", "patient must reference a Patient", "CoverageEligibilityRequest.patient"
        )
    coverage = next((ref_id(i.get("coverage"), "Coverage") for i in body.get("insurance") or []), None)
    on = date.fromisoformat(str(body.get("servicedDate") or date.today().isoformat())[:10])
    c = req.server
    with c.store.session(write=True) as s:
        stored = c.repo.create(s, "CoverageEligibilityRequest", body)
        result = eligibility.check(c.repo, s, patient, on, coverage)
        response = eligibility.respond(body, result, stored.version.id)
        with authorization.as_system():  # the response is the server's answer
            written = c.repo.create(s, "CoverageEligibilityResponse", response)
    return written.resource or {}


OPERATIONS = (
    Operation(
        name="eligibility",
        title=Text("Eligibility check", "استحقاق‌سنجی"),
        description=Text(
            "Checks a patient's insurance against the insured registry and answers at once with the "
            "stored CoverageEligibilityResponse: covered or not, valid until, the coverage.",
            "بیمهٔ بیمار را با فهرست بیمه‌شدگان می‌سنجد و بی‌درنگ CoverageEligibilityResponse ذخیره‌شده را "
            "برمی‌گرداند: پوشش دارد یا نه، تا چه تاریخی، کدام بیمه.",
        ),
        levels=("system", "type"),
        types=("CoverageEligibilityRequest",),
        affects_state=True,
        methods=("POST",),
        handler=check_eligibility,
        parameters=(
            In(
                "resource",
                "CoverageEligibilityRequest",
                "The request (patient, optionally insurance.coverage and servicedDate); posted as the body",
                "درخواست (بیمار و در صورت نیاز insurance.coverage و servicedDate)؛ در بدنه فرستاده می‌شود",
                1,
            ),
            Out(
                "return",
                "CoverageEligibilityResponse",
                "The server's answer, as stored",
                "پاسخ کارساز، همان‌گونه که ذخیره شد",
                1,
            ),
        ),
    ),
)
