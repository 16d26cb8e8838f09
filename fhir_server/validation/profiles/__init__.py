"""Profile validation: resources against the IR e-prescription StructureDefinitions.

- ``validate_profiles(resource, require_ir=..., lang=...)``: the write-path hook. Checks
  every profile the resource claims in ``meta.profile`` (unknown ones give a warning) and,
  with ``require_ir``, the IR profile of its type even if unclaimed.
- ``validate_against(resource, url, lang=...)``: ``$validate?profile=url``.
- ``language_from_header(Accept-Language)``: "fa" or "en" for the messages.

Issues are ``fhir_server.outcome.Issue``s with a FHIRPath location; errors mean 422.
Bindings are checked against the terminology service (local value sets only).
"""

from __future__ import annotations

from typing import Any

import terminology
from fhir_server.outcome import Issue, warning
from terminology.service import TerminologyService

from .messages import language_from_header, message
from .registry import IR_PROFILES, compiled, structure_definitions
from .validator import ProfileWalker

__all__ = [
    "IR_PROFILES",
    "language_from_header",
    "structure_definitions",
    "validate_against",
    "validate_profiles",
]


def validate_against(
    resource: Any, url: str, *, lang: str = "en", service: TerminologyService | None = None
) -> list[Issue]:
    """Issues of ``resource`` against one profile (a warning when the profile is unknown)."""
    profile = compiled(url)
    if profile is None:
        return [warning("not-supported", message("unknown-profile", lang, url=url))]
    if not isinstance(resource, dict):
        return []
    rtype = resource.get("resourceType")
    if rtype != profile.type:
        return [
            Issue("error", "invalid", message("wrong-type", lang, url=url, expected=profile.type, type=rtype))
        ]
    svc = service or terminology.default_service()
    return ProfileWalker(profile, svc.member, lang).run(resource)


def validate_profiles(
    resource: Any, *, require_ir: bool = False, lang: str = "en", service: TerminologyService | None = None
) -> list[Issue]:
    """Issues against the claimed profiles (and the IR profile of the type if required)."""
    if not isinstance(resource, dict):
        return []
    claimed = (resource.get("meta") or {}).get("profile") or []
    urls = [u.split("|", 1)[0] for u in claimed if isinstance(u, str)]
    if require_ir:
        required = IR_PROFILES.get(str(resource.get("resourceType")))
        if required is not None and required not in urls:
            urls.append(required)
    issues: list[Issue] = []
    for url in dict.fromkeys(urls):
        issues += validate_against(resource, url, lang=lang, service=service)
    return issues
