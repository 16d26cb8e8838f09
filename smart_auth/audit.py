"""AuditEvents shaped after IHE BALP, and a sink that never blocks or fails a request.

Builders return plain FHIR R4 AuditEvent dicts; `SafeAudit.record` hands them to the
callback the FHIR side supplies (it writes them to the store). `QueuedAudit` moves the
write off the request thread.
"""

from __future__ import annotations

import base64
import logging
import os
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("smart_auth.audit")
AuditSink = Callable[[dict[str, Any]], None]

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
NOSKHE_EVENTS = "http://noskhe.ir/fhir/CodeSystem/auth-event"
BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition"

# Security events: (type system, type code, display) and the subtype.
AUTH_EVENTS = {
    "login": ((DCM, "110114", "User Authentication"), (DCM, "110122", "Login"), "E"),
    "logout": ((DCM, "110114", "User Authentication"), (DCM, "110123", "Logout"), "E"),
    "otp-sent": (
        (DCM, "110114", "User Authentication"),
        (NOSKHE_EVENTS, "otp-sent", "One-time code sent"),
        "E",
    ),
    "otp-checked": (
        (DCM, "110114", "User Authentication"),
        (NOSKHE_EVENTS, "otp-checked", "One-time code checked"),
        "E",
    ),
    "enrolled": (
        (DCM, "110114", "User Authentication"),
        (NOSKHE_EVENTS, "enrolled", "Account enrolled"),
        "C",
    ),
    "token-issued": (
        (DCM, "110114", "User Authentication"),
        (NOSKHE_EVENTS, "token-issued", "Access token issued"),
        "E",
    ),
    "token-revoked": (
        (DCM, "110114", "User Authentication"),
        (NOSKHE_EVENTS, "token-revoked", "Token revoked"),
        "E",
    ),
}
ACTIONS = {"c": "C", "r": "R", "u": "U", "d": "D", "s": "E"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _coding(triple: tuple[str, str, str]) -> dict[str, str]:
    return {"system": triple[0], "code": triple[1], "display": triple[2]}


def _outcome(success: bool, status: int | None = None) -> str:
    if success:
        return "0"
    return "8" if status is not None and status >= 500 else "4"


def _source(site: str) -> dict[str, Any]:
    return {
        "site": site,
        "observer": {"display": "Noskhe"},
        "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
    }


def _client_agent(client_id: str | None, ip: str | None) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
        "who": {"identifier": {"system": "http://noskhe.ir/fhir/sid/client-id", "value": client_id or "-"}},
        "requestor": False,
    }
    if ip:
        agent["network"] = {"address": ip, "type": "2"}
    return agent


def _user_agent(fhir_user: str | None, username: str | None, ip: str | None) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}]},
        "requestor": True,
    }
    who: dict[str, Any] = {}
    if fhir_user:
        who["reference"] = fhir_user
    if username:
        who["display"] = username
        agent["altId"] = username
    agent["who"] = who or {"display": "anonymous"}
    if ip:
        agent["network"] = {"address": ip, "type": "2"}
    return agent


def _patient_entity(patient: str) -> dict[str, Any]:
    return {
        "what": {"reference": patient if "/" in patient else f"Patient/{patient}"},
        "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
    }


def auth_event(
    kind: str,
    success: bool,
    *,
    site: str = "noskhe",
    username: str | None = None,
    fhir_user: str | None = None,
    client_id: str | None = None,
    ip: str | None = None,
    patient: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """A security event: sign-in, one-time code sent or checked, token issued or revoked."""
    type_, subtype, action = AUTH_EVENTS[kind]
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "meta": {"profile": [f"{BALP}/IHE.BasicAudit.Login"]} if kind in ("login", "logout") else {},
        "type": _coding(type_),
        "subtype": [_coding(subtype)],
        "action": action,
        "recorded": _now(),
        "outcome": _outcome(success),
        "agent": [_user_agent(fhir_user, username, ip), _client_agent(client_id, ip)],
        "source": _source(site),
    }
    if not event["meta"]:
        del event["meta"]
    if detail:
        event["outcomeDesc"] = detail
    if patient:
        event["entity"] = [_patient_entity(patient)]
    return event


def rest_event(
    interaction: str,
    permission: str,
    *,
    status: int,
    site: str = "noskhe",
    resource: str | None = None,
    query: str | None = None,
    patient: str | None = None,
    client_id: str | None = None,
    fhir_user: str | None = None,
    username: str | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """A FHIR interaction (read, search, write, operation), after BALP's RESTful patterns."""
    entities: list[dict[str, Any]] = []
    if resource:
        entities.append(
            {
                "what": {"reference": resource},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
            }
        )
    if query:
        entities.append(
            {
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
                "query": base64.b64encode(query.encode()).decode(),
            }
        )
    if patient:
        entities.append(_patient_entity(patient))
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": {"system": EVENT_TYPE, "code": "rest", "display": "Restful Operation"},
        "subtype": [{"system": RESTFUL, "code": interaction}],
        "action": ACTIONS.get(permission, "E"),
        "recorded": _now(),
        "outcome": _outcome(status < 400, status),
        "agent": [_user_agent(fhir_user, username, ip), _client_agent(client_id, ip)],
        "source": _source(site),
    }
    if entities:
        event["entity"] = entities
    return event


class SafeAudit:
    """Calls the sink, swallowing (and logging) any failure: audit never fails a request."""

    def __init__(self, sink: AuditSink | None) -> None:
        self.sink = sink

    def record(self, event: dict[str, Any]) -> None:
        if self.sink is None:
            return
        try:
            self.sink(event)
        except Exception:  # an audit failure must not become the request's failure
            log.exception("audit sink failed")


class QueuedAudit:
    """A sink that queues events for a background writer thread (started lazily per process,
    since gunicorn forks after import). When the queue is full the event is logged and dropped
    rather than blocking the request."""

    def __init__(self, write: AuditSink, maxsize: int = 10_000) -> None:
        self.write = write
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize)
        self._pid: int | None = None
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        self._ensure_thread()
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            log.error("audit queue full; dropped %s", event.get("subtype"))

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                threading.Thread(target=self._run, name="audit-writer", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while (event := self.queue.get()) is not None:
            try:
                self.write(event)
            except Exception:
                log.exception("audit write failed")
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def flush(self) -> None:
        """Wait until queued events are written (tests, shutdown)."""
        if self._pid == os.getpid():
            self.queue.join()
