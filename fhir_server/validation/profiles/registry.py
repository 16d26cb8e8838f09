"""The profiles this server knows: profiles/ir-eprescription/StructureDefinition-*.json,
loaded and compiled once per process (immutable data)."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from .compiler import CompiledProfile, compile_profile

PROFILES_DIR = (
    Path(os.environ.get("NOSKHE_PROFILES_DIR", ""))
    if os.environ.get("NOSKHE_PROFILES_DIR")
    else (Path(__file__).resolve().parents[3] / "profiles" / "ir-eprescription")
)
SD_BASE = "http://noskhe.ir/fhir/StructureDefinition/"

# resource type -> the IR profile required when the server requires IR profiles
IR_PROFILES: dict[str, str] = {
    t: f"{SD_BASE}ir-{t.lower()}"
    for t in (
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Coverage",
        "Encounter",
        "MedicationRequest",
        "ServiceRequest",
        "MedicationDispense",
    )
}


@functools.cache
def structure_definitions() -> dict[str, dict[str, Any]]:
    """url -> StructureDefinition for every profile with a snapshot."""
    out = {}
    for path in sorted(PROFILES_DIR.glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text(encoding="utf-8"))
        if sd.get("snapshot"):
            out[sd["url"]] = sd
    return out


@functools.cache
def compiled(url: str) -> CompiledProfile | None:
    sd = structure_definitions().get(url.split("|", 1)[0])
    return compile_profile(sd) if sd is not None else None
