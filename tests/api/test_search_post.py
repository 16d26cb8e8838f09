"""`POST [type]/_search` and `POST _search` (form-encoded parameters) answer as the GET
does, and their paging links are GET URLs that work (`[base]/[type]?...`, `[base]?...`):
a client follows `next` with a GET, and there is no GET `_search` interaction."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings

BASE = "http://127.0.0.1:8080/fhir"


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    client = create_app(Settings(data_dir=tmp_path, auth=False)).test_client()
    for n in range(5):
        patient = {
            "resourceType": "Patient",
            "id": f"p{n}",
            "name": [{"family": "Ahmadi", "given": [f"g{n}"]}],
        }
        assert client.put(f"/fhir/Patient/p{n}", json=patient).status_code == 201
    return client


def pages(client: FlaskClient, first: dict) -> list[list[str]]:
    ids, page = [], first
    while True:
        ids.append([e["resource"]["id"] for e in page.get("entry", [])])
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            return ids
        url = urlsplit(nxt[0])
        page = client.get(f"{url.path}?{url.query}").get_json()


@pytest.mark.parametrize(
    ("posted", "get", "prefix"),
    [("/fhir/Patient/_search", "/fhir/Patient", f"{BASE}/Patient?"), ("/fhir/_search", "/fhir", f"{BASE}?")],
)
def test_posted_search_pages_like_the_get(client: FlaskClient, posted: str, get: str, prefix: str) -> None:
    form = {"_count": "2", "_sort": "_id", "_total": "accurate"}
    if "Patient" not in posted:
        form["_type"] = "Patient"
    response = client.post(posted, data=form)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 5
    links = {link["relation"]: link["url"] for link in body["link"]}
    assert links["self"].startswith(prefix) and links["next"].startswith(prefix)
    assert "_search" not in links["self"] + links["next"]
    expected = [["p0", "p1"], ["p2", "p3"], ["p4"]]
    assert pages(client, body) == expected
    assert pages(client, client.get(get, query_string=form).get_json()) == expected
