"""Messages that may leave only once the work that caused them is committed (the
patient's SMS with a tracking code).

The workflow adds messages with `add`; whoever runs the unit of work opens a batch (the
API does, per request: `open_batch`/`close_batch`) and delivers it only when the work
succeeded, so a refused or rolled-back prescription sends nothing. A message added with
no batch open is dropped with a warning: nothing runs the workflow outside a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass

log = logging.getLogger("noskhe.outbox")


@dataclass(frozen=True)
class Message:
    mobile: str
    text: Callable[[], str]  # built when sent: it may read what the work stored


Batch = dict[str, Message]
_batch: ContextVar[Batch | None] = ContextVar("noskhe_outbox", default=None)


def add(key: str, mobile: str, text: Callable[[], str]) -> None:
    """One message per `key` (say, a tracking code): a second add with the key replaces it."""
    pending = _batch.get()
    if pending is None:
        log.warning("a message was dropped: no unit of work collects messages here")
        return
    pending[key] = Message(mobile, text)


def open_batch() -> Token[Batch | None]:
    """Start collecting this context's messages; pass the token to `close_batch`."""
    return _batch.set({})


def pending() -> Batch:
    return _batch.get() or {}


def close_batch(token: Token[Batch | None]) -> None:
    _batch.reset(token)


def deliver(messages: Batch, send: Callable[[str, str], None]) -> None:
    for message in messages.values():
        send(message.mobile, message.text())
