"""One structured log line per request: method, route, status, duration. No patient data:
the query string (which may carry national codes) is never logged."""

from __future__ import annotations

import logging
import time

import orjson
from flask import Flask, Response, g, request

log = logging.getLogger("noskhe.access")


def register_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        if log.isEnabledFor(logging.INFO):
            elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            route = request.url_rule.rule if request.url_rule else "(unmatched)"
            log.info(
                orjson.dumps(
                    {
                        "method": request.method,
                        "route": route,
                        "type": (request.view_args or {}).get("type_"),
                        "status": response.status_code,
                        "ms": round(elapsed, 2),
                    }
                ).decode()
            )
        return response
