"""Every error leaves as an OperationOutcome with the right status."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from fhir_server.api.http import outcome_response
from fhir_server.api.store_errors import STORE_ERRORS, as_http
from fhir_server.outcome import FhirError, error
from fhir_server.storage.base import StoreFull, is_disk_full
from smart_auth.keys import KeyFileError

log = logging.getLogger("noskhe.api")

HTTP_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 413: "too-long", 415: "not-supported"}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(FhirError)
    def _fhir(exc: FhirError) -> Response:
        return outcome_response(exc.status, exc.issues, dict(exc.headers))

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> Response:
        return outcome_response(413, [error("too-long", "The request body is larger than the limit")])

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        return outcome_response(
            status, [error(HTTP_CODES.get(status, "processing"), exc.description or exc.name)]
        )

    for kind in STORE_ERRORS:

        @app.errorhandler(kind)
        def _store(exc: Exception) -> Response:
            mapped = as_http(exc)
            return outcome_response(mapped.status, mapped.issues)

    @app.errorhandler(KeyFileError)
    def _keys(exc: KeyFileError) -> Response:
        log.error("%s", exc)
        return outcome_response(503, [error("transient", "The server's signing keys cannot be used")])

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Response:
        if is_disk_full(exc):  # the authorization server's store, an outbox file
            full = as_http(StoreFull(str(exc)))
            return outcome_response(full.status, full.issues)
        log.exception("unhandled error")
        return outcome_response(500, [error("exception", "Internal server error")])
