"""Kick off, poll and download Bulk Data jobs through the Flask test client."""

from __future__ import annotations

import time
from typing import Any

import orjson
from flask.testing import FlaskClient

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def local(url: str) -> str:
    """The path of an absolute server URL, for the test client."""
    return "/fhir/" + url.split("/fhir/", 1)[1]


def kick_off(client: FlaskClient, path: str, headers: dict[str, str] | None = None, status: int = 202) -> Any:
    r = client.get("/fhir/" + path, headers={**ASYNC, **(headers or {})})
    assert r.status_code == status, r.get_data(as_text=True)
    return r.headers.get("Content-Location") if status == 202 else r.get_json()


def poll(
    client: FlaskClient, status_url: str, headers: dict[str, str] | None = None, timeout: float = 60
) -> Any:
    """Poll until the job is done; returns the manifest (asserts the in-progress answers)."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(local(status_url), headers=headers or {})
        if r.status_code == 200:
            assert r.headers["Content-Type"].startswith("application/json")
            return r.get_json()
        assert r.status_code == 202, r.get_data(as_text=True)
        assert r.headers["X-Progress"] and r.headers["Retry-After"] == "2"
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)


def download(
    client: FlaskClient, manifest: Any, headers: dict[str, str] | None = None
) -> dict[str, list[Any]]:
    """Type -> the resources of every output file of a manifest."""
    out: dict[str, list[Any]] = {}
    for item in manifest["output"]:
        r = client.get(local(item["url"]), headers=headers or {})
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/fhir+ndjson")
        lines = [orjson.loads(line) for line in r.get_data().splitlines() if line]
        assert len(lines) == item["count"]
        assert all(res["resourceType"] == item["type"] for res in lines)
        out.setdefault(item["type"], []).extend(lines)
    return out
