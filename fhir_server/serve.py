"""Run the app under granian (the production HTTP server) with N worker processes.

Why granian (measured in `bench/rest_bench.py --http-server granian,gunicorn-sync,...`,
see the bench README): its Rust front end keeps connections open (HTTP/1.1 keep-alive),
reads request heads and bodies asynchronously and hands a Python thread only complete
requests, so slow or half-open clients cost a socket, never a worker; gunicorn's sync
workers open a connection per request and a client that stops mid-request holds the
worker. `--workers` is the number of processes; `--threads` the Python threads per
process that run requests (several requests in flight in one process is what lets the
SQLite writer commit them as one group).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fhir_server.config import Settings

DEFAULT_THREADS = 8  # requests in flight per worker: enough for group commit to form groups
HEADER_READ_TIMEOUT_MS = 30_000  # a client that has not sent its request head by then is dropped


def run_wsgi(
    load_app: Callable[[], Any],
    host: str,
    port: int,
    workers: int,
    threads: int,
    *,
    log_level: str = "warning",
) -> None:
    """Serve the WSGI app `load_app()` builds in each worker process (after the fork)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    server = Server(
        "noskhe",  # a name only: the app comes from load_app
        address=host.strip("[]"),
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        # Requests admitted to Python at once per worker: the threads, and as many queued
        # behind them; the rest wait in the Rust front end (where waiting costs nothing).
        backpressure=threads * 2,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        log_level=LogLevels(log_level),
        workers_kill_timeout=10,
    )
    server.serve(target_loader=lambda _target: load_app())


def serve(settings: Settings, workers: int | None = None, threads: int | None = None) -> None:
    settings.check()
    settings.access_log = True
    preflight(settings)

    def load() -> Any:
        from fhir_server.app import create_app

        return create_app(settings)

    run_wsgi(load, settings.host, settings.port, workers or os.cpu_count() or 1, threads or DEFAULT_THREADS)


def preflight(settings: Settings) -> None:
    """Open the store and the signing keys once before any worker starts: what cannot be
    opened stops the server here with one line and exit status 3, not with a worker crash
    per process. (It also creates the SQLite schema and the first keys once, rather than
    in every worker at once.)"""
    import sys

    from fhir_server.storage import open_store
    from smart_auth.keys import KeyFileError, SigningKeys
    from smart_auth.store import open_auth_store

    open_store(settings.data_dir, settings.store_url).close()
    try:
        auth = open_auth_store(settings.data_dir, settings.store_url)
        try:
            SigningKeys(auth)
        finally:
            auth.close()
    except (KeyFileError, OSError) as exc:
        print(f"fhir-server: {exc}", file=sys.stderr)
        raise SystemExit(3) from exc
