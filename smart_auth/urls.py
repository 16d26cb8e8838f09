"""Public URLs of the FHIR base and the authorization endpoints, per request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request

from smart_auth.config import AuthConfig


def normalise(url: str) -> str:
    return url.rstrip("/")


@dataclass(frozen=True)
class Urls:
    config: AuthConfig

    def fhir_base(self) -> str:
        if self.config.base_url:
            return normalise(self.config.base_url)
        if not has_request_context():
            raise RuntimeError("no base URL configured and no request to derive it from")
        return normalise(request.url_root) + self.config.fhir_base_path

    def root(self) -> str:
        base = self.fhir_base()
        path = self.config.fhir_base_path
        return base[: -len(path)] if path and base.endswith(path) else base

    def issuer(self) -> str:
        return self.fhir_base()

    def endpoint(self, name: str) -> str:
        return f"{self.root()}{self.config.auth_prefix}/{name}"
