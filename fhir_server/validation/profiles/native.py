"""Native implementations of invariants whose FHIRPath form is slow in fhirpathpy.

The FHIRPath expression in the StructureDefinition stays the definition (other
validators run it); these functions give the same answers (tests compare them) about
a hundred times faster. The national-code check-digit rule is in DESIGN.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TEN_DIGITS = re.compile(r"[0-9]{10}")


def national_code_ok(value: object) -> bool:
    """10 digits, not all the same, mod-11 check digit."""
    if not isinstance(value, str) or not _TEN_DIGITS.fullmatch(value) or len(set(value)) == 1:
        return False
    r = sum(int(value[i]) * (10 - i) for i in range(9)) % 11
    return int(value[9]) == (r if r < 2 else 11 - r)


def _identifier_national_code(focus: object) -> bool:
    return isinstance(focus, dict) and national_code_ok(focus.get("value"))


def _extension_national_code(focus: object) -> bool:
    return isinstance(focus, dict) and national_code_ok(focus.get("valueString"))


# invariant key -> check of the focus element (True: the invariant holds)
NATIVE: dict[str, Callable[[object], bool]] = {
    "ir-nc-1": _identifier_national_code,
    "ir-pat-3": _extension_national_code,
}
