"""Retry safety: `Idempotency-Key` on writes to /fhir.

The first request with a key claims it (a record in the store with an id derived from
the client, method, path and key: two claims of one key conflict in the store, across
workers and machines). When it succeeds its response is saved, and a retry with the
same key gets that response again instead of a second prescription or dispense. A
retry while the first is still running gets 409; a failed request (not 2xx) releases
the key. The same key with a different body is refused (422).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import orjson
from flask import Flask, Response, g, request

from fhir_server import authorization
from fhir_server.api.context import ctx
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import now_instant
from fhir_server.storage.base import ResourceVersion, VersionConflict

HEADER = "Idempotency-Key"
EXT = "http://noskhe.ir/fhir/StructureDefinition/idempotency-record"
STALE_SECONDS = 120.0
KEPT_HEADERS = ("Location", "ETag", "Last-Modified", "Content-Type", "Content-Location")


def _record_id(key: str) -> str:
    access = authorization.current().access
    who = f"{access.client_id}|{access.subject}" if access else "-"
    raw = "\x1f".join([who, request.method, request.path, key])
    return "idem-" + hashlib.sha256(raw.encode()).hexdigest()[:48]


def _body(state: dict[str, Any], id_: str) -> bytes:
    return orjson.dumps(
        {
            "resourceType": "Basic",
            "id": id_,
            "code": {"text": "idempotency-record"},
            "extension": [{"url": EXT, "valueString": json.dumps(state)}],
        }
    )


def _state(rv: ResourceVersion | None) -> dict[str, Any] | None:
    if rv is None or rv.body is None:
        return None
    ext = orjson.loads(rv.body).get("extension") or [{}]
    return dict(json.loads(ext[0].get("valueString") or "{}"))


def _put(id_: str, state: dict[str, Any], expected: int | None) -> None:
    version = (expected or 0) + 1
    rv = ResourceVersion("Basic", id_, version, now_instant(), False, _body(state, id_), "PUT")
    with ctx().store.session(write=True) as s:
        s.put(rv, [], expected)


def _claim(id_: str, digest: str) -> Response | None:
    """None when this request may run; else the response to give instead."""
    with ctx().store.session() as s:
        rv = s.current("Basic", id_)
    state = _state(rv)
    if state is not None and rv is not None:
        if state.get("digest") != digest:
            raise FhirError.of(422, "business-rule", f"{HEADER} was already used with a different request")
        if state.get("state") == "done":
            return _replay(state)
        if state.get("state") == "running" and time.time() - float(state.get("at", 0)) < STALE_SECONDS:
            raise FhirError.of(409, "conflict", f"A request with this {HEADER} is still running; retry later")
    try:
        _put(id_, {"state": "running", "digest": digest, "at": time.time()}, rv.version if rv else None)
    except VersionConflict as exc:
        raise FhirError.of(
            409, "conflict", f"A request with this {HEADER} is still running; retry later"
        ) from exc
    return None


def _replay(state: dict[str, Any]) -> Response:
    response = Response(base64.b64decode(state["body"]), status=int(state["status"]))
    for name, value in state.get("headers", {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def register(app: Flask) -> None:
    @app.before_request
    def _check_key() -> Response | None:
        key = request.headers.get(HEADER)
        if (
            not key
            or request.method not in ("POST", "PUT", "PATCH", "DELETE")
            or not request.path.startswith("/fhir")
        ):
            return None
        if len(key) > 255:
            raise FhirError.of(400, "invalid", f"{HEADER} is at most 255 characters")
        id_ = _record_id(key)
        digest = hashlib.sha256(request.get_data()).hexdigest()
        replay = _claim(id_, digest)
        if replay is None:
            g.noskhe_idempotency = (id_, digest)
        return replay

    @app.after_request
    def _save(response: Response) -> Response:
        claim = g.pop("noskhe_idempotency", None)
        if claim is None:
            return response
        id_, digest = claim
        with ctx().store.session() as s:
            rv = s.current("Basic", id_)
        if 200 <= response.status_code < 300:
            state = {
                "state": "done",
                "digest": digest,
                "status": response.status_code,
                "headers": {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
                "body": base64.b64encode(response.get_data()).decode(),
            }
        else:
            state = {"state": "released", "digest": digest}
        _put(id_, state, rv.version if rv else None)
        return response
