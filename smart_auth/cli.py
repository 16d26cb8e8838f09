"""`fhir-server clients|users|keys|grants ...` and `token`: subcommands the FHIR CLI mounts.

from smart_auth.cli import register_cli, run
register_cli(subparsers)            # in build_parser()
if hasattr(args, "auth_handler"):   # in main()
    args.audit = write_audit_event       # optional: where `token` records what it minted
    return run(args)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smart_auth.audit import auth_event
from smart_auth.config import AuthConfig
from smart_auth.consents import Consents
from smart_auth.dev_tokens import mint
from smart_auth.keys import SigningKeys
from smart_auth.registry import add_client, add_user
from smart_auth.roles import ROLE_NAMES
from smart_auth.store import AuthStore, open_auth_store


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    p.add_argument(
        "--store",
        default=None,
        help="store URL (mongodb://...: the auth state lives there; default DIR/auth.sqlite3)",
    )


def register_cli(sub: Any) -> None:
    """Add the `clients`, `users` and `keys` commands to an argparse subparsers object."""
    _clients(sub.add_parser("clients", help="SMART client registrations"))
    _users(sub.add_parser("users", help="user accounts"))
    _keys(sub.add_parser("keys", help="the server's signing keys"))
    _token(sub.add_parser("token", help="a development bearer token for curl (loopback only)"))
    _grants(sub.add_parser("grants", help="what users allowed apps (remembered consent)"))


def _clients(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="clients_command", required=True)
    add = sub.add_parser("add", help="register or replace a client")
    _common(add)
    add.add_argument("--client-id", required=True)
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--public", action="store_true", help="public client (PKCE, no secret)")
    kind.add_argument("--secret", help="confidential symmetric client secret")
    kind.add_argument("--jwks-file", type=Path, help="confidential asymmetric: a JWKS file of public keys")
    kind.add_argument("--jwks-url", help="confidential asymmetric: a JWKS URL")
    add.add_argument("--redirect-uri", action="append", default=[], help="exact redirect URI (repeatable)")
    add.add_argument("--scope", required=True, help="the most this client may be granted")
    add.add_argument("--name", help="display name shown on the consent page")
    add.add_argument("--ehr-launcher", action="store_true", help="may register EHR launch contexts")
    add.add_argument(
        "--introspect-any", action="store_true", help="may introspect any token (resource servers)"
    )
    add.set_defaults(auth_handler=_clients_add)
    listing = sub.add_parser("list", help="list clients")
    _common(listing)
    listing.set_defaults(auth_handler=_clients_list)


def _users(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="create a user, or reset the password of an existing username")
    _common(add)
    add.add_argument("--username", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--role", required=True, choices=ROLE_NAMES)
    add.add_argument("--fhir-user", help="Practitioner/ID, PractitionerRole/ID or Patient/ID")
    add.add_argument("--display", help="name shown on pages")
    add.set_defaults(auth_handler=_users_add)


def _keys(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_command", required=True)
    rotate = sub.add_parser("rotate", help="add a new active signing key (old ones stay published)")
    _common(rotate)
    rotate.set_defaults(auth_handler=_keys_rotate)
    retire = sub.add_parser("retire", help="stop publishing an old key")
    _common(retire)
    retire.add_argument("--kid", required=True)
    retire.set_defaults(auth_handler=_keys_retire)


def _token(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--user", required=True, help="the username the token acts for")
    parser.add_argument("--scope", help="less than the user's role allows (default: all of it)")
    parser.add_argument("--minutes", type=int, default=60, help="lifetime (default 60)")
    parser.set_defaults(auth_handler=_token_mint)


def _grants(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="grants_command", required=True)
    listing = sub.add_parser("list", help="the apps a user allowed")
    _common(listing)
    listing.add_argument("--user", required=True, help="username")
    listing.set_defaults(auth_handler=_grants_list)
    revoke = sub.add_parser("revoke", help="take back a user's consent (and revoke its tokens)")
    _common(revoke)
    revoke.add_argument("--user", required=True, help="username")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--client-id", help="the app")
    which.add_argument("--all", action="store_true", help="every app")
    revoke.set_defaults(auth_handler=_grants_revoke)


def run(args: argparse.Namespace) -> int:
    try:
        return int(args.auth_handler(args))
    except (ValueError, OSError) as exc:
        print(f"fhir-server: {exc}", file=sys.stderr)
        return 2


def _clients_add(args: argparse.Namespace) -> int:
    jwks = json.loads(args.jwks_file.read_text()) if args.jwks_file else None
    store = open_auth_store(args.data, args.store)
    record = add_client(
        store,
        args.client_id,
        secret=args.secret,
        jwks=jwks,
        jwks_uri=args.jwks_url,
        redirect_uris=args.redirect_uri,
        scope=args.scope,
        name=args.name,
        ehr_launcher=args.ehr_launcher,
        introspect_any=args.introspect_any,
    )
    store.close()
    print(f"client {record['client_id']} ({record['kind']}): {' '.join(record['grant_types'])}")
    return 0


def _clients_list(args: argparse.Namespace) -> int:
    store = open_auth_store(args.data, args.store)
    for client in store.list_clients():
        print(f"{client['client_id']}\t{client['kind']}\t{client['scope']}")
    store.close()
    return 0


def _users_add(args: argparse.Namespace) -> int:
    store = open_auth_store(args.data, args.store)
    record = add_user(
        store, args.username, args.password, args.role, fhir_user=args.fhir_user, display=args.display
    )
    store.close()
    print(f"user {record['username']} ({record['role']}) {record['fhir_user'] or ''}".rstrip())
    return 0


def _token_mint(args: argparse.Namespace) -> int:
    if not 1 <= args.minutes <= 24 * 60:
        raise ValueError("--minutes: 1 to 1440")
    store = open_auth_store(args.data, args.store)
    try:
        # the FHIR side sets `workplaces` (the user's organizations, for workplace-restricted scopes)
        found: Callable[[str], list[str]] = getattr(args, "workplaces", None) or (lambda fhir_user: [])
        token, record = mint(store, args.user, args.scope, args.minutes * 60, found)
    finally:
        store.close()
    if getattr(args, "audit", None) is not None:  # no token handed out without its record
        args.audit(
            auth_event(
                "token-issued",
                True,
                username=args.user,
                fhir_user=record.get("fhir_user"),
                client_id=record["client_id"],
                patient=record["context"].get("patient"),
                detail=f"development token, {args.minutes} min, loopback only: {record['scope']}",
            )
        )
    print(token)
    print(f"{record['scope']} (from loopback only, {args.minutes} min)", file=sys.stderr)
    return 0


def _consents(store: AuthStore, username: str) -> tuple[Consents, str]:
    user = store.find_user(username)
    if user is None:
        raise ValueError(f"no such user: {username}")
    return Consents(store, AuthConfig(data_dir=Path(".")).consent_ttl), str(user["user_id"])


def _grants_list(args: argparse.Namespace) -> int:
    store = open_auth_store(args.data, args.store)
    try:
        consents, user_id = _consents(store, args.user)
        for consent in consents.granted(user_id):
            when = time.strftime("%Y-%m-%d", time.gmtime(consent.granted_at))
            print(f"{consent.client_id}\t{when}\t{consent.scope}")
    finally:
        store.close()
    return 0


def _grants_revoke(args: argparse.Namespace) -> int:
    store = open_auth_store(args.data, args.store)
    try:
        consents, user_id = _consents(store, args.user)
        clients = [c.client_id for c in consents.granted(user_id)] if args.all else [args.client_id]
        revoked = [c for c in clients if consents.revoke(user_id, c)]
    finally:
        store.close()
    if not revoked:
        print(f"fhir-server: {args.user} has allowed no such app", file=sys.stderr)
        return 1
    print(f"revoked: {' '.join(revoked)}")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    store = open_auth_store(args.data, args.store)
    try:
        print(f"active key: {SigningKeys(store).rotate()}")
    finally:
        store.close()
    return 0


def _keys_retire(args: argparse.Namespace) -> int:
    store = open_auth_store(args.data, args.store)
    try:
        SigningKeys(store).retire(args.kid)
    finally:
        store.close()
    print(f"retired key: {args.kid}")
    return 0
