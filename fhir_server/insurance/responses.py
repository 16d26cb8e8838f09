"""The ClaimResponse of an adjudicated claim: per item the R4 adjudication categories
(submitted, eligible, eligpercent, benefit, copay; the first finding as the reason of
`eligible`), every finding as a note in Persian and in English, the totals, and the
result of the claim as a whole (extension claim-result: accepted, reduced or denied).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.insurance import reasons
from fhir_server.insurance.adjudication import Finding, LineResult
from fhir_server.insurance.money import money

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
RESULT_EXT = "http://noskhe.ir/fhir/StructureDefinition/claim-result"
RESULT_SYSTEM = "http://noskhe.ir/fhir/CodeSystem/claim-result"
LANGUAGE = "urn:ietf:bcp:47"
CATEGORIES = ("submitted", "eligible", "benefit", "copay")
DISPOSITION = {
    "accepted": ("Accepted as claimed", "پذیرفته بدون کسور"),
    "reduced": ("Accepted with reductions", "پذیرفته با کسور"),
    "denied": ("Denied", "رد شده"),
}


def result_of(lines: Sequence[LineResult]) -> str:
    """accepted | reduced | denied, for the claim as a whole."""
    submitted = sum(line.submitted for line in lines)
    eligible = sum(line.eligible for line in lines)
    if (submitted > 0 and eligible == 0) or all(line.denied for line in lines):
        return "denied"
    return "reduced" if eligible < submitted else "accepted"


def claim_result(response: dict[str, Any]) -> str | None:
    for ext in response.get("extension") or []:
        if ext.get("url") == RESULT_EXT:
            return str((ext.get("valueCoding") or {}).get("code"))
    return None


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": ADJUDICATION, "code": code}]}


def _adjudication(line: LineResult) -> list[dict[str, Any]]:
    eligible: dict[str, Any] = {"category": _category("eligible"), "amount": money(line.eligible)}
    if line.findings:
        eligible["reason"] = reasons.reason(line.findings[0].code)
    return [
        {"category": _category("submitted"), "amount": money(line.submitted)},
        eligible,
        {"category": _category("eligpercent"), "value": line.percent},
        {"category": _category("benefit"), "amount": money(line.benefit)},
        {"category": _category("copay"), "amount": money(line.copay)},
    ]


def _notes(findings: Sequence[Finding], first: int) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for finding in findings:
        for lang, text in reasons.sentences(finding).items():
            notes.append(
                {
                    "number": first + len(notes),
                    "type": "display",
                    "text": text,
                    "language": {"coding": [{"system": LANGUAGE, "code": lang}]},
                }
            )
    return notes


def claim_response(
    claim: dict[str, Any], lines: Sequence[LineResult], created: str, extra_notes: Sequence[Finding] = ()
) -> dict[str, Any]:
    """The ClaimResponse to `claim` (stored, with its id) for the adjudicated `lines`;
    `extra_notes`: findings about the claim as a whole (a reviewer's adjustment)."""
    notes: list[dict[str, Any]] = []
    out_items = []
    for line in lines:
        mine = _notes(line.findings, len(notes) + 1)
        notes += mine
        entry: dict[str, Any] = {"itemSequence": line.sequence, "adjudication": _adjudication(line)}
        if mine:
            entry["noteNumber"] = [n["number"] for n in mine]
        out_items.append(entry)
    notes += _notes(extra_notes, len(notes) + 1)
    result = result_of(lines)
    en, fa = DISPOSITION[result]
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "extension": [
            *[e for e in claim.get("extension") or [] if e.get("url") != RESULT_EXT],
            {"url": RESULT_EXT, "valueCoding": {"system": RESULT_SYSTEM, "code": result, "display": en}},
        ],
        "status": "active",
        "type": claim["type"],
        "use": "claim",
        "patient": claim["patient"],
        "created": created,
        "insurer": claim["insurer"],
        "requestor": claim["provider"],
        "request": {"reference": f"Claim/{claim['id']}"},
        "outcome": "complete",
        "disposition": f"{fa} / {en}",
        "item": out_items,
        "total": [
            {"category": _category(code), "amount": money(sum(getattr(line, code) for line in lines))}
            for code in CATEGORIES
        ],
    }
    if notes:
        response["processNote"] = notes
    return response


def total(response: dict[str, Any], category: str) -> int:
    """A total of a ClaimResponse (rials), 0 when absent."""
    for entry in response.get("total") or []:
        codes = {c.get("code") for c in (entry.get("category") or {}).get("coding") or []}
        if category in codes:
            return int((entry.get("amount") or {}).get("value") or 0)
    return 0
