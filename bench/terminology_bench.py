"""Terminology and profile-validation benchmark (not a test).

    .venv/bin/python bench/terminology_bench.py

Targets (issue 6): $expand with a filter over the full drug list p99 <= 20 ms;
$validate-code >= 5,000/s in-process; ir-medicationrequest validation >= 1,000/s in-process.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from fhir_server.validation import validate_resource
from fhir_server.validation.profiles import validate_profiles
from terminology import DRUGS_VALUESET, GENERIC, shipped_service

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    "amox",
    "آموکسی",
    "آموكسي ۵۰۰",
    "met",
    "مت",
    "a",
    "ا",
    "سفیکسیم",
    "tab 500",
    "insulin",
    "قرص",
    "vial",
]


def expand_bench(n: int = 2000) -> None:
    svc = shipped_service()
    t = time.perf_counter()
    svc.expand(DRUGS_VALUESET, filter="warm", count=20)
    print(f"first $expand (builds indexes): {(time.perf_counter() - t) * 1000:.0f} ms")
    times = []
    for i in range(n):
        q = QUERIES[i % len(QUERIES)]
        t = time.perf_counter()
        svc.expand(DRUGS_VALUESET, filter=q, count=20)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    print(
        f"$expand filter over {len(svc.expansion(DRUGS_VALUESET).entries)} drugs: p50 {p50:.3f} ms, "
        f"p99 {p99:.3f} ms, max {times[-1]:.3f} ms (n={n})"
    )


def validate_code_bench(n: int = 50_000) -> None:
    svc = shipped_service()
    codes = [c for c in svc.code_system(GENERIC).concepts][:200]  # type: ignore[union-attr]
    svc.validate_code(valueset=DRUGS_VALUESET, system=GENERIC, code=codes[0])
    t = time.perf_counter()
    for i in range(n):
        svc.validate_code(valueset=DRUGS_VALUESET, system=GENERIC, code=codes[i % len(codes)])
    rate = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(n):
        svc.member(DRUGS_VALUESET, GENERIC, codes[i % len(codes)])
    member_rate = n / (time.perf_counter() - t)
    print(f"$validate-code (ValueSet drugs): {rate:,.0f}/s; member() fast path: {member_rate:,.0f}/s")


def profile_bench(n: int = 3000) -> None:
    path = (
        ROOT
        / "profiles"
        / "ir-eprescription"
        / "examples"
        / "MedicationRequest-ir-medicationrequest-example.json"
    )
    mr = json.loads(path.read_text(encoding="utf-8"))
    assert validate_profiles(mr) == []
    rates = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            validate_profiles(mr)
        rates.append(n / (time.perf_counter() - t))
    t = time.perf_counter()
    for _ in range(n):
        validate_resource(mr)
        validate_profiles(mr)
    both = n / (time.perf_counter() - t)
    print(
        f"ir-medicationrequest profile validation: {statistics.median(rates):,.0f}/s; "
        f"structural + profile: {both:,.0f}/s"
    )


if __name__ == "__main__":
    expand_bench()
    validate_code_bench()
    profile_bench()
