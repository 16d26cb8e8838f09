"""Token `:in` / `:not-in`: the codes of a ValueSet, from the terminology service.

The app points this at its own terminology service (`use_expander`); without that the
shipped terminology answers. Plans holding an expansion are not cached (parse.py), so a
new ValueSet version takes effect on the next search.
"""

from __future__ import annotations

from collections.abc import Callable

import terminology
from fhir_server.outcome import FhirError
from fhir_server.search.plan import TokenPred

Expander = Callable[[str], list[tuple[str, str]]]
# Matches no entry: an empty value set must find nothing (and `:not-in` everything).
NOTHING = TokenPred("urn:noskhe:empty-value-set", "-")
_expander: list[Expander] = []


def use_expander(expander: Expander) -> None:
    _expander[:] = [expander]


def _shipped(url: str) -> list[tuple[str, str]]:
    return [(e.system, e.code) for e in terminology.shipped_service().expansion(url).entries]


def value_set_preds(name: str, urls: list[str]) -> tuple[TokenPred, ...]:
    expand = _expander[0] if _expander else _shipped
    codes: set[tuple[str, str]] = set()
    for url in urls:
        try:
            codes.update(expand(url))
        except terminology.TerminologyError as exc:
            text = f"{name}: cannot expand value set {url!r}: {exc}"
            raise FhirError.of(400, "invalid", text, name) from exc
    return tuple(TokenPred(system, code) for system, code in sorted(codes)) or (NOTHING,)
