"""Positions and the visibility watermark on MongoDB, with no document every write touches.

A write unit that stores versions first registers itself in `inflight` (one document of
its own, outside its transaction): `s` is the server's clock at registration. Then it
reads the server's clock again (`hello.localTime`): that time `t`, then the writer's own
clock in microseconds and a random number (so that units one after the other within one
millisecond keep their order, and two at once never share a position), then a count per
version make its positions (`<t ms:12><local µs:14><random:8><n:6>`, 40 hex digits). It
deregisters when it ends, committed or not.

The watermark a reader uses is `min(server clock, oldest registered s)`: versions whose
time part is below it are visible and final. Why nothing can appear below it later: a
unit registered when the reader looked has `s` >= the watermark and positions from `t`
>= `s`; a unit not yet registered then registers after the reader read the clock, so its
`t`, read after its registration, is later still. The reader reads the clock once the
millisecond of its call has passed, so whatever committed before the call is visible.

One clock: on a replica set both clock readings come from the primary. On a sharded
cluster `hello` answers from the mongos and `s` from the primary shard: allow for their
skew with NOSKHE_MONGO_CLOCK_SKEW_MS (the watermark moves back by as much).

The settled instant (`Store.settled_instant`, for readers bounded by `last_updated`) is
the watermark less STAMP_WINDOW_SECONDS and CLOCK_MARGIN_SECONDS. A version stamped at L
<= that instant reached its store by L + the window (the Repository re-stamps it
otherwise) on its machine's clock, so its unit registered before the watermark unless the
machine's clock and the time to register are off by more than the margin: a unit
registered before the watermark has ended, so the version is committed (or never will be).

A crashed writer's registration is ignored after LIFETIME_SECONDS; a unit still open by
then cannot commit any more (see `Unit.check_alive`), so ignoring it is safe. Sooner than
that, a process starting on the same host removes the registrations of its host's
processes that are gone (`clear_dead_units`), so a restart after a crash does not hold
history back.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database

from fhir_server.storage.base import STAMP_WINDOW_SECONDS, StoreUnavailable, instant

LIFETIME_SECONDS = 120.0  # > the longest a unit retries (mongo_session.RETRY_SECONDS, twice)
COMMIT_MARGIN_SECONDS = 15.0
INFLIGHT_INDEXES = [("s", ASCENDING)]
CLOCK_MARGIN_SECONDS = 0.5  # a Noskhe machine's clock against the primary's, plus registering


def clock_skew() -> timedelta:
    return timedelta(milliseconds=int(os.environ.get("NOSKHE_MONGO_CLOCK_SKEW_MS", "0") or 0))


def server_clock(db: Database[Any]) -> datetime:
    """The primary's wall clock (millisecond precision, naive UTC)."""
    found: datetime = db.client.admin.command("hello")["localTime"]
    return found.replace(tzinfo=None)


def _ms(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)


class Unit:
    """One write unit's registration and the positions of the versions it writes."""

    def __init__(self, db: Database[Any]) -> None:
        self.db = db
        self.id = secrets.token_hex(4)
        self._base: str | None = None
        self._count = 0
        self._since = 0.0
        self._tie = ""

    def position(self, previous: str = "") -> str:
        """The next position of this unit (registering it on first use), after the
        resource's `previous` version's position: a resource's history stays in version
        order even when two units write it within one millisecond."""
        if self._base is None:
            self._register()
        self._count += 1
        position = f"{self._base}{self._tie}{self._count:06x}"
        if previous >= position:  # later is safe: it only delays visibility
            position = f"{int(previous[:12], 16) + 1:012x}{self._tie}{self._count:06x}"
        return position

    def _register(self) -> None:
        self.db.inflight.find_one_and_update(
            {"_id": self.id},
            {"$currentDate": {"s": True}, "$set": {"host": socket.gethostname(), "pid": os.getpid()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        self._since = time.monotonic()
        self._base = f"{_ms(server_clock(self.db)):012x}"
        self._tie = f"{time.time_ns() // 1000:014x}{self.id}"

    def check_alive(self) -> None:
        """Refuse to commit once readers may have stopped waiting for this unit."""
        if (
            self._base is not None
            and time.monotonic() - self._since > LIFETIME_SECONDS - COMMIT_MARGIN_SECONDS
        ):
            raise StoreUnavailable("the write took too long to commit; nothing was written, retry")

    def end(self) -> None:
        if self._base is not None:
            self.db.inflight.delete_one({"_id": self.id})
            self._base = None


def watermark(db: Database[Any]) -> str:
    """See the module's description: a 12-digit position prefix."""
    first = server_clock(db)
    now = first
    while now <= first:  # let the millisecond of the call pass
        time.sleep(0.0005)
        now = server_clock(db)
    oldest = db.inflight.find_one(
        {"s": {"$gt": now - timedelta(seconds=LIFETIME_SECONDS)}}, {"s": 1}, sort=[("s", ASCENDING)]
    )
    mark = min(now, oldest["s"]) if oldest else now
    return f"{_ms(mark - clock_skew()):012x}"


def settled_instant(db: Database[Any]) -> str:
    """See the module's description."""
    mark = int(watermark(db)[:12], 16) / 1000
    return instant(mark - STAMP_WINDOW_SECONDS - CLOCK_MARGIN_SECONDS)


def clear_dead_units(db: Database[Any]) -> int:
    """Remove registrations left by processes of this host that no longer run."""
    dead = []
    for doc in db.inflight.find({"host": socket.gethostname()}, {"pid": 1}):
        try:
            os.kill(int(doc["pid"]), 0)
        except ProcessLookupError:
            dead.append(doc["_id"])
        except (OSError, KeyError, ValueError):
            continue  # alive under another user, or not ours to judge
    if dead:
        db.inflight.delete_many({"_id": {"$in": dead}})
    return len(dead)
