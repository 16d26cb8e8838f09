#!/usr/bin/env python3
"""Validate every resource of the official R4 package and compare with the known-invalid list.

Every resource of the 146 resource types in ``hl7.fhir.r4.examples@4.0.1`` (examples and
conformance resources, 5,306 of them) goes through the server's validator. The ones
that do not pass must be exactly those listed in tests/fixtures/r4-known-invalid.json,
each failing on the rule (constraint key, or "structure"/"reference") and the element
the list names. Exit status 0 when they match, 1 otherwise (a regression, or a listed
example that now passes and should leave the list).

The package is not available to the test suite (no network at test time), so this is a
script: run it after changing validation. Usage:
    python scripts/check_r4_examples.py [--package-dir DIR] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derive_definitions import fetch_package

from fhir_server import definitions
from fhir_server.validation import validate_resource

KNOWN_INVALID = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "r4-known-invalid.json"


def rule_of(diagnostics: str, code: str) -> str:
    """The rule an error breaks: its constraint key, else its issue type."""
    head = diagnostics.split(":", 1)[0]
    return head if code == "invariant" else code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--package-dir", type=Path)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/noskhe-r4-cache"))
    args = ap.parse_args()
    package_dir: Path = args.package_dir or fetch_package(args.cache)
    known = json.loads(KNOWN_INVALID.read_text(encoding="utf-8"))
    types = definitions.resource_types()
    started = time.perf_counter()
    checked, failing = 0, {}
    for path in sorted(package_dir.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(resource, dict) or resource.get("resourceType") not in types:
            continue
        checked += 1
        errors = [i for i in validate_resource(resource) if i.severity in ("error", "fatal")]
        if errors:
            failing[path.name] = errors
    elapsed = time.perf_counter() - started
    problems = []
    for name, errors in sorted(failing.items()):
        listed = known.get(name)
        found = {(rule_of(e.diagnostics, e.code), e.expression[0] if e.expression else "") for e in errors}
        if listed is None:
            problems.append(
                f"NEW FAILURE {name}: " + "; ".join(f"{e.diagnostics} @ {e.expression}" for e in errors)
            )
        elif (listed["rule"], listed["path"]) not in found:
            problems.append(
                f"FAILS OTHERWISE {name}: listed {listed['rule']} @ {listed['path']}, found {found}"
            )
    problems += [f"NOW PASSES {name}: take it off the list" for name in sorted(set(known) - set(failing))]
    print(f"{checked} resources in {elapsed:.1f} s: {checked - len(failing)} valid, {len(failing)} invalid")
    print(f"{len(known)} listed as known-invalid")
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
