"""What a Python integrator reaches for, used as they would: a SMART Backend Services
client written with PyJWT (RS384 or ES384 client assertions, keys from `cryptography`) and
`requests`, and `fhir.resources` (its R4B models, the closest it has to R4) to parse what
the server answers. Nothing here uses the server's own JOSE stack (joserfc) or models."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhir.resources.R4B import get_fhir_model_class

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class BackendService:
    client_id: str
    alg: str  # RS384 | ES384
    private_key: Any
    kid: str

    @classmethod
    def generate(cls, client_id: str, alg: str) -> BackendService:
        if alg == "RS384":
            key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP384R1())
        return cls(client_id, alg, key, f"{client_id}-{alg.lower()}")

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.algorithms.RSAAlgorithm if self.alg == "RS384" else jwt.algorithms.ECAlgorithm
        jwk: dict[str, Any] = dict(algorithm.to_jwk(self.private_key.public_key(), as_dict=True))
        return {**jwk, "alg": self.alg, "kid": self.kid, "use": "sig"}

    def token(self, fhir_base: str, scope: str) -> dict[str, Any]:
        """Discovery, then client credentials with a signed assertion (SMART Backend Services)."""
        config = requests.get(f"{fhir_base}/.well-known/smart-configuration", timeout=30).json()
        assert self.alg in config["token_endpoint_auth_signing_alg_values_supported"]
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": config["token_endpoint"],
            "exp": now + 240,
            "jti": uuid.uuid4().hex,
        }
        assertion = jwt.encode(claims, self.private_key, algorithm=self.alg, headers={"kid": self.kid})
        answer = requests.post(
            config["token_endpoint"],
            data={
                "grant_type": "client_credentials",
                "scope": scope,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def parse(resource: dict[str, Any]) -> Any:
    """The resource as fhir.resources' R4B model (raises when the model refuses it)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def export(fhir_base: str, token: str, query: str, timeout: float = 90) -> dict[str, Any]:
    """Bulk Data kick-off, polling (honouring Retry-After, capped) and the manifest."""
    auth = {"Authorization": f"Bearer {token}"}
    kick = requests.get(
        f"{fhir_base}/$export?{query}",
        headers={**auth, "Accept": "application/fhir+json", "Prefer": "respond-async"},
        timeout=30,
    )
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["Content-Location"]
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(status_url, headers=auth, timeout=30)
        if answer.status_code == 200:
            manifest: dict[str, Any] = answer.json()
            return manifest
        assert answer.status_code == 202, answer.text
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(min(float(answer.headers.get("Retry-After", "1")), 0.5))
