"""What the authorization server needs to know from the FHIR data, as a small interface.

The FHIR side implements it over its store (`smart_auth` never imports `fhir_server`).
"""

from __future__ import annotations

from typing import Protocol, TypedDict


class _AccountRequired(TypedDict):
    reference: str  # "Practitioner/1" or "PractitionerRole/7": becomes the user's fhirUser
    display: str  # shown when the person picks one of several accounts
    role: str  # prescriber | pharmacist | paraclinic | insurer | admin


class ProviderAccount(_AccountRequired, total=False):
    organization: str  # workplace display (clinic, pharmacy, paraclinic)


class _PatientRequired(TypedDict):
    id: str
    display: str


class PatientSummary(_PatientRequired, total=False):
    """What the picker and the consent page show to tell patients apart."""

    national_code: str  # the full code; pages show only its last four digits
    birth_date: str  # ISO (YYYY-MM-DD or shorter); pages show it in the Jalali calendar
    gender: str  # male | female | other | unknown
    # An infant without a birth certificate: the mother's national code and name.
    mother_national_code: str
    mother: str


class Directory(Protocol):
    def find_practitioner(self, national_code: str, mobile: str) -> list[ProviderAccount]:
        """Accounts of the provider whose identifier (national code) and mobile telecom both match;
        one per role or workplace. Empty when nothing matches."""
        ...

    def search_patients(self, text: str) -> list[PatientSummary]:
        """Patients matching a name or national code typed in the patient picker (a few dozen at most)."""
        ...

    def patient(self, patient_id: str) -> PatientSummary | None:
        """One patient, to name them on the consent page (an EHR launch gives only the id)."""
        ...

    def workplaces(self, fhir_user: str) -> list[str]:
        """The organizations (`Organization/id`) a user works at: a PractitionerRole's
        organization, or those of every role of a Practitioner. Role scopes restricted to
        `{organization}` are granted for these (see roles.py)."""
        ...


class EmptyDirectory:
    """No provider registry and no patients: enrolment and the picker find nothing."""

    def find_practitioner(self, national_code: str, mobile: str) -> list[ProviderAccount]:
        return []

    def search_patients(self, text: str) -> list[PatientSummary]:
        return []

    def patient(self, patient_id: str) -> PatientSummary | None:
        return None

    def workplaces(self, fhir_user: str) -> list[str]:
        return []
