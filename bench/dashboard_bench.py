"""The adoption dashboard at size (issue 16; not a test): how long `/dashboard/view` takes
over a store of N resources, first, after a day's writes, and in the steady state.

    .venv/bin/python bench/dashboard_bench.py --size 100000          # ~2 min to load
    .venv/bin/python bench/dashboard_bench.py --size 1000000         # the issue's size
    .venv/bin/python bench/dashboard_bench.py --reuse /tmp/noskhe-dash-100000 [--recount]

Loading: 31 provinces x 10 pharmacies (Organizations with the province extension), then
`data_gen.Generator(N)` (Practitioners, Patients, national prescription items over the
year before now, their dispenses, lab orders) bulk-loaded in-process like
`search_bench.py --direct` (the same index rows as the server writes; no HTTP, no
workflow); each dispense is handed over by a pharmacy and each item names one as its
dispenser, so the figures have provinces. Not timed: it builds the store.

Then, in process on the real app (authorization off, the test client: no HTTP), for the
current Jalali month by day, in English:

1. first view: no tally yet (or `--recount`), every population counted anew over the
   whole store;
2. steady state: `--views` more views with nothing written in between (the tallies are
   up to date: the months of the period are read, nothing is counted);
3. after writes: `--writes` new resources (one more generated patient set per round),
   then one view: it replays only them (the incremental path) when they are at most
   `dashboard.view.CATCH_UP` versions, else it shows the tallies as kept ("figures as of")
   and they are brought up to date behind it (the bench waits for that before the next
   round); `--rounds` times;

and, as the floor measured in the same run, `GET /healthz` through the same app. Reports
wall and CPU milliseconds (p50, p99), the ratio of the steady view to the floor, the core
count and the load average. Target (issue 16): the page answers in under 1 s at 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_gen import Generator
from search_bench import direct_load

ORG_TYPE = "http://noskhe.ir/fhir/CodeSystem/organization-type"
PROVINCE_EXT = "http://noskhe.ir/fhir/StructureDefinition/province"
PROVINCES = [f"{n:02d}" for n in range(1, 32)]


def pharmacies() -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "Organization",
            "id": f"ph-{p}-{n}",
            "name": f"pharmacy {p}-{n}",
            "type": [{"coding": [{"system": ORG_TYPE, "code": "pharmacy"}]}],
            "extension": [
                {
                    "url": PROVINCE_EXT,
                    "valueCoding": {"system": "http://noskhe.ir/fhir/CodeSystem/province", "code": p},
                }
            ],
        }
        for p in PROVINCES
        for n in range(10)
    ]


class WithPharmacies:
    """`Generator` whose dispenses are handed over by, and items name, a pharmacy."""

    def __init__(self, gen: Generator, seed: int) -> None:
        self.gen, self.rng = gen, random.Random(seed)
        self.size, self.practitioners, self.samples = gen.size, gen.practitioners, gen.samples

    def practitioner_bundles(self) -> Iterator[dict[str, Any]]:
        return self.gen.practitioner_bundles()

    def patient_bundles(self) -> Iterator[tuple[dict[str, Any], Any]]:
        for bundle, samples in self.gen.patient_bundles():
            for entry in bundle["entry"]:
                r = entry["resource"]
                pharmacy = {
                    "reference": f"Organization/ph-{self.rng.choice(PROVINCES)}-{self.rng.randrange(10)}"
                }
                if r["resourceType"] == "MedicationDispense":
                    r["performer"] = [{"actor": pharmacy}]
                elif r["resourceType"] == "MedicationRequest":
                    r.setdefault("dispenseRequest", {})["performer"] = pharmacy
            yield bundle, samples


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall ms, CPU ms of this process, result)."""
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000, result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="resources to load (default 100,000)")
    ap.add_argument("--reuse", type=Path, help="a data directory loaded before (skips loading)")
    ap.add_argument("--views", type=int, default=30, help="steady-state views to time")
    ap.add_argument("--writes", type=int, default=1000, help="resources written before each incremental view")
    ap.add_argument("--rounds", type=int, default=3, help="write-then-view rounds")
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout")
    ap.add_argument("--recount", action="store_true", help="with --reuse: drop the kept tallies first")
    args = ap.parse_args()
    os.environ.setdefault("NOSKHE_ACCEPT_UNSIGNED", "1")

    from fhir_server.app import create_app
    from fhir_server.config import Settings
    from fhir_server.dashboard.view import CATCH_UP, this_month
    from fhir_server.measures import engine

    data = args.reuse or Path(tempfile.gettempdir()) / f"noskhe-dash-{args.size}"
    if args.reuse is None:
        data.mkdir(parents=True, exist_ok=True)
        if any(data.iterdir()):
            raise SystemExit(f"{data} is not empty: --reuse it or remove it")
        loader = create_app(Settings(data_dir=data, auth=False)).test_client()
        for org in pharmacies():
            r = loader.put(
                f"/fhir/Organization/{org['id']}", json=org, headers={"Content-Type": "application/fhir+json"}
            )
            assert r.status_code in (200, 201), r.get_data(as_text=True)
        rate = direct_load(data, WithPharmacies(Generator(args.size), 1), per_txn=5000)
        (data / "dashboard-bench.json").write_text(json.dumps({"resources": args.size + len(pharmacies())}))
        print(f"loaded {args.size:,} resources into {data} ({rate:,.0f}/s, direct)", file=sys.stderr)

    size_file = data / "dashboard-bench.json"
    size = json.loads(size_file.read_text())["resources"] if size_file.exists() else args.size
    app = create_app(Settings(data_dir=data, auth=False))
    client = app.test_client()
    if args.recount:
        with app.extensions["noskhe"].store.session(write=True) as s:
            for key in s.record_keys(engine.KIND):
                s.delete_record(engine.KIND, key)
    url = f"/dashboard/view?month={this_month()}&interval=day&lang=en"

    def view() -> str:
        r = client.get(url)
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        return r.get_data(as_text=True)

    def floor() -> None:
        assert client.get("/healthz").status_code == 200

    first_wall, first_cpu, page = timed(view)
    assert 'id="kpi-prescriptions"' in page
    for _ in range(3):
        view()  # warm
    steady = [timed(view)[:2] for _ in range(args.views)]
    floors = [timed(floor)[:2] for _ in range(max(args.views, 50))]
    incremental, kept = [], []
    for n in range(args.rounds):
        direct_load(data, WithPharmacies(Generator(args.writes, seed=1000 + n), 2 + n), per_txn=5000)
        wall, cpu, after = timed(view)
        incremental.append((wall, cpu))
        kept.append('id="as-of"' in after)
        with engine._CATCHING_UP:  # the background catch-up, when the view left it one, is done
            pass
    size_file.write_text(json.dumps({"resources": size + args.rounds * args.writes}))

    steady_wall = [w for w, _ in steady]
    steady_cpu = [c for _, c in steady]
    floor_wall = statistics.median(w for w, _ in floors)
    results = {
        "resources": size,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "first_view_ms": {"wall": round(first_wall), "cpu": round(first_cpu)},
        "steady_view_ms": {
            "wall_p50": round(statistics.median(steady_wall), 1),
            "wall_p99": round(pct(steady_wall, 0.99), 1),
            "cpu_p50": round(statistics.median(steady_cpu), 1),
        },
        "after_writes_view_ms": {
            "writes": args.writes,
            "wall": [round(w) for w, _ in incremental],
            "cpu": [round(c) for _, c in incremental],
            "kept": kept,  # shown as kept ("as of"), caught up behind: more than CATCH_UP versions
            "catch_up_limit": CATCH_UP,
        },
        "floor_healthz_ms": round(floor_wall, 2),
        "steady_over_floor": round(statistics.median(steady_wall) / floor_wall, 1),
    }
    if args.json:
        print(json.dumps(results))
        return
    print(f"dashboard at {size:,} resources ({results['cores']} cores, load {results['load_average']:.1f})")
    print(f"  first view (counts everything): {first_wall:,.0f} ms wall, {first_cpu:,.0f} ms CPU")
    s = results["steady_view_ms"]
    print(f"  steady view: p50 {s['wall_p50']} ms, p99 {s['wall_p99']} ms wall; CPU p50 {s['cpu_p50']} ms")
    inc = results["after_writes_view_ms"]
    print(
        f"  view after {args.writes:,} new resources: {inc['wall']} ms wall, {inc['cpu']} ms CPU "
        f"(kept, caught up behind: {inc['kept']}; a view replays at most {CATCH_UP} versions)"
    )
    print(
        f"  floor (GET /healthz, same app): {floor_wall:.2f} ms; "
        f"steady view / floor: {results['steady_over_floor']}x"
    )


if __name__ == "__main__":
    main()
