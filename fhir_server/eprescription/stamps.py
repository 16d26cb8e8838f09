"""Change stamps of what the workflow reads before the write lock (StoreSession.stamp).

`patient-items|<patient id>` moves with every write of one of the patient's
MedicationRequests or ServiceRequests (created, changed, dispensed against, deleted), so
the rules' view of the patient's items, read ahead, is used in the write session only
while no such write came in between; else it is read again there."""

from __future__ import annotations

from typing import Any

from fhir_server.eprescription import items


def patient_items(patient_id: str) -> str:
    return f"patient-items|{patient_id}"


def stamp_keys(resource: dict[str, Any]) -> list[str]:
    """The stamps a write of `resource` bumps (the Repository's `stamps` hook)."""
    if resource.get("resourceType") not in items.REQUEST_TYPES:
        return []
    pid = items.patient_id(resource)
    return [patient_items(pid)] if pid else []
