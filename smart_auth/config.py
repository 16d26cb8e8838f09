"""Settings of the authorization server: paths and lifetimes (seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AuthConfig:
    data_dir: Path
    fhir_base_path: str = "/fhir"
    auth_prefix: str = "/auth"
    # Public FHIR base URL (https://host/fhir); derived from each request when None.
    base_url: str | None = None
    access_token_ttl: int = 3600
    backend_token_ttl: int = 300
    code_ttl: int = 120
    pending_ttl: int = 600
    launch_ttl: int = 600
    offline_refresh_ttl: int = 30 * 24 * 3600
    session_ttl: int = 8 * 3600
    max_assertion_lifetime: int = 300
    otp_ttl: int = 120
    otp_max_tries: int = 5
    otp_base_lockout: int = 60
    enrolment_ttl: int = 900
    signin_limit_per_user: int = 10
    signin_limit_per_ip: int = 100
    signin_window: int = 900
    otp_send_limit: int = 3
    otp_send_limit_per_ip: int = 20
    otp_send_window: int = 900
    default_lang: str = "fa"
