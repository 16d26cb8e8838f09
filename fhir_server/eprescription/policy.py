"""The policy data (profiles/ir-eprescription/policy/): loaded once, immutable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fhir_server.insurance.tariffs import NO_TARIFFS, Tariffs, parse_tariffs

ATC_MAP = Path(__file__).resolve().parents[2] / "terminology" / "data" / "ConceptMap-generic-to-atc.json"


@dataclass(frozen=True)
class Interaction:
    a: tuple[str, ...]
    b: tuple[str, ...]
    severity: str
    text: dict[str, str]


@dataclass(frozen=True)
class Policy:
    types: dict[str, dict[str, Any]]
    medical: dict[str, dict[str, Any]]
    insurers: dict[str, dict[str, Any]]
    interactions: tuple[Interaction, ...]
    atc: dict[str, str]  # generic code -> ATC code
    dispensing: dict[str, dict[str, Any]]  # return / correction -> windowDays
    tariffs: Tariffs = NO_TARIFFS  # unit prices in force per insurer and day (claims)

    def undo_window_days(self, kind: str) -> int | None:
        """Days after a dispense during which a `kind` record (return, correction) may undo
        part of it; None when the kind is not allowed at all."""
        rule = self.dispensing.get(kind)
        return None if rule is None else int(rule["windowDays"])

    def type_for_kind(self, kind: str) -> str | None:
        return next((name for name, t in self.types.items() if kind in t["kinds"]), None)

    def expiry_days(self, type_: str) -> int:
        return int(self.types.get(type_, {}).get("expiryDays", 30))

    def insurer_rule(self, insurer: str | None, key: str) -> dict[str, Any]:
        return dict((self.insurers.get(insurer or "", {}).get("items") or {}).get(key) or {})

    def insurer_default(self, insurer: str | None, kind: str) -> dict[str, Any]:
        defaults = self.insurers.get(insurer or "", {}).get("defaults") or {}
        return dict(defaults.get(kind) or defaults.get("*") or {})


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _atc_map() -> dict[str, str]:
    if not ATC_MAP.exists():
        return {}
    data = json.loads(ATC_MAP.read_text(encoding="utf-8"))
    return {
        el["code"]: el["target"][0]["code"]
        for group in data.get("group") or []
        for el in group.get("element") or []
        if el.get("target")
    }


@lru_cache(maxsize=4)
def load_policy(folder: Path) -> Policy:
    interactions = tuple(
        Interaction(tuple(p["a"]), tuple(p["b"]), p["severity"], p["text"])
        for p in _read(folder / "interactions.json")["pairs"]
    )
    insurers = {}
    for path in sorted((folder / "rules").glob("*.json")):
        data = _read(path)
        insurers[str(data["insurer"])] = data
    return Policy(
        types=_read(folder / "types.json"),
        medical=_read(folder / "medical.json")["items"],
        insurers=insurers,
        interactions=interactions,
        atc=_atc_map(),
        dispensing=_read(folder / "dispensing.json"),
        tariffs=parse_tariffs(_read(folder / "tariffs.json"))
        if (folder / "tariffs.json").exists()
        else NO_TARIFFS,
    )
