"""First enrolment of a provider: national code + mobile -> one-time SMS code -> account.

The answer to the first step never says whether the pair matched (no registry probing);
a code is only sent, and can only succeed, when the provider registry has a Practitioner
with both. Codes come from `secrets`, are stored salted-hashed, expire (`otp_ttl`), are
single use, and can be sent again once the last one has expired.

Every limit is keyed by what the person enrolling proves to know, the (national code,
mobile) pair, never by the national code alone: a stranger who knows a doctor's national
code but not the registered mobile gets no SMS sent and counts against nothing of the
doctor's. Wrong codes are capped per code (`otp_tries_per_code`, then the code is void)
and per pair per day (`otp_daily_wrong_codes`, then the pair waits for the next day,
Tehran time). Counters live in the auth store, so every worker sees them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smart_auth.audit import auth_event
from smart_auth.hashing import new_secret
from smart_auth.i18n import TEHRAN, translator
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


def end_of_day(now: float) -> float:
    """The next midnight in Tehran, as a timestamp."""
    today = datetime.fromtimestamp(now, TEHRAN).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), TEHRAN).timestamp()


@dataclass
class Outcome:
    enrolment: str | None = None
    error: str | None = None
    record: dict[str, Any] | None = None
    until: float | None = None  # a lock's end, or when the last code expires (resend too early)


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
        pair = f"{code_nc}|{mobile}"
        locked = self._day_lock(pair)
        if locked:
            return Outcome(error="locked_today", until=locked)
        if not self._send_allowed(pair, ip):
            return Outcome(error="too_many")
        accounts = list(self.svc.directory.find_practitioner(code_nc, mobile))
        enrolment = new_secret(18)
        record: dict[str, Any] = {
            "national_code": code_nc,
            "mobile": mobile,
            "accounts": accounts,
            "browser": browser,
            "verified": False,
            "serial": 0,
        }
        self._new_code(enrolment, record, lang)
        self._audit("otp-sent", bool(accounts), code_nc, ip, None if accounts else "no matching provider")
        return Outcome(enrolment=enrolment, record=record)

    def resend(self, enrolment: str, ip: str | None, browser: str, lang: str) -> Outcome:
        record = self._record(enrolment, browser)
        if record is None or record["verified"]:
            return Outcome(error="expired")
        now = time.time()
        if record["code_expires"] > now:  # the same wait whether or not the pair matched
            return Outcome(enrolment, "resend_wait", record, until=record["code_expires"])
        pair = self._pair(record)
        locked = self._day_lock(pair)
        if locked:
            return Outcome(enrolment, "locked_today", record, until=locked)
        if not self._send_allowed(pair, ip):
            return Outcome(enrolment, "too_many", record)
        self._new_code(enrolment, record, lang)
        self._audit("otp-sent", bool(record["accounts"]), record["national_code"], ip, "sent again")
        return Outcome(enrolment, None, record)

    def verify(self, enrolment: str, code: str, ip: str | None, browser: str) -> Outcome:
        record = self._record(enrolment, browser)
        if record is None or record["verified"]:
            return Outcome(error="expired")
        pair, subject = self._pair(record), record["national_code"]
        locked = self._day_lock(pair)
        if locked:
            return Outcome(enrolment, "locked_today", record, until=locked)
        # Every try at this code counts, atomically, before the code is compared.
        tries = self.svc.store.hit(f"otp-tries:{enrolment}:{record['serial']}", self.cfg.enrolment_ttl)
        if tries > self.cfg.otp_tries_per_code:
            return Outcome(enrolment, "too_many_codes", record)
        if not self._code_matches(record, code):
            self._audit("otp-checked", False, subject, ip, "wrong or expired code")
            return self._wrong(enrolment, record, pair, tries)
        record.update(verified=True, code_hash=None)  # single use
        self._save(enrolment, record)
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

    def current(self, enrolment: str, browser: str) -> dict[str, Any] | None:
        """The enrolment in progress (to show a step again, say in the other language)."""
        return self._record(enrolment, browser)

    # --- codes ----------------------------------------------------------------------------
    def _new_code(self, enrolment: str, record: dict[str, Any], lang: str) -> None:
        code, salt = f"{secrets.randbelow(10**6):06d}", new_secret(12)
        record.update(
            salt=salt,
            code_hash=_code_hash(salt, code) if record["accounts"] else None,
            code_expires=time.time() + self.cfg.otp_ttl,
            serial=int(record.get("serial", 0)) + 1,
        )
        self._save(enrolment, record)
        if record["accounts"]:
            self.svc.sms.send(record["mobile"], translator(lang)("sms_text", code=code))

    def _wrong(self, enrolment: str, record: dict[str, Any], pair: str, tries: int) -> Outcome:
        now = time.time()
        day = datetime.fromtimestamp(now, TEHRAN).date().isoformat()
        wrong_today = self.svc.store.hit(f"otp-wrong:{pair}:{day}", 2 * 86400)
        if wrong_today >= self.cfg.otp_daily_wrong_codes:
            until = end_of_day(now)
            self.svc.store.put_record("otp-day-lock", pair, {"until": until}, until)
            return Outcome(enrolment, "locked_today", record, until=until)
        if tries >= self.cfg.otp_tries_per_code:
            return Outcome(enrolment, "too_many_codes", record)
        return Outcome(enrolment, "wrong_code", record)

    def _day_lock(self, pair: str) -> float | None:
        lock = self.svc.store.get_record("otp-day-lock", pair)
        return float(lock["until"]) if lock else None

    @staticmethod
    def _code_matches(record: dict[str, Any], code: str) -> bool:
        expected = record.get("code_hash")
        if not expected or record["code_expires"] <= time.time():
            return False
        given = _code_hash(record["salt"], code.strip().translate(PERSIAN_DIGITS))
        return hmac.compare_digest(given, expected)

    def _send_allowed(self, pair: str, ip: str | None) -> bool:
        window = self.cfg.otp_send_window
        return self.svc.limits.allow(f"otp-ip:{ip}", self.cfg.otp_send_limit_per_ip, window) and (
            self.svc.limits.allow(f"otp-pair:{pair}", self.cfg.otp_send_limit, window)
        )

    # --- the account ----------------------------------------------------------------------
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

    # --- records --------------------------------------------------------------------------
    @staticmethod
    def _pair(record: dict[str, Any]) -> str:
        return f"{record['national_code']}|{record['mobile']}"

    def _record(self, enrolment: str, browser: str) -> dict[str, Any] | None:
        record = self.svc.store.get_record("enrol", enrolment) if enrolment else None
        return record if record is not None and record["browser"] == browser else None

    def _save(self, enrolment: str, record: dict[str, Any]) -> None:
        self.svc.store.put_record("enrol", enrolment, record, time.time() + self.cfg.enrolment_ttl)

    def _audit(self, kind: str, success: bool, subject: str, ip: str | None, detail: str | None) -> None:
        self.svc.audit.record(
            auth_event(
                kind, success, username=f"national-code:{subject[:3]}***{subject[-2:]}", ip=ip, detail=detail
            )
        )
