"""The national e-prescription workflow: prescribe, check, sign, dispense, fulfil.

Each concern is one module; `workflow_rules` returns the write rules that run inside
the repository's transactions (see `fhir_server.repository.rules`).
"""

from __future__ import annotations

from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.wiring import workflow_rules

__all__ = ["EPrescriptionConfig", "workflow_rules"]
