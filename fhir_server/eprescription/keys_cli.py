"""`fhir-server practitioners add-key`: register a prescriber's public signing key.

The key becomes a `signing-key` extension on the Practitioner (see `signature.py`), the
same thing a registry or an administrator can do over FHIR with an update. Only the
public part of the JWK is stored; a key with the same `kid` is replaced.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import orjson

from fhir_server.eprescription.signature import EXT_KEY, key_extension
from fhir_server.outcome import FhirError


def register_cli(sub: Any) -> None:
    practitioners = sub.add_parser("practitioners", help="prescribers' signing keys")
    inner = practitioners.add_subparsers(dest="practitioners_command", required=True)
    add = inner.add_parser("add-key", help="register a public JWK (ES256 or RS256) for a Practitioner")
    add.add_argument("--data", type=Path, default=Path("data"), help="directory of the embedded store")
    add.add_argument("--store", default=None, help="store URL (mongodb://...); default: SQLite in --data")
    add.add_argument("--practitioner", required=True, help="Practitioner id")
    add.add_argument("--jwk-file", type=Path, required=True, help="a JWK (JSON) with a kid")


def with_key(practitioner: dict[str, Any], jwk: dict[str, Any]) -> dict[str, Any]:
    """The Practitioner with the key added (replacing one with the same kid)."""
    if not jwk.get("kid") or jwk.get("kty") not in ("EC", "RSA"):
        raise ValueError("the JWK needs a kid and kty EC or RSA")

    def same_kid(ext: dict[str, Any]) -> bool:
        if ext.get("url") != EXT_KEY:
            return False
        try:
            return bool(json.loads(ext.get("valueString") or "{}").get("kid") == jwk["kid"])
        except ValueError:
            return False

    kept = [e for e in practitioner.get("extension") or [] if not same_kid(e)]
    return {**practitioner, "extension": [*kept, key_extension(jwk)]}


def run(args: argparse.Namespace) -> int:
    from fhir_server.app import build_repository
    from fhir_server.config import Settings
    from fhir_server.storage import open_store

    settings = Settings(data_dir=args.data, store_url=args.store)
    store = open_store(settings.data_dir, settings.store_url)
    try:
        jwk = json.loads(args.jwk_file.read_text(encoding="utf-8"))
        repo = build_repository(settings)
        with store.session(write=True) as s:
            current = s.current("Practitioner", args.practitioner)
            if current is None or current.deleted or current.body is None:
                print(f"fhir-server: Practitioner/{args.practitioner} is not known", file=sys.stderr)
                return 1
            updated = with_key(orjson.loads(current.body), jwk)
            repo.update(s, "Practitioner", args.practitioner, updated)
    except (ValueError, FhirError) as exc:
        print(f"fhir-server: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"key {jwk['kid']} registered for Practitioner/{args.practitioner}")
    return 0
