"""create_app(settings): wires storage, validation, search and the HTTP routes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

import terminology
from fhir_server import authorization, definitions, search
from fhir_server.api import after_commit, idempotency
from fhir_server.api.auth import register_auth
from fhir_server.api.bulk import RUNNER
from fhir_server.api.context import FhirContext
from fhir_server.api.cors import parse_origins, register_cors
from fhir_server.api.errors import register_error_handlers
from fhir_server.api.http import fhir_response, request_language
from fhir_server.api.operations import TERMINOLOGY_SYNC
from fhir_server.api.request_log import register_request_log
from fhir_server.api.routes import bp as fhir_routes
from fhir_server.bulk import bulk_runner
from fhir_server.config import Settings
from fhir_server.conformance import shipped
from fhir_server.dashboard import register_dashboard
from fhir_server.directory import FhirDirectory
from fhir_server.eprescription import claims, workflow_rules
from fhir_server.eprescription.stamps import stamp_keys
from fhir_server.operations.terminology_support import TerminologySync, register_stored
from fhir_server.outcome import Issue
from fhir_server.repository import Repository
from fhir_server.repository.rules import WriteRule
from fhir_server.search.custom import load_custom_search_parameters
from fhir_server.search.valuesets import use_expander, value_set_codes
from fhir_server.site import register_site
from fhir_server.storage import open_store
from fhir_server.storage.base import Store
from fhir_server.validation import validate_resource
from fhir_server.validation.profiles import validate_profiles
from smart_auth.audit import QueuedAudit
from smart_auth.wiring import init_app as init_smart_auth

TERMINOLOGY_TYPES = frozenset({"CodeSystem", "ValueSet", "ConceptMap"})


def build_repository(
    settings: Settings | None = None,
    svc: terminology.TerminologyService | None = None,
    rules: Sequence[WriteRule] = (),
) -> Repository:
    """The interactions with structural, profile and terminology checks wired in.

    `rules` are the workflow rules (the e-prescription cycle); seeding and registry
    imports run without them."""
    require_ir = bool(settings and settings.require_ir_profiles)

    def profiles(resource: Any) -> list[Issue]:
        return validate_profiles(resource, require_ir=require_ir, lang=request_language(), service=svc)

    def on_write(resource: dict[str, Any]) -> None:
        if svc is not None and resource.get("resourceType") in TERMINOLOGY_TYPES:
            svc.register(resource)

    return Repository(
        validate_resource, search.extract_index, profiles, on_write, rules, stamp_keys, shipped()
    )


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    settings = settings or Settings()
    settings.check()
    app = Flask("noskhe")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if settings.trust_proxy:  # one reverse proxy in front sets the client's address and scheme
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    store = store or open_store(settings.data_dir, settings.store_url)
    load_custom_search_parameters(store)
    svc = terminology.shipped_service()
    register_stored(store, svc)  # code systems imported earlier
    use_expander(lambda url: value_set_codes(svc, url))  # :in, :not-in
    app.extensions["terminology"] = svc
    app.extensions[TERMINOLOGY_SYNC] = TerminologySync(svc, store)
    repo = build_repository(settings, svc, rules=workflow_rules())
    claims.backfill(store)  # stores written before the workflow's claims existed
    app.extensions["noskhe"] = FhirContext(
        settings=settings, store=store, repo=repo, resource_types=definitions.resource_types()
    )
    if settings.access_log:
        register_request_log(app)
    _authorization(app, settings, store, repo)
    register_error_handlers(app)
    idempotency.register(app)  # retries of prescribing and dispensing calls
    after_commit.register(app)  # the patient's SMS, once the request succeeded
    app.register_blueprint(fhir_routes)
    register_site(app)
    register_dashboard(app)
    _health_routes(app, store)
    app.extensions[RUNNER] = bulk_runner(store, repo, settings, build_repository(settings, svc))
    logging.getLogger("noskhe").setLevel(logging.INFO)
    return app


def _authorization(app: Flask, settings: Settings, store: Store, repo: Repository) -> None:
    """The SMART authorization server, and the token gate with auditing in front of /fhir.

    FHIR interactions are audited only when authorization is on: without a token there is
    no one to attribute them to."""
    audit = QueuedAudit(_audit_writer(store, repo))
    smart = init_smart_auth(
        app,
        data_dir=settings.data_dir,
        fhir_base_path="/fhir",
        base_url=settings.public_base_url,
        store_url=settings.store_url,
        directory=FhirDirectory(store, repo),
        audit=audit,
    )
    register_auth(app, settings.auth, smart.verify, audit=audit if settings.auth else None)
    register_cors(app, parse_origins(settings.cors_origins), "/fhir", smart.config.auth_prefix)


def _audit_writer(store: Store, repo: Repository) -> Callable[[dict[str, Any]], None]:
    def write(event: dict[str, Any]) -> None:
        with authorization.as_system(), store.session(write=True) as s:
            repo.create(s, "AuditEvent", event)

    return write


def _health_routes(app: Flask, store: Store) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', content_type="application/json")

    @app.get("/readyz")
    def readyz() -> Response:
        """Ready when the store takes a write (and has room) and the signing keys load."""
        problems = store.ready() + app.extensions["smart_auth"].keys.check()
        if not problems:
            return Response(b'{"status":"ready"}', content_type="application/json")
        return fhir_response(
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "transient", "diagnostics": p} for p in problems],
            },
            503,
        )
