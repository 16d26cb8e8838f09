"""Many pharmacies at once on one prescription, over real HTTP against the multi-worker
server: exactly the allowed quantity is dispensed, never more."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import RunningServer
from tests.eprescription.conftest import ENGINES
from tests.eprescription.cycle_helpers import dispense, drug, people, prescriptions, submission
from tests.storage.conformance.noskhe_test_servers import with_database

HEADERS = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module", params=ENGINES)
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    store: list[str] = []
    if request.param == "mongodb":
        base = request.getfixturevalue("mongo_base")
        store = ["--store", with_database(base, f"noskhe_rx_{uuid.uuid4().hex[:12]}")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOSKHE_ACCEPT_UNSIGNED", "1")
        srv = RunningServer(tmp_path_factory.mktemp("rx-server"), "--no-auth", *store, workers=2)
    for r in people():
        requests.put(f"{srv.base}/{r['resourceType']}/{r['id']}", json=r, headers=HEADERS, timeout=10)
    yield srv
    srv.stop()


def test_concurrent_dispenses_never_exceed_the_prescription(server: RunningServer, tmp_path: Path) -> None:
    answer = requests.post(
        f"{server.base}/MedicationRequest/$prescribe",
        json=submission([drug("90043", 10, 1)]),
        headers=HEADERS,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    mr = prescriptions(answer.json())[0]["items"][0]  # 10 x (1 + 1 repeat) = 20 allowed

    def one(i: int) -> int:
        body = dispense(mr, 1, f"pharmacy-{1 + i % 2}")
        return requests.post(
            f"{server.base}/MedicationDispense", json=body, headers=HEADERS, timeout=60
        ).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(one, range(32)))
    assert statuses.count(201) == 20 and statuses.count(409) == 12, statuses
    stored = requests.get(f"{server.base}/MedicationRequest/{mr['id']}", timeout=10).json()
    assert stored["status"] == "completed"
    found = requests.get(
        f"{server.base}/MedicationDispense?prescription=MedicationRequest/{mr['id']}&_count=100", timeout=10
    ).json()
    assert sum(e["resource"]["quantity"]["value"] for e in found["entry"]) == 20


def test_identical_prescriptions_at_once_one_is_written(server: RunningServer) -> None:
    """The same item sent by eight clients at once to two workers: one 200, seven duplicates
    (the fingerprint is a unique claim, not a search under a lock)."""
    item = drug("00077", 17)

    def one(_: int) -> int:
        return requests.post(
            f"{server.base}/MedicationRequest/$prescribe",
            json=submission([item]),
            headers=HEADERS,
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(8)))
    assert statuses.count(200) == 1 and statuses.count(409) == 7, statuses
