"""Settings of the e-prescription workflow, from NOSKHE_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "profiles" / "ir-eprescription" / "policy"


@dataclass(frozen=True)
class EPrescriptionConfig:
    # During roll-out unsigned prescriptions may be accepted (active, with a warning).
    accept_unsigned: bool = field(default_factory=lambda: os.environ.get("NOSKHE_ACCEPT_UNSIGNED") == "1")
    policy_dir: Path = field(default_factory=lambda: Path(os.environ.get("NOSKHE_POLICY", DEFAULT_POLICY)))
