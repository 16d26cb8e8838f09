"""The auth store's protocol on both engines (SQLite and MongoDB), like the FHIR store's
conformance suite: two handles on one store act as two machines (or workers) sharing it.

Expiry is decided on every read, never by a clean-up job (MongoDB's TTL monitor runs
when it likes; the test server's is not relied on); every one-shot operation is atomic
across handles and threads; signing keys are one shared set with compare-and-set changes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smart_auth.keys import SigningKeys
from smart_auth.store import AuthStore, open_auth_store

Opener = Callable[[], AuthStore]


@pytest.fixture
def open_store(tmp_path: Path, auth_store_url: str | None) -> Iterator[Opener]:
    """Opens handles on one fresh auth store of the engine under test."""
    opened: list[AuthStore] = []

    def open_one() -> AuthStore:
        opened.append(open_auth_store(tmp_path, auth_store_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` on n threads started at once; their results."""
    results: list[Any] = []
    gate = threading.Barrier(n)

    def run(i: int) -> None:
        gate.wait()
        results.append(work(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def token(token_id: str, family: str, grant: str | None = None, refresh: bool = True) -> dict[str, Any]:
    return {
        "token_id": token_id,
        "access_hash": f"a-{token_id}",
        "refresh_hash": f"r-{token_id}" if refresh else None,
        "family": family,
        "grant_id": grant,
        "expires_at": time.time() + 60,
        "refresh_expires_at": time.time() + 600 if refresh else None,
        "scope": "user/*.rs",
    }


def test_take_is_atomic_across_machines(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    one.put_record("code", "k", {"v": 1}, time.time() + 60)
    results = together(8, lambda i: (one, two)[i % 2].take_record("code", "k"))
    assert results.count({"v": 1}) == 1 and results.count(None) == 7


def test_replay_cache_and_counters_are_shared(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    assert one.add_once("jti", "c:1", time.time() + 60)
    assert not two.add_once("jti", "c:1", time.time() + 60)
    assert [one.hit("k", 60), two.hit("k", 60), one.hit("k", 60)] == [1, 2, 3]
    two.reset_counter("k")
    assert one.hit("k", 60) == 1
    assert one.add_once("jti", "old", time.time() - 1)  # remembered already expired
    assert two.add_once("jti", "old", time.time() + 5)  # so it can be taken again
    assert not one.add_once("jti", "old", time.time() + 5)


def test_replay_cache_admits_one_of_many_at_once(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    key = uuid.uuid4().hex
    results = together(8, lambda i: (one, two)[i % 2].add_once("jti", key, time.time() + 60))
    assert results.count(True) == 1


def test_counters_count_every_hit_at_once(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    results = together(10, lambda i: (one, two)[i % 2].hit("signin|u", 60))
    assert sorted(results) == list(range(1, 11))


def test_counter_window_resets(open_store: Opener) -> None:
    store = open_store()
    assert store.hit("w", 0.2) == 1 and store.hit("w", 0.2) == 2
    time.sleep(0.25)
    assert store.hit("w", 0.2) == 1


def test_expiry_is_checked_on_read(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    one.put_record("x", "gone", {"a": 1}, time.time() - 1)
    one.put_record("x", "live", {"a": 2}, time.time() + 60)
    assert two.get_record("x", "gone") is None and two.take_record("x", "gone") is None
    assert two.get_record("x", "live") == {"a": 2}
    two.delete_record("x", "live")
    assert one.get_record("x", "live") is None
    one.put_record("x", "soon", {"a": 3}, time.time() + 0.2)
    assert two.get_record("x", "soon") == {"a": 3}
    time.sleep(0.25)
    assert two.get_record("x", "soon") is None
    one.purge_expired()
    assert one.get_record("x", "gone") is None


def test_users_unique_by_username(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    one.put_user({"user_id": "u1", "username": "dr.a", "role": "prescriber"})
    with pytest.raises(ValueError):
        two.put_user({"user_id": "u2", "username": "dr.a", "role": "prescriber"})
    two.put_user({"user_id": "u1", "username": "dr.b", "role": "prescriber"})  # rename
    assert one.find_user("dr.a") is None and one.get_user("u1") == {
        "user_id": "u1",
        "username": "dr.b",
        "role": "prescriber",
    }
    one.put_client({"client_id": "b"})
    two.put_client({"client_id": "a", "name": "A"})
    assert [c["client_id"] for c in one.list_clients()] == ["a", "b"] and two.get_client("a") == {
        "client_id": "a",
        "name": "A",
    }


def test_tokens_revoked_everywhere(open_store: Opener) -> None:
    one, two = open_store(), open_store()
    one.put_token(token("t1", "f1", "g1"))
    one.put_token(token("t2", "f1", "g1"))
    one.put_token(token("t3", "f2", "g2", refresh=False))
    seen = two.token_by_access("a-t1")
    assert seen is not None and seen["scope"] == "user/*.rs" and not seen["revoked"]
    assert two.token_by_refresh("r-t2") is not None and two.token_by_refresh("r-t3") is None
    assert (
        together(6, lambda i: (one, two)[i % 2].consume_refresh("t1")).count(True) == 1
    )  # one refresh per token
    two.revoke_token("t3")
    t3 = one.token_by_access("a-t3")
    assert t3 is not None and t3["revoked"]
    assert two.revoke_grant("g1") == 2
    for name in ("a-t1", "a-t2"):
        revoked = one.token_by_access(name)
        assert revoked is not None and revoked["revoked"] and revoked["refresh_revoked"]
    assert not one.consume_refresh("t2")  # a revoked chain cannot be refreshed


def test_signing_keys_are_one_shared_set(open_store: Opener) -> None:
    one, two = SigningKeys(open_store()), SigningKeys(open_store())
    assert one.active.kid == two.active.kid  # the second machine found the first's key
    results = together(2, lambda i: (one, two)[i].rotate())
    published = {k["kid"] for k in one.public_jwks()["keys"]}
    assert set(results) <= published and len(published) == 3  # both rotations kept (compare-and-set)
    assert two.active.kid == one.active.kid in results  # each re-reads when the revision moves
    old = next(k for k in published if k not in results)
    two.retire(old)
    assert old not in {k["kid"] for k in one.public_jwks()["keys"]}
    with pytest.raises(ValueError):
        one.retire(str(one.active.kid))
