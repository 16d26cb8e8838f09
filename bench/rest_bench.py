#!/usr/bin/env python3
"""REST benchmark for Noskhe (issue 2, item 10). A benchmark, not a test.

Starts the real server (`fhir-server serve --workers 2 --no-auth`) on a free loopback
port with a fresh data directory, seeds prescribers, insured Patients (each with a TAMIN
Coverage) and MedicationRequests through the API, then drives it with `wrk`:

    healthz  GET  /healthz                      the HTTP floor through the same server
    read     GET  /fhir/MedicationRequest/<id>  rotating over every seeded id
    create   POST /fhir/MedicationRequest       an Iranian prescription item (00077
                                                amoxicillin 500 mg), never a duplicate
    update   PUT  /fhir/MedicationRequest/<id>  rotating; each body is the stored item
                                                with a changed client identifier

and prints requests/s, p50 and p99 latency and errors per scenario, with the targets:
read >= 60% of the floor's requests/s, and create >= 500/s.

    .venv/bin/python bench/rest_bench.py                 # defaults: 10 s per scenario
    .venv/bin/python bench/rest_bench.py --threads 1,2,4 # compare thread settings
    .venv/bin/python bench/rest_bench.py --json          # machine-readable

Exit status: 0 all targets met and no errors; 1 a target missed or errors seen;
2 the environment is wrong (no wrk, the server did not start or seed).
Needs `wrk` (Debian: apt-get install -y wrk); installs nothing itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PAYLOADS = BENCH_DIR / "payloads"
LUA_SCRIPT = PAYLOADS / "fhir.lua"
FHIR_JSON = "application/fhir+json"

# create: a national prescription item (the whole e-prescription workflow runs);
# create-plain: the same MedicationRequest ordered under a hospital's own group system,
# so it is plain FHIR (validation, indexing, storage) with no workflow: the REST core.
SCENARIOS = ("healthz", "read", "create", "create-plain", "update", "transaction")
EXPECTED_STATUS = {
    "hello": 200,
    "healthz": 200,
    "read": 200,
    "create": 201,
    "create-plain": 201,
    "update": 200,
    "transaction": 200,
}
LUA_MODE = {"create-plain": "create", "hello": "healthz"}
HTTP_SERVERS = ("granian", "gunicorn-sync", "gunicorn-gthread")
SHIPPED_SERVER = "granian"
TX_BUDGET_PER_S = 6000  # resources generated per second of the transaction scenario
GROUP_SIZES = (8, 32)
NATIONAL_GROUP = "http://noskhe.ir/fhir/sid/prescription"
HOSPITAL_GROUP = "http://his.example.ir/fhir/sid/order-group"
READ_FLOOR_TARGET = 0.60

BUSY_CPU = 0.20  # share of all cores busy (before the server starts) above which figures suffer
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 10.0
SEED_TIMEOUT = 90.0
HTTP_TIMEOUT = 10.0

PLACEHOLDER = re.compile(r'"@@([A-Z_]+)@@"')
TEHRAN = timezone(timedelta(hours=3, minutes=30))  # Iran Standard Time; no DST since 2022
QTY_SPAN = 21  # quantities 10..30 (within the insurers' maxQuantity for 00077)
SEED_CONCURRENCY = 4
REVISION_SYSTEM = "http://his.example.ir/fhir/sid/order-revision"

FAMILIES = ["رضایی", "کریمی", "محمدی", "حسینی", "احمدی", "موسوی", "جعفری", "صادقی", "رحیمی", "نوری"]
MALE_GIVEN = ["علی", "محمد", "حسین", "رضا", "مهدی"]
FEMALE_GIVEN = ["زهرا", "فاطمه", "مریم", "سارا", "نرگس"]


class BenchError(Exception):
    """The environment or the server is not fit to be measured (exit 2)."""


# -- helpers ----------------------------------------------------------------------------


def national_code(n: int) -> str:
    """A valid 10-digit Iranian national code (check digit per the official algorithm)."""
    body = f"{(n * 7919 + 12345) % 10**9:09d}"
    total = sum(int(d) * (10 - i) for i, d in enumerate(body))
    r = total % 11
    return body + str(r if r < 2 else 11 - r)


def fill(template: str, values: dict[str, Any]) -> Any:
    """The template with each "@@NAME@@" (quotes included) replaced by values[NAME] as JSON;
    payloads/fhir.lua fills create and update bodies the same way."""

    def value(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise BenchError(f"no value for placeholder {m.group(1)} in a payload")
        return json.dumps(values[m.group(1)], ensure_ascii=False)

    return json.loads(PLACEHOLDER.sub(value, template))


def dumps(resource: Any) -> bytes:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def cpu_busy(seconds: float = 1.0) -> float | None:
    """The share of all cores busy over `seconds` (from /proc/stat); None if unknown."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
        return values[3] + values[4], sum(values)  # idle + iowait, total

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return 1.0 - (idle1 - idle0) / total if total > 0 else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fhir_server_command() -> list[str]:
    venv_bin = REPO_DIR / ".venv" / "bin"
    for candidate in (venv_bin / "fhir-server", Path(sys.executable).parent / "fhir-server"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("fhir-server")
    if found:
        return [found]
    return [sys.executable, "-m", "fhir_server"]


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, Any]:
    headers = {"Accept": FHIR_JSON}
    if body is not None:
        headers["Content-Type"] = FHIR_JSON
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:300]


