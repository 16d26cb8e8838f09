"""What the workflow makes unique, through the store's claims (a unique index, not a
search under a lock):

- a prescription id, across the store (owner: the id itself);
- a tracking code, among one patient's items (owner: the submission's first prescription);
- an item's fingerprint (patient, prescriber, day, type, codes, quantity) among open items
  (owner: its prescription, so the items of one prescription may share it). Closing the
  item (cancelled, stopped, revoked, entered-in-error) or deleting it releases it, so the
  same item can be prescribed again.

Stores written before claims existed get them once, at start-up (`backfill`).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson

from fhir_server.eprescription import items
from fhir_server.eprescription.ids import TRACKING_SYSTEM
from fhir_server.outcome import FhirError
from fhir_server.storage.base import Store, StoreSession, StoreUnavailable, TransactionConflict

log = logging.getLogger("noskhe.eprescription")

OPEN_STATUSES = frozenset({"draft", "active", "on-hold", "completed"})
BACKFILLED = "claims-backfilled|1"


def _id_key(rx: str) -> str:
    return f"prescription-id|{rx}"


def _tracking_key(pid: str, code: str) -> str:
    return f"tracking-code|{pid}|{code}"


def _fingerprint_key(fingerprint: str) -> str:
    return f"item-fingerprint|{fingerprint}"


def claim_prescription_id(s: StoreSession, rx: str) -> bool:
    return s.claim(_id_key(rx), rx) == rx


def claim_tracking_code(s: StoreSession, pid: str, code: str, rx: str) -> bool:
    return s.claim(_tracking_key(pid, code), rx) == rx


def claim_fingerprint(s: StoreSession, fingerprint: str, rx: str) -> str:
    """The prescription holding the fingerprint: `rx` unless an open item of another has it."""
    return s.claim(_fingerprint_key(fingerprint), rx)


def release_fingerprint(s: StoreSession, item: dict[str, Any]) -> None:
    fingerprint = items.identifier(item, items.FINGERPRINT_SYSTEM)
    rx = items.group_value(item)
    if fingerprint and rx:
        s.release(_fingerprint_key(fingerprint), rx)


def backfill(store: Store) -> None:
    """Claim what the national items already stored hold (once per store; a no-op after).

    Several workers starting at once: the first claims the marker and does the work in its
    write unit; the others find the marker held by someone else and go on."""
    me = uuid.uuid4().hex
    try:
        with store.session(write=True) as s:
            if s.claim(BACKFILLED, me) != me:
                return
            for type_ in sorted(items.REQUEST_TYPES):
                for rv in list(s.iter_current(type_)):
                    if rv.body is not None:
                        _claim_stored(s, orjson.loads(rv.body))
    except (
        FhirError,
        StoreUnavailable,
        TransactionConflict,
    ) as exc:  # no writes now (read-only store): next start
        log.warning("claims of stored prescriptions not checked: %s", exc)


def _claim_stored(s: StoreSession, item: dict[str, Any]) -> None:
    if not items.is_eprescription(item):
        return
    rx = items.group_value(item)
    if rx is None:
        return
    s.claim(_id_key(rx), rx)
    pid, tracking = items.patient_id(item), items.identifier(item, TRACKING_SYSTEM)
    if pid and tracking:
        s.claim(_tracking_key(pid, tracking), rx)
    fingerprint = items.identifier(item, items.FINGERPRINT_SYSTEM)
    if fingerprint and item.get("status") in OPEN_STATUSES:
        s.claim(_fingerprint_key(fingerprint), rx)
