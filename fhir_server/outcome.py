"""OperationOutcome issues and the exception that carries them to the HTTP layer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: severity, issue-type code, text, FHIRPath locations."""

    severity: str  # fatal | error | warning | information
    code: str  # http://hl7.org/fhir/issue-type: invalid, structure, required, value, ...
    diagnostics: str
    expression: tuple[str, ...] = ()

    def to_fhir(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code}
        if self.diagnostics:
            out["diagnostics"] = self.diagnostics
        if self.expression:
            out["expression"] = list(self.expression)
        return out


def error(code: str, diagnostics: str, *expression: str) -> Issue:
    return Issue("error", code, diagnostics, tuple(expression))


def warning(code: str, diagnostics: str, *expression: str) -> Issue:
    return Issue("warning", code, diagnostics, tuple(expression))


def information(code: str, diagnostics: str, *expression: str) -> Issue:
    return Issue("information", code, diagnostics, tuple(expression))


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    listed = [i.to_fhir() for i in issues]
    if not listed:
        listed = [{"severity": "information", "code": "informational", "diagnostics": "All OK"}]
    return {"resourceType": "OperationOutcome", "issue": listed}


_SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


def most_severe_first(issues: Iterable[Issue]) -> list[Issue]:
    """Errors before warnings (a refusal reads its reason first), otherwise in order."""
    return sorted(issues, key=lambda i: _SEVERITY_ORDER.get(i.severity, 4))


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(i.severity in ("error", "fatal") for i in issues)


@dataclass
class FhirError(Exception):
    """Raised anywhere below the API; rendered as an OperationOutcome with `status`."""

    status: int
    issues: list[Issue]
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues)

    @classmethod
    def of(cls, status: int, code: str, diagnostics: str, *expression: str) -> FhirError:
        return cls(status, [error(code, diagnostics, *expression)])
