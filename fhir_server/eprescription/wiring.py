"""The workflow's write rules, in the order they run."""

from __future__ import annotations

from fhir_server.eprescription.changes import ChangeRule
from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.dispense import DispenseRule
from fhir_server.eprescription.fulfil import FulfilRule
from fhir_server.eprescription.policy import load_policy
from fhir_server.eprescription.prescribing import PrescriptionRule
from fhir_server.eprescription.signing import SigningRule
from fhir_server.repository.rules import WriteRule


def workflow_rules(config: EPrescriptionConfig | None = None) -> list[WriteRule]:
    config = config or EPrescriptionConfig()
    policy = load_policy(config.policy_dir)
    return [
        PrescriptionRule(config, policy),
        ChangeRule(config),
        SigningRule(),
        DispenseRule(policy),
        FulfilRule(),
    ]
