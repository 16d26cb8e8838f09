"""PKCE for every client, S256 only.

Authlib's CodeChallenge allows `plain`, defaults to it when no method is sent, and insists
on a verifier only for public clients. SMART App Launch 2 requires S256 for everyone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import (
    CODE_CHALLENGE_PATTERN,
    CODE_VERIFIER_PATTERN,
    compare_s256_code_challenge,
)


class S256CodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Any]] = {"S256": compare_s256_code_challenge}

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.datalist
        challenges, methods = data.get("code_challenge", []), data.get("code_challenge_method", [])
        if len(challenges) != 1 or not challenges[0]:
            raise InvalidRequestError("PKCE is required: send one 'code_challenge'")
        if not CODE_CHALLENGE_PATTERN.match(challenges[0]):
            raise InvalidRequestError("Invalid 'code_challenge'")
        if methods != ["S256"]:
            raise InvalidRequestError("'code_challenge_method' must be S256")

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        verifier = grant.request.form.get("code_verifier")
        if not verifier:
            raise InvalidRequestError("Missing 'code_verifier'")
        if not CODE_VERIFIER_PATTERN.match(verifier):
            raise InvalidRequestError("Invalid 'code_verifier'")
        code = grant.request.authorization_code
        challenge = self.get_authorization_code_challenge(code)
        method = self.get_authorization_code_challenge_method(code)
        if not challenge or method != "S256" or not compare_s256_code_challenge(verifier, challenge):
            raise InvalidGrantError(description="Code challenge failed.")
