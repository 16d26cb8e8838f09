"""SMS senders: the file outbox, and the HTTP gateway adapter against a real local gateway."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

from smart_auth.sms import FileSmsSender, HttpSmsSender, configured_sender


class Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append({"auth": self.headers.get("Authorization"), "body": json.loads(body)})
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_http_gateway_receives_message_with_key() -> None:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/send"
        sender = configured_sender(
            Path("/nonexistent"), {"NOSKHE_SMS_GATEWAY_URL": url, "NOSKHE_SMS_GATEWAY_KEY": "k-123"}
        )
        assert isinstance(sender, HttpSmsSender)
        sender.send("09121234567", "کد ورود: 123456")
    finally:
        server.shutdown()
    assert Gateway.received == [
        {"auth": "Bearer k-123", "body": {"to": "09121234567", "text": "کد ورود: 123456"}}
    ]


def test_default_is_the_file_outbox(tmp_path: Path) -> None:
    sender = configured_sender(tmp_path, {})
    assert isinstance(sender, FileSmsSender)
    sender.send("09121234567", "سلام")
    assert sender.messages()[0]["text"] == "سلام"
