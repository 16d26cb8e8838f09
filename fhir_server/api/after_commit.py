"""What leaves only after a request succeeded: the messages its work queued
(`fhir_server.outbox`), sent through the SMS gateway once the answer is a success."""

from __future__ import annotations

from flask import Flask, Response, current_app, g

from fhir_server import outbox
from smart_auth.sms import FileSmsSender, SmsSender

OUTBOX = "sms-outbox.jsonl"


def sender() -> SmsSender:
    smart = current_app.extensions.get("smart_auth")
    if smart is not None:
        return smart.sms
    return FileSmsSender(current_app.extensions["noskhe"].settings.data_dir / OUTBOX)


def register(app: Flask) -> None:
    @app.before_request
    def _open() -> None:
        g.noskhe_outbox = outbox.open_batch()

    @app.after_request
    def _deliver(response: Response) -> Response:
        messages = outbox.pending()
        if messages and response.status_code < 300:
            outbox.deliver(messages, sender().send)
        return response

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        token = g.pop("noskhe_outbox", None)
        if token is not None:
            outbox.close_batch(token)
