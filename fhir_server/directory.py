"""The provider registry and patient picker that `smart_auth` asks, answered from the FHIR store."""

from __future__ import annotations

import re
from typing import Any

from fhir_server import authorization
from fhir_server.eprescription import infant
from fhir_server.insurance.acting import organizations_of
from fhir_server.repository import Repository
from fhir_server.storage.base import Store, StoreSession
from smart_auth.directory import PatientSummary, ProviderAccount

NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code"
# PractitionerRole.code (organization type of the workplace) -> the user's role.
ROLE_BY_WORKPLACE = {
    "clinic": "prescriber",
    "hospital": "prescriber",
    "pharmacy": "pharmacist",
    "paraclinic": "paraclinic",
    "insurer": "insurer",
    "ministry": "ministry",
}
PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(PERSIAN_DIGITS))


def _same_mobile(a: str, b: str) -> bool:
    """09121234567, +98 912 123 4567 and 00989121234567 are one number: compare the last 10 digits."""
    da, db = _digits(a), _digits(b)
    return len(da) >= 10 and da[-10:] == db[-10:]


def _display(resource: dict[str, Any]) -> str:
    for name in resource.get("name") or []:
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return f"{resource['resourceType']}/{resource['id']}"


def _summary(patient: dict[str, Any], mother: str | None = None) -> PatientSummary:
    summary: PatientSummary = {"id": patient["id"], "display": _display(patient)}
    mother_code = infant.mother_code(patient)
    if mother_code:
        summary["mother_national_code"] = mother_code
        summary["mother"] = mother or "-"
    code = next(
        (i.get("value") for i in patient.get("identifier") or [] if i.get("system") == NATIONAL_CODE), None
    )
    if code:
        summary["national_code"] = str(code)
    if patient.get("birthDate"):
        summary["birth_date"] = str(patient["birthDate"])
    if patient.get("gender"):
        summary["gender"] = str(patient["gender"])
    return summary


class FhirDirectory:
    """Asked by the sign-in and enrolment pages, before anyone holds a token: the lookups
    run as the server, and only what the pages need leaves (accounts, names)."""

    def __init__(self, store: Store, repo: Repository) -> None:
        self.store = store
        self.repo = repo

    def find_practitioner(self, national_code: str, mobile: str) -> list[ProviderAccount]:
        with self.store.session() as s:
            practitioners = self._search(
                s, "Practitioner", [("identifier", f"{NATIONAL_CODE}|{national_code}")]
            )
            accounts: list[ProviderAccount] = []
            for pr in practitioners:
                phones = [
                    t.get("value", "") for t in pr.get("telecom") or [] if t.get("system") in ("phone", "sms")
                ]
                if any(_same_mobile(p, mobile) for p in phones):
                    accounts += self._accounts(s, pr)
        return accounts

    def _accounts(self, s: StoreSession, practitioner: dict[str, Any]) -> list[ProviderAccount]:
        ref = f"Practitioner/{practitioner['id']}"
        roles = self._search(s, "PractitionerRole", [("practitioner", ref)])
        accounts: list[ProviderAccount] = []
        for role in roles:
            codes = [c.get("code") for cc in role.get("code") or [] for c in cc.get("coding") or []]
            kind = next((ROLE_BY_WORKPLACE[c] for c in codes if c in ROLE_BY_WORKPLACE), None)
            if kind is None:
                continue
            account: ProviderAccount = {
                "reference": f"PractitionerRole/{role['id']}",
                "display": _display(practitioner),
                "role": kind,
            }
            org = (role.get("organization") or {}).get("display")
            if org:
                account["organization"] = org
            accounts.append(account)
        return accounts

    def search_patients(self, text: str) -> list[PatientSummary]:
        """By name, or by national code: the person and the infants (without a birth
        certificate) registered under it as their mother's."""
        text = text.strip()
        if not text:
            return []
        code = _digits(text)
        with self.store.session() as s:
            if code == text.translate(PERSIAN_DIGITS):
                found = self._search(s, "Patient", [("identifier", f"{NATIONAL_CODE}|{code}")])
                found += self._search(s, "Patient", [("mother-national-code", f"{NATIONAL_CODE}|{code}")])
            else:
                found = self._search(s, "Patient", [("name", text)])
            return [self._described(s, p) for p in found]

    def patient(self, patient_id: str) -> PatientSummary | None:
        with self.store.session() as s:
            found = self._search(s, "Patient", [("_id", patient_id)])
            return self._described(s, found[0]) if found else None

    def workplaces(self, fhir_user: str) -> list[str]:
        with self.store.session() as s:
            return organizations_of(self.repo, s, fhir_user)

    def _described(self, s: StoreSession, patient: dict[str, Any]) -> PatientSummary:
        def mother(code: str) -> dict[str, Any] | None:
            found = self._search(s, "Patient", [("identifier", f"{NATIONAL_CODE}|{code}")])
            return found[0] if len(found) == 1 else None

        return _summary(patient, infant.mother_name(patient, mother))

    def _search(self, s: StoreSession, type_: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        with authorization.as_system():
            return self.repo.find(s, type_, query, 20)
