"""EHR launch contexts: an EHR registers patient/encounter context, gets an opaque launch id."""

from __future__ import annotations

import time
from typing import Any

from smart_auth.hashing import new_secret
from smart_auth.store.base import AuthStore


class Launches:
    def __init__(self, store: AuthStore, ttl: int) -> None:
        self.store, self.ttl = store, ttl

    def create(
        self,
        client_id: str,
        patient: str | None = None,
        encounter: str | None = None,
        need_patient_banner: bool = False,
    ) -> str:
        launch_id = new_secret(18)
        context: dict[str, Any] = {"need_patient_banner": need_patient_banner}
        if patient:
            context["patient"] = patient
        if encounter:
            context["encounter"] = encounter
        self.store.put_record(
            "launch", launch_id, {"created_by": client_id, "context": context}, time.time() + self.ttl
        )
        return launch_id

    def get(self, launch_id: str) -> dict[str, Any] | None:
        return self.store.get_record("launch", launch_id)
