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

from flask import Response, request

from fhir_server import authorization
from fhir_server.api.context import ctx
from fhir_server.api.http import fhir_response, read_json_body
from fhir_server.eprescription import eligibility
from fhir_server.eprescription.items import ref_id
from fhir_server.outcome import FhirError


def eligibility_operation(type_: str | None, id_: str | None) -> Response:
    if request.method != "POST" or type_ not in (None, "CoverageEligibilityRequest"):
        raise FhirError.of(
            405,
            "not-supported",
            "POST a CoverageEligibilityRequest to CoverageEligibilityRequest/$eligibility",
        )
    body = read_json_body()
    if not isinstance(body, dict) or body.get("resourceType") != "CoverageEligibilityRequest":
        raise FhirError.of(400, "invalid", "$eligibility takes a CoverageEligibilityRequest")
    patient = ref_id(body.get("patient"), "Patient")
    if patient is None:
        raise FhirError.of(
            422, "required", "patient must reference a Patient", "CoverageEligibilityRequest.patient"
        )
    coverage = next((ref_id(i.get("coverage"), "Coverage") for i in body.get("insurance") or []), None)
    on = date.fromisoformat(str(body.get("servicedDate") or date.today().isoformat())[:10])
    c = ctx()
    with c.store.session(write=True) as s:
        stored = c.repo.create(s, "CoverageEligibilityRequest", body)
        result = eligibility.check(c.repo, s, patient, on, coverage)
        response = eligibility.respond(body, result, stored.version.id)
        with authorization.as_system():  # the response is the server's answer
            written = c.repo.create(s, "CoverageEligibilityResponse", response)
    return fhir_response(written.resource, 200)
