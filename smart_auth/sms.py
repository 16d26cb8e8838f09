"""Sending one-time codes: a file outbox by default, an HTTP gateway when configured."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Protocol

from smart_auth.files import private_file

OUTBOX_FILE = "sms-outbox.jsonl"


class SmsSender(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


class FileSmsSender:
    """Appends one JSON line per message to DIR/sms-outbox.jsonl (development and tests)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, mobile: str, text: str) -> None:
        line = json.dumps({"to": mobile, "text": text, "at": time.time()}, ensure_ascii=False)
        with self._lock:
            private_file(self.path)  # the codes are secrets: 0600 in the 0700 data directory
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def messages(self) -> list[dict[str, object]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


class HttpSmsSender:
    """POSTs `{"to": mobile, "text": text}` as JSON to a gateway URL, with an optional bearer key."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 5.0) -> None:
        self.url, self.api_key, self.timeout = url, api_key, timeout

    def send(self, mobile: str, text: str) -> None:
        body = json.dumps({"to": mobile, "text": text}, ensure_ascii=False).encode()
        req = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        if self.api_key:
            req.add_header("Authorization", f"Bearer {self.api_key}")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            if resp.status >= 300:
                raise OSError(f"SMS gateway answered {resp.status}")


def configured_sender(data_dir: Path, env: dict[str, str] | None = None) -> SmsSender:
    """The HTTP gateway when NOSKHE_SMS_GATEWAY_URL is set (key: NOSKHE_SMS_GATEWAY_KEY),
    else the file outbox in the data directory."""
    env = dict(os.environ) if env is None else env
    url = env.get("NOSKHE_SMS_GATEWAY_URL")
    if url:
        return HttpSmsSender(url, env.get("NOSKHE_SMS_GATEWAY_KEY"))
    return FileSmsSender(Path(data_dir) / OUTBOX_FILE)
