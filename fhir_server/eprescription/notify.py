"""The patient's SMS: queued during the request, sent only once the write committed."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, has_request_context

from smart_auth.sms import FileSmsSender, SmsSender

OUTBOX = "sms-outbox.jsonl"


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


def queue(mobile: str, key: str, build: Any) -> None:
    """Queue one message per `key` (say, a tracking code); `build()` makes its text at send time."""
    if has_request_context():
        pending: dict[str, tuple[str, Any]] = g.setdefault("noskhe_sms", {})
        pending[key] = (mobile, build)
    else:
        _sender().send(mobile, build())


def _sender() -> SmsSender:
    if has_app_context():
        smart = current_app.extensions.get("smart_auth")
        if smart is not None:
            return smart.sms
        return FileSmsSender(current_app.extensions["noskhe"].settings.data_dir / OUTBOX)
    raise RuntimeError("no SMS sender outside an application")


def register(app: Flask) -> None:
    @app.after_request
    def _send_queued(response: Response) -> Response:
        pending = g.pop("noskhe_sms", None)
        if pending and response.status_code < 300:
            sender = _sender()
            for mobile, build in pending.values():
                sender.send(mobile, build())
        return response
