"""`fhir-server claims settle --period 1405-09`: the month's settlement statements.

One PaymentReconciliation per insurer and provider (see `settlement.py`), written as the
server; a progress bar on stderr, one line per statement on stdout. Settling a month
again answers the statements made the first time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from fhir_server import authorization
from fhir_server.insurance import settlement
from fhir_server.insurance.claims import INSURER_SID
from fhir_server.outcome import FhirError
from fhir_server.repository.paging import iterate
from fhir_server.storage.base import Store
from fhir_server.tehran import Month

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository


def register_cli(sub: Any) -> None:
    claims = sub.add_parser("claims", help="electronic claims: the monthly settlement")
    inner = claims.add_subparsers(dest="claims_command", required=True)
    settle = inner.add_parser("settle", help="one statement (PaymentReconciliation) per insurer and provider")
    settle.add_argument("--data", type=Path, default=Path("data"), help="directory of the embedded store")
    settle.add_argument("--store", default=None, help="store URL (mongodb://...); default: SQLite in --data")
    settle.add_argument("--period", required=True, help="the Jalali month, YYYY-MM (1405-09)")
    settle.add_argument(
        "--insurer", action="append", help="an insurer's code (TAMIN); default: every insurer"
    )


def insurers(repo: Repository, store: Store, codes: list[str] | None) -> list[str]:
    """The insurer Organizations (references) with these codes, or all of them."""
    value = ",".join(f"{INSURER_SID}|{c}" for c in codes) if codes else f"{INSURER_SID}|"
    with store.session() as s, authorization.as_system():
        found = [f"Organization/{o['id']}" for o in iterate(repo, s, "Organization", [("identifier", value)])]
    if codes and not found:
        raise ValueError(f"no insurer Organization has the code {', '.join(codes)} ({INSURER_SID})")
    return sorted(found)


def settle_month(
    repo: Repository,
    store: Store,
    month: Month,
    insurer_refs: list[str],
    progress: Callable[[int, int, str], None],
) -> list[settlement.Statement]:
    """Every statement of the month, one write unit each, as the server."""
    settlement.require_ended(month)
    work = [(i, p) for i in insurer_refs for p in settlement.providers(repo, store, month, i)]
    done = []
    for n, (insurer, provider) in enumerate(work, 1):
        with authorization.as_system(), store.session(write=True) as s:
            done.append(settlement.settle(repo, s, month, insurer, provider))
        progress(n, len(work), provider)
    return done


def bar(out: TextIO) -> Callable[[int, int, str], None]:
    """A one-line progress bar, redrawn in place (a newline at the end)."""

    def show(done: int, total: int, what: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what[:40]:<40}")
        if done == total:
            out.write("\n")
        out.flush()

    return show


def run(args: argparse.Namespace) -> int:
    from fhir_server.app import build_repository
    from fhir_server.config import Settings
    from fhir_server.search.custom import load_custom_search_parameters
    from fhir_server.storage import open_store

    try:
        month = Month.parse(args.period)
    except ValueError as exc:
        print(f"fhir-server: {exc}", file=sys.stderr)
        return 2
    settings = Settings(data_dir=args.data, store_url=args.store)
    store = open_store(settings.data_dir, settings.store_url)
    try:
        load_custom_search_parameters(store)  # the IR parameters the claims are indexed by
        repo = build_repository(settings)
        statements = settle_month(repo, store, month, insurers(repo, store, args.insurer), bar(sys.stderr))
    except (ValueError, FhirError) as exc:
        print(f"fhir-server: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    for statement in statements:
        pr = statement.resource
        details = len(pr.get("detail") or [])
        amount = pr["paymentAmount"]["value"]
        again = "" if statement.created else " (settled before)"
        provider = pr["requestor"]["reference"]
        print(f"PaymentReconciliation/{pr['id']}\t{provider}\t{details} claims\t{amount} IRR{again}")
    if not statements:
        print(f"nothing to settle for {month}", file=sys.stderr)
    return 0
