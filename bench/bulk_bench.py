# ruff: noqa: E501
"""Bulk Data benchmark (not a test): `$export` of N resources and the import of the same
files, with resources/s, CPU time and peak RSS, and floors measured in the same run.

    .venv/bin/python bench/bulk_bench.py                 # 100,000 resources (issue 13)
    .venv/bin/python bench/bulk_bench.py --size 20000    # a quicker run
    .venv/bin/python bench/bulk_bench.py --profile 5000  # also: where import time goes

1. Builds a source store of N synthetic e-prescription resources (`data_gen.Generator`:
   Practitioners, Patients, MedicationRequests, MedicationDispenses, ServiceRequests)
   in-process through the store (search_bench's direct load: no validation, no HTTP).
2. **export**, in a child process: a system-level `$export` (asynchronous kick-off,
   polling, manifest) through the server's WSGI app with authorization off; the time is
   kick-off to manifest, the files are written by the bulk runner as in production.
3. **import**, in a child process: `fhir-server import --data NEW EXPORT_DIR` into an
   empty store: the same Importer as `$import`, through the Repository as the system,
   structural and profile validation on, workflow rules off.
4. **floors**, in the same run: reading every stored resource's JSON straight from SQLite
   into an ndjson file (the export floor), and parsing every exported line with orjson
   and inserting it into a bare SQLite table with no index (the import floor). The ratio
   rate/floor stays comparable on a busy machine.

Peak RSS of each phase is that of the child and its worker processes together (sampled;
start-up included), with its anonymous part in brackets; CPU ms per 1,000 resources is
the CPU time of the phase alone (every thread, and the import's worker processes), the
figure that does not depend on what else the machine runs. `--workers N` imports with N
validating worker processes (`fhir-server import --workers N`). Targets
(2-core machine): export >= 10,000 resources/s, import >= 2,000 resources/s (validation
on), peak RSS < 500 MB. `--profile K` runs cProfile over importing the first K exported
lines in this process and prints the share of time in validation, index extraction and
storage.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data_gen import Generator
from search_bench import direct_load

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STORE_FILE = "noskhe.sqlite3"
TARGETS = {"export_rps": 10_000, "import_rps": 2_000, "peak_rss_mb": 500}


def child(*args: str) -> tuple[dict[str, Any], float, float]:
    """Run a phase of this script as a child: its JSON result line, the peak RSS of the
    child and its own worker processes together (MB, sampled every 0.1 s; at least the
    child's own peak from rusage), and the peak of the anonymous part (MB; the rest is
    file-backed: SQLite maps up to 256 MB of the store file, pages the kernel can drop)."""
    log = Path(tempfile.gettempdir()) / f"bulk-bench-{os.getpid()}.log"
    with log.open("wb") as err, tempfile.TemporaryFile() as out_file:  # the progress bar, tracebacks
        proc = subprocess.Popen(args, stdout=out_file, stderr=err, cwd=ROOT)
        anon = rss = 0
        while True:  # sample the memory until the child exits; wait4 gives its rusage
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree = _tree(proc.pid)
            rss = max(rss, sum(_status_kb(p, "VmRSS") for p in tree))
            anon = max(anon, sum(_status_kb(p, "RssAnon") for p in tree))
            time.sleep(0.1)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        out = out_file.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args[1:4])} failed:\n{log.read_text(errors='replace')[-3000:]}")
    log.unlink()
    last = out.decode().strip().splitlines()[-1] if out.strip() else "{}"
    result = json.loads(last) if last.startswith("{") else {"output": last}
    return result, max(rss, usage.ru_maxrss) / 1024, anon / 1024


def _tree(pid: int) -> list[int]:
    """The process and its descendants (from /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---- phases run in children ---------------------------------------------------------------


def export_phase(data: Path) -> None:
    """Kick off a system export, poll until the manifest; print the figures as JSON."""
    from fhir_server.app import create_app
    from fhir_server.config import Settings

    app = create_app(Settings(data_dir=data, auth=False, base_url="http://127.0.0.1:8080/fhir"))
    client = app.test_client()
    headers = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
    t0, cpu0 = time.perf_counter(), time.process_time()
    kick = client.get("/fhir/$export", headers=headers)
    assert kick.status_code == 202, kick.get_data(as_text=True)
    status = "/fhir/" + kick.headers["Content-Location"].split("/fhir/", 1)[1]
    while True:
        answer = client.get(status)
        if answer.status_code == 200:
            break
        assert answer.status_code == 202, answer.get_data(as_text=True)
        time.sleep(0.05)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    manifest = answer.get_json()
    count = sum(item["count"] for item in manifest["output"])
    job = status.rsplit("/", 1)[1]
    print(json.dumps({"seconds": seconds, "cpu": cpu, "resources": count, "files": str(data / "bulk" / job)}))


def import_phase(data: Path, files: list[Path], workers: int) -> None:
    """`fhir-server import` (the same code: fhir_server.bulk.cli.run), timed from opening the
    store to the last line written; print the figures as JSON."""
    from fhir_server.bulk.cli import run
    from fhir_server.config import Settings

    t0, cpu0 = time.perf_counter(), _cpu_with_children()
    code = run(Settings(data_dir=data, auth=False), files, workers)
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": _cpu_with_children() - cpu0, "exit": code}))


def _cpu_with_children() -> float:
    """This process's CPU seconds and its finished children's (the import's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ---- floors --------------------------------------------------------------------------------


def export_floor(data: Path, out: Path) -> tuple[int, float]:
    """Every current resource's JSON straight out of SQLite into one ndjson file."""
    conn = sqlite3.connect(data / STORE_FILE)
    t0 = time.perf_counter()
    n = 0
    with out.open("wb") as fh:
        for (body,) in conn.execute("SELECT body FROM resources WHERE deleted = 0"):
            fh.write(body)
            fh.write(b"\n")
            n += 1
    conn.close()
    return n, time.perf_counter() - t0


def import_floor(files: list[Path], scratch: Path) -> tuple[int, float]:
    """Parse every exported line and insert it into a bare table (no index, no validation)."""
    conn = sqlite3.connect(scratch)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE r (type TEXT, id TEXT, body BLOB, PRIMARY KEY (type, id))")
    t0 = time.perf_counter()
    n = 0
    batch: list[tuple[str, str, bytes]] = []
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                resource = orjson.loads(line)
                batch.append((resource["resourceType"], resource["id"], orjson.dumps(resource)))
                if len(batch) >= 200:
                    with conn:
                        conn.executemany("INSERT INTO r VALUES (?, ?, ?)", batch)
                    n += len(batch)
                    batch.clear()
    with conn:
        conn.executemany("INSERT INTO r VALUES (?, ?, ?)", batch)
    n += len(batch)
    conn.close()
    return n, time.perf_counter() - t0


# ---- profile -------------------------------------------------------------------------------

# where import time goes: cumulative time of these functions (file, function)
STAGES = (
    ("structural validation", "fhir_server/validation/__init__.py", "validate_resource"),
    ("profile validation", "fhir_server/validation/profiles/", "validate_profiles"),
    ("index extraction", "fhir_server/search/", "extract_index"),
    ("write (lock, SQLite)", "fhir_server/bulk/imports.py", "_write"),
)
WARM_UP = 300  # lines imported before profiling: first uses build the validator's models


def profile_import(files: list[Path], lines: int, scratch: Path) -> None:
    """cProfile over importing `lines` exported lines into an empty store, after a warm-up."""
    import terminology
    from fhir_server.app import build_repository
    from fhir_server.bulk.imports import Importer, Line
    from fhir_server.config import Settings
    from fhir_server.storage import open_store

    store = open_store(scratch, None)
    importer = Importer(
        store, build_repository(Settings(data_dir=scratch, auth=False), terminology.shipped_service())
    )
    all_lines = (Line(n, text) for n, text in enumerate(_lines(files), 1))
    importer.run((line for _, line in zip(range(WARM_UP), all_lines, strict=False)), None, lambda p: None)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    importer.run((line for _, line in zip(range(lines), all_lines, strict=False)), None, lambda p: None)
    profiler.disable()
    total = time.perf_counter() - t0
    store.close()
    stats = pstats.Stats(profiler)
    print(
        f"\nprofile: {lines:,} lines imported in {total:.2f} s under cProfile (after {WARM_UP} warm-up lines)"
    )
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for label, where, function in STAGES:
        cumulative = sum(v[3] for (f, _, name), v in raw.items() if where in f and name == function)
        print(f"  {label:<24}{cumulative:7.2f} s {100 * cumulative / total:6.1f}%")
    print("  top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)


def _lines(files: list[Path]) -> Any:
    for path in files:
        with path.open("rb") as fh:
            yield from fh


# ---- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="resources in the source store")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    parser.add_argument("--profile", type=int, default=0, metavar="K", help="profile importing K lines")
    parser.add_argument("--json", action="store_true", help="print one JSON document at the end")
    parser.add_argument(
        "--workers", type=int, default=0, help="import worker processes (default 0: one process)"
    )
    parser.add_argument("--phase", choices=["export", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("files", type=Path, nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "export":
        export_phase(args.data)
        return 0
    if args.phase == "import":
        import_phase(args.data, args.files, args.workers)
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="noskhe-bulk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source, target = work / "source", work / "target"
    for folder in (source, target):
        shutil.rmtree(folder, ignore_errors=True)
    try:
        return _run(args, work, source, target)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path, source: Path, target: Path) -> int:
    cores = os.cpu_count() or 1
    print(f"bulk bench: {args.size:,} resources, nproc {cores}, work {work}", flush=True)
    source.mkdir(parents=True)
    direct_load(source, Generator(args.size, args.seed))

    exported, export_rss, export_anon = child(PYTHON, __file__, "--phase", "export", "--data", str(source))
    files = sorted(Path(exported["files"]).glob("*.ndjson"))
    resources = exported["resources"]
    floor_n, floor_s = export_floor(source, work / "floor.ndjson")

    phase = [PYTHON, __file__, "--phase", "import", "--data", str(target), "--workers", str(args.workers)]
    imported, import_rss, import_anon = child(*phase, *map(str, files))
    import_s = imported["seconds"]
    written = _count(target)
    ifloor_n, ifloor_s = import_floor(files, work / "import-floor.sqlite3")

    export_rps = resources / exported["seconds"]
    import_rps = written / import_s
    rows = [
        ("export", export_rps, floor_n / floor_s, exported["cpu"], resources, export_rss, export_anon),
        (
            "import (validated)",
            import_rps,
            ifloor_n / ifloor_s,
            imported["cpu"],
            written,
            import_rss,
            import_anon,
        ),
    ]
    print(
        f"\n{'phase':<20}{'resources/s':>12}{'floor/s':>11}{'ratio':>7}{'CPU ms/1k':>11}{'peak RSS (anon)':>17}  target"
    )
    for (name, rps, floor, cpu, n, rss, anon), target_rps in zip(
        rows, (TARGETS["export_rps"], TARGETS["import_rps"]), strict=True
    ):
        verdict = "ok" if rps >= target_rps and rss < TARGETS["peak_rss_mb"] else "MISSED"
        print(
            f"{name:<20}{rps:>12,.0f}{floor:>11,.0f}{rps / floor:>7.2f}{1e6 * cpu / max(n, 1):>11.1f}"
            f"{rss:>8.0f} MB ({anon:>3.0f})  >= {target_rps:,}/s, < {TARGETS['peak_rss_mb']} MB: {verdict}"
        )
    print(
        f"\nexported {resources:,} resources in {len(files)} files; imported {written:,} (exit {imported['exit']})"
    )
    for name, _, _, cpu, n, _, _ in rows:  # what one core does, whatever else the machine runs
        print(f"{name}: {n / cpu:,.0f} resources per CPU-second")
    if args.json:
        print(json.dumps({"nproc": cores, "size": args.size, "rows": rows}))
    if args.profile:
        profile_import(files, args.profile, work / "profile")
    return 0


def _count(data: Path) -> int:
    """Current resources in an embedded store."""
    conn = sqlite3.connect(data / STORE_FILE)
    try:
        return int(conn.execute("SELECT count(*) FROM resources WHERE deleted = 0").fetchone()[0])
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
