"""SMART discovery: `.well-known/smart-configuration` and CapabilityStatement security."""

from __future__ import annotations

from typing import Any

from smart_auth.keys import ID_TOKEN_ALG
from smart_auth.oauth.client_assertion import ALGORITHMS as ASSERTION_ALGORITHMS
from smart_auth.urls import Urls

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "context-banner",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]
SCOPES_SUPPORTED = [
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "launch/patient",
    "launch/encounter",
    "offline_access",
    "online_access",
    "patient/*.rs",
    "patient/*.read",
    "user/*.cruds",
    "user/*.rs",
    "user/*.read",
    "user/*.write",
    "system/*.cruds",
    "system/*.rs",
    "system/*.read",
]
AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]


def smart_configuration(urls: Urls) -> dict[str, Any]:
    return {
        "issuer": urls.issuer(),
        "jwks_uri": urls.endpoint("jwks"),
        "authorization_endpoint": urls.endpoint("authorize"),
        "token_endpoint": urls.endpoint("token"),
        "introspection_endpoint": urls.endpoint("introspect"),
        "revocation_endpoint": urls.endpoint("revoke"),
        "registration_endpoint": urls.endpoint("register"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "subject_types_supported": ["public"],
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
    }


def openid_configuration(urls: Urls) -> dict[str, Any]:
    doc = smart_configuration(urls)
    doc.pop("capabilities")
    doc["claims_supported"] = ["sub", "fhirUser", "name", "preferred_username", "iss", "aud", "exp", "iat"]
    return doc


def capability_security(urls: Urls) -> dict[str, Any]:
    """CapabilityStatement.rest.security: what the Python fhirclient reads (oauth-uris only)."""
    endpoints = [
        ("authorize", "authorize"),
        ("token", "token"),
        ("introspect", "introspect"),
        ("revoke", "revoke"),
        ("register", "register"),
    ]
    return {
        "cors": True,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                        "display": "SMART-on-FHIR",
                    }
                ],
                "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
            }
        ],
        "extension": [
            {
                "url": OAUTH_URIS,
                "extension": [{"url": name, "valueUri": urls.endpoint(path)} for name, path in endpoints],
            }
        ],
        "description": "SMART App Launch 2.2: authorization code + PKCE (S256), backend services "
        "(private_key_jwt RS384/ES384); discovery at .well-known/smart-configuration",
    }
