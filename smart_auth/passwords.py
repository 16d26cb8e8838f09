"""Password hashing (scrypt from hashlib) and the password policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: n=2**14, r=8, p=1 (~16 MiB, tens of ms): the OWASP minimum for scrypt.
N, R, P, DKLEN = 2**14, 8, 1, 32
MIN_LENGTH = 10
COMMON = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1111111111",
        "0000000000",
        "password123",
        "password1234",
        "qwertyuiop",
        "1q2w3e4r5t",
        "qwerty12345",
        "iloveyou12",
        "abcdefghij",
        "abc1234567",
        "1234qwerty",
        "qwerty1234",
        "asdfghjkl1",
        "zxcvbnm123",
        "0987654321",
        "9876543210",
        "passw0rd12",
        "admin12345",
        "welcome123",
        "letmein123",
        "iran123456",
        "tehran1234",
        "12345qwert",
        "123456789a",
        "a123456789",
        "1234567890a",
        "password",
    }
)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    salt_text, digest_text = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${N}${R}${P}${salt_text}${digest_text}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(actual, expected)


# A fixed hash to spend the same time when a username does not exist.
DUMMY_HASH = hash_password(secrets.token_hex(8))


def password_problem(password: str, *personal: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) < 4:
        return "too_common"
    if any(p and p.lower() in lowered for p in personal):
        return "personal"
    return None
