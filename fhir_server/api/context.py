"""What the request handlers share: settings, store, repository. One per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import current_app, request

from fhir_server.config import Settings
from fhir_server.outcome import FhirError
from fhir_server.repository import Repository
from fhir_server.storage.base import Store


@dataclass
class FhirContext:
    settings: Settings
    store: Store
    repo: Repository
    resource_types: frozenset[str]


def ctx() -> FhirContext:
    return cast(FhirContext, current_app.extensions["noskhe"])


def base_url() -> str:
    """The public FHIR base URL, e.g. https://rx.example.ir/fhir: configured (or, on
    loopback, the bound host and port), never the request's Host header."""
    return ctx().settings.public_base_url


def check_type(type_: str) -> str:
    if type_ not in ctx().resource_types:
        raise FhirError.of(404, "not-supported", f"Unknown resource type {type_!r}")
    return type_


def query_pairs() -> list[tuple[str, str]]:
    """Query parameters in order, repeats kept (AND), from the URL and a form body."""
    pairs = list(request.args.items(multi=True))
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        pairs += list(request.form.items(multi=True))
    return pairs
