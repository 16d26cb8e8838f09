"""MongoDB engine of the auth store: the same state as SQLite, shared by every machine.

Chosen by the `--store mongodb://...` URL that holds the resources (same database), so N
machines behind a load balancer know each other's tokens, sessions, codes and consents,
and count attempts and rate limits together. Collections (prefix `auth_`):

- `auth_clients`, `auth_users` (unique `username`): small documents by id;
- `auth_tokens`: one per issuance (unique `access_hash`, unique `refresh_hash` when set,
  `family`, `grant_id`); the revocation flags are fields changed in place;
- `auth_records`: short-lived records by `kind|key` (codes, launches, sessions, pending
  authorizations, one-time codes, consents, the `jti` replay cache);
- `auth_counters`: fixed-window counters (rate limits, sign-in and code attempts);
- `auth_keys`: the server's signing keys (one document, see `smart_auth.keys`).

Expiry is checked on every read (`expires_at` in epoch seconds); TTL indexes on `purge`
(a date) only clean up, and nothing relies on when they run. Each method is one atomic
operation on one document (or an update of a chain's documents), as in SQLite.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

from smart_auth.store.base import Record

TOKEN_FIELDS = ("access_hash", "refresh_hash", "family", "grant_id", "expires_at", "refresh_expires_at")
KEYS_ID = "signing-keys"


def _purge_at(epoch: float) -> datetime:
    """The clean-up date of a document (TTL indexes need a BSON date)."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _record_id(kind: str, key: str) -> str:
    return f"{kind}|{key}"


