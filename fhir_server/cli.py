"""`fhir-server` command: serve, seed, reindex, claims settle, ..."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir_server.config import Settings, is_loopback
from fhir_server.eprescription import keys_cli
from fhir_server.insurance import claims_cli
from smart_auth.cli import register_cli as register_auth_cli
from smart_auth.cli import run as run_auth_cli


def _add_store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path("data"), help="directory of the embedded store")
    p.add_argument("--store", default=None, help="store URL (mongodb://...); default: SQLite in --data")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fhir-server", description="Noskhe FHIR R4 server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    _add_store_args(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    serve.add_argument(
        "--threads", type=int, default=None, help="request threads per worker process (default: 8)"
    )
    serve.add_argument("--no-auth", action="store_true", help="no authorization (loopback only)")
    serve.add_argument(
        "--base-url",
        default=None,
        help="public FHIR base URL (required off loopback; default: http://HOST:PORT/fhir on loopback)",
    )
    serve.add_argument(
        "--trust-proxy",
        action="store_true",
        help="honour X-Forwarded-* headers (only behind a reverse proxy that sets them)",
    )
    serve.add_argument("--seed", action="store_true", help="load the demo resources first")

    seed = sub.add_parser("seed", help="load the demo data, the sample app's client and demo accounts")
    _add_store_args(seed)
    seed.add_argument(
        "--base-url",
        default=None,
        help="FHIR base URL the sample app is served from (default: loopback 8080)",
    )

    reindex = sub.add_parser("reindex", help="rebuild the search indexes")
    _add_store_args(reindex)
    reindex.add_argument("--type", default=None, help="only this resource type")

    imp_data = sub.add_parser("import", help="import ndjson files (as $import does), with a progress bar")
    _add_store_args(imp_data)
    imp_data.add_argument("paths", type=Path, nargs="+", help="ndjson files or folders holding them")
    imp_data.add_argument(
        "--workers",
        type=int,
        default=0,
        help="worker processes validating lines while this one writes (default 0: this process)",
    )

    term = sub.add_parser("terminology", help="terminology registry sync")
    term_sub = term.add_subparsers(dest="terminology_command", required=True)
    imp = term_sub.add_parser("import", help="CodeSystem/ValueSet/ConceptMap JSON, a Bundle of them, or CSV")
    _add_store_args(imp)
    imp.add_argument("file", type=Path)
    register_auth_cli(sub)  # clients, users, keys
    keys_cli.register_cli(sub)  # practitioners add-key
    claims_cli.register_cli(sub)  # claims settle
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "auth_handler"):
        args.workplaces = _workplaces(args)
        # `token` records what it minted
        args.audit = _audit_writer(getattr(args, "data", Path("data")), getattr(args, "store", None))
        return run_auth_cli(args)
    if args.command == "practitioners":
        return keys_cli.run(args)
    if args.command == "claims":
        return claims_cli.run(args)
    settings = Settings(data_dir=args.data, store_url=args.store)
    if args.command == "serve":
        settings.host, settings.port, settings.auth = args.host, args.port, not args.no_auth
        settings.base_url = args.base_url or settings.base_url
        settings.trust_proxy = args.trust_proxy or settings.trust_proxy
        try:
            settings.check()
            if args.seed and not is_loopback(settings.host):
                raise ValueError("--seed creates demo accounts with a published password: loopback only")
        except ValueError as exc:
            print(f"fhir-server: {exc}", file=sys.stderr)
            return 2
        from fhir_server.serve import preflight, serve

        preflight(settings)  # a store or key file that cannot be used: one line, exit 3
        base = settings.public_base_url
        if args.seed:
            _seed(settings, base)
        _banner(settings, base, args.seed)

        serve(settings, args.workers, args.threads)
        return 0
    if args.command == "seed":
        settings.base_url = args.base_url or settings.base_url
        _seed(settings, settings.public_base_url)
        return 0
    if args.command == "reindex":
        return _reindex(settings, args.type)
    if args.command == "import":
        from fhir_server.bulk import cli as bulk_cli

        return bulk_cli.run(settings, args.paths, args.workers)
    if args.command == "terminology":
        return _terminology_import(settings, args.file)
    return 2


def _workplaces(args: argparse.Namespace) -> Callable[[str], list[str]]:
    """A user's organizations, from the FHIR store (for `token`: workplace-restricted scopes)."""

    def find(fhir_user: str) -> list[str]:
        from fhir_server.app import build_repository
        from fhir_server.directory import FhirDirectory
        from fhir_server.storage import open_store

        store = open_store(args.data, args.store)
        try:
            return FhirDirectory(store, build_repository()).workplaces(fhir_user)
        finally:
            store.close()

    return find


def _audit_writer(data: Path, store_url: str | None) -> Callable[[dict[str, Any]], None]:
    """Writes a command's security event (an AuditEvent) to the FHIR store, as the server."""

    def write(event: dict[str, Any]) -> None:
        from fhir_server import authorization
        from fhir_server.app import build_repository
        from fhir_server.storage import open_store

        store = open_store(data, store_url)
        try:
            with authorization.as_system(), store.session(write=True) as s:
                build_repository().create(s, "AuditEvent", event)
        finally:
            store.close()

    return write


def _terminology_import(settings: Settings, path: Path) -> int:
    from fhir_server.app import build_repository
    from fhir_server.operations.terminology_import import cli_import
    from fhir_server.storage import open_store

    store = open_store(settings.data_dir, settings.store_url)
    try:
        return cli_import(path, store, build_repository(settings))
    finally:
        store.close()


def _seed(settings: Settings, base: str) -> None:
    from fhir_server.demo import seed

    seeded = seed(settings.data_dir, settings.store_url, base)
    rx = seeded.prescription
    print(f"seeded {seeded.resources} demo resources and prescription {rx} into {settings.data_dir}")


def _banner(settings: Settings, base: str, demo: bool) -> None:
    """What a newcomer needs on first run: where to look, who to sign in as, a token for curl."""
    from fhir_server.demo import DEMO_PASSWORD, DEMO_USERS

    root = base.removesuffix("/fhir")
    prog = sys.argv[0] if sys.argv[0].endswith("fhir-server") else "fhir-server"
    lines = [f"Noskhe: open {root}/  (FHIR base {base})"]
    if not settings.auth:
        lines.append("  authorization is OFF (--no-auth, loopback only): every FHIR call is allowed")
    if demo:
        users = ", ".join(f"{name} ({role})" for name, (role, _, _) in DEMO_USERS.items())
        lines += [
            f"  sample SMART app: {root}/apps/sample/launch.html?iss={base}",
            f"  demo users, password {DEMO_PASSWORD}: {users}",
        ]
    if settings.auth:
        data = settings.data_dir
        lines += [
            "  a token for curl (this machine only):",
            f"    TOKEN=$({prog} token --data {data} --user dr.ahmadi)",
            f'    curl -H "Authorization: Bearer $TOKEN" {base}/Patient',
        ]
    print("\n".join(lines), flush=True)


def _reindex(settings: Settings, type_: str | None) -> int:
    from fhir_server.search import reindex
    from fhir_server.search.custom import load_custom_search_parameters
    from fhir_server.storage import open_store

    store = open_store(settings.data_dir, settings.store_url)
    load_custom_search_parameters(store)

    def progress(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\rreindex [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()

    count = reindex(store, type_, progress)
    sys.stderr.write("\n")
    print(f"reindexed {count} resources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