# -- the server -------------------------------------------------------------------------


class Server:
    """A server command in its own process group; stop() always ends the whole group."""

    def __init__(self, cmd: list[str], port: int, name: str, workdir: Path, data: Path | None = None) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = data
        self.log_path = workdir / f"server-{name}.log"
        self.cmd = cmd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.data is not None:
            self.data.mkdir(parents=True, exist_ok=True)
        # The ingested prescriptions are unsigned (as in search_bench): accept them, so that
        # the dispenses in the same bundles count against active items.
        env = {**os.environ, "NOSKHE_ACCEPT_UNSIGNED": os.environ.get("NOSKHE_ACCEPT_UNSIGNED", "1")}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_DIR,
                start_new_session=True,
                env=env,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if http("GET", self.base + "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"server not healthy after {SERVER_START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's whole process tree (workers, threads)."""
        return tree_cpu_seconds(self.proc.pid) if self.proc is not None else 0.0

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=SERVER_STOP_TIMEOUT)
        # the master may be gone while a worker lingers: end the group for certain
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=SERVER_STOP_TIMEOUT)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def tree_cpu_seconds(root: int) -> float:
    """utime + stime of `root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = int(fields[11]) + int(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def noskhe_server(http_server: str, workers: int, threads: int, workdir: Path) -> Server:
    """The real server: `fhir-server serve` for the shipped HTTP server (granian), else the
    same app under the alternative through bench/wsgi_servers.py."""
    port, data = free_port(), workdir / f"data-{http_server}-t{threads}"
    if http_server == SHIPPED_SERVER:
        cmd = [
            *fhir_server_command(),
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
    else:
        cmd = [
            *wsgi_servers_command(http_server, port, workers, threads),
            "--app",
            "noskhe",
            "--data",
            str(data),
        ]
    return Server(cmd, port, f"{http_server}-t{threads}", workdir, data)


def floor_server(http_server: str, workers: int, threads: int, workdir: Path) -> Server:
    """A bare WSGI hello-world under the same HTTP server and settings: the floor."""
    port = free_port()
    cmd = [*wsgi_servers_command(http_server, port, workers, threads), "--app", "hello"]
    return Server(cmd, port, f"{http_server}-t{threads}-hello", workdir)


def wsgi_servers_command(http_server: str, port: int, workers: int, threads: int) -> list[str]:
    python = REPO_DIR / ".venv" / "bin" / "python"
    return [
        str(python if python.exists() else sys.executable),
        str(BENCH_DIR / "wsgi_servers.py"),
        "--server",
        http_server,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


# -- seeding ----------------------------------------------------------------------------


@dataclass
class Seed:
    ids: list[str]  # the seeded MedicationRequests
    next_seq: int  # the first prescription number wrk's creates may use
    files: dict[str, Path]  # what payloads/fhir.lua reads


def tehran_now() -> datetime:
    return datetime.now(TEHRAN)


def combo(c: int, patients: int, prescribers: int) -> tuple[int, int, int]:
    """Prescription number c -> (patient, prescriber, quantity), as payloads/fhir.lua does:
    distinct numbers are distinct prescriptions, so none is refused as a duplicate."""
    return c % patients, (c // patients) % prescribers, 10 + (c // (patients * prescribers)) % QTY_SPAN


def seed(base: str, records: int, n_patients: int, n_prescribers: int, workdir: Path) -> Seed:
    """Prescribers, insured Patients and `records` MedicationRequests through the REST API,
    then the files payloads/fhir.lua needs."""
    deadline = time.monotonic() + SEED_TIMEOUT
    fhir = base + "/fhir"
    templates = {
        n: (PAYLOADS / f"{n}.json").read_text(encoding="utf-8")
        for n in ("patient", "practitioner", "coverage", "medication_request")
    }
    now = tehran_now()
    today = now.date()

    def post(type_: str, resource: Any) -> str:
        if time.monotonic() > deadline:
            raise BenchError(f"seeding took longer than {SEED_TIMEOUT:.0f} s")
        status, body = http("POST", f"{fhir}/{type_}", dumps(resource))
        if status != 201 or not isinstance(body, dict) or "id" not in body:
            raise BenchError(f"seeding POST {type_} gave {status}: {str(body)[:800]}")
        return str(body["id"])

    def prescriber(i: int) -> str:
        female = i % 2 == 0
        given = (FEMALE_GIVEN if female else MALE_GIVEN)[(i + 2) % 5]
        family = FAMILIES[(i + 3) % len(FAMILIES)]
        did = post(
            "Practitioner",
            fill(
                templates["practitioner"],
                {
                    "IRIMC": f"{100000 + i}",
                    "NATIONAL_CODE": national_code(10_000 + i),
                    "NAME": f"دکتر {given} {family}",
                    "FAMILY": family,
                    "GIVEN": given,
                    "GENDER": "female" if female else "male",
                },
            ),
        )
        return dumps({"reference": f"Practitioner/{did}", "display": f"دکتر {given} {family}"}).decode()

    def patient(i: int) -> str:
        female = i % 2 == 1
        given = (FEMALE_GIVEN if female else MALE_GIVEN)[i % 5]
        family = FAMILIES[(i // 5) % len(FAMILIES)]
        code = national_code(i)
        pid = post(
            "Patient",
            fill(
                templates["patient"],
                {
                    "NATIONAL_CODE": code,
                    "NAME": f"{given} {family}",
                    "FAMILY": family,
                    "GIVEN": given,
                    "MOBILE": f"0935{1000000 + i:07d}",
                    "GENDER": "female" if female else "male",
                    "BIRTH_DATE": f"{1950 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                },
            ),
        )
        cid = post(
            "Coverage",
            fill(
                templates["coverage"],
                {
                    "NATIONAL_CODE": code,
                    "BENEFICIARY": {"reference": f"Patient/{pid}"},
                    "START": f"{today.year - 1}-03-21",
                    "END": f"{today.year + 1}-03-20",
                },
            ),
        )
        subject = {"reference": f"Patient/{pid}", "display": f"{given} {family}"}
        return f"{dumps(subject).decode()}\t{dumps([{'reference': f'Coverage/{cid}'}]).decode()}"

    with ThreadPoolExecutor(SEED_CONCURRENCY) as pool:
        requesters = list(pool.map(prescriber, range(n_prescribers)))
        patients = list(pool.map(patient, range(n_patients)))

    # the create template: per-run values filled here, per-request ones left to the Lua script
    static = {
        "AUTHORED": now.isoformat(timespec="seconds"),
        "VALID_START": today.isoformat(),
        "VALID_END": (today + timedelta(days=30)).isoformat(),
    }
    template = templates["medication_request"]
    for name, v in static.items():
        template = template.replace(f'"@@{name}@@"', json.dumps(v))
    template = json.dumps(json.loads(template), ensure_ascii=False, separators=(",", ":"))

    def prescription(c: int) -> Any:
        p, d, qty = combo(c, n_patients, n_prescribers)
        subject, insurance = patients[p].split("\t")
        return fill(
            template,
            {
                "ITEM": f"bench-{c}",
                "SUBJECT": json.loads(subject),
                "INSURANCE": json.loads(insurance),
                "REQUESTER": json.loads(requesters[d]),
                "QTY": qty,
                "GROUP": f"urn:uuid:00000000-0000-4000-8000-{c:012d}",
            },
        )

    with ThreadPoolExecutor(SEED_CONCURRENCY) as pool:
        ids = list(pool.map(lambda c: post("MedicationRequest", prescription(c)), range(records)))
    # one create by hand, as wrk will do them
    post("MedicationRequest", prescription(records))

    # update bodies: each stored item as a client has it (read, then changed), with a
    # client-side revision identifier whose value the Lua script makes unique per PUT
    def update_line(id_: str) -> str:
        status, body = http("GET", f"{fhir}/MedicationRequest/{id_}")
        if status != 200 or not isinstance(body, dict):
            raise BenchError(f"read of seeded MedicationRequest/{id_} gave {status}: {str(body)[:500]}")
        body.pop("meta", None)
        body.setdefault("identifier", []).append({"system": REVISION_SYSTEM, "value": "@@N@@"})
        return f"{id_}\t{dumps(body).decode()}"

    with ThreadPoolExecutor(SEED_CONCURRENCY) as pool:
        updates = list(pool.map(update_line, ids))
    for n in (1, 2):  # two updates by hand: both must write a new version
        id_, body = updates[0].split("\t", 1)
        put = dumps(fill(body, {"N": f"check-{n}"}))
        status, answer = http("PUT", f"{fhir}/MedicationRequest/{id_}", put)
        version = answer.get("meta", {}).get("versionId") if isinstance(answer, dict) else None
        if status != 200 or version != str(n + 1):
            raise BenchError(f"check update {n} gave {status}, versionId {version!r}: {str(answer)[:800]}")

    names = ("ids", "create", "create-plain", "patients", "requesters", "updates")
    files = {name: workdir / f"{name}.txt" for name in names}
    files["ids"].write_text("\n".join(ids) + "\n")
    files["create"].write_text(template, encoding="utf-8")
    files["create-plain"].write_text(template.replace(NATIONAL_GROUP, HOSPITAL_GROUP), encoding="utf-8")
    files["patients"].write_text("\n".join(patients) + "\n", encoding="utf-8")
    files["requesters"].write_text("\n".join(requesters) + "\n", encoding="utf-8")
    files["updates"].write_text("\n".join(updates) + "\n", encoding="utf-8")
    return Seed(ids, records + 1, files)


# -- wrk ----------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    unexpected_status: int = 0
    cpu_ms_per_request: float | None = None  # server process tree CPU / requests
    floor_ratio: float | None = None  # requests/s / the hello-world floor's requests/s
    resources_per_s: float | None = None  # transaction: resources written per second

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "errors": self.errors}


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _duration_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot read wrk duration {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(scenario: str, out: str) -> Result:
    r = Result(scenario)
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not m:
        raise BenchError(f"wrk gave no Requests/sec for {scenario}:\n{out}")
    r.requests_per_s = float(m.group(1))
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m:
            setattr(r, attr, _duration_ms(m.group(1)))
    m = re.search(r"^\s+(\d+) requests in", out, re.M)
    r.requests = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    r.non_2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r.socket_errors = sum(int(g) for g in m.groups()) if m else 0
    m = re.search(r"^NOSKHE_STATUS (\{.*\})$", out, re.M)
    if m:
        r.statuses = {k: int(v) for k, v in sorted(json.loads(m.group(1)).items())}
        expected = str(EXPECTED_STATUS[scenario])
        r.unexpected_status = sum(v for k, v in r.statuses.items() if k != expected)
    return r


def run_wrk(
    wrk: str, args: argparse.Namespace, server: Server, scenario: str, extra: list[str]
) -> tuple[Result, str]:
    cmd = [
        wrk,
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(LUA_SCRIPT),
        server.base,
        "--",
        LUA_MODE.get(scenario, scenario),
        *extra,
    ]
    cpu0 = server.cpu_seconds()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 30)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk {scenario} did not finish in {args.duration + 30} s") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk {scenario} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(scenario, done.stdout)
    if result.requests:
        result.cpu_ms_per_request = round((server.cpu_seconds() - cpu0) * 1000 / result.requests, 3)
    return result, done.stdout


# -- transaction ingest: bundles of 100 with the workflow on -------------------------------


def run_transactions(args: argparse.Namespace, server: Server) -> Result:
    """`--tx-clients` clients POST transaction bundles of `--bundle` entries (data_gen:
    Patients, national prescription items, dispenses, lab orders; the e-prescription
    workflow runs on every item) for `--duration` seconds over keep-alive connections."""
    import http.client

    sys.path.insert(0, str(BENCH_DIR))
    from data_gen import Generator

    gen = Generator(args.duration * TX_BUDGET_PER_S, per_bundle=args.bundle)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    for bundle in gen.practitioner_bundles():
        status, body = _post_bundle(conn, dumps(bundle))
        if status != 200:
            raise BenchError(f"practitioner bundle gave {status}: {str(body)[:500]}")
        gen.practitioners.extend(e["response"]["location"].split("/_history")[0] for e in body["entry"])
    conn.close()
    bundles = [(dumps(b), len(b["entry"])) for b, _ in gen.patient_bundles()]
    queue = iter(bundles)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    written = [0]
    deadline = time.monotonic() + args.duration

    def client() -> None:
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            body, n = item
            t0 = time.perf_counter()
            status, _ = _post_bundle(c, body, parse=False)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(ms)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                written[0] += n if status == 200 else 0
        c.close()

    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(args.tx_clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    r = Result("transaction", statuses=dict(sorted(statuses.items())), requests=len(latencies))
    r.requests_per_s = len(latencies) / elapsed
    r.resources_per_s = round(written[0] / elapsed, 1)
    if latencies:
        ordered = sorted(latencies)
        r.p50_ms = ordered[len(ordered) // 2]
        r.p99_ms = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        r.cpu_ms_per_request = round((server.cpu_seconds() - cpu0) * 1000 / max(written[0], 1), 3)
        r.cpu_ms_per_request = r.cpu_ms_per_request if written[0] else None
    r.non_2xx = sum(v for k, v in statuses.items() if k != "200")
    r.unexpected_status = r.non_2xx
    return r


def _post_bundle(conn: Any, body: bytes, parse: bool = True) -> tuple[int, Any]:
    conn.request("POST", "/fhir", body, {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})
    resp = conn.getresponse()
    raw = resp.read()
    return resp.status, json.loads(raw) if parse and raw else None


# -- pages written per create (in process, on the real store) --------------------------------


def pages_per_create(n: int = 192) -> dict[str, float]:
    """WAL pages one create-plain commits, measured on a fresh SQLite store in this process:
    alone (one unit per commit) and in groups of GROUP_SIZES (units committed together, as
    the group-commit writer does under load). Nothing checkpoints meanwhile, so the WAL's
    length in frames is what was written."""
    sys.path.insert(0, str(REPO_DIR))
    from fhir_server.app import build_repository
    from fhir_server.storage.sqlite import SQLiteStore

    template = (PAYLOADS / "medication_request.json").read_text(encoding="utf-8")
    body = fill(
        template.replace("http://noskhe.ir/fhir/sid/prescription", HOSPITAL_GROUP),
        {
            "ITEM": "pages",
            "SUBJECT": {"reference": "Patient/p1"},
            "AUTHORED": "2026-11-01T10:00:00+03:30",
            "REQUESTER": {"reference": "Practitioner/d1"},
            "INSURANCE": [{"reference": "Coverage/c1"}],
            "QTY": 20,
            "GROUP": "g-1",
            "VALID_START": "2026-11-01",
            "VALID_END": "2026-12-01",
        },
    )
    repo = build_repository()
    out = {}
    for group in (1, *GROUP_SIZES):
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteStore(Path(tmp) / "pages.sqlite3", checkpoints=False)
            wal = Path(tmp) / "pages.sqlite3-wal"
            with store.session(write=True) as s:  # warm the schema pages into the WAL first
                repo.create(s, "MedicationRequest", body)
            before = wal.stat().st_size
            for _ in range(n // group):
                with store.session(write=True) as s:
                    for _ in range(group):
                        repo.create(s, "MedicationRequest", body)
            frames = (wal.stat().st_size - before) / (4096 + 24)
            store.close()
        out[f"group_{group}"] = round(frames / (n // group * group), 1)
    return out


# -- one run: one HTTP server with one thread setting ----------------------------------------


def bench_once(
    wrk: str, args: argparse.Namespace, http_server: str, threads: int, workdir: Path
) -> dict[str, Any]:
    busy_before = cpu_busy()
    if busy_before is not None and busy_before > BUSY_CPU:
        log(
            args,
            f"warning: {busy_before:.0%} of the CPU is busy before the run; other work on "
            "this machine will lower the figures",
        )
    results: dict[str, Result] = {}
    raw: dict[str, str] = {}
    floor = floor_server(http_server, args.workers, threads, workdir)
    try:
        floor.start()
        log(args, f"wrk hello (bare WSGI floor under {http_server}) for {args.duration} s...")
        results["hello"], raw["hello"] = run_wrk(wrk, args, floor, "hello", [])
    finally:
        floor.stop()
    server = noskhe_server(http_server, args.workers, threads, workdir)
    try:
        server.start()
        log(
            args, f"{http_server} up at {server.base} (workers={args.workers}, threads={threads}); seeding..."
        )
        t0 = time.monotonic()
        s = seed(server.base, args.records, args.patients, args.practitioners, workdir)
        log(
            args,
            f"seeded {args.practitioners} Practitioners, {args.patients} Patients with Coverage, "
            f"{len(s.ids)} MedicationRequests in {time.monotonic() - t0:.1f} s",
        )
        f = s.files
        extra = {
            "healthz": [],
            "read": [str(f["ids"])],
            "create": [
                str(f["create"]),
                str(f["patients"]),
                str(f["requesters"]),
                str(s.next_seq),
                str(args.wrk_threads),
            ],
            "update": [str(f["updates"])],
        }
        extra["create-plain"] = [str(f["create-plain"]), *extra["create"][1:]]
        for scenario in args.scenarios:
            log(args, f"{scenario} for {args.duration} s...")
            if scenario == "transaction":
                results[scenario] = run_transactions(args, server)
            else:
                results[scenario], raw[scenario] = run_wrk(wrk, args, server, scenario, extra[scenario])
    finally:
        server.stop()
    if args.keep_logs:
        log(args, f"server log: {server.log_path}")
    run = summarise(http_server, threads, args, results, raw if args.raw else None)
    run["cpu_busy_before"] = busy_before
    return run


TARGETS = {  # issue 14, on a 2-core machine: scenario -> (figure, target)
    "create-plain": ("requests_per_s", 1000.0),
    "update": ("requests_per_s", 800.0),
    "create": ("requests_per_s", 400.0),
    "transaction": ("resources_per_s", 3000.0),
    "read": ("floor_ratio", READ_FLOOR_TARGET),
}
P99_TARGET_MS = 50.0


def summarise(
    http_server: str,
    threads: int,
    args: argparse.Namespace,
    results: dict[str, Result],
    raw: dict[str, str] | None,
) -> dict[str, Any]:
    floor = results.get("hello")
    for r in results.values():
        if floor and floor.requests_per_s and r.scenario != "transaction":
            r.floor_ratio = round(r.requests_per_s / floor.requests_per_s, 3)
    targets: dict[str, Any] = {}
    for name, (figure, target) in TARGETS.items():
        r = results.get(name)
        value = getattr(r, figure) if r else None
        if value is not None:
            targets[name] = {
                "figure": figure,
                "value": value,
                "target": target,
                "met": value >= target,
                "p99_ms": r.p99_ms,
                "p99_met": r.p99_ms < P99_TARGET_MS,
            }
    errors = sum(r.errors + r.unexpected_status for r in results.values())
    out: dict[str, Any] = {
        "http_server": http_server,
        "threads": threads,
        "scenarios": {k: v.to_json() for k, v in results.items()},
        "targets": targets,
        "errors": errors,
        "ok": errors == 0 and all(t["met"] for t in targets.values()),
    }
    if raw is not None:
        out["wrk_output"] = raw
    return out


# -- output ---------------------------------------------------------------------------------


def log(args: argparse.Namespace, message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def print_table(run: dict[str, Any], args: argparse.Namespace, cores: int) -> None:
    print()
    print(
        f"Noskhe REST bench: {cores} cores (nproc), {run['http_server']} {args.workers} workers x "
        f"{run['threads']} thread(s), wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s"
        f", transactions: {args.tx_clients} clients x {args.bundle} entries"
    )
    busy = run["cpu_busy_before"]
    if busy is not None:
        note = "  (busy: figures are low)" if busy > BUSY_CPU else ""
        print(f"CPU busy before the run (other work): {busy:.0%}{note}")
    print(
        f"{'scenario':<13} {'req/s':>9} {'/floor':>7} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>10} "
        f"{'errors':>6}  statuses"
    )
    for name, r in run["scenarios"].items():
        statuses = " ".join(f"{k}:{v}" for k, v in r["statuses"].items())
        ratio = f"{r['floor_ratio']:.3f}" if r["floor_ratio"] is not None else "-"
        cpu = f"{r['cpu_ms_per_request']:.3f}" if r["cpu_ms_per_request"] is not None else "-"
        rate = f"{r['requests_per_s']:.1f}"
        print(
            f"{name:<13} {rate:>9} {ratio:>7} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {cpu:>10} "
            f"{r['errors']:>6}  {statuses}"
        )
        if r["resources_per_s"] is not None:
            print(f"  transaction: {r['resources_per_s']:.0f} resources/s (cpu ms is per resource)")
        if r["errors"] or r["unexpected_status"]:
            print(
                f"  !! {name}: {r['non_2xx']} non-2xx/3xx, {r['socket_errors']} socket errors, "
                f"{r['unexpected_status']} responses other than {EXPECTED_STATUS[name]}"
            )
    for name, t in run["targets"].items():
        print(
            f"target {name}: {t['figure']} {t['value']:.3f} (>= {t['target']:g}): "
            f"{'MET' if t['met'] else 'MISSED'}; p99 {t['p99_ms']:.1f} ms "
            f"({'<' if t['p99_met'] else 'NOT <'} {P99_TARGET_MS:.0f})"
        )


def print_comparison(runs: list[dict[str, Any]]) -> None:
    print()
    names = [s for s in ("hello", *SCENARIOS) if any(s in r["scenarios"] for r in runs)]
    print(f"{'server':<17} {'thr':>3}  " + "  ".join(f"{n[:12]:>12}" for n in names) + "  (requests/s)")
    for run in runs:
        cells = [
            f"{run['scenarios'][n]['requests_per_s']:>12.1f}" if n in run["scenarios"] else f"{'-':>12}"
            for n in names
        ]
        print(f"{run['http_server']:<17} {run['threads']:>3}  " + "  ".join(cells))
    header = f"{'server':<17} {'thr':>3}  " + "  ".join(f"{n[:12]:>12}" for n in names)
    print(header + "  (server cpu ms/req)")
    for run in runs:
        cells = []
        for n in names:
            v = run["scenarios"].get(n, {}).get("cpu_ms_per_request")
            cells.append(f"{v:>12.3f}" if v is not None else f"{'-':>12}")
        print(f"{run['http_server']:<17} {run['threads']:>3}  " + "  ".join(cells))


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per scenario (default 10)")
    p.add_argument(
        "--http-server",
        default=SHIPPED_SERVER,
        help=f"comma list out of {','.join(HTTP_SERVERS)}; one run per server (default "
        f"{SHIPPED_SERVER}, what `fhir-server serve` uses)",
    )
    p.add_argument(
        "--threads",
        default="8",
        help="request threads per worker; a comma list (1,4,8) runs one server per value",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--tx-clients", type=int, default=4, help="transaction clients (default 4)")
    p.add_argument("--bundle", type=int, default=100, help="entries per transaction bundle (default 100)")
    p.add_argument("--records", type=int, default=300, help="MedicationRequests to seed (default 300)")
    p.add_argument("--patients", type=int, default=200, help="insured Patients to seed (default 200)")
    p.add_argument("--practitioners", type=int, default=20, help="prescribers to seed (default 20)")
    p.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma list out of {','.join(SCENARIOS)}"
    )
    p.add_argument("--no-pages", action="store_true", help="skip the in-process pages-per-create figure")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    p.add_argument("--raw", action="store_true", help="keep wrk's own output in the JSON")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with the server logs")
    args = p.parse_args(argv)
    try:
        args.thread_list = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        p.error("--threads takes integers, e.g. 1 or 1,4,8")
    args.servers = [s.strip() for s in args.http_server.split(",") if s.strip()]
    if set(args.servers) - set(HTTP_SERVERS) or not args.servers:
        p.error(f"--http-server: choose from {', '.join(HTTP_SERVERS)}")
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown or not args.scenarios:
        p.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    if not 1 <= args.duration <= 600 or not args.thread_list or min(args.thread_list) < 1:
        p.error("--duration must be 1..600 and --threads positive")
    if args.records < 1 or args.patients < 1 or args.practitioners < 1:
        p.error("--records, --patients and --practitioners must be positive")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the server


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "rest_bench: `wrk` is not on PATH. Install it (Debian/Ubuntu):\n    apt-get install -y wrk",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    cores = os.cpu_count() or 1
    with contextlib.suppress(OSError, ValueError, subprocess.TimeoutExpired):
        cores = int(subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout)
    workdir = Path(tempfile.mkdtemp(prefix="noskhe-bench-"))
    runs: list[dict[str, Any]] = []
    pages = None
    try:
        for http_server in args.servers:
            for threads in args.thread_list:
                runs.append(bench_once(wrk, args, http_server, threads, workdir))
                if not args.json:
                    print_table(runs[-1], args, cores)
        if not args.no_pages:
            pages = pages_per_create()
            if not args.json:
                print(
                    "pages written per create-plain (in process, WAL frames / creates): "
                    + ", ".join(f"{k.replace('group_', 'groups of ')}: {v}" for k, v in pages.items())
                )
    except BenchError as exc:
        print(f"rest_bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep_logs:
            print(f"[bench] kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=5)
        print(
            json.dumps(
                {
                    "nproc": cores,
                    "python": platform.python_version(),
                    "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n")[0].strip(),
                    "workers": args.workers,
                    "duration_s": args.duration,
                    "wrk_threads": args.wrk_threads,
                    "connections": args.connections,
                    "records": args.records,
                    "pages_per_create": pages,
                    "targets": {k: v[1] for k, v in TARGETS.items()},
                    "p99_target_ms": P99_TARGET_MS,
                    "runs": runs,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    elif len(runs) > 1:
        print_comparison(runs)
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
