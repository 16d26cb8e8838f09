"""Public URLs of the FHIR base and the authorization endpoints: from the configured base
URL, never from a request (its Host header is the client's to choose)."""

from __future__ import annotations

from dataclasses import dataclass

from smart_auth.config import AuthConfig


def normalise(url: str) -> str:
    return url.rstrip("/")


@dataclass(frozen=True)
class Urls:
    config: AuthConfig

    def fhir_base(self) -> str:
        if not self.config.base_url:
            raise ValueError("the authorization server needs the public FHIR base URL (base_url)")
        return normalise(self.config.base_url)

    def root(self) -> str:
        base = self.fhir_base()
        path = self.config.fhir_base_path
        return base[: -len(path)] if path and base.endswith(path) else base

    def issuer(self) -> str:
        return self.fhir_base()

    def endpoint(self, name: str) -> str:
        return f"{self.root()}{self.config.auth_prefix}/{name}"
