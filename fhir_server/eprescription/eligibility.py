"""Eligibility (استحقاق‌سنجی) against the insured registry: the Coverage resources
insurers load in bulk. Synchronous: a request in, a CoverageEligibilityResponse out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from fhir_server.eprescription.items import ref_id
from fhir_server.eprescription.store_access import find, read_shared
from fhir_server.repository.meta import new_id, now_instant
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

INSURER_SYSTEM = "http://noskhe.ir/fhir/CodeSystem/insurer"


@dataclass(frozen=True)
class Eligibility:
    covered: bool
    coverage: dict[str, Any] | None = None

    @property
    def insurer(self) -> str | None:
        if not self.covered or self.coverage is None:
            return None
        return insurer_code(self.coverage)

    @property
    def valid_until(self) -> str | None:
        return ((self.coverage or {}).get("period") or {}).get("end")


def insurer_code(coverage: dict[str, Any]) -> str | None:
    for coding in (coverage.get("type") or {}).get("coding") or []:
        if coding.get("system") == INSURER_SYSTEM:
            return str(coding.get("code"))
    return None


def valid_on(coverage: dict[str, Any], patient_id: str, on: date) -> bool:
    period = coverage.get("period") or {}
    day = on.isoformat()
    return (
        coverage.get("status") == "active"
        and ref_id(coverage.get("beneficiary"), "Patient") == patient_id
        and insurer_code(coverage) is not None
        and str(period.get("start", "0000"))[:10] <= day <= str(period.get("end", "9999"))[:10]
    )


def check(
    repo: Repository, s: StoreSession, patient_id: str, on: date, coverage_id: str | None = None
) -> Eligibility:
    """The named Coverage if it is valid, else any valid Coverage of the patient."""
    named = read_shared(s, "Coverage", coverage_id)
    if named is not None and valid_on(named, patient_id, on):
        return Eligibility(True, named)
    for coverage in find(
        repo, s, "Coverage", [("beneficiary", f"Patient/{patient_id}"), ("status", "active")]
    ):
        if valid_on(coverage, patient_id, on):
            return Eligibility(True, coverage)
    return Eligibility(False, named)


def respond(request: dict[str, Any], result: Eligibility, request_id: str) -> dict[str, Any]:
    """The CoverageEligibilityResponse for a processed request."""
    insurance: dict[str, Any] = {"inforce": result.covered}
    if result.coverage is not None:
        insurance["coverage"] = {"reference": f"Coverage/{result.coverage['id']}"}
        if result.coverage.get("period"):
            insurance["benefitPeriod"] = result.coverage["period"]
    response: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "id": new_id(),
        "status": "active",
        "purpose": request.get("purpose") or ["validation"],
        "patient": request.get("patient"),
        "created": now_instant(),
        "request": {"reference": f"CoverageEligibilityRequest/{request_id}"},
        "outcome": "complete",
        "disposition": "covered" if result.covered else "not covered",
        "insurer": _insurer_ref(request, result),
    }
    if result.coverage is not None:
        response["insurance"] = [insurance]
    else:
        response["error"] = [
            {"code": {"text": "No valid insurance found for the patient (بیمه معتبر یافت نشد)"}}
        ]
    return response


def _insurer_ref(request: dict[str, Any], result: Eligibility) -> dict[str, Any]:
    if result.coverage is not None:
        payor = (result.coverage.get("payor") or [{}])[0]
        return {**payor, "identifier": {"system": INSURER_SYSTEM, "value": insurer_code(result.coverage)}}
    return request.get("insurer") or {"display": "unknown"}
