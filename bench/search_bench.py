# ruff: noqa: E501
"""Search benchmark (not a test): load N resources through transaction bundles over HTTP
into the real server, then time the issue's search queries.

    .venv/bin/python bench/search_bench.py --size 10000            # small run, ~1 min
    .venv/bin/python bench/search_bench.py                         # 1,000,000 resources
    .venv/bin/python bench/search_bench.py --reuse /tmp/noskhe-bench-1000000   # queries only
    .venv/bin/python bench/search_bench.py --table /tmp/noskhe-bench-10000 /tmp/noskhe-bench-1000000

    .venv/bin/python bench/search_bench.py --direct --load-only    # build the 1M store fast (no HTTP)

Loading: `fhir-server serve --no-auth --workers 2 --data DIR` on a free loopback port
(with NOSKHE_ACCEPT_UNSIGNED=1: the generated prescriptions are unsigned, and the
e-prescription workflow would otherwise keep them draft and refuse their dispenses);
Practitioners first, then bundles of whole patients (Patient, MedicationRequests,
MedicationDispenses, ServiceRequests; `urn:uuid:` references) POSTed as transactions by
`--clients` concurrent connections (`Prefer: return=minimal`), with a progress bar on
stderr and the ingest rate in resources/s. The data directory is kept (default
/tmp/noskhe-bench-N) with `bench-sample.json` (patients to query) and
`bench-results.json`, so `--reuse DIR` reruns the query phase without loading.
`--checkpoint-every N` pauses the load every N resources and resets the WAL from outside
(two workers writing back to back never let SQLite restart its WAL: it grew to 4.6 GB
within 50k resources). `--direct` loads in-process through the store instead (extraction
and the same index rows, no HTTP, no validation, no workflow rules): for building the
1M store for the query phase; it does not measure ingest.

Queries (each rotating over sampled patients / names / days):
  nc-chain    MedicationRequest?subject:Patient.identifier=<national-code system>|<code>&status=active
  patient-sort MedicationRequest?patient=<id>&_sort=-authoredon&_count=20
  name        Patient?name=<Persian family-name prefix, 3 letters>
  date-total  MedicationRequest?authoredon=ge<day>&authoredon=lt<day+1>&_total=accurate
  include     MedicationRequest?patient=<id>&_include=MedicationRequest:requester&_revinclude=MedicationDispense:prescription
Per query: `--requests` sequential requests on one keep-alive-less connection (p50, p99,
requests/s), then a concurrent run of `--duration` seconds: wrk (-t2 -c`--concurrency`)
when on PATH, else a Python thread pool.

Targets (issue 3, 2-core machine): nc-chain p99 <= 10 ms at 1M; every query's 1M p50
within 1.5x of its 10k p50; ingest >= 2,000 resources/s.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data_gen import NATIONAL_CODE, YEAR_START, Generator, PatientSample

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / ".venv" / "bin" / "fhir-server"
SAMPLE_FILE = "bench-sample.json"
RESULTS_FILE = "bench-results.json"
QUERIES = ["nc-chain", "patient-sort", "name", "date-total", "include"]


# ---- server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(data: Path, workers: int, threads: int) -> Iterator[int]:
    port = free_port()
    log = open(data / "server.log", "ab")  # noqa: SIM115
    # NOSKHE_BENCH_SERVER: another command to start the server with (experiments).
    prefix = os.environ.get("NOSKHE_BENCH_SERVER", "").split() or [str(SERVER)]
    cmd = [
        *prefix,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data",
        str(data),
        "--no-auth",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    # The generated prescriptions are not signed: accept them as during roll-out (active,
    # with a warning), so that dispenses in the same bundle can refer to them.
    env = {**os.environ, "NOSKHE_ACCEPT_UNSIGNED": os.environ.get("NOSKHE_ACCEPT_UNSIGNED", "1")}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}; see {data / 'server.log'}")
            try:
                status, _ = request(port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


_local = threading.local()


def _conn(port: int) -> http.client.HTTPConnection:
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "port", None) != port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        _local.conn, _local.port = conn, port
    return conn


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One HTTP request on this thread's connection (reopened when the server closed it)."""
    for attempt in range(2):
        conn = _conn(port)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
            return resp.status, data
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            _local.conn = None
            if attempt:
                raise
    raise AssertionError("unreachable")


