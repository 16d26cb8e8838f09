"""Opaque keyset cursors for paging links.

A page link carries `_cursor=<token>`: the sort values, type and id of the last row of the
page (next) or the first row (previous), base64url-encoded JSON. The next page is "rows
after this key in the sort order", so pages stay correct while data changes: a resource
created or deleted elsewhere never shifts later pages (no duplicates, no skipped rows), as
an OFFSET would. It also costs the same on page 10,000 as on page 1 (an index seek instead
of counting skipped rows). The token holds no server state, so any worker can serve it.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from fhir_server.outcome import FhirError
from fhir_server.search.plan import Cursor


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps({"f": cursor.forward, "k": list(cursor.key)})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        forward, key = data["f"], data["k"]
        if not isinstance(forward, bool) or not isinstance(key, list) or len(key) < 2:
            raise ValueError("bad cursor")
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise FhirError.of(400, "invalid", "Invalid paging cursor", "_cursor") from exc
    return Cursor(forward, tuple(key))
