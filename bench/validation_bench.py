#!/usr/bin/env python3
"""Validation throughput on one core: resources validated per second, in process.

For each payload it times, in the same run and on the same (pinned) core:
  - floor:      orjson.loads of the payload's bytes (the cheapest thing done per request)
  - structural: the structural walk alone (what validation did before the R4 rules)
  - full:       validate_resource: structure, then every invariant, narrative and
                reference rule of the elements present
and prints resources/s (median of --rounds), µs per resource and full/floor.
Rates are per second of this process's CPU time (time.process_time), so they say what one
core does even when other work shares the machine (a wall-clock rate would count the
time the scheduler gave to others); --wall measures wall-clock time instead.
Target (issue 12): full validation of a MedicationRequest >= 1,000/s on one core.

    .venv/bin/python bench/validation_bench.py [--rounds 5] [--seconds 1.0] [--profile] [--json]

--profile prints where full validation of the prescription payload spends its time
(cProfile, top functions by own time). The machine is shared: compare ratios in one run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fhir_server.validation import validate_resource  # noqa: E402
from fhir_server.validation.structure import validate_resource_at  # noqa: E402

FILL = {
    "@@ITEM@@": "item-1",
    "@@SUBJECT@@": {"reference": "Patient/0f4c1c1e-1b2d-4f7e-9d2a-6a1c7e0b9f10"},
    "@@AUTHORED@@": "2026-11-27T10:00:00+03:30",
    "@@REQUESTER@@": {"reference": "Practitioner/7d1e2c3b-4a5f-4e6d-8c9b-0a1b2c3d4e5f"},
    "@@INSURANCE@@": [{"reference": "Coverage/3c2b1a09-8f7e-4d6c-b5a4-938271605f4e"}],
    "@@GROUP@@": "RX-1405-000125",
    "@@VALID_START@@": "2026-11-27",
    "@@VALID_END@@": "2026-12-27",
    "@@QTY@@": 21,
}


def _fill(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v) for v in value]
    return FILL.get(value, value) if isinstance(value, str) else value


def payloads() -> dict[str, dict[str, Any]]:
    official = json.loads((ROOT / "tests" / "fixtures" / "r4-prescription-examples.json").read_text())
    examples = ROOT / "profiles" / "ir-eprescription" / "examples"
    return {
        "MedicationRequest (bench payload: outpatient item)": _fill(
            json.loads((ROOT / "bench" / "payloads" / "medication_request.json").read_text())
        ),
        "MedicationRequest (IR profile example)": json.loads(
            (examples / "MedicationRequest-ir-medicationrequest-example.json").read_text()
        ),
        "MedicationRequest (R4 medrx0302: narrative, contained)": official[
            "MedicationRequest-medrx0302.json"
        ],
        "MedicationDispense (R4 meddisp0301)": official["MedicationDispense-meddisp0301.json"],
        "Patient (R4 example)": official["Patient-example.json"],
    }


CLOCK: Callable[[], float] = time.process_time


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of CLOCK over about `seconds` (calibrated batch, then timed)."""
    fn()
    batch, spent = 1, 0.0
    while spent < seconds / 10:
        batch *= 2
        started = CLOCK()
        for _ in range(batch):
            fn()
        spent = CLOCK() - started
    n = max(1, int(batch * seconds / spent))
    started = CLOCK()
    for _ in range(n):
        fn()
    return n / (CLOCK() - started)


def measure(resource: dict[str, Any], rounds: int, seconds: float) -> dict[str, float]:
    body = orjson.dumps(resource)
    errors = [i for i in validate_resource(resource) if i.severity == "error"]
    if errors:
        raise SystemExit(f"payload is not valid: {errors}")
    out: dict[str, list[float]] = {"floor": [], "structural": [], "full": []}
    for _ in range(rounds):  # interleaved, so load changes hit all three alike
        out["floor"].append(rate(lambda: orjson.loads(body), seconds))
        out["structural"].append(rate(lambda: validate_resource_at(resource, None, [], None), seconds))
        out["full"].append(rate(lambda: validate_resource(resource), seconds))
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of CPU time")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    results = {name: measure(r, args.rounds, args.seconds) for name, r in payloads().items()}
    target = results["MedicationRequest (bench payload: outpatient item)"]["full"]
    if args.json:
        print(json.dumps({"cores": os.cpu_count(), "results": results, "target_met": target >= 1000}))
    else:
        clock = "wall-clock" if args.wall else "CPU"
        print(f"cores: {os.cpu_count()}; pinned to one; per second of {clock} time; median of {args.rounds}")
        header = f"{'floor/s':>10} {'struct/s':>10} {'full/s':>9} {'full µs':>8} {'full/floor':>10}"
        print(f"{'payload':58} {header}")
        for name, r in results.items():
            print(
                f"{name:58} {r['floor']:>10,.0f} {r['structural']:>10,.0f} {r['full']:>9,.0f} "
                f"{1e6 / r['full']:>8.0f} {r['full'] / r['floor']:>10.3f}"
            )
        verdict = "met" if target >= 1000 else "MISSED"
        print(f"target: full validation of a MedicationRequest >= 1,000/s: {verdict}")
    if args.profile:
        resource = payloads()["MedicationRequest (bench payload: outpatient item)"]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3000):
            validate_resource(resource)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
    return 0 if target >= 1000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
