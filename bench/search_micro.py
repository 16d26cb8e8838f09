# ruff: noqa: E501
"""Search micro-benchmark (not a test): extraction speed and indexed query latency.

    .venv/bin/python bench/search_micro.py [N_PATIENTS]

Loads N patients (valid national codes, Persian names) with 5 MedicationRequests each into a
temporary SQLite store, then times the issue's benchmark queries and prints the query plan
of the national-code chain.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from fhir_server.search import extract_index, parse_search, search_bundle
from fhir_server.storage.base import ResourceVersion
from fhir_server.storage.sqlite import SQLiteStore

NC = "http://noskhe.ir/fhir/sid/national-code"
FAMILIES = ["کریمی", "محمدی", "حسینی", "رضایی", "احمدی", "موسوی", "جعفری", "صادقی", "کاظمی", "رحیمی"]
GIVEN = ["علی", "محمد", "زهرا", "فاطمه", "حسین", "مریم", "رضا", "سارا", "مهدی", "نرگس"]


def national_code(n: int) -> str:
    digits = [int(c) for c in f"{n:09d}"]
    s = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    return f"{n:09d}{s if s < 2 else 11 - s}"


def patient(i: int) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": f"p{i}",
        "identifier": [{"system": NC, "value": national_code(100000 + i)}],
        "name": [{"family": random.choice(FAMILIES), "given": [random.choice(GIVEN)]}],
        "gender": random.choice(["male", "female"]),
        "birthDate": f"{random.randint(1940, 2020)}-0{random.randint(1, 9)}-1{random.randint(0, 9)}",
    }


def medication_request(i: int, j: int) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"m{i}-{j}",
        "meta": {"profile": ["http://noskhe.ir/fhir/StructureDefinition/ir-medication-request"]},
        "identifier": [{"system": "http://noskhe.ir/fhir/sid/tracking-code", "value": f"TR{i:07d}{j}"}],
        "status": random.choice(["active", "active", "completed", "cancelled"]),
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "outpatient",
                    }
                ]
            }
        ],
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://noskhe.ir/fhir/CodeSystem/irc",
                    "code": f"{random.randint(10**15, 10**16 - 1)}",
                    "display": "Amoxicillin 500 mg capsule",
                },
                {"system": "http://noskhe.ir/fhir/CodeSystem/generic", "code": "00077"},
            ],
            "text": "آموکسی سیلین ۵۰۰",
        },
        "subject": {"reference": f"Patient/p{i}"},
        "encounter": {"reference": f"Encounter/e{i}-{j}"},
        "authoredOn": f"2026-{random.randint(1, 11):02d}-{random.randint(10, 28)}T{random.randint(10, 23)}:00:00+03:30",
        "requester": {"reference": f"Practitioner/dr{i % 100}"},
        "dosageInstruction": [
            {
                "text": "هر ۸ ساعت یک عدد",
                "timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
            }
        ],
        "dispenseRequest": {
            "quantity": {"value": 21, "unit": "capsule"},
            "numberOfRepeatsAllowed": 0,
            "performer": {"reference": "Organization/ph1"},
        },
    }


def extraction_speed() -> None:
    sample = medication_request(1, 1)
    extract_index(sample)
    n = 20000
    t = time.perf_counter()
    for _ in range(n):
        extract_index(sample)
    dt = time.perf_counter() - t
    print(
        f"extract_index(MedicationRequest): {n / dt:,.0f}/s ({dt / n * 1e6:.1f} us each, {len(extract_index(sample))} entries)"
    )


def load(store: SQLiteStore, n: int) -> None:
    t = time.perf_counter()
    count = 0
    for start in range(0, n, 200):
        with store.session(write=True) as s:
            for i in range(start, min(n, start + 200)):
                for r in [patient(i), *[medication_request(i, j) for j in range(5)]]:
                    rv = ResourceVersion(
                        r["resourceType"], r["id"], 1, "2026-11-22T00:00:00.000Z", False, orjson.dumps(r)
                    )
                    s.put(rv, extract_index(r), None)
                    count += 1
    dt = time.perf_counter() - t
    print(f"loaded {count:,} resources in {dt:.1f}s ({count / dt:,.0f}/s, extract+store, no validation)")


def timed(store: SQLiteStore, type_: str, params: list[tuple[str, str]], runs: int = 50) -> None:
    plan = parse_search(type_, params)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        with store.session() as s:
            plan = parse_search(type_, params)
            b = search_bundle(plan, s.search(plan), "http://x/fhir", "/" + type_)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    q = "&".join(f"{k}={v}" for k, v in params)
    print(
        f"{type_}?{q}: entries={len(b['entry'])} total={b.get('total')} p50={statistics.median(times):.2f}ms p99={times[int(len(times) * 0.99) - 1]:.2f}ms"
    )
    del plan


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    random.seed(1)
    extraction_speed()
    store = SQLiteStore(Path(tempfile.mkdtemp()) / "bench.sqlite")
    load(store, n)
    code = national_code(100000 + n // 2)
    timed(store, "MedicationRequest", [("subject:Patient.identifier", f"{NC}|{code}"), ("status", "active")])
    timed(store, "MedicationRequest", [("patient", f"p{n // 3}"), ("_sort", "-authoredon"), ("_count", "20")])
    timed(store, "Patient", [("name", "کری"), ("_count", "20")])
    timed(
        store,
        "MedicationRequest",
        [("authoredon", "ge2026-03-10"), ("authoredon", "lt2026-03-12"), ("_total", "accurate")],
    )
    # Bundle.total without _total (search.totals): counted when the index lists at most
    # TOTAL_CAP candidates (one clause; two, the second checked per candidate), omitted
    # for a broad clause.
    timed(store, "Patient", [("birthdate", "1990"), ("_count", "20")])
    timed(store, "Patient", [("birthdate", "1990"), ("gender", "male"), ("_count", "20")])
    timed(store, "MedicationRequest", [("status", "active"), ("_count", "20")])
    timed(
        store,
        "Patient",
        [
            ("identifier", f"{NC}|{code}"),
            ("_revinclude", "MedicationRequest:subject"),
            ("_include:iterate", "MedicationRequest:requester"),
        ],
    )
    from fhir_server.storage.sqlite_search import _where

    with store.session() as s:
        where = _where(
            s.conn,
            parse_search(
                "MedicationRequest", [("subject:Patient.identifier", f"{NC}|{code}"), ("status", "active")]
            ),
        )
        for row in s.conn.execute(
            f"EXPLAIN QUERY PLAN SELECT r.id FROM resources r WHERE {where[0]}", where[1]
        ):
            print("   plan:", row[3])


if __name__ == "__main__":
    main()
