"""Persian/Latin text normalisation for terminology filters.

The same rules as the search engine's string normalisation (fhir_server.search.normalize),
kept here so the terminology package does not import server internals; a test checks the
two agree. Arabic yeh/kaf become Persian ی/ک, ZWNJ, bidi marks, tatweel and harakat go,
Persian and Arabic-Indic digits become ASCII, Latin accents go, text is casefolded.
"""

from __future__ import annotations

import re
import unicodedata

_DROPPED = "\u200c\u200d\u200e\u200f\u0640\u061c"
_MAP: dict[int, str | None] = {ord(c): None for c in _DROPPED}
_MAP.update({0x064A: "\u06cc", 0x0649: "\u06cc", 0x0643: "\u06a9"})
_MAP.update({0x06F0 + i: str(i) for i in range(10)})
_MAP.update({0x0660 + i: str(i) for i in range(10)})
_MAP.update({c: None for c in range(0x0300, 0x0370)})
_MAP.update({c: None for c in range(0x064B, 0x0653)})
_MAP[0x066B] = "."  # Arabic decimal separator
_WORD = re.compile(r"\w+")


def normalize(value: str) -> str:
    """The comparison form of ``value``."""
    if value.isascii():
        return " ".join(value.casefold().split())
    text = unicodedata.normalize("NFKD", value).translate(_MAP)
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(text.split())


def words(value: str) -> list[str]:
    """The normalised words of ``value`` (letters and digits of any script)."""
    return _WORD.findall(normalize(value))
