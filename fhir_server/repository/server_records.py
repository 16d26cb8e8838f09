"""Records only the server writes (policy data: server_records.json).

Clients may read and search them; every write through the API is refused with 405,
whatever the token's scopes (an administrator's included). The server writes them as its
system identity (`authorization.as_system()`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from fhir_server import authorization
from fhir_server.outcome import FhirError

POLICY_FILE = Path(__file__).with_name("server_records.json")


@functools.cache
def server_written() -> dict[str, tuple[str, ...]]:
    """Type -> the interactions clients may use on it."""
    doc = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    return {t: tuple(spec["interactions"]) for t, spec in doc.items() if not t.startswith("_")}


def check_writable(type_: str, interaction: str) -> None:
    """405 when a client (anyone but the server itself) writes a server-written type."""
    if type_ in server_written() and not authorization.current().system:
        raise FhirError.of(
            405, "not-supported", f"{type_} is written by the server only: {interaction} is not allowed"
        )
