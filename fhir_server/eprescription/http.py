"""The workflow's hooks on the Flask app: the patient's SMS after commit, the
Idempotency-Key replay of prescribing and dispensing calls."""

from __future__ import annotations

from flask import Flask

from fhir_server.eprescription import idempotency, notify


def register(app: Flask) -> None:
    idempotency.register(app)
    notify.register(app)
