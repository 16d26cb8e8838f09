"""Full e-prescription cycles per second: admit, prescribe a signed two-drug prescription
(eligibility, rules, duplicate checks, signature verification, SMS), dispense both.

    .venv/bin/python bench/cycle_bench.py --http [--clients 4] [--seconds 20] [--store URL]
    .venv/bin/python bench/cycle_bench.py --cycles 200 [--store URL]     # in process, no HTTP

`--http` starts the real server (granian, 2 workers x 8 threads, `--no-auth`, signatures
required) in a temp directory and drives it with `--clients` threads; it reports cycles/s,
the p50 and p99 of one cycle, server CPU ms per cycle and per request (the process tree's
CPU time), the bare WSGI hello-world floor under the same HTTP server measured in the same
run with wrk (requests/s of the cycle's 5 requests against it), and the p50/p99 of the
pharmacy's lookup (open prescriptions by national code and tracking code, prescriber
included) at the end, on what was written. Target (issue 14, 2 cores): >= 150 cycles/s.
Not a test. Each cycle uses a new patient, so duplicate checks never refuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.eprescription.cycle_helpers import (
    NATIONAL,
    TRACKING,
    dispense,
    drug,
    new_key,
    people,
    prescriptions,
    submission,
)

H = {"Content-Type": "application/fhir+json"}
REQUESTS_PER_CYCLE = 5  # PUT Patient, POST Encounter, $prescribe, two dispenses


def national_code(n: int) -> str:
    """A valid national code (mod-11 check digit) for a number."""
    body = f"{n % 10**9:09d}"
    r = sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    return body + str(r if r < 2 else 11 - r)


class Http:
    """requests, one session per thread."""

    def __init__(self, base: str) -> None:
        self.base, self.local = base, threading.local()

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        if not hasattr(self.local, "s"):
            self.local.s = requests.Session()
        r = self.local.s.request(
            method, f"{self.base}/{path}", json=body, params=params, headers=H, timeout=60
        )
        return r.status_code, r.json() if r.content else None


class InProcess:
    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        r = self.client.open(f"/fhir/{path}", method=method, json=body, query_string=params, headers=H)
        return r.status_code, r.get_json(silent=True)


def setup(call: Any, key: dict[str, Any]) -> dict[str, Any]:
    for r in people(key=key):
        status, _ = call("PUT", f"{r['resourceType']}/{r['id']}", r)
        assert status in (200, 201), (status, r["resourceType"])
    return next(r for r in people() if r["resourceType"] == "Encounter")


def cycle(call: Any, key: dict[str, Any], encounter: dict[str, Any], i: int) -> tuple[str, str]:
    pid, code = f"bench-{i}", national_code(100_000 + i)
    patient = next(r for r in people(national_code=code) if r["resourceType"] == "Patient")
    assert call("PUT", f"Patient/{pid}", {**patient, "id": pid})[0] in (200, 201)
    visit = {k: v for k, v in encounter.items() if k != "id"}
    status, admitted = call("POST", "Encounter", {**visit, "subject": {"reference": f"Patient/{pid}"}})
    assert status == 201, admitted
    items = [drug("00077", 20), drug("90043", 30)]
    for item in items:
        item["subject"] = {"reference": f"Patient/{pid}"}
        item["encounter"] = {"reference": f"Encounter/{admitted['id']}"}
        del item["insurance"]
    status, answer = call("POST", "MedicationRequest/$prescribe", submission(items, key))
    assert status == 200, answer
    rx = prescriptions(answer)[0]
    assert rx["status"] == "active", rx
    for mr in rx["items"]:
        status, given = call("POST", "MedicationDispense", dispense(mr, 10))
        assert status == 201, given
    return code, str(rx["trackingCode"])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def lookups(call: Any, found: list[tuple[str, str]], n: int) -> list[float]:
    times = []
    for code, tracking in (found * (n // max(len(found), 1) + 1))[:n]:
        started = time.perf_counter()
        status, bundle = call(
            "GET",
            "MedicationRequest",
            **{
                "subject:Patient.identifier": f"{NATIONAL}|{code}",
                "identifier": f"{TRACKING}|{tracking}",
                "_include": "MedicationRequest:requester",
            },
        )
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200 and len(bundle["entry"]) == 3, bundle
    return times


def floor(args: argparse.Namespace, workdir: Path) -> dict[str, Any] | None:
    """The bare WSGI hello-world under the same HTTP server and settings, driven by wrk for
    5 s in this run (None without wrk): the figure the cycle rate is compared to."""
    import shutil
    from types import SimpleNamespace

    import rest_bench

    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    server = rest_bench.floor_server("granian", args.workers, args.threads, workdir)
    opts = SimpleNamespace(wrk_threads=2, connections=16, duration=5)
    try:
        server.start()
        result, _ = rest_bench.run_wrk(wrk, opts, server, "hello", [])
    finally:
        server.stop()
    return {"requests_per_s": result.requests_per_s, "cpu_ms_per_request": result.cpu_ms_per_request}


def run_http(args: argparse.Namespace, key: dict[str, Any]) -> dict[str, Any]:
    from rest_bench import tree_cpu_seconds

    from tests.conftest import RunningServer

    os.environ["NOSKHE_ACCEPT_UNSIGNED"] = "0"
    extra = ["--no-auth", "--threads", str(args.threads), *(["--store", args.store] if args.store else [])]
    with tempfile.TemporaryDirectory() as tmp:
        hello = floor(args, Path(tmp))
        server = RunningServer(Path(tmp), *extra, workers=args.workers)
        try:
            call = Http(server.base)
            encounter = setup(call, key)
            for i in range(5):  # warm up both workers
                cycle(call, key, encounter, 10_000_000 + i)
            counter, lock, latencies, found = iter(range(10**9)), threading.Lock(), [], []
            deadline = time.monotonic() + args.seconds

            def worker() -> None:
                while time.monotonic() < deadline:
                    with lock:
                        i = next(counter)
                    started = time.perf_counter()
                    done = cycle(call, key, encounter, i)
                    with lock:
                        latencies.append((time.perf_counter() - started) * 1000)
                        found.append(done)

            started, cpu0 = time.perf_counter(), tree_cpu_seconds(server.proc.pid)
            with ThreadPoolExecutor(args.clients) as pool:
                for f in [pool.submit(worker) for _ in range(args.clients)]:
                    f.result()
            elapsed = time.perf_counter() - started
            cpu = tree_cpu_seconds(server.proc.pid) - cpu0
            lookup = lookups(call, found, 300)
        finally:
            server.stop()
    return {
        "mode": "http",
        "store": args.store or "sqlite",
        "workers": args.workers,
        "clients": args.clients,
        "cycles": len(latencies),
        "cycles_per_s": round(len(latencies) / elapsed, 1),
        "requests_per_cycle": REQUESTS_PER_CYCLE,
        "server_cpu_ms_per_cycle": round(cpu * 1000 / max(len(latencies), 1), 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(len(latencies), 1) / REQUESTS_PER_CYCLE, 3),
        "floor": hello,
        "requests_per_s_vs_floor": (
            round(len(latencies) * REQUESTS_PER_CYCLE / elapsed / hello["requests_per_s"], 4)
            if hello
            else None
        ),
        "nproc": os.cpu_count(),
        "target_cycles_per_s": 150,
        "cycle_ms": {"p50": round(percentile(latencies, 50), 1), "p99": round(percentile(latencies, 99), 1)},
        "lookup_ms": {
            "p50": round(statistics.median(lookup), 2),
            "p99": round(percentile(lookup, 99), 2),
            "stored_prescriptions": len(found),
        },
    }


def run_in_process(args: argparse.Namespace, key: dict[str, Any]) -> dict[str, Any]:
    import logging

    from fhir_server.app import create_app
    from fhir_server.config import Settings

    os.environ["NOSKHE_ACCEPT_UNSIGNED"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), auth=False, store_url=args.store))
        logging.getLogger("noskhe").setLevel(logging.WARNING)
        call = InProcess(app.test_client())
        encounter = setup(call, key)
        started = time.perf_counter()
        for i in range(args.cycles):
            cycle(call, key, encounter, i)
        elapsed = time.perf_counter() - started
    return {
        "mode": "in-process",
        "store": args.store or "sqlite",
        "cycles_per_s": round(args.cycles / elapsed, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", action="store_true", help="against the real server over HTTP")
    ap.add_argument("--cycles", type=int, default=200, help="in process: how many cycles")
    ap.add_argument("--seconds", type=float, default=20, help="over HTTP: how long")
    ap.add_argument("--clients", type=int, default=4, help="over HTTP: concurrent clients")
    ap.add_argument("--workers", type=int, default=2, help="over HTTP: worker processes")
    ap.add_argument("--threads", type=int, default=8, help="over HTTP: request threads per worker")
    ap.add_argument("--store", default=None, help="mongodb://... (default: SQLite in a temp dir)")
    args = ap.parse_args()
    key = new_key()
    result = run_http(args, key) if args.http else run_in_process(args, key)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
