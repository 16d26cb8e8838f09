# ruff: noqa: E501
"""Contention on MongoDB (not a test): K concurrent prescribers, on distinct patients and
on one shared patient, through the real app in process (Flask test clients on threads,
authorization off, unsigned prescriptions accepted).

    .venv/bin/python bench/mongo_bench.py --contention [--writers 8] [--units 240] [--mongo-uri URI]

For each case it reports per 1,000 units: commits (2xx), 409s, 422s, transient-conflict
retries (transaction attempts that failed with a TransientTransactionError), split into
retries over a document the unit shares with a concurrent one (the server's design:
what the issue calls server-caused) and retries with no shared document (the storage
engine's own: the test server, secantusdb, conflicts on equal entries of multikey
indexes, which MongoDB's WiredTiger does not), and units/s with the core count.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.eprescription.cycle_helpers import drug, people, submission
from tests.storage.conformance.noskhe_test_servers import with_database
from tests.storage.write_ledger import WriteLedger

H = {"Content-Type": "application/fhir+json"}


def national_code(n: int) -> str:
    body = f"{n % 10**9:09d}"
    r = sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    return body + str(r if r < 2 else 11 - r)


def patient_records(n: int) -> list[dict[str, Any]]:
    """pat-n with its visit and coverage (people()'s, renamed)."""
    text = json.dumps(
        [
            r
            for r in people(national_code(1000 + n))
            if r["resourceType"] in ("Patient", "Encounter", "Coverage")
        ]
    )
    return json.loads(
        text.replace("pat-1", f"pat-{n}").replace("enc-1", f"enc-{n}").replace("cov-1", f"cov-{n}")
    )


def item(patient: int, unit: int) -> dict[str, Any]:
    """A drug for the patient; quantities differ per unit, so no item duplicates another."""
    text = json.dumps(drug("90043", 1 + unit, 0))
    return json.loads(
        text.replace("pat-1", f"pat-{patient}")
        .replace("enc-1", f"enc-{patient}")
        .replace("cov-1", f"cov-{patient}")
    )


def run_case(uri: str, writers: int, units: int, shared: bool) -> dict[str, float]:
    url = with_database(uri, f"noskhe_contention_{uuid.uuid4().hex[:10]}")
    os.environ["NOSKHE_ACCEPT_UNSIGNED"] = "1"
    with WriteLedger.listening() as ledger:
        app = create_app(
            Settings(data_dir=Path(tempfile.mkdtemp(prefix="contention-")), auth=False, store_url=url)
        )
        seed = app.test_client()
        staff = [
            r for r in people() if r["resourceType"] in ("Practitioner", "PractitionerRole", "Organization")
        ]
        for r in staff + [r for n in range(writers) for r in patient_records(n)]:
            assert seed.put(f"/fhir/{r['resourceType']}/{r['id']}", json=r, headers=H).status_code in (
                200,
                201,
            )
        ledger.attempts.clear()
        statuses: list[int] = []
        lock = threading.Lock()

        def writer(w: int) -> None:
            client = app.test_client()
            for u in range(w, units, writers):
                body = submission([item(0 if shared else w, u)])
                status = client.post("/fhir/MedicationRequest/$prescribe", json=body, headers=H).status_code
                with lock:
                    statuses.append(status)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(writer, range(writers)))
        elapsed = time.perf_counter() - t0
        shared_docs, engine_made = ledger.conflicts()
    per = 1000 / max(len(statuses), 1)
    return {
        "units": len(statuses),
        "commits": sum(200 <= s < 300 for s in statuses) * per,
        "409": statuses.count(409) * per,
        "422": statuses.count(422) * per,
        "other": sum(s >= 500 for s in statuses) * per,
        "retries_shared_document": shared_docs * per,
        "retries_engine_only": engine_made * per,
        "units_per_s": len(statuses) / elapsed,
    }


def contention(uri: str, writers: int, units: int) -> list[str]:
    lines = [
        f"contention: {writers} concurrent prescribers, {units} units per case, {os.cpu_count()} cores; per 1,000 units",
        "| case | commits | 409 | 422 | 5xx | retries, shared document (server-caused) | retries, no shared document (engine) | units/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for shared in (False, True):
        r = run_case(uri, writers, units, shared)
        name = "one shared patient" if shared else "distinct patients"
        lines.append(
            f"| {name} | {r['commits']:.0f} | {r['409']:.0f} | {r['422']:.0f} | {r['other']:.0f} | "
            f"{r['retries_shared_document']:.0f} | {r['retries_engine_only']:.0f} | {r['units_per_s']:.1f} |"
        )
    return lines
