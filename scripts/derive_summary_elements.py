"""Derive fhir_server/search/summary_elements.json from the R4 package.

For each resource type: the names of its top-level elements marked isSummary (what
`_summary=true` keeps); choice elements keep their "[x]".
Usage: python scripts/derive_summary_elements.py PACKAGE_DIR
where PACKAGE_DIR is the `package/` folder of `npm pack hl7.fhir.r4.examples@4.0.1`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "fhir_server" / "search" / "summary_elements.json"


def main(package: Path) -> None:
    bundle = json.loads((package / "Bundle-resources.json").read_text())
    out: dict[str, list[str]] = {}
    for entry in bundle["entry"]:
        sd = entry["resource"]
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") != "resource":
            continue
        names = []
        for el in sd["snapshot"]["element"]:
            parts = el["path"].split(".")
            if len(parts) == 2 and el.get("isSummary"):
                names.append(parts[1])  # "[x]" kept: a choice element
        out[sd["type"]] = names
    OUT.write_text(json.dumps(out, sort_keys=True, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
