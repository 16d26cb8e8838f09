"""One structured log line per request: method, route, type, status, duration. No patient
data: the query string (which may carry national codes) is never logged.

Cheap enough to leave on: a request only appends a tuple to a queue; a background thread
of the worker process turns what queued into JSON lines and writes them with one system
call every FLUSH_SECONDS (or sooner when many are waiting). Lines still queued when the
process ends normally are written at exit; a killed process loses at most the last
FLUSH_SECONDS of lines (never data: the log is not the store)."""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections import deque
from typing import Any

import orjson
from flask import Flask, Response, g, request

FLUSH_SECONDS = 0.5
FLUSH_LINES = 2048


class AccessLog:
    """A buffered writer of JSON lines to a file descriptor (stderr by default)."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = fd
        self.pending: deque[tuple[Any, ...]] = deque()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, entry: tuple[Any, ...]) -> None:
        self.pending.append(entry)
        if self.pid != os.getpid():  # first line in this (forked) process: start its writer
            self._start()
        if len(self.pending) >= FLUSH_LINES:
            self.wake.set()

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.thread = threading.Thread(target=self._run, name="noskhe-access-log", daemon=True)
            self.thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self.wake.wait(FLUSH_SECONDS)
            self.wake.clear()
            self.flush()

    def flush(self) -> None:
        lines = []
        while self.pending:
            method, route, type_, status, ms = self.pending.popleft()
            lines.append(
                orjson.dumps({"method": method, "route": route, "type": type_, "status": status, "ms": ms})
            )
        if lines:
            fd = self.fd if self.fd is not None else sys.stderr.fileno()
            data = b"\n".join(lines) + b"\n"
            with self.lock:
                while data:
                    data = data[os.write(fd, data) :]


def register_request_log(app: Flask, log: AccessLog | None = None) -> AccessLog:
    access = log or AccessLog()

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        route = request.url_rule.rule if request.url_rule else "(unmatched)"
        type_ = (request.view_args or {}).get("type_")
        access.add((request.method, route, type_, response.status_code, round(elapsed, 2)))
        return response

    app.extensions["access_log"] = access
    return access
