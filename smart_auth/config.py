"""Settings of the authorization server: paths and lifetimes (seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AuthConfig:
    data_dir: Path
    fhir_base_path: str = "/fhir"
    auth_prefix: str = "/auth"
    # Public FHIR base URL (https://host/fhir): the issuer; required (init_app refuses None).
    base_url: str | None = None
    access_token_ttl: int = 3600
    backend_token_ttl: int = 300
    code_ttl: int = 120
    pending_ttl: int = 600
    launch_ttl: int = 600
    offline_refresh_ttl: int = 30 * 24 * 3600
    session_ttl: int = 8 * 3600
    max_assertion_lifetime: int = 300
    consent_ttl: int = 180 * 24 * 3600  # a remembered consent, from its last use
    # Enrolment one-time codes (README "Enrolment limits" says these numbers).
    otp_ttl: int = 120  # a code's lifetime; "send again" is offered when it runs out
    otp_tries_per_code: int = 5  # wrong codes per enrolment in progress, then a new code is needed
    otp_daily_wrong_codes: int = 10  # wrong codes per (national code, mobile) per day (Tehran)
    otp_send_limit: int = 3  # codes sent per (national code, mobile) per window
    otp_send_limit_per_ip: int = 20  # enrolment starts per client address per window
    otp_send_window: int = 900
    enrolment_ttl: int = 900
    # Sign-in lock-outs (smart_auth.signin_guard).
    signin_pair_tries: int = 5  # per (username, address), then 1, 2, 4, ... minutes
    signin_pair_lockout: int = 60
    signin_address_tries: int = 100  # per address, over every username
    signin_address_lockout: int = 300
    signin_user_tries: int = 50  # per username; the user's known addresses stay open
    signin_user_lockout: int = 900
    default_lang: str = "fa"
