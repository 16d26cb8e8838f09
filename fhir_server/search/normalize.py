"""String normalisation for string search: case-, accent- and Persian-script-insensitive.

Stored string entries and query values go through the same `normalize`, so matching is
plain equality / prefix / substring on the results. Rules:

- NFKD decomposition (folds Arabic presentation forms and compatibility characters), then
  only *Latin* combining diacritics (U+0300..U+036F) and Arabic short vowels (harakat,
  U+064B..U+0652) are dropped; the madda/hamza marks that are part of Persian letters
  (آ أ ؤ ئ, U+0653..U+0655) are kept and recomposed by NFC, so no letter is destroyed.
- Arabic yeh ي and alef maksura ى become Persian yeh ی; Arabic kaf ك becomes keheh ک.
- ZWNJ/ZWJ, bidi marks and tatweel are removed; Persian and Arabic-Indic digits become ASCII.
- casefold, and runs of whitespace collapse to one space (ends stripped).
"""

from __future__ import annotations

import functools
import unicodedata

_DROPPED = "\u200c\u200d\u200e\u200f\u0640\u061c"
_MAP: dict[int, str | None] = {ord(c): None for c in _DROPPED}
_MAP.update({0x064A: "\u06cc", 0x0649: "\u06cc", 0x0643: "\u06a9"})
_MAP.update({0x06F0 + i: str(i) for i in range(10)})  # Persian digits
_MAP.update({0x0660 + i: str(i) for i in range(10)})  # Arabic-Indic digits
_MAP.update({c: None for c in range(0x0300, 0x0370)})  # Latin combining diacritics
_MAP.update({c: None for c in range(0x064B, 0x0653)})  # Arabic harakat


@functools.lru_cache(maxsize=32768)
def normalize(value: str) -> str:
    """Return the search form of `value` (see module docstring). Cached: names, cities and
    code displays repeat across resources."""
    if value.isascii():
        return " ".join(value.casefold().split())
    text = unicodedata.normalize("NFKD", value).translate(_MAP)
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(text.split())
