"""`init_app`: the one call that wires the authorization server into a Flask app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask

from smart_auth.audit import AuditSink
from smart_auth.config import AuthConfig
from smart_auth.directory import Directory
from smart_auth.roles import Roles
from smart_auth.service import SmartAuth
from smart_auth.sms import SmsSender
from smart_auth.store import open_auth_store
from smart_auth.views import authorize, endpoints, enrol, grants


def init_app(
    app: Flask,
    data_dir: Path | str,
    fhir_base_path: str = "/fhir",
    base_url: str | None = None,
    store_url: str | None = None,
    directory: Directory | None = None,
    audit: AuditSink | None = None,
    sms: SmsSender | None = None,
    roles_file: Path | None = None,
    jwks_fetcher: Callable[[str], dict[str, Any]] | None = None,
    **config: Any,
) -> SmartAuth:
    """Create the authorization server for `app`, register its blueprints, return it."""
    if not base_url:
        raise ValueError("smart_auth.init_app needs base_url, the public FHIR base URL (the issuer)")
    cfg = AuthConfig(data_dir=Path(data_dir), fhir_base_path=fhir_base_path, base_url=base_url, **config)
    extra = {"jwks_fetcher": jwks_fetcher} if jwks_fetcher else {}
    service = SmartAuth(
        cfg,
        open_auth_store(cfg.data_dir, store_url),
        directory,
        audit,
        sms,
        Roles(roles_file) if roles_file else None,
        **extra,
    )
    bp = Blueprint(
        "smart_auth", __name__, url_prefix=cfg.auth_prefix, static_folder="static", static_url_path="/static"
    )
    endpoints.register(bp, service)
    authorize.register(bp, service)
    enrol.register(bp, service)
    grants.register(bp, service)
    app.register_blueprint(bp)
    app.register_blueprint(endpoints.discovery_blueprint(service))
    app.extensions["smart_auth"] = service
    return service
