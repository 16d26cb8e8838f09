"""Full e-prescription cycles per second, in process (no HTTP): prescribe a signed
two-drug prescription (rules, eligibility, signature verification), then dispense both.

    .venv/bin/python bench/cycle_bench.py --cycles 200 [--store mongodb://...]

Not a test. Each cycle uses a new patient so duplicate and duplicate-therapy checks do
not refuse it. The HTTP and MongoDB figures are still to be taken (see the issue).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.eprescription.cycle_helpers import dispense, drug, new_key, people, prescriptions, submission

H = {"Content-Type": "application/fhir+json"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--store", default=None)
    args = ap.parse_args()
    key = new_key()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), auth=False, store_url=args.store))
        client = app.test_client()
        for r in people(key=key):
            client.put(f"/fhir/{r['resourceType']}/{r['id']}", json=r, headers=H)
        patient = next(r for r in people() if r["resourceType"] == "Patient")
        started = time.perf_counter()
        for i in range(args.cycles):
            cycle(client, patient, key, i)
        elapsed = time.perf_counter() - started
    print(f"{args.cycles} cycles in {elapsed:.2f} s: {args.cycles / elapsed:.1f} cycles/s")


def cycle(client: Any, patient: dict[str, Any], key: dict[str, Any], i: int) -> None:
    pid = f"bench-{i}"
    client.put(f"/fhir/Patient/{pid}", json={**patient, "id": pid}, headers=H)
    items = [drug("00077", 20), drug("90043", 30)]
    for item in items:
        item["subject"] = {"reference": f"Patient/{pid}"}
        del item["insurance"]
    answer = client.post("/fhir/MedicationRequest/$prescribe", json=submission(items, key), headers=H)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    for mr in prescriptions(answer.get_json())[0]["items"]:
        given = client.post("/fhir/MedicationDispense", json=dispense(mr, 10), headers=H)
        assert given.status_code == 201, given.get_data(as_text=True)


if __name__ == "__main__":
    main()