# ---- loading --------------------------------------------------------------------------


class Progress:
    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.start = time.perf_counter()
        self._last = 0.0
        self.tty = sys.stderr.isatty()

    def add(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last >= (0.2 if self.tty else 10) or self.done >= self.total:
            self._last = now
            elapsed = now - self.start
            rate = self.done / elapsed if elapsed else 0
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            eta = (self.total - self.done) / rate if rate else 0
            line = f"{self.label} [{bar:<30}] {self.done:,}/{self.total:,} {rate:,.0f}/s eta {eta:,.0f}s"
            sys.stderr.write(("\r" + line) if self.tty else line + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


HEADERS = {"Content-Type": "application/fhir+json", "Prefer": "return=minimal"}


def post_bundle(port: int, bundle: dict[str, Any]) -> list[str]:
    status, body = request(port, "POST", "/fhir", orjson.dumps(bundle), HEADERS)
    if status != 200:
        raise SystemExit(f"transaction failed: {status} {body[:2000]!r}")
    return [e["response"]["location"].split("/_history")[0] for e in orjson.loads(body)["entry"]]


def checkpoint(data: Path) -> None:
    """Reset the WAL from outside while no request is in flight (see --checkpoint-every)."""
    conn = sqlite3.connect(data / "noskhe.sqlite3", timeout=60)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()


def load(port: int, gen: Generator, clients: int, data: Path, checkpoint_every: int) -> float:
    """Load everything; returns resources/s over the whole load (checkpoints included)."""
    progress = Progress(gen.size, "ingest")
    t0 = time.perf_counter()
    for bundle in gen.practitioner_bundles():
        gen.practitioners.extend(post_bundle(port, bundle))
        progress.add(len(bundle["entry"]))
    keep_every = max(1, gen.size // 20000)  # ~2,000 sampled patients

    def work(bundle: dict[str, Any], samples: list[PatientSample]) -> int:
        locations = post_bundle(port, bundle)
        by_urn = {e["fullUrl"]: loc for e, loc in zip(bundle["entry"], locations, strict=True)}
        for sample in samples:
            sample.server_id = by_urn[sample.urn].split("/")[1]
        return len(bundle["entry"])

    with cf.ThreadPoolExecutor(clients) as pool:
        pending: set[cf.Future[int]] = set()
        n = 0
        since_checkpoint = 0
        for bundle, samples in gen.patient_bundles():
            if checkpoint_every and since_checkpoint >= checkpoint_every:
                for f in cf.as_completed(pending):
                    progress.add(f.result())
                pending = set()
                checkpoint(data)
                since_checkpoint = 0
            since_checkpoint += len(bundle["entry"])
            kept = [s for s in samples if (n := n + 1) % keep_every == 0]
            gen.samples.extend(kept)
            pending.add(pool.submit(work, bundle, kept))
            if len(pending) >= clients * 2:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for f in done:
                    progress.add(f.result())
        for f in cf.as_completed(pending):
            progress.add(f.result())
    progress.close()
    return gen.size / (time.perf_counter() - t0)


def _rewrite(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: (mapping.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite(v, mapping))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, mapping) for v in value]
    return value


def direct_load(data: Path, gen: Generator, per_txn: int = 5000) -> float:
    """Bulk-load in-process through the store (no HTTP, no validation; extraction and the
    same index rows as the server writes): for building a big store for the query phase
    fast. Returns resources/s; it is NOT the transaction ingest rate."""
    import uuid as uuid_mod

    from fhir_server.repository.meta import now_instant, stamp
    from fhir_server.search import extract_index
    from fhir_server.storage.base import ResourceVersion
    from fhir_server.storage.sqlite import SQLiteStore

    store = SQLiteStore(data / "noskhe.sqlite3")
    conn = store._connection()  # this loader's connection only:
    conn.execute("PRAGMA cache_size=-2000000")
    conn.execute("PRAGMA synchronous=OFF")
    progress = Progress(gen.size, "direct load")
    t0 = time.perf_counter()
    pending: list[tuple[dict[str, Any], str]] = []

    def flush() -> None:
        with store.session(write=True) as s:
            for resource, id_ in pending:
                stored = stamp(resource, id_, 1, now_instant())
                rv = ResourceVersion(
                    resource["resourceType"],
                    id_,
                    1,
                    stored["meta"]["lastUpdated"],
                    False,
                    orjson.dumps(stored),
                    "POST",
                )
                s.put(rv, extract_index(stored), None)
        progress.add(len(pending))
        pending.clear()

    def add(bundle: dict[str, Any]) -> dict[str, str]:
        mapping = {
            e["fullUrl"]: f"{e['resource']['resourceType']}/{uuid_mod.uuid4()}" for e in bundle["entry"]
        }
        for e in bundle["entry"]:
            pending.append((_rewrite(e["resource"], mapping), mapping[e["fullUrl"]].split("/")[1]))
        return mapping

    for bundle in gen.practitioner_bundles():
        gen.practitioners.extend(add(bundle).values())
    keep_every = max(1, gen.size // 20000)
    n = 0
    for bundle, samples in gen.patient_bundles():
        mapping = add(bundle)
        for sample in samples:
            n += 1
            if n % keep_every == 0:
                sample.server_id = mapping[sample.urn].split("/")[1]
                gen.samples.append(sample)
        if len(pending) >= per_txn:
            flush()
    flush()
    progress.close()
    store.close()
    return gen.size / (time.perf_counter() - t0)


# ---- queries --------------------------------------------------------------------------


def query_paths(samples: list[dict[str, Any]], rng: random.Random, n: int = 200) -> dict[str, list[str]]:
    picked = [rng.choice(samples) for _ in range(n)]
    fams = sorted({s["family"] for s in samples})
    day0 = YEAR_START.date()
    paths: dict[str, list[str]] = {q: [] for q in QUERIES}
    for i, s in enumerate(picked):
        paths["nc-chain"].append(
            "/fhir/MedicationRequest?subject:Patient.identifier="
            + quote(f"{NATIONAL_CODE}|{s['national_code']}")
            + "&status=active"
        )
        paths["patient-sort"].append(f"/fhir/MedicationRequest?patient={s['id']}&_sort=-authoredon&_count=20")
        paths["name"].append("/fhir/Patient?name=" + quote(fams[i % len(fams)][:3]))
        # A day some sampled patient has a prescription on (the data's own year), else any.
        day = (
            dt.date.fromisoformat(s["day"])
            if s.get("day")
            else day0.fromordinal(day0.toordinal() + rng.randrange(0, 364))
        )
        nxt = day.fromordinal(day.toordinal() + 1)
        paths["date-total"].append(
            f"/fhir/MedicationRequest?authoredon=ge{day}&authoredon=lt{nxt}&_total=accurate"
        )
        paths["include"].append(
            f"/fhir/MedicationRequest?patient={s['id']}&_include=MedicationRequest:requester&_revinclude=MedicationDispense:prescription"
        )
    return paths


def sequential(port: int, paths: list[str], n: int) -> dict[str, Any]:
    for p in paths[:10]:  # warm-up
        request(port, "GET", p)
    times, entries, totals = [], [], []
    t0 = time.perf_counter()
    for i in range(n):
        path = paths[i % len(paths)]
        t = time.perf_counter()
        status, body = request(port, "GET", path)
        times.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {body[:500]!r}")
        b = orjson.loads(body)
        entries.append(len(b.get("entry", [])))
        if "total" in b:
            totals.append(b["total"])
    wall = time.perf_counter() - t0
    times.sort()
    return {
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, round(len(times) * 0.99) - 1)],
        "rps": n / wall,
        "entries": statistics.mean(entries),
        "total": statistics.mean(totals) if totals else None,
    }


WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def concurrent_run(port: int, paths: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(WRK_LUA % ", ".join(json.dumps(p) for p in paths))
        try:
            out = subprocess.run(
                [
                    wrk,
                    "-t2",
                    f"-c{concurrency}",
                    f"-d{seconds:g}s",
                    "--latency",
                    "-s",
                    f.name,
                    f"http://127.0.0.1:{port}",
                ],
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=True,
            ).stdout
        finally:
            os.unlink(f.name)
        return {"tool": "wrk", **_parse_wrk(out)}
    stop = time.perf_counter() + seconds
    lat: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        i = k
        while time.perf_counter() < stop:
            t = time.perf_counter()
            request(port, "GET", paths[i % len(paths)])
            with lock:
                lat.append((time.perf_counter() - t) * 1000)
            i += concurrency

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        "tool": "threads",
        "rps": len(lat) / wall,
        "p50": statistics.median(lat),
        "p99": lat[int(len(lat) * 0.99) - 1],
        "errors": 0,
    }


def _ms(text: str) -> float:
    for unit, k in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * k
    return float(text)


def _parse_wrk(out: str) -> dict[str, Any]:
    res: dict[str, Any] = {"errors": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("50%"):
            res["p50"] = _ms(parts[1])
        elif line.strip().startswith("99%"):
            res["p99"] = _ms(parts[1])
        elif line.startswith("Requests/sec:"):
            res["rps"] = float(parts[1])
        elif "Non-2xx" in line:
            res["errors"] += int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            res["errors"] += sum(int(x.rstrip(",")) for x in parts if x.rstrip(",").isdigit())
    return res


def samples_from_store(data: Path, n: int = 2000) -> dict[str, Any]:
    """Patients to query, read from the store itself (an interrupted load wrote no sample):
    uuids order randomly, so the first ids are a random sample."""
    conn = sqlite3.connect(f"file:{data / 'noskhe.sqlite3'}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT body FROM resources WHERE type = 'Patient' AND deleted = 0 ORDER BY id LIMIT ?", (n,)
        ).fetchall()
        size = conn.execute("SELECT count(*) FROM resources WHERE deleted = 0").fetchone()[0]
    finally:
        conn.close()
    patients = []
    for (body,) in rows:
        r = orjson.loads(body)
        code = next((i["value"] for i in r.get("identifier", []) if i.get("system") == NATIONAL_CODE), None)
        if code:
            patients.append(
                {"id": r["id"], "national_code": code, "family": r["name"][0]["family"], "day": ""}
            )
    return {"size": size, "patients": patients}


def warm(data: Path) -> None:
    """Read the store's files once, so that the OS page cache holds them, as on a server
    that has been serving for a while (a cold 1M store otherwise measures the disk: each
    query's first touch of a page is a random read)."""
    t0, n = time.perf_counter(), 0
    for path in sorted(data.glob("noskhe.sqlite3*")):
        with open(path, "rb") as f:
            while chunk := f.read(8 << 20):
                n += len(chunk)
    print(f"warmed the page cache: {n / 1e9:.1f} GB in {time.perf_counter() - t0:.1f} s", flush=True)


def run_queries(port: int, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    if args.warm:
        warm(data)
    samples = json.loads((data / SAMPLE_FILE).read_text())["patients"]
    paths = query_paths(samples, random.Random(7))
    results: dict[str, Any] = {}
    for q in QUERIES:
        if args.queries and q not in args.queries:
            continue
        seq = sequential(port, paths[q], args.requests)
        conc = concurrent_run(port, paths[q], args.duration, args.concurrency) if args.duration > 0 else None
        results[q] = {"seq": seq, "conc": conc, "example": paths[q][0]}
        c = (
            f"; concurrent {conc['rps']:,.0f} req/s p50 {conc['p50']:.1f} p99 {conc['p99']:.1f} ms"
            if conc
            else ""
        )
        tot = f" total~{seq['total']:.0f}" if seq["total"] is not None else ""
        print(
            f"  {q:<13} p50 {seq['p50']:.2f} ms p99 {seq['p99']:.2f} ms {seq['rps']:,.0f} req/s (entries~{seq['entries']:.1f}{tot}){c}",
            flush=True,
        )
    return results


# ---- table ----------------------------------------------------------------------------


def print_table(runs: list[dict[str, Any]]) -> None:
    runs = sorted(runs, key=lambda r: r["size"])
    print(f"\nSearch benchmark, nproc={os.cpu_count()}, server: --workers {runs[0].get('workers', 2)}")
    for r in runs:
        ing = f"{r['ingest_rps']:,.0f} resources/s" if r.get("ingest_rps") else "(reused)"
        print(f"  {r['size']:>9,} resources: ingest {ing}; data {r['data']}")
    head = "| query | " + " | ".join(f"{r['size']:,}: p50 / p99 ms, seq req/s, conc req/s" for r in runs)
    ratio = len(runs) >= 2
    print()
    print(head + (" | p50 ratio big/small | p99 ratio |" if ratio else " |"))
    print("|---" * (len(runs) + 1 + (2 if ratio else 0)) + "|")
    for q in QUERIES:
        cells = []
        for r in runs:
            x = r["queries"].get(q)
            if not x:
                cells.append("-")
                continue
            s, c = x["seq"], x["conc"]
            cells.append(
                f"{s['p50']:.2f} / {s['p99']:.2f}, {s['rps']:,.0f}, {c['rps']:,.0f}"
                if c
                else f"{s['p50']:.2f} / {s['p99']:.2f}, {s['rps']:,.0f}, -"
            )
        row = f"| {q} | " + " | ".join(cells)
        if ratio and all(q in r["queries"] for r in (runs[0], runs[-1])):
            a, b = runs[0]["queries"][q]["seq"], runs[-1]["queries"][q]["seq"]
            row += f" | {b['p50'] / a['p50']:.2f}x | {b['p99'] / a['p99']:.2f}x"
        print(row + " |")
    big = runs[-1]
    checks = []
    if "nc-chain" in big["queries"] and big["size"] >= 1_000_000:
        p99 = big["queries"]["nc-chain"]["seq"]["p99"]
        checks.append(
            f"nc-chain p99 at {big['size']:,}: {p99:.2f} ms (target <= 10): {'OK' if p99 <= 10 else 'MISSED'}"
        )
    if ratio:
        worst = max(
            (big["queries"][q]["seq"]["p50"] / runs[0]["queries"][q]["seq"]["p50"], q)
            for q in QUERIES
            if q in big["queries"] and q in runs[0]["queries"]
        )
        checks.append(
            f"worst p50 ratio: {worst[0]:.2f}x ({worst[1]}) (target <= 1.5): {'OK' if worst[0] <= 1.5 else 'MISSED'}"
        )
    for r in runs:
        if r.get("ingest_rps"):
            checks.append(
                f"ingest at {r['size']:,}: {r['ingest_rps']:,.0f}/s (target >= 2,000): {'OK' if r['ingest_rps'] >= 2000 else 'MISSED'}"
            )
    print()
    for c in checks:
        print("  " + c)
    print("  example requests:")
    for q in QUERIES:
        if q in big["queries"]:
            print(f"    {q}: GET {big['queries'][q]['example']}")


# ---- main -----------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="resources to load (default 1,000,000)")
    ap.add_argument(
        "--data", type=Path, help="data dir to create (default /tmp/noskhe-bench-SIZE; must not exist)"
    )
    ap.add_argument("--reuse", type=Path, help="an existing data dir of an earlier run: skip loading")
    ap.add_argument(
        "--table", type=Path, nargs="+", help="only print the table of these data dirs' saved results"
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        help="also show this data dir's saved results in the table (e.g. the 10k run)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clients", type=int, default=4, help="concurrent connections while loading")
    ap.add_argument(
        "--checkpoint-every",
        type=int,
        default=50_000,
        help="pause loading every N resources to reset the server's WAL (0: never); "
        "works around the WAL never restarting under continuous writes by 2 workers",
    )
    ap.add_argument("--bundle", type=int, default=250, help="entries per transaction bundle")
    ap.add_argument("--requests", type=int, default=300, help="sequential requests per query")
    ap.add_argument(
        "--duration", type=float, default=8, help="seconds of the concurrent run per query (0: skip)"
    )
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--queries", nargs="*", choices=QUERIES)
    ap.add_argument(
        "--direct",
        action="store_true",
        help="bulk-load in-process (no HTTP, no validation) to build a big store quickly; "
        "the ingest rate is then not measured",
    )
    ap.add_argument(
        "--no-warm",
        dest="warm",
        action="store_false",
        help="do not read the store into the OS page cache first",
    )
    ap.add_argument("--load-only", action="store_true")
    args = ap.parse_args()

    if args.table:
        print_table([json.loads((d / RESULTS_FILE).read_text()) for d in args.table])
        return
    ingest = None
    if args.reuse:
        data = args.reuse
        saved = json.loads((data / RESULTS_FILE).read_text()) if (data / RESULTS_FILE).exists() else {}
        if not (data / SAMPLE_FILE).exists():
            (data / SAMPLE_FILE).write_text(json.dumps(samples_from_store(data), ensure_ascii=False))
        size = json.loads((data / SAMPLE_FILE).read_text())["size"]
        ingest = saved.get("ingest_rps")
    else:
        size = args.size
        data = args.data or Path(f"/tmp/noskhe-bench-{size}")
        if data.exists() and any(data.iterdir()):
            raise SystemExit(f"{data} exists: remove it, or pass --reuse {data}")
        data.mkdir(parents=True, exist_ok=True)
    print(f"nproc={os.cpu_count()} size={size:,} data={data}", flush=True)
    if args.direct and not args.reuse:
        gen = Generator(size, per_bundle=args.bundle)
        rate = direct_load(data, gen)
        print(
            f"direct (in-process, unvalidated) load: {size:,} resources: {rate:,.0f} resources/s -- not the HTTP ingest rate",
            flush=True,
        )
        samples = [
            {"id": s.server_id, "national_code": s.national_code, "family": s.family, "day": s.first_authored}
            for s in gen.samples
            if s.server_id
        ]
        (data / SAMPLE_FILE).write_text(json.dumps({"size": size, "patients": samples}, ensure_ascii=False))
        (data / RESULTS_FILE).write_text(
            json.dumps(
                {"size": size, "data": str(data), "ingest_rps": None, "direct_load_rps": rate, "queries": {}}
            )
        )
        args.reuse = data
        if args.load_only:
            return
    with running_server(data, args.workers, args.threads) as port:
        if not args.reuse:
            gen = Generator(size, per_bundle=args.bundle)
            ingest = load(port, gen, args.clients, data, args.checkpoint_every)
            print(
                f"ingest: {size:,} resources in transactions of ~{args.bundle}: {ingest:,.0f} resources/s",
                flush=True,
            )
            samples = [
                {
                    "id": s.server_id,
                    "national_code": s.national_code,
                    "family": s.family,
                    "day": s.first_authored,
                }
                for s in gen.samples
                if s.server_id
            ]
            (data / SAMPLE_FILE).write_text(
                json.dumps({"size": size, "patients": samples}, ensure_ascii=False)
            )
            (data / RESULTS_FILE).write_text(
                json.dumps({"size": size, "data": str(data), "ingest_rps": ingest, "queries": {}})
            )
        if args.load_only:
            return
        results = run_queries(port, data, args)
    run = {
        "size": size,
        "data": str(data),
        "ingest_rps": ingest,
        "workers": args.workers,
        "queries": results,
        "nproc": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    (data / RESULTS_FILE).write_text(json.dumps(run, indent=1))
    runs = [run]
    if args.baseline:
        runs.insert(0, json.loads((args.baseline / RESULTS_FILE).read_text()))
    print_table(runs)


if __name__ == "__main__":
    main()
