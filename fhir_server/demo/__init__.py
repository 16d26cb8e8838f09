"""A few demo resources (Persian names, valid national codes) for `make run`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from fhir_server.storage.base import Store

DEMO_FILE = Path(__file__).with_name("resources.json")


def demo_resources() -> list[dict[str, Any]]:
    return list(orjson.loads(DEMO_FILE.read_bytes()))


def load_demo(store: Store) -> int:
    """Write the demo resources by id; loading twice changes nothing."""
    from fhir_server.app import build_repository

    repo = build_repository()
    resources = demo_resources()
    with store.session(write=True) as s:
        for resource in resources:
            repo.update(s, resource["resourceType"], resource["id"], resource)
    return len(resources)
