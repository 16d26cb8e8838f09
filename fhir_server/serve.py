"""Run the app under gunicorn (the production WSGI server) with N worker processes."""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.app.base import BaseApplication

from fhir_server.config import Settings


class NoskheGunicorn(BaseApplication):
    """Each worker builds its own app (and so its own store connections) after fork."""

    def __init__(self, settings: Settings, workers: int, threads: int) -> None:
        self.settings = settings
        self.options = {
            "bind": f"{_bind_host(settings.host)}:{settings.port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from fhir_server.app import create_app

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        return create_app(self.settings)


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(settings: Settings, workers: int | None = None, threads: int = 1) -> None:
    settings.check()
    NoskheGunicorn(settings, workers or os.cpu_count() or 1, threads).run()
