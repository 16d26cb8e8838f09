"""Server-assigned ids and etags."""

from __future__ import annotations

import re
import time
import uuid

from fhir_server.repository.meta import etag, new_id, parse_etag


def test_new_ids_are_version_7_uuids_in_time_order() -> None:
    ids = []
    for _ in range(5):
        ids.append(new_id())
        time.sleep(0.002)
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", i) for i in ids)  # a valid FHIR id
    assert len(set(new_id() for _ in range(10_000))) == 10_000


def test_etags() -> None:
    assert etag(3) == 'W/"3"'
    assert parse_etag('W/"3"') == 3 and parse_etag('"4"') == 4 and parse_etag("5") == 5
    assert parse_etag('W/"x"') is None
