#!/usr/bin/env python3
"""Serve a WSGI app under one of the HTTP servers the benchmarks compare (not a test).

    python bench/wsgi_servers.py --server granian --app hello --port 8181 --workers 2 --threads 8
    python bench/wsgi_servers.py --server gunicorn-sync --app noskhe --data DIR --port 8181

Apps: `hello`, a bare WSGI hello-world (the floor: what the HTTP server alone costs);
`noskhe`, the real app (`create_app`, no auth, loopback). Servers: `granian` runs through
`fhir_server.serve.run_wsgi`, exactly as `fhir-server serve` does; `gunicorn-sync` and
`gunicorn-gthread` are the alternatives measured against it (gunicorn is not a dependency
of the server: `pip install gunicorn` to compare).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVERS = ("granian", "gunicorn-sync", "gunicorn-gthread")
HELLO_BODY = b'{"status":"ok"}'


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(HELLO_BODY)))])
    return [HELLO_BODY]


def app_loader(name: str, data: Path | None) -> Callable[[], Any]:
    if name == "hello":
        return lambda: hello

    def load() -> Any:
        from fhir_server.app import create_app
        from fhir_server.config import Settings

        return create_app(Settings(data_dir=data or Path("data"), auth=False))

    return load


def run_gunicorn(
    load: Callable[[], Any], host: str, port: int, workers: int, threads: int, kind: str
) -> None:
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            # gunicorn turns a sync worker with threads > 1 into gthread: sync means 1 thread.
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads if kind == "gunicorn-gthread" else 1,
                "worker_class": "gthread" if kind == "gunicorn-gthread" else "sync",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "timeout": 60,
                "keepalive": 5,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return load()

    App().run()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", choices=SERVERS, required=True)
    ap.add_argument("--app", choices=("hello", "noskhe"), required=True)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    load = app_loader(args.app, args.data)
    if args.server == "granian":
        from fhir_server.serve import run_wsgi

        run_wsgi(load, args.host, args.port, args.workers, args.threads)
    else:
        run_gunicorn(load, args.host, args.port, args.workers, args.threads, args.server)


if __name__ == "__main__":
    main()
