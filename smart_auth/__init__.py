"""SMART-on-FHIR authorization server and provider identity, on Authlib + joserfc.

Wiring is one call (import it from the submodule: under bare `pytest`, `tests/smart_auth/`
can shadow the package's `__init__`)::

    from smart_auth.wiring import init_app
    auth = init_app(app, data_dir=DIR, fhir_base_path="/fhir",
                               directory=..., audit=...)
    auth.verify(token) -> AccessContext | None

`smart_auth` never imports `fhir_server`; the FHIR data it needs comes through
`smart_auth.directory.Directory`, and AuditEvents leave through the `audit` callback.
"""

from __future__ import annotations

from smart_auth.audit import QueuedAudit
from smart_auth.config import AuthConfig
from smart_auth.scopes import AccessContext, Decision
from smart_auth.service import SmartAuth
from smart_auth.wiring import init_app

__all__ = ["AccessContext", "AuthConfig", "Decision", "QueuedAudit", "SmartAuth", "init_app"]
