"""The patient's SMS: queued during the work, sent only once the write committed
(`fhir_server.outbox`; the API delivers a request's messages after a successful answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server import outbox


def patient_mobile(patient: dict[str, Any] | None) -> str | None:
    phones = [t for t in (patient or {}).get("telecom") or [] if t.get("system") in ("phone", "sms")]
    mobile = next((t for t in phones if t.get("use") == "mobile"), phones[0] if phones else None)
    return str(mobile["value"]) if mobile and mobile.get("value") else None


def tracking_text(tracking: str, prescription_ids: list[str]) -> str:
    ids = "، ".join(prescription_ids)
    return (
        f"نسخه الکترونیک شما ثبت شد. کد رهگیری: {tracking} (شماره نسخه: {ids})\n"
        f"Your e-prescription is registered. Tracking code: {tracking}"
    )


def queue(mobile: str, key: str, build: Callable[[], str]) -> None:
    """Queue one message per `key` (say, a tracking code); `build()` makes its text at send time."""
    outbox.add(key, mobile, build)
