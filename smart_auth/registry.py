"""Registering clients and users (CLI, dynamic registration, enrolment, tests)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from joserfc.jwk import KeySet

from smart_auth.models import ASYMMETRIC, PUBLIC, SYMMETRIC
from smart_auth.passwords import hash_password
from smart_auth.roles import ROLE_NAMES
from smart_auth.scopes import ScopeSet
from smart_auth.store.base import AuthStore, Record

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,32}$")
FHIR_USER = re.compile(r"^(Practitioner|PractitionerRole|Patient|RelatedPerson|Person)/[A-Za-z0-9\-.]{1,64}$")


def _check_redirects(redirect_uris: list[str]) -> None:
    for uri in redirect_uris:
        if not re.match(r"^[a-z][a-z0-9+.-]*://", uri) or "#" in uri:
            raise ValueError(f"redirect URI must be absolute and without fragment: {uri}")


def client_record(
    client_id: str,
    *,
    secret: str | None = None,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    redirect_uris: list[str] | None = None,
    scope: str = "",
    name: str | None = None,
    ehr_launcher: bool = False,
    introspect_any: bool = False,
) -> Record:
    """A validated client document: public, symmetric (secret) or asymmetric (JWKS / JWKS URL)."""
    if sum(x is not None for x in (secret, jwks, jwks_uri)) > 1:
        raise ValueError("choose one of: public, secret, jwks, jwks-url")
    redirect_uris = list(redirect_uris or [])
    _check_redirects(redirect_uris)
    ScopeSet.parse(scope, strict=True)
    if jwks is not None:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]  # refuse what cannot be used later
    kind = ASYMMETRIC if (jwks is not None or jwks_uri) else SYMMETRIC if secret else PUBLIC
    grant_types = ["authorization_code", "refresh_token"] if redirect_uris else []
    if kind == ASYMMETRIC:
        grant_types.append("client_credentials")
    if not grant_types:
        raise ValueError("a client without redirect URIs must have keys (backend services)")
    return {
        "client_id": client_id,
        "client_name": name or client_id,
        "kind": kind,
        "secret_hash": hash_password(secret) if secret else None,
        "jwks": jwks,
        "jwks_uri": jwks_uri,
        "redirect_uris": redirect_uris,
        "scope": scope,
        "grant_types": grant_types,
        "ehr_launcher": ehr_launcher,
        "introspect_any": introspect_any,
        "created": time.time(),
    }


def add_client(store: AuthStore, client_id: str, **options: Any) -> Record:
    record = client_record(client_id, **options)
    store.put_client(record)
    return record


def add_user(
    store: AuthStore,
    username: str,
    password: str,
    role: str,
    fhir_user: str | None = None,
    display: str | None = None,
    national_code: str | None = None,
) -> Record:
    if not USERNAME.match(username):
        raise ValueError("username: 3-32 of A-Z a-z 0-9 . _ -")
    if role not in ROLE_NAMES:
        raise ValueError(f"role must be one of {', '.join(ROLE_NAMES)}")
    if fhir_user is not None and not FHIR_USER.match(fhir_user):
        raise ValueError("fhir-user must look like Practitioner/ID, PractitionerRole/ID or Patient/ID")
    if role == "patient" and not (fhir_user or "").startswith("Patient/"):
        raise ValueError("a patient account needs --fhir-user Patient/ID")
    existing = store.find_user(username)
    record = {
        "user_id": existing["user_id"] if existing else uuid.uuid4().hex,
        "username": username,
        "password_hash": hash_password(password),
        "role": role,
        "fhir_user": fhir_user,
        "display": display or username,
        "national_code": national_code,
        "created": time.time(),
    }
    store.put_user(record)
    return record
