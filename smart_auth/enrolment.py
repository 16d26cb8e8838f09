"""First enrolment of a provider: national code + mobile -> one-time SMS code -> account.

The answer to the first step never says whether the pair matched (no registry probing);
a code is only sent, and can only succeed, when the provider registry has a Practitioner
with both. Codes come from `secrets`, are stored salted-hashed, expire (2 minutes), are
single use; wrong codes count per national code, and each lock-out doubles the last.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from smart_auth.audit import auth_event
from smart_auth.hashing import new_secret
from smart_auth.i18n import translator
from smart_auth.passwords import password_problem
from smart_auth.registry import USERNAME, add_user
from smart_auth.service import SmartAuth

PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def national_code(text: str) -> str | None:
    """The 10-digit national code, or None when the check digit fails (DESIGN.md)."""
    digits = re.sub(r"\D", "", text.translate(PERSIAN_DIGITS))
    if not 8 <= len(digits) <= 10:
        return None
    digits = digits.zfill(10)
    if len(set(digits)) == 1:
        return None
    s = sum(int(digits[i]) * (10 - i) for i in range(9))
    r = s % 11
    return digits if int(digits[9]) == (r if r < 2 else 11 - r) else None


def mobile_number(text: str) -> str | None:
    """An Iranian mobile as 09XXXXXXXXX (accepts +98 / 0098 / 9XXXXXXXXX forms)."""
    digits = re.sub(r"\D", "", text.translate(PERSIAN_DIGITS))
    for prefix in ("0098", "98"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 10:
            digits = digits[len(prefix) :]
    if len(digits) == 10 and digits.startswith("9"):
        digits = "0" + digits
    return digits if re.fullmatch(r"09\d{9}", digits) else None


def _code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


@dataclass
class Outcome:
    enrolment: str | None = None
    error: str | None = None
    record: dict[str, Any] | None = None


class Enrolment:
    def __init__(self, svc: SmartAuth) -> None:
        self.svc = svc
        self.cfg = svc.config

    def start(
        self, national_code_text: str, mobile_text: str, ip: str | None, browser: str, lang: str
    ) -> Outcome:
        code_nc, mobile = national_code(national_code_text), mobile_number(mobile_text)
        if code_nc is None:
            return Outcome(error="bad_national_code")
        if mobile is None:
            return Outcome(error="bad_mobile")
        if self.svc.otp_lockout.locked_until(code_nc):
            return Outcome(error="locked")
        if not self._send_allowed(code_nc, mobile, ip):
            return Outcome(error="too_many")
        accounts = list(self.svc.directory.find_practitioner(code_nc, mobile))
        code, salt, enrolment = f"{secrets.randbelow(10**6):06d}", new_secret(12), new_secret(18)
        record = {
            "national_code": code_nc,
            "mobile": mobile,
            "accounts": accounts,
            "browser": browser,
            "salt": salt,
            "code_hash": _code_hash(salt, code) if accounts else None,
            "code_expires": time.time() + self.cfg.otp_ttl,
            "verified": False,
        }
        self.svc.store.put_record("enrol", enrolment, record, time.time() + self.cfg.enrolment_ttl)
        if accounts:
            self.svc.sms.send(mobile, translator(lang)("sms_text", code=code))
        self._audit("otp-sent", bool(accounts), code_nc, ip, None if accounts else "no matching provider")
        return Outcome(enrolment=enrolment)

    def verify(self, enrolment: str, code: str, ip: str | None, browser: str) -> Outcome:
        record = self._record(enrolment, browser)
        if record is None:
            return Outcome(error="expired")
        subject = record["national_code"]
        if self.svc.otp_lockout.locked_until(subject):
            return Outcome(enrolment, "locked")
        if not self._code_matches(record, code):
            locked = self.svc.otp_lockout.failure(subject)
            self._audit("otp-checked", False, subject, ip, "wrong or expired code")
            return Outcome(enrolment, "locked" if locked else "wrong_code")
        self.svc.otp_lockout.success(subject)
        record.update(verified=True, code_hash=None)  # single use
        self.svc.store.put_record("enrol", enrolment, record, time.time() + self.cfg.enrolment_ttl)
        self._audit("otp-checked", True, subject, ip, None)
        return Outcome(enrolment, None, record)

    def create_account(self, enrolment: str, form: dict[str, str], ip: str | None, browser: str) -> Outcome:
        record = self._record(enrolment, browser)
        if record is None or not record["verified"]:
            return Outcome(error="expired")
        error = self._account_problem(record, form)
        if error:
            return Outcome(enrolment, error, record)
        account = record["accounts"][int(form["account"])]
        user = add_user(
            self.svc.store,
            form["username"],
            form["password"],
            account["role"],
            fhir_user=account["reference"],
            display=account.get("display"),
            national_code=record["national_code"],
        )
        self.svc.store.delete_record("enrol", enrolment)
        self.svc.audit.record(
            auth_event("enrolled", True, username=user["username"], fhir_user=user["fhir_user"], ip=ip)
        )
        return Outcome(enrolment, None, record)

    def _account_problem(self, record: dict[str, Any], form: dict[str, str]) -> str | None:
        username, password = form.get("username", ""), form.get("password", "")
        index = form.get("account", "0")
        if not index.isdigit() or int(index) >= len(record["accounts"]):
            return "choose_account"
        if not USERNAME.match(username):
            return "bad_username"
        if password != form.get("password2"):
            return "password_mismatch"
        problem = password_problem(password, username, record["national_code"], record["mobile"])
        if problem:
            return f"password_{problem}"
        if self.svc.store.find_user(username) is not None:
            return "username_taken"
        return None

    def _record(self, enrolment: str, browser: str) -> dict[str, Any] | None:
        record = self.svc.store.get_record("enrol", enrolment) if enrolment else None
        return record if record is not None and record["browser"] == browser else None

    @staticmethod
    def _code_matches(record: dict[str, Any], code: str) -> bool:
        expected = record.get("code_hash")
        if not expected or record["code_expires"] <= time.time():
            return False
        given = _code_hash(record["salt"], code.strip().translate(PERSIAN_DIGITS))
        return hmac.compare_digest(given, expected)

    def _send_allowed(self, code_nc: str, mobile: str, ip: str | None) -> bool:
        limit, window = self.cfg.otp_send_limit, self.cfg.otp_send_window
        return all(
            [
                self.svc.limits.allow(f"otp-nc:{code_nc}", limit, window),
                self.svc.limits.allow(f"otp-mobile:{mobile}", limit, window),
                self.svc.limits.allow(f"otp-ip:{ip}", self.cfg.otp_send_limit_per_ip, window),
            ]
        )

    def _audit(self, kind: str, success: bool, subject: str, ip: str | None, detail: str | None) -> None:
        self.svc.audit.record(
            auth_event(
                kind, success, username=f"national-code:{subject[:3]}***{subject[-2:]}", ip=ip, detail=detail
            )
        )
