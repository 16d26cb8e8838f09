"""The conformance resources in profiles/ir-eprescription: every example validates,
structurally and against its profile; every profile has a snapshot, an example, a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_server.validation import validate_resource
from fhir_server.validation.profiles import IR_PROFILES, structure_definitions, validate_profiles

ROOT = Path(__file__).resolve().parents[2] / "profiles" / "ir-eprescription"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
CONFORMANCE = sorted(ROOT.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_valid(path: Path) -> None:
    resource = load(path)
    assert [i for i in validate_resource(resource) if i.severity == "error"] == []
    assert resource["meta"]["profile"]
    assert validate_profiles(resource, require_ir=True) == []


@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.stem)
def test_conformance_resource_is_structurally_valid(path: Path) -> None:
    assert [i for i in validate_resource(load(path)) if i.severity == "error"] == []


def test_every_profile_has_snapshot_example_and_page() -> None:
    sds = structure_definitions()
    claimed = {p for path in EXAMPLES for p in load(path)["meta"]["profile"]}
    for url in IR_PROFILES.values():
        assert url in sds, url
        assert sds[url]["snapshot"]["element"] and sds[url]["differential"]["element"]
        assert url in claimed, f"no example for {url}"
        assert (ROOT / "pages" / f"{url.rsplit('/', 1)[-1]}.md").exists()
