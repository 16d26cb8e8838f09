"""One Settings object, built from CLI flags and NOSKHE_* environment variables."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("NOSKHE_DATA", "data")))
    store_url: str | None = field(default_factory=lambda: os.environ.get("NOSKHE_STORE"))
    host: str = "127.0.0.1"
    port: int = 8080
    auth: bool = True
    # Public base URL of the FHIR endpoint (https://rx.example.ir/fhir): required off
    # loopback; on loopback derived from host and port. Never taken from a request.
    base_url: str | None = field(default_factory=lambda: os.environ.get("NOSKHE_BASE_URL"))
    # Honour X-Forwarded-For/-Proto/-Host/-Port/-Prefix from one reverse proxy in front.
    trust_proxy: bool = field(default_factory=lambda: os.environ.get("NOSKHE_TRUST_PROXY") == "1")
    max_body_bytes: int = field(
        default_factory=lambda: int(os.environ.get("NOSKHE_MAX_BODY", str(10 * 1024 * 1024)))
    )
    # Require the IR e-prescription profiles for the resource types they cover.
    require_ir_profiles: bool = field(
        default_factory=lambda: os.environ.get("NOSKHE_REQUIRE_IR_PROFILES") == "1"
    )
    # Origins of browser apps allowed to call the API (CORS): `*` or a list (`NOSKHE_CORS_ORIGINS`).
    cors_origins: str = field(default_factory=lambda: os.environ.get("NOSKHE_CORS_ORIGINS", "*"))
    # One JSON line per request on stderr (`fhir-server serve` turns it on; tests and tools
    # that build the app in process leave it off).
    access_log: bool = False
    # Bulk Data: how long a finished job's files are kept (seconds; NOSKHE_BULK_EXPIRY).
    bulk_expiry_seconds: float = field(
        default_factory=lambda: float(os.environ.get("NOSKHE_BULK_EXPIRY", str(24 * 3600)))
    )
    # Bulk import: URL prefixes `$import` may pull from (NOSKHE_IMPORT_ALLOW, comma-separated)
    # and the directory `file://` inputs must lie under (NOSKHE_IMPORT_DIR; none: no files).
    import_allow: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p.strip() for p in os.environ.get("NOSKHE_IMPORT_ALLOW", "").split(",") if p.strip()
        )
    )
    import_dir: Path | None = field(
        default_factory=lambda: (
            Path(os.environ["NOSKHE_IMPORT_DIR"]) if os.environ.get("NOSKHE_IMPORT_DIR") else None
        )
    )
    default_count: int = 20
    max_count: int = 1000

    @property
    def public_base_url(self) -> str:
        """The FHIR base URL clients use: configured, else the bound loopback host and port."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/fhir"

    def check(self) -> None:
        """Refuse settings that would be unsafe to serve with."""
        if not self.auth and not is_loopback(self.host):
            raise ValueError("--no-auth is allowed only on a loopback host (127.0.0.1, ::1)")
        if not self.base_url and not is_loopback(self.host):
            raise ValueError(
                f"serving on {self.host} needs the public FHIR base URL: --base-url (or NOSKHE_BASE_URL), "
                "e.g. https://rx.example.ir/fhir; it is never taken from a request's Host header"
            )
        parts = urlsplit(self.public_base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--base-url must be an absolute http(s) URL, not {self.base_url!r}")
        if self.auth and parts.scheme != "https" and not is_loopback(parts.hostname):
            raise ValueError(
                f"--base-url {self.public_base_url} is http: OAuth needs https for a host other than "
                "loopback (put a TLS proxy in front and give its https URL)"
            )