class MongoAuthStore:
    def __init__(self, url: str) -> None:
        self.client: MongoClient[dict[str, Any]] = MongoClient(
            url, appname="noskhe-auth", serverSelectionTimeoutMS=5000, tz_aware=False
        )
        db = self.client.get_default_database(default="noskhe")
        self.clients, self.users, self.tokens = db.auth_clients, db.auth_users, db.auth_tokens
        self.records, self.counters, self.keys = db.auth_records, db.auth_counters, db.auth_keys
        self.users.create_index("username", unique=True)
        self.tokens.create_index("access_hash", unique=True)
        self.tokens.create_index(
            "refresh_hash", unique=True, partialFilterExpression={"refresh_hash": {"$type": "string"}}
        )
        self.tokens.create_index("family")
        self.tokens.create_index("grant_id")
        for coll in (self.tokens, self.records, self.counters):
            coll.create_index([("purge", ASCENDING)], expireAfterSeconds=0)

    # clients and users
    def put_client(self, client: Record) -> None:
        self.clients.replace_one({"_id": client["client_id"]}, {"doc": json.dumps(client)}, upsert=True)

    def get_client(self, client_id: str) -> Record | None:
        return _doc(self.clients.find_one({"_id": client_id}))

    def list_clients(self) -> list[Record]:
        return [json.loads(d["doc"]) for d in self.clients.find().sort("_id", ASCENDING)]

    def put_user(self, user: Record) -> None:
        try:
            self.users.replace_one(
                {"_id": user["user_id"]}, {"username": user["username"], "doc": json.dumps(user)}, upsert=True
            )
        except DuplicateKeyError:
            raise ValueError(f"username already taken: {user['username']}") from None

    def get_user(self, user_id: str) -> Record | None:
        return _doc(self.users.find_one({"_id": user_id}))

    def find_user(self, username: str) -> Record | None:
        return _doc(self.users.find_one({"username": username}))

    # tokens
    def put_token(self, token: Record) -> None:
        fields = {name: token.get(name) for name in TOKEN_FIELDS}
        if fields["refresh_hash"] is None:
            del fields["refresh_hash"]  # the unique index covers only tokens that have one
        last = max(float(token["expires_at"]), float(token.get("refresh_expires_at") or 0))
        self.tokens.insert_one(
            {
                "_id": token["token_id"],
                **fields,
                "revoked": False,
                "refresh_used": False,
                "refresh_revoked": False,
                "purge": _purge_at(last),
                "doc": json.dumps(token),
            }
        )

    def _token(self, field: str, value: str) -> Record | None:
        row = self.tokens.find_one({field: value})
        if row is None:
            return None
        doc = dict(json.loads(row["doc"]))  # the fields are authoritative for what changes
        for flag in ("revoked", "refresh_used", "refresh_revoked"):
            doc[flag] = bool(row[flag])
        doc["expires_at"], doc["refresh_expires_at"] = row["expires_at"], row.get("refresh_expires_at")
        return doc

    def token_by_access(self, access_hash: str) -> Record | None:
        return self._token("access_hash", access_hash)

    def token_by_refresh(self, refresh_hash: str) -> Record | None:
        return self._token("refresh_hash", refresh_hash)

    def consume_refresh(self, token_id: str) -> bool:
        result = self.tokens.update_one(
            {"_id": token_id, "refresh_used": False, "refresh_revoked": False},
            {"$set": {"refresh_used": True}},
        )
        return result.modified_count == 1

    def revoke_token(self, token_id: str) -> None:
        self.tokens.update_one({"_id": token_id}, {"$set": {"revoked": True}})

    def revoke_family(self, family: str) -> int:
        result = self.tokens.update_many(
            {"family": family}, {"$set": {"revoked": True, "refresh_revoked": True}}
        )
        return int(result.matched_count)

    def revoke_grant(self, grant_id: str) -> int:
        families = self.tokens.distinct("family", {"grant_id": grant_id})
        return sum(self.revoke_family(str(f)) for f in families)

    # short-lived records
    def put_record(self, kind: str, key: str, value: Record, expires_at: float) -> None:
        self.records.replace_one(
            {"_id": _record_id(kind, key)},
            {"doc": json.dumps(value), "expires_at": expires_at, "purge": _purge_at(expires_at)},
            upsert=True,
        )

    def get_record(self, kind: str, key: str) -> Record | None:
        return _doc(self.records.find_one({"_id": _record_id(kind, key), "expires_at": {"$gt": time.time()}}))

    def take_record(self, kind: str, key: str) -> Record | None:
        row = self.records.find_one_and_delete({"_id": _record_id(kind, key)})
        if row is None or row["expires_at"] <= time.time():
            return None
        return _doc(row)

    def delete_record(self, kind: str, key: str) -> None:
        self.records.delete_one({"_id": _record_id(kind, key)})

    def add_once(self, kind: str, key: str, expires_at: float) -> bool:
        """Take the key if it is absent or expired: the upsert's insert fails on a live one."""
        try:
            self.records.update_one(
                {"_id": _record_id(kind, key), "expires_at": {"$lte": time.time()}},
                {"$set": {"doc": "{}", "expires_at": expires_at, "purge": _purge_at(expires_at)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    # counters
    def hit(self, key: str, window_seconds: float) -> int:
        """One more in the open window, else open a new window at 1 (never both at once:
        the second step's upsert fails while another hit's live window exists)."""
        while True:
            now = time.time()
            row = self.counters.find_one_and_update(
                {"_id": key, "window_end": {"$gt": now}},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if row is not None:
                return int(row["count"])
            end = now + window_seconds
            try:
                self.counters.update_one(
                    {"_id": key, "window_end": {"$lte": now}},
                    {"$set": {"count": 1, "window_end": end, "purge": _purge_at(end)}},
                    upsert=True,
                )
            except DuplicateKeyError:
                continue  # another hit opened the window first: count in it
            return 1

    def reset_counter(self, key: str) -> None:
        self.counters.delete_one({"_id": key})

    # signing keys
    def signing_keys(self) -> tuple[Record | None, str]:
        row = self.keys.find_one({"_id": KEYS_ID})
        return (None, "") if row is None else (json.loads(row["doc"]), str(row["rev"]))

    def signing_keys_revision(self) -> str:
        row = self.keys.find_one({"_id": KEYS_ID}, {"rev": 1})
        return "" if row is None else str(row["rev"])

    def save_signing_keys(self, doc: Record, revision: str) -> bool:
        """Compare-and-set: False when another machine changed the keys since `revision`."""
        text, new_rev = json.dumps(doc), f"{time.time_ns():x}"
        if not revision:
            try:
                self.keys.insert_one({"_id": KEYS_ID, "rev": new_rev, "doc": text})
            except DuplicateKeyError:
                return False
            return True
        result = self.keys.update_one(
            {"_id": KEYS_ID, "rev": revision}, {"$set": {"rev": new_rev, "doc": text}}
        )
        return result.modified_count == 1

    def purge_expired(self) -> None:
        now = time.time()
        self.records.delete_many({"expires_at": {"$lte": now}})
        self.counters.delete_many({"window_end": {"$lte": now}})
        self.tokens.delete_many(
            {
                "expires_at": {"$lte": now},
                "$or": [{"refresh_expires_at": None}, {"refresh_expires_at": {"$lte": now}}],
            }
        )

    def close(self) -> None:
        self.client.close()


def _doc(row: dict[str, Any] | None) -> Record | None:
    return None if row is None else dict(json.loads(row["doc"]))
